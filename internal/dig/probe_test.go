package dig

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/catalog"
	"github.com/infra-flash/infra/internal/dig/digtest"
)

const testDomain = "example.test"

func svc(id, sub, path string, expect ...int) catalog.Service {
	if len(expect) == 0 {
		expect = []int{200}
	}
	return catalog.Service{ID: id, Name: id, Subdomain: sub, Port: 443, Path: path, Expect: expect, LayerID: "L1", LayerDir: "1.test"}
}

func rule(host, toPort string) ConnectTo {
	return ConnectTo{Host: host, ToHost: "127.0.0.1", ToPort: toPort}
}

// TestLegend probes real servers on loopback for every answer of the legend.
func TestLegend(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	names := []string{testDomain, "*." + testDomain}
	good := startTLS(t, ca.Leaf(t, names, now.Add(-time.Hour), now.Add(time.Hour)), codes())
	selfSigned := startTLS(t, (*digtest.CA)(nil).Leaf(t, names, now.Add(-time.Hour), now.Add(time.Hour)), codes())
	expired := startTLS(t, ca.Leaf(t, names, now.Add(-48*time.Hour), now.Add(-24*time.Hour)), codes())
	wrongName := startTLS(t, ca.Leaf(t, []string{"other.test"}, now.Add(-time.Hour), now.Add(time.Hour)), codes())
	plain := httptest.NewServer(codes())
	t.Cleanup(plain.Close)

	rules := []ConnectTo{
		rule("selfsigned."+testDomain, selfSigned),
		rule("expired."+testDomain, expired),
		rule("wrongname."+testDomain, wrongName),
		rule("plain."+testDomain, port(t, plain.Listener.Addr())),
		rule("refused."+testDomain, refusedPort(t)),
		rule("", good), // everything else
	}
	cases := []struct {
		svc     catalog.Service
		code    int
		class   Class
		reason  string
		healthy bool
	}{
		{svc("ok", "app", "/code/200"), 200, OK, "OK", true},
		{svc("root", "", "/code/200"), 200, OK, "OK", true},
		{svc("auth401", "vault", "/code/401", 401, 403), 401, Auth, "Unauthorized", true},
		{svc("auth403", "vault", "/code/403", 401, 403), 403, Auth, "Forbidden", true},
		{svc("auth-expected-200", "app", "/code/401"), 401, Auth, "Unauthorized", false},
		{svc("open-expected-auth", "app", "/code/200", 401, 403), 200, OK, "OK", false},
		{svc("404", "app", "/code/404"), 404, NotFound, "Not Found", false},
		{svc("503", "app", "/code/503"), 503, Unavailable, "Service Unavailable", false},
		{svc("526", "app", "/code/526"), 526, Unavailable, "Invalid SSL Certificate (origin)", false},
		{svc("502", "app", "/code/502"), 502, BackendError, "Bad Gateway", false},
		{svc("504", "app", "/code/504"), 504, BackendError, "Gateway Timeout", false},
		{svc("500", "app", "/code/500"), 500, Other, "Internal Server Error", false},
		{svc("418", "app", "/code/418"), 418, Other, "I'm a teapot", false},
		{svc("521", "app", "/code/521"), 521, Other, "Web Server Is Down", false},
		{svc("hops", "app", "/hop/3"), 200, OK, "OK", true},
		{svc("loop", "app", "/loop"), 302, Other, "Found: still redirecting after 5 redirects (a loop?) to /loop", false},
		{svc("selfsigned", "selfsigned", "/code/200"), 0, Unavailable, "TLS: self-signed certificate", false},
		{svc("expired", "expired", "/code/200"), 0, Unavailable, "TLS: certificate expired " + now.Add(-24*time.Hour).UTC().Format("2006-01-02"), false},
		{svc("wrongname", "wrongname", "/code/200"), 0, Unavailable, "TLS: certificate is not valid for wrongname." + testDomain, false},
		{svc("plain", "plain", "/code/200"), 0, Unavailable, "TLS: the server does not speak TLS on this port", false},
		{svc("refused", "refused", "/code/200"), 0, Unreachable, "connection refused", false},
	}
	var services []catalog.Service
	for _, c := range cases {
		services = append(services, c.svc)
	}
	rep := Probe(context.Background(), testDomain, services, Options{
		Timeout: 10 * time.Second, ConnectTo: rules, RootCAs: pool(t, ca),
	})
	require.Len(t, rep.Results, len(cases))
	for i, c := range cases {
		r := rep.Results[i]
		t.Run(c.svc.ID, func(t *testing.T) {
			assert.Equal(t, c.svc.ID, r.Service.ID, "results keep the catalog's order")
			assert.Equal(t, c.code, r.Code)
			assert.Equal(t, c.class, r.Class)
			assert.Equal(t, c.reason, r.Reason)
			assert.Equal(t, c.healthy, r.Healthy)
		})
	}
	assert.Equal(t, 5, rep.Healthy())
	assert.Equal(t, ExitUnhealthy, rep.ExitCode())
	assert.Equal(t, "🔒 401 Unauthorized (expected 200)", rep.Results[4].Status())
	assert.Equal(t, "✅ 200 OK (expected 401/403)", rep.Results[5].Status())
	assert.Equal(t, "❌ 502 Bad Gateway", rep.Results[9].Status())
	assert.Equal(t, "418 I'm a teapot", rep.Results[12].Status(), "other codes are shown as themselves")
	assert.Equal(t, 3, rep.Results[14].Redirects)
	assert.Equal(t, 5, rep.Results[15].Redirects)
}

