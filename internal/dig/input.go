package dig

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// InputError is a bad flag value: the caller's "bad input" exit.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ParseDomain validates --domain: a bare DNS name such as example.com, returned
// lower-cased without a trailing dot.
func ParseDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(s), ".")
	bad := func(why string) (string, error) {
		return "", inputErrorf("invalid --domain %q: %s; pass the base domain the services live under, such as example.com", s, why)
	}
	switch {
	case d == "":
		return bad("it is empty")
	case strings.Contains(d, "://"):
		return bad("a domain, not a URL (no scheme)")
	case strings.ContainsAny(d, "/?#"):
		return bad("a domain, not a URL (no path)")
	case strings.Contains(d, "@"):
		return bad("no user part")
	case net.ParseIP(strings.Trim(d, "[]")) != nil:
		return bad("a DNS name, not an IP address (route names to an address with --connect-to)")
	case strings.Contains(d, ":"):
		return bad("no port (set a service's port in the catalog, or route with --connect-to)")
	case len(d) > 253:
		return bad("longer than a DNS name can be")
	}
	for _, label := range strings.Split(d, ".") {
		if !dnsLabel.MatchString(label) {
			return bad(fmt.Sprintf("%q is not a DNS label (letters, digits and inner hyphens, at most 63)", label))
		}
	}
	return d, nil
}

// ConnectTo is one --connect-to rule, as curl has it: a request to Host:Port
// connects to ToHost:ToPort instead; TLS still checks the certificate for the
// requested name. An empty Host or Port matches any; an empty ToHost or ToPort
// keeps the requested one.
type ConnectTo struct {
	Host, Port, ToHost, ToPort string
}

func (c ConnectTo) String() string {
	return bracket(c.Host) + ":" + c.Port + ":" + bracket(c.ToHost) + ":" + c.ToPort
}

func bracket(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

const connectToSyntax = "want HOST:PORT:ADDR:PORT as curl has it (an empty HOST or PORT matches any; IPv6 in brackets), e.g. i-secrets.example.com:443:127.0.0.1:8443"

// ParseConnectTo reads one --connect-to value.
func ParseConnectTo(s string) (ConnectTo, error) {
	fields, err := splitConnectTo(s)
	if err != nil {
		return ConnectTo{}, inputErrorf("invalid --connect-to %q: %v; %s", s, err, connectToSyntax)
	}
	if len(fields) != 4 {
		return ConnectTo{}, inputErrorf("invalid --connect-to %q: %d fields; %s", s, len(fields), connectToSyntax)
	}
	c := ConnectTo{Host: strings.ToLower(fields[0]), Port: fields[1], ToHost: fields[2], ToPort: fields[3]}
	for _, h := range []string{c.Host, c.ToHost} {
		if err := checkHost(h); err != nil {
			return ConnectTo{}, inputErrorf("invalid --connect-to %q: %v; %s", s, err, connectToSyntax)
		}
	}
	for _, p := range []string{c.Port, c.ToPort} {
		if p == "" {
			continue
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 || p[0] == '0' || p[0] == '+' {
			return ConnectTo{}, inputErrorf("invalid --connect-to %q: port %q is not a number from 1 to 65535; %s", s, p, connectToSyntax)
		}
	}
	return c, nil
}

// splitConnectTo splits on colons outside [brackets] and drops the brackets.
func splitConnectTo(s string) ([]string, error) {
	var fields []string
	for {
		var field string
		if strings.HasPrefix(s, "[") {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, errors.New("unclosed [")
			}
			field, s = s[1:end], s[end+1:]
			if ip := net.ParseIP(field); ip == nil || !strings.Contains(field, ":") {
				return nil, fmt.Errorf("[%s] is not an IPv6 address", field)
			}
			if s != "" && s[0] != ':' {
				return nil, errors.New("] must be followed by :")
			}
		} else if i := strings.IndexByte(s, ':'); i >= 0 {
			field, s = s[:i], s[i:]
		} else {
			field, s = s, ""
		}
		fields = append(fields, field)
		if s == "" {
			return fields, nil
		}
		s = s[1:] // the colon
	}
}

var hostLabel = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,62})$`)

func checkHost(h string) error {
	if h == "" || net.ParseIP(h) != nil {
		return nil
	}
	if len(h) > 253 {
		return fmt.Errorf("host name too long")
	}
	for _, label := range strings.Split(strings.ToLower(strings.TrimSuffix(h, ".")), ".") {
		if !hostLabel.MatchString(label) {
			return fmt.Errorf("%q is not a host name or IP address", h)
		}
	}
	return nil
}

// route returns where to connect for a request to host:port: the first matching
// rule wins, as in curl.
func route(rules []ConnectTo, host, port string) string {
	host = strings.ToLower(host)
	for _, r := range rules {
		if (r.Host == "" || strings.EqualFold(strings.TrimSuffix(r.Host, "."), host)) && (r.Port == "" || r.Port == port) {
			to, toPort := r.ToHost, r.ToPort
			if to == "" {
				to = host
			}
			if toPort == "" {
				toPort = port
			}
			return net.JoinHostPort(to, toPort)
		}
	}
	return net.JoinHostPort(host, port)
}

// CertPool is the system's roots plus the PEM certificates of a --cacert file.
func CertPool(name string, pemData []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	n := 0
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, inputErrorf("--cacert %s: certificate %d: %v", name, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, inputErrorf("--cacert %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", name)
	}
	return pool, nil
}

// Input is a run's request as the CLI's flags and the Dagger function's arguments
// carry it; Validate turns it into the domain and probe options, so both
// interfaces accept and reject exactly the same values.
type Input struct {
	Domain      string
	Timeout     string // a Go duration: "10s"
	Concurrency int    // from 1 to MaxConcurrency; the interfaces default to DefaultConcurrency
	ConnectTo   []string
	CACertName  string // for messages
	CACert      []byte // PEM; nil: the system's roots only
	Format      string
}

// Validate checks every value before anything is probed or posted.
func (in Input) Validate() (string, Options, error) {
	var opts Options
	if err := CheckFormat(in.Format); err != nil {
		return "", opts, err
	}
	domain, err := ParseDomain(in.Domain)
	if err != nil {
		return "", opts, err
	}
	if in.Timeout == "" {
		opts.Timeout = DefaultTimeout
	} else if opts.Timeout, err = time.ParseDuration(in.Timeout); err != nil || opts.Timeout <= 0 || opts.Timeout > 10*time.Minute {
		return "", opts, inputErrorf("invalid --timeout %q: a duration such as 10s or 1m30s, more than 0 and at most 10m", in.Timeout)
	}
	if in.Concurrency < 1 || in.Concurrency > MaxConcurrency {
		return "", opts, inputErrorf("invalid --concurrency %d: services probed at once, from 1 to %d (default %d)", in.Concurrency, MaxConcurrency, DefaultConcurrency)
	}
	opts.Concurrency = in.Concurrency
	for _, s := range in.ConnectTo {
		rule, err := ParseConnectTo(s)
		if err != nil {
			return "", opts, err
		}
		opts.ConnectTo = append(opts.ConnectTo, rule)
	}
	if in.CACert != nil {
		if opts.RootCAs, err = CertPool(in.CACertName, in.CACert); err != nil {
			return "", opts, err
		}
	}
	return domain, opts, nil
}
