package dig

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/catalog"
)

// probeCodes runs a real probe of one service per path against one loopback server.
func probeCodes(t *testing.T, paths ...string) *Report {
	t.Helper()
	ca := newCA(t)
	p := startTLS(t, ca.Leaf(t, []string{"*." + testDomain}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), codes())
	var services []catalog.Service
	for i, path := range paths {
		s := svc(path, "svc"+string(rune('a'+i)), path)
		s.Name = "Service " + string(rune('A'+i))
		s.LayerID = "L" + string(rune('1'+i%4))
		if strings.HasSuffix(path, "/401") {
			s.Expect = []int{401, 403}
		}
		services = append(services, s)
	}
	return Probe(context.Background(), testDomain, services, Options{
		Timeout: 10 * time.Second, ConnectTo: []ConnectTo{rule("", p)}, RootCAs: pool(t, ca),
		Now: func() time.Time { return time.Date(2026, 11, 30, 3, 7, 0, 0, time.UTC) },
	})
}

func TestHeadline(t *testing.T) {
	cases := []struct {
		name     string
		paths    []string
		mark     string
		headline string
		summary  string
		exit     int
	}{
		{"all healthy", []string{"/code/200", "/code/401", "/hop/1"}, "🟢", "All systems operational", "Results: 3/3 healthy", 0},
		{"one down", []string{"/code/200", "/code/401", "/code/502", "/code/200"}, "🟡", "Partial outage", "Results: 3/4 healthy", 1},
		{"half down", []string{"/code/200", "/code/503", "/code/404", "/code/200"}, "🟡", "Partial outage", "Results: 2/4 healthy", 1},
		{"most down", []string{"/code/200", "/code/503", "/code/404", "/code/504"}, "🔴", "Major outage", "Results: 1/4 healthy", 1},
		{"all down", []string{"/code/500", "/code/503", "/code/404"}, "🔴", "All services down", "Results: 0/3 healthy", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := probeCodes(t, c.paths...)
			mark, headline, _ := rep.Headline()
			assert.Equal(t, c.mark, mark)
			assert.Equal(t, c.headline, headline)
			assert.Equal(t, c.summary, rep.Summary())
			assert.Equal(t, c.exit, rep.ExitCode())
		})
	}
}

// TestHeadlineNeverContradicts: green exactly when every service is healthy, for
// every count (the seed's example said "All systems operational" over 4/10).
func TestHeadlineNeverContradicts(t *testing.T) {
	for total := 1; total <= 12; total++ {
		for healthy := 0; healthy <= total; healthy++ {
			rep := &Report{}
			for i := 0; i < total; i++ {
				rep.Results = append(rep.Results, Result{Healthy: i < healthy})
			}
			mark, _, _ := rep.Headline()
			assert.Equal(t, healthy == total, mark == "🟢", "%d/%d", healthy, total)
			assert.Equal(t, healthy*2 < total, mark == "🔴", "%d/%d", healthy, total)
			assert.Equal(t, healthy == total, rep.ExitCode() == 0)
		}
	}
}

func TestMarkdownMasksTheDomain(t *testing.T) {
	rep := probeCodes(t, "/code/200", "/code/401", "/code/502", "/elsewhere")
	var b bytes.Buffer
	require.NoError(t, Render(&b, rep, "markdown", MaskDomain("markdown", false, false)))
	md := b.String()
	assert.NotContains(t, md, testDomain, "the base domain is not published")
	assert.Contains(t, md, "## Service Health Check 🟡 Partial outage\n\n<details open>\n<summary>Results: 2/4 healthy · down: Service C, Service D</summary>\n")
	assert.Contains(t, md, "| Layer | Service | Domain | Status |\n|-------|---------|--------|--------|\n")
	assert.Contains(t, md, "| L1 | Service A | `svca.${BASE_DOMAIN}/code/200` | ✅ 200 OK |\n")
	assert.Contains(t, md, "| L2 | Service B | `svcb.${BASE_DOMAIN}/code/401` | 🔒 401 Unauthorized |\n")
	assert.Contains(t, md, "| L3 | Service C | `svcc.${BASE_DOMAIN}/code/502` | ❌ 502 Bad Gateway |\n")
	// /elsewhere redirects to login.<domain>, which asks for credentials.
	assert.Contains(t, md, "| L4 | Service D | `svcd.${BASE_DOMAIN}/elsewhere` | 🔒 401 Unauthorized (expected 200) |\n")
	assert.Contains(t, md, "<sub>2026-11-30 03:07 UTC · 10s timeout per service")

	b.Reset()
	require.NoError(t, Render(&b, rep, "markdown", MaskDomain("markdown", true, false)))
	assert.Contains(t, b.String(), "`svca.example.test/code/200`", "--show-domain publishes it")
}

