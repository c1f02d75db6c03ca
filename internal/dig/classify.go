package dig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Class is what an answer means, by the legend of the health check.
type Class string

const (
	OK           Class = "ok"            // ✅ 200
	Auth         Class = "auth"          // 🔒 401/403: asks for credentials
	NotFound     Class = "not_found"     // ❔ 404: no backend configured
	Unavailable  Class = "unavailable"   // ⚠️ 503/526 and TLS failures
	BackendError Class = "backend_error" // ❌ 502/504
	Unreachable  Class = "unreachable"   // ⛔ timeout, refused, DNS failure
	Other        Class = "other"         // any other code, shown as itself
)

var emojis = map[Class]string{
	OK: "✅", Auth: "🔒", NotFound: "❔", Unavailable: "⚠️", BackendError: "❌", Unreachable: "⛔",
}

// Emoji is the legend's mark; "" for codes shown as themselves.
func (c Class) Emoji() string { return emojis[c] }

// ClassifyCode maps an HTTP status code to its class.
func ClassifyCode(code int) Class {
	switch code {
	case http.StatusOK:
		return OK
	case http.StatusUnauthorized, http.StatusForbidden:
		return Auth
	case http.StatusNotFound:
		return NotFound
	case http.StatusServiceUnavailable, 526:
		return Unavailable
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return BackendError
	}
	return Other
}

// Cloudflare's own codes: the reference platform is proxied through it, and
// Go's table does not know them.
var cloudflareText = map[int]string{
	520: "Unknown Error (origin)",
	521: "Web Server Is Down",
	522: "Connection Timed Out (origin)",
	523: "Origin Is Unreachable",
	524: "A Timeout Occurred (origin)",
	525: "SSL Handshake Failed (origin)",
	526: "Invalid SSL Certificate (origin)",
}

// CodeText is the reason phrase of a status code.
func CodeText(code int) string {
	if t, ok := cloudflareText[code]; ok {
		return t
	}
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "status " + strconv.Itoa(code)
}

// ClassifyError explains a request that got no HTTP answer: TLS failures are
// ⚠️, everything else (timeout, refused, DNS) ⛔.
func ClassifyError(err error, timeout time.Duration) (Class, string) {
	var (
		unknownCA  x509.UnknownAuthorityError
		invalid    x509.CertificateInvalidError
		hostname   x509.HostnameError
		record     tls.RecordHeaderError
		alert      tls.AlertError
		verify     *tls.CertificateVerificationError
		dnsErr     *net.DNSError
		netErr     net.Error
		urlErr     *url.Error
		unverified = errors.As(err, &verify)
	)
	switch {
	case errors.As(err, &unknownCA):
		if c := unknownCA.Cert; c != nil && c.Issuer.String() == c.Subject.String() {
			return Unavailable, "TLS: self-signed certificate"
		}
		return Unavailable, "TLS: certificate signed by an unknown authority"
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired && invalid.Cert != nil {
			if time.Now().After(invalid.Cert.NotAfter) {
				return Unavailable, "TLS: certificate expired " + invalid.Cert.NotAfter.UTC().Format("2006-01-02")
			}
			return Unavailable, "TLS: certificate not valid before " + invalid.Cert.NotBefore.UTC().Format("2006-01-02")
		}
		return Unavailable, "TLS: invalid certificate: " + invalid.Error()
	case errors.As(err, &hostname):
		return Unavailable, "TLS: certificate is not valid for " + hostname.Host
	case unverified:
		return Unavailable, "TLS: " + verify.Err.Error()
	// net/http turns a plain-HTTP answer into an untyped error.
	case errors.As(err, &record) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return Unavailable, "TLS: the server does not speak TLS on this port"
	case errors.As(err, &alert):
		return Unavailable, "TLS: handshake refused (" + alert.Error() + ")"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		if errors.As(err, &dnsErr) {
			return Unreachable, "timeout: DNS lookup of " + dnsErr.Name + " took longer than " + timeout.String()
		}
		return Unreachable, "timeout: no answer within " + timeout.String()
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return Unreachable, "DNS: no such host " + dnsErr.Name
		}
		return Unreachable, "DNS: lookup of " + dnsErr.Name + " failed: " + dnsErr.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return Unreachable, "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return Unreachable, "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return Unreachable, "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return Unreachable, "network unreachable"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return Unreachable, "connection closed without an answer"
	case errors.As(err, &urlErr):
		return Unreachable, fmt.Sprint(urlErr.Err)
	}
	return Unreachable, err.Error()
}