// TestTimeouts: a server that accepts and never answers, and one that answers
// slower than the timeout, are both ⛔ timeouts, and neither holds up the run.
func TestTimeouts(t *testing.T) {
	ca := newCA(t)
	slow := startTLS(t, ca.Leaf(t, []string{"*." + testDomain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	services := []catalog.Service{svc("hung", "hung", "/code/200"), svc("slow", "slow", "/slow")}
	rep := Probe(context.Background(), testDomain, services, Options{
		Timeout:   300 * time.Millisecond,
		ConnectTo: []ConnectTo{rule("hung."+testDomain, silentPort(t)), rule("slow."+testDomain, slow)},
		RootCAs:   pool(t, ca),
	})
	for _, r := range rep.Results {
		assert.Equal(t, Unreachable, r.Class, r.Service.ID)
		assert.Equal(t, "timeout: no answer within 300ms", r.Reason, r.Service.ID)
		assert.Equal(t, "⛔ timeout: no answer within 300ms", r.Status())
	}
	assert.Less(t, rep.Duration, 3*time.Second, "the probes run at once, each bounded by the timeout")
}

// TestUntrustedWithoutCACert: the same server is a TLS failure until --cacert
// trusts its CA.
func TestUntrustedWithoutCACert(t *testing.T) {
	ca := newCA(t)
	p := startTLS(t, ca.Leaf(t, []string{"app." + testDomain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	services := []catalog.Service{svc("app", "app", "/code/200")}
	opts := Options{Timeout: time.Second, ConnectTo: []ConnectTo{rule("", p)}}
	rep := Probe(context.Background(), testDomain, services, opts)
	assert.Equal(t, Unavailable, rep.Results[0].Class)
	assert.Equal(t, "TLS: certificate signed by an unknown authority", rep.Results[0].Reason)

	opts.RootCAs = pool(t, ca)
	rep = Probe(context.Background(), testDomain, services, opts)
	assert.True(t, rep.Results[0].Healthy, rep.Results[0].Reason)
}

// TestUnresolvableName: a reserved .invalid name is a DNS failure (⛔), through
// a DNS server on loopback so the test never waits on the network.
func TestUnresolvableName(t *testing.T) {
	rep := Probe(context.Background(), "dig-test.invalid", []catalog.Service{svc("nx", "nowhere", "/")},
		Options{Timeout: 5 * time.Second, Resolver: nxdomainResolver(t)})
	r := rep.Results[0]
	assert.Equal(t, Unreachable, r.Class)
	assert.Equal(t, "DNS: no such host nowhere.dig-test.invalid", r.Reason)
	assert.False(t, r.Healthy)
	assert.Less(t, r.Duration, 5*time.Second)
}

// TestUnresolvableNameSystemResolver: with the machine's own resolver, online or
// not, the answer is ⛔ within the timeout.
func TestUnresolvableNameSystemResolver(t *testing.T) {
	rep := Probe(context.Background(), "dig-test.invalid", []catalog.Service{svc("nx", "nowhere", "/")},
		Options{Timeout: 300 * time.Millisecond})
	r := rep.Results[0]
	assert.Equal(t, Unreachable, r.Class, r.Reason)
	assert.Less(t, r.Duration, 2*time.Second)
}

// TestRedirectToAnotherHost follows a redirect to another name under the domain,
// routed by the catch-all --connect-to rule.
func TestRedirectToAnotherHost(t *testing.T) {
	ca := newCA(t)
	p := startTLS(t, ca.Leaf(t, []string{"*." + testDomain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	rep := Probe(context.Background(), testDomain, []catalog.Service{svc("sso", "app", "/elsewhere", 401)},
		Options{Timeout: time.Second, ConnectTo: []ConnectTo{{Port: "443", ToHost: "127.0.0.1", ToPort: p}}, RootCAs: pool(t, ca)})
	r := rep.Results[0]
	assert.Equal(t, 401, r.Code, r.Reason)
	assert.True(t, r.Healthy)
	assert.Equal(t, 1, r.Redirects)
}

// TestPortAndRoot: an entry for the base domain itself on another port (a
// Kubernetes API on 6443) is requested there, and --connect-to matches that port.
func TestPortAndRoot(t *testing.T) {
	ca := newCA(t)
	p := startTLS(t, ca.Leaf(t, []string{testDomain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	api := svc("k8s-api", "", "/code/401", 401)
	api.Port = 6443
	rep := Probe(context.Background(), testDomain, []catalog.Service{api},
		Options{Timeout: time.Second, ConnectTo: []ConnectTo{{Host: testDomain, Port: "6443", ToHost: "127.0.0.1", ToPort: p}}, RootCAs: pool(t, ca)})
	r := rep.Results[0]
	assert.Equal(t, "https://example.test:6443/code/401", r.URL)
	assert.True(t, r.Healthy, r.Reason)
	assert.Equal(t, "example.test:6443/code/401", r.Target(testDomain))
}

func TestOnResultSeesEveryProbe(t *testing.T) {
	ca := newCA(t)
	p := startTLS(t, ca.Leaf(t, []string{"*." + testDomain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	var services []catalog.Service
	for _, path := range []string{"/code/200", "/code/503", "/code/404", "/code/401"} {
		services = append(services, svc(path, "app", path))
	}
	seen := map[string]int{}
	rep := Probe(context.Background(), testDomain, services, Options{
		Timeout: time.Second, Concurrency: 2, ConnectTo: []ConnectTo{rule("", p)}, RootCAs: pool(t, ca),
		OnResult: func(r Result) { seen[r.Service.ID] = r.Code },
	})
	assert.Equal(t, map[string]int{"/code/200": 200, "/code/503": 503, "/code/404": 404, "/code/401": 401}, seen)
	assert.Equal(t, 1, rep.Healthy())
}

// TestDurationIsMeasured: a server that answers after a known delay gives a
// duration of at least that delay, in the result, the progress callback and JSON.
func TestDurationIsMeasured(t *testing.T) {
	const delay = 300 * time.Millisecond
	ca := newCA(t)
	p := startTLS(t, ca.Leaf(t, []string{"*." + testDomain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	var seen time.Duration
	rep := Probe(context.Background(), testDomain, []catalog.Service{svc("slow", "app", "/delay/300")}, Options{
		Timeout: 5 * time.Second, ConnectTo: []ConnectTo{rule("", p)}, RootCAs: pool(t, ca),
		OnResult: func(r Result) { seen = r.Duration },
	})
	r := rep.Results[0]
	require.True(t, r.Healthy, r.Reason)
	assert.GreaterOrEqual(t, r.Duration, delay)
	assert.Less(t, r.Duration, 5*time.Second)
	assert.Equal(t, r.Duration, seen, "the progress line shows the same duration")

	var b bytes.Buffer
	require.NoError(t, Render(&b, rep, "json", false))
	var doc struct {
		Services []struct {
			DurationMS int64 `json:"duration_ms"`
		} `json:"services"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &doc))
	assert.GreaterOrEqual(t, doc.Services[0].DurationMS, delay.Milliseconds())
}

// TestRedirectToPlainHTTP: an HTTPS service that redirects to plain HTTP is ⚠️
// and unhealthy, with the target in the reason; the plain request is never sent.
// The target names the domain in capitals: masked output hides it all the same.
func TestRedirectToPlainHTTP(t *testing.T) {
	ca := newCA(t)
	p := startTLS(t, ca.Leaf(t, []string{"*." + testDomain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	var plainHits atomic.Int32
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { plainHits.Add(1) }))
	t.Cleanup(plain.Close)
	target := "http://APP.EXAMPLE.TEST/code/200"
	rep := Probe(context.Background(), testDomain, []catalog.Service{svc("down", "app", "/downgrade")}, Options{
		Timeout: 5 * time.Second, RootCAs: pool(t, ca),
		ConnectTo: []ConnectTo{{Port: "80", ToHost: "127.0.0.1", ToPort: port(t, plain.Listener.Addr())}, rule("", p)},
	})
	r := rep.Results[0]
	assert.Equal(t, 302, r.Code)
	assert.Equal(t, Unavailable, r.Class)
	assert.False(t, r.Healthy)
	assert.Equal(t, "Found: redirects to plain HTTP "+target+" (not followed)", r.Reason)
	assert.Equal(t, "⚠️ 302 Found: redirects to plain HTTP "+target+" (not followed)", r.Status())
	assert.Equal(t, 0, r.Redirects)
	assert.Zero(t, plainHits.Load(), "no request goes out unencrypted")

	for _, format := range Formats {
		var b bytes.Buffer
		require.NoError(t, Render(&b, rep, format, true))
		assert.NotContains(t, strings.ToLower(b.String()), testDomain, format)
		assert.Contains(t, b.String(), "http://APP.${BASE_DOMAIN}/code/200", format)
	}
}