func TestTextAndJSON(t *testing.T) {
	rep := probeCodes(t, "/code/200", "/code/503")
	var b bytes.Buffer
	require.False(t, MaskDomain("text", false, false))
	require.NoError(t, Render(&b, rep, "text", false))
	text := b.String()
	assert.True(t, strings.HasPrefix(text, "Service Health Check 🟡 Partial outage\nResults: 1/2 healthy (10s per service, took "), text)
	assert.Contains(t, text, "LAYER  SERVICE    DOMAIN                      STATUS\n")
	assert.Contains(t, text, "L1     Service A  svca.example.test/code/200  ✅ 200 OK\n")
	assert.Contains(t, text, "L2     Service B  svcb.example.test/code/503  ⚠️ 503 Service Unavailable\n")
	assert.True(t, strings.HasSuffix(text, "\ndown: Service B\n"))

	b.Reset()
	require.NoError(t, Render(&b, rep, "json", false))
	var doc struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
		Healthy  int    `json:"healthy"`
		Total    int    `json:"total"`
		Domain   string `json:"domain"`
		Services []struct {
			Layer   string `json:"layer"`
			Service string `json:"service"`
			URL     string `json:"url"`
			Code    int    `json:"code"`
			Class   string `json:"class"`
			Mark    string `json:"mark"`
			Healthy bool   `json:"healthy"`
			Expect  []int  `json:"expect"`
		} `json:"services"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &doc))
	assert.Equal(t, "partial_outage", doc.Status)
	assert.Equal(t, 1, doc.ExitCode)
	assert.Equal(t, 1, doc.Healthy)
	assert.Equal(t, 2, doc.Total)
	assert.Equal(t, testDomain, doc.Domain)
	require.Len(t, doc.Services, 2)
	assert.Equal(t, "https://svcb.example.test/code/503", doc.Services[1].URL)
	assert.Equal(t, 503, doc.Services[1].Code)
	assert.Equal(t, "unavailable", doc.Services[1].Class)
	assert.Equal(t, "⚠️", doc.Services[1].Mark)
	assert.False(t, doc.Services[1].Healthy)
	assert.Equal(t, []int{200}, doc.Services[1].Expect)

	assert.Error(t, Render(&b, rep, "yaml", false))
	assert.Error(t, CheckFormat("html"))
}

// TestMaskedReasons: reasons name hosts (certificates, DNS, redirects); masked
// output hides the domain there too, in every format.
func TestMaskedReasons(t *testing.T) {
	rep := &Report{Domain: "example.com", Timeout: time.Second, Results: []Result{{
		Service: catalog.Service{Name: "A", LayerID: "L1", Subdomain: "a", Port: 443, Path: "/", Expect: []int{200}},
		Class:   Unavailable, Reason: "TLS: certificate is not valid for a.example.com",
	}}}
	for _, format := range Formats {
		var b bytes.Buffer
		require.NoError(t, Render(&b, rep, format, true))
		assert.NotContains(t, b.String(), "example.com", format)
		assert.Contains(t, b.String(), "not valid for a.${BASE_DOMAIN}", format)
	}
}

func TestMarkdownCellsStayInTheTable(t *testing.T) {
	rep := &Report{Domain: "example.com", Timeout: time.Second, Results: []Result{{
		Service: catalog.Service{Name: "A|B", LayerID: "L1", Subdomain: "a", Port: 443, Path: "/", Expect: []int{200}},
		Class:   Unreachable, Reason: "boom | <script>\nnext line `x`",
	}}}
	var b bytes.Buffer
	require.NoError(t, Render(&b, rep, "markdown", true))
	assert.Contains(t, b.String(), "| L1 | A\\|B | `a.${BASE_DOMAIN}` | ⛔ boom \\| &lt;script&gt; next line 'x' |\n")
}

// TestMaskDomainOnPR: on a pull request every format is masked (the job's log is
// public), unless --show-domain.
func TestMaskDomainOnPR(t *testing.T) {
	for _, format := range Formats {
		assert.True(t, MaskDomain(format, false, true), format)
		assert.False(t, MaskDomain(format, true, true), format)
		assert.Equal(t, format == "markdown", MaskDomain(format, false, false), format)
	}
}

// TestMaskIgnoresCase: DNS names are case-insensitive, so a redirect target or a
// certificate name in capitals names the domain too.
func TestMaskIgnoresCase(t *testing.T) {
	for in, want := range map[string]string{
		"to https://x.DIG.Test/a":            "to https://x.${BASE_DOMAIN}/a",
		"DIG.TEST and dig.test and Dig.tEsT": "${BASE_DOMAIN} and ${BASE_DOMAIN} and ${BASE_DOMAIN}",
		"dig.tes":                            "dig.tes",
		"":                                   "",
		"ünïcode dig.test ✅":                 "ünïcode ${BASE_DOMAIN} ✅",
	} {
		assert.Equal(t, want, Mask(in, "dig.test"), in)
	}
	assert.Equal(t, "x.DIG.Test", Mask("x.DIG.Test", ""))
}

// FuzzMask: no letter-case variant of the domain survives masking.
func FuzzMask(f *testing.F) {
	f.Add("x.DIG.Test", "dig.test")
	f.Add("dig.testdig.test", "dig.test")
	f.Fuzz(func(t *testing.T, s, domain string) {
		domain, err := ParseDomain(domain)
		if err != nil {
			return
		}
		out := Mask(s, domain)
		assert.NotContains(t, strings.ToLower(strings.ReplaceAll(out, catalog.DomainPlaceholder, "|")), domain)
	})
}
