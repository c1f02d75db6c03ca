package forge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry is how failed requests are tried again: server errors (5xx), dropped
// connections and rate limits (GitHub's secondary limits, 429). A request that
// is not safe to send twice (a POST that creates something) is tried again only
// when the answer proves nothing was done (a rate limit, a connection never
// made); after a server error its caller checks what landed (see
// CreateComment). Waits grow from
// Base, doubling, with jitter, each at most Max; a Retry-After or rate-limit
// reset GitHub names is honoured when it is within MaxWait, otherwise the
// request fails at once with GitHub's answer.
type Retry struct {
	Attempts int           // total tries; default 4
	Base     time.Duration // first wait; default 1s
	Max      time.Duration // longest backoff wait; default 20s
	MaxWait  time.Duration // longest wait GitHub may ask for; default 90s
	// Sleep waits (tests record the waits instead); default: a timer that
	// stops when the context ends.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 4
	}
	if r.Base <= 0 {
		r.Base = time.Second
	}
	if r.Max <= 0 {
		r.Max = 20 * time.Second
	}
	if r.MaxWait <= 0 {
		r.MaxWait = 90 * time.Second
	}
	if r.Sleep == nil {
		r.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
				return nil
			}
		}
	}
	return r
}

// attemptsHeader carries the number of attempts on the answer handed back.
const attemptsHeader = "X-Infra-Attempts"

func attemptsOf(r *http.Response) int {
	n, _ := strconv.Atoi(r.Header.Get(attemptsHeader))
	return n
}

type retryTransport struct {
	base   http.RoundTripper
	policy Retry
	log    func(string)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil && ctx.Err() != nil {
			return resp, err
		}
		wait, why, mayHaveActed := t.classify(resp, err, attempt)
		if why != "" && mayHaveActed && !replayable(req) {
			t.log(fmt.Sprintf("forge: %s %s: %s; not sent again, it may have been applied", req.Method, req.URL.Path, why))
			why = ""
		}
		if why == "" || attempt >= t.policy.Attempts || (req.Body != nil && req.GetBody == nil) {
			if resp != nil {
				resp.Header.Set(attemptsHeader, strconv.Itoa(attempt))
			}
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
		}
		t.log(fmt.Sprintf("forge: %s %s: %s; retrying in %v (attempt %d of %d)",
			req.Method, req.URL.Path, why, wait.Round(time.Millisecond), attempt+1, t.policy.Attempts))
		if err := t.policy.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// safeKey marks a request that may be sent twice although its method says
// otherwise: a GraphQL query, or a write whose repeat changes nothing that
// matters (a commit status: the latest per context wins).
type safeKey struct{}

func safe(ctx context.Context) context.Context { return context.WithValue(ctx, safeKey{}, true) }

// replayable: sending the request twice leaves the same state as sending it once.
func replayable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return r.Context().Value(safeKey{}) != nil
}

// classify says whether an answer is worth another try, after how long, and why
// (empty when it is not), and whether the server may have carried the request
// out all the same.
func (t *retryTransport) classify(resp *http.Response, err error, attempt int) (time.Duration, string, bool) {
	backoff := t.backoff(attempt)
	if err != nil {
		// A name that does not resolve will not resolve in a second either.
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return 0, "", false
		}
		var op *net.OpError
		neverSent := errors.As(err, &op) && op.Op == "dial"
		return backoff, "connection failed", !neverSent
	}
	switch {
	case resp.StatusCode >= 500 && resp.StatusCode <= 599 && resp.StatusCode != http.StatusNotImplemented:
		return backoff, fmt.Sprintf("server error %d", resp.StatusCode), true
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusForbidden:
		limited, secondary := rateLimited(resp)
		if !limited {
			return 0, "", false
		}
		wait := backoff
		if ra, ok := retryAfter(resp); ok {
			wait = ra
		} else if reset, ok := resetIn(resp); ok {
			wait = reset
		} else if secondary {
			wait = max(backoff, time.Minute) // GitHub: wait at least a minute when it names no time
		}
		if wait > t.policy.MaxWait {
			return 0, "", false // too long to wait in a CI job: report GitHub's answer
		}
		what := "rate limit"
		if secondary {
			what = "secondary rate limit"
		}
		return wait, what, false // refused, not carried out
	}
	return 0, "", false
}

func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.policy.Base << (attempt - 1)
	if d <= 0 || d > t.policy.Max {
		d = t.policy.Max
	}
	// Up to 25% jitter, so racing jobs spread out.
	return d - time.Duration(rand.Int64N(int64(d)/4+1))
}

// rateLimited reads a 403/429: a rate limit (and whether it is a secondary one),
// or a plain refusal. The body is put back for the caller.
func rateLimited(resp *http.Response) (limited, secondary bool) {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	text := strings.ToLower(string(data))
	secondary = strings.Contains(text, "secondary rate limit") || strings.Contains(text, "abuse")
	primary := resp.Header.Get("X-RateLimit-Remaining") == "0"
	_, hasRetryAfter := retryAfter(resp)
	return secondary || primary || hasRetryAfter || resp.StatusCode == http.StatusTooManyRequests, secondary
}

func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

func resetIn(resp *http.Response) (time.Duration, bool) {
	if resp.Header.Get("X-RateLimit-Remaining") != "0" {
		return 0, false
	}
	s, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil {
		return 0, false
	}
	return max(time.Until(time.Unix(s, 0))+time.Second, 0), true
}
