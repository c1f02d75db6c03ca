// Package dig is the service health check: it probes the catalog's services
// concurrently over HTTPS, classifies each answer by the legend (✅ 🔒 ❔ ⚠️ ❌ ⛔),
// judges it by the service's own expectation and renders the report; and it runs
// the /dig comment flow against a small commenter interface.
package dig

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/infra-flash/infra/internal/catalog"
)

// Defaults of the probe options.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultConcurrency  = 64
	MaxConcurrency      = 1024
	DefaultMaxRedirects = 5
)

// Options tune a run. The zero value probes with the defaults.
type Options struct {
	Timeout      time.Duration  // per service, from connecting to the answer's headers
	Concurrency  int            // services probed at once
	MaxRedirects int            // redirects followed before the last answer counts
	ConnectTo    []ConnectTo    // where to connect instead, as curl's --connect-to
	RootCAs      *x509.CertPool // nil: the system's roots
	Resolver     *net.Resolver  // nil: the system's resolver
	OnResult     func(Result)   // called as each probe ends (from several goroutines, serialised)
	Now          func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Result is one service's probe.
type Result struct {
	Service   catalog.Service
	URL       string
	Code      int // 0 when no HTTP answer came
	Class     Class
	Reason    string // the status text, or why there was no answer
	Healthy   bool   // by the service's own expectation
	Redirects int
	Duration  time.Duration
}

// Probe checks every service under domain and returns the report, in the order of
// services. It never fails: a service that cannot be reached is a result.
func Probe(ctx context.Context, domain string, services []catalog.Service, opts Options) *Report {
	opts = opts.withDefaults()
	client := newClient(opts)
	defer client.CloseIdleConnections()
	rep := &Report{Domain: domain, Timeout: opts.Timeout, Started: opts.Now(), Results: make([]Result, len(services))}
	start := time.Now()
	results := make(chan int, len(services))
	var g errgroup.Group
	g.SetLimit(opts.Concurrency)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range results {
			if opts.OnResult != nil {
				opts.OnResult(rep.Results[i])
			}
		}
	}()
	for i, s := range services {
		g.Go(func() error {
			start := time.Now()
			r := probeOne(ctx, client, domain, s, opts)
			r.Duration = time.Since(start)
			rep.Results[i] = r
			results <- i
			return nil
		})
	}
	_ = g.Wait()
	close(results)
	<-done
	rep.Duration = time.Since(start)
	return rep
}

// redirects is what the client's redirect policy saw of one probe.
type redirects struct {
	n         int    // redirects followed
	downgrade string // the plain-HTTP location an HTTPS answer redirected to, not followed
}

type redirectsKey struct{}

func newClient(opts Options) *http.Client {
	dialer := &net.Dialer{Resolver: opts.Resolver, KeepAlive: -1}
	transport := &http.Transport{
		Proxy: nil, // probe the services themselves, as curl --noproxy would
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, route(opts.ConnectTo, host, port))
		},
		TLSClientConfig:    &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		DisableCompression: true,
		// One request per connection: each probe asks a host once, so an idle
		// connection would only be kept until the run ends, holding a file and its
		// buffers; without them a run holds at most --concurrency connections.
		DisableKeepAlives: true,
		// Headers only: the body is never read, so a huge page costs nothing.
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			seen, _ := req.Context().Value(redirectsKey{}).(*redirects)
			if seen == nil {
				seen = &redirects{}
			}
			// A probe checks the service over HTTPS: a redirect down to plain HTTP is
			// the answer (a warning), and no request goes out unencrypted.
			if req.URL.Scheme == "http" && via[len(via)-1].URL.Scheme == "https" {
				seen.n, seen.downgrade = len(via)-1, req.URL.Redacted()
				return http.ErrUseLastResponse
			}
			seen.n = len(via)
			if len(via) > opts.MaxRedirects {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

func probeOne(ctx context.Context, client *http.Client, domain string, s catalog.Service, opts Options) Result {
	r := Result{Service: s, URL: s.URL(domain)}
	var seen redirects
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, redirectsKey{}, &seen), opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		r.Class, r.Reason = Unreachable, err.Error()
		return r
	}
	req.Header.Set("User-Agent", "infra-dig")
	resp, err := client.Do(req)
	if err != nil {
		r.Class, r.Reason = ClassifyError(err, opts.Timeout)
		if seen.n > 0 {
			r.Reason += " (after " + strconv.Itoa(seen.n) + " redirect" + plural(seen.n) + ")"
		}
		r.Redirects = seen.n
		return r
	}
	resp.Body.Close()
	r.Code, r.Class, r.Reason = resp.StatusCode, ClassifyCode(resp.StatusCode), CodeText(resp.StatusCode)
	r.Redirects = seen.n
	if seen.downgrade != "" {
		// ⚠️ and unhealthy whatever the catalog expects: the service leaves HTTPS.
		r.Class, r.Reason = Unavailable, r.Reason+": redirects to plain HTTP "+seen.downgrade+" (not followed)"
		return r
	}
	if seen.n > opts.MaxRedirects {
		r.Redirects = opts.MaxRedirects
		r.Reason += ": still redirecting after " + strconv.Itoa(opts.MaxRedirects) + " redirects (a loop?)"
		if loc := resp.Header.Get("Location"); loc != "" {
			r.Reason += " to " + loc
		}
	}
	r.Healthy = s.Healthy(r.Code)
	return r
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
