package dig

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/infra-flash/infra/internal/catalog"
)

// Exit codes of dig: every service healthy, or not.
const (
	ExitHealthy   = 0
	ExitUnhealthy = 1
)

// Report is one health check run.
type Report struct {
	Domain   string
	Timeout  time.Duration
	Started  time.Time
	Duration time.Duration
	Results  []Result
	RunURL   string // the CI run that probed, linked from the markdown
}

// Healthy counts the services that answered as expected.
func (r *Report) Healthy() int {
	n := 0
	for _, res := range r.Results {
		if res.Healthy {
			n++
		}
	}
	return n
}

// ExitCode is 0 when every service is healthy, 1 otherwise.
func (r *Report) ExitCode() int {
	if r.Healthy() == len(r.Results) {
		return ExitHealthy
	}
	return ExitUnhealthy
}

// Headline is the verdict: 🟢 only when every service is healthy, 🟡 when half
// or fewer are down, 🔴 when most or all are.
func (r *Report) Headline() (mark, text, status string) {
	total := len(r.Results)
	down := total - r.Healthy()
	switch {
	case down == 0:
		return "🟢", "All systems operational", "operational"
	case down == total:
		return "🔴", "All services down", "down"
	case down*2 > total:
		return "🔴", "Major outage", "major_outage"
	}
	return "🟡", "Partial outage", "partial_outage"
}

// Summary is "Results: N/M healthy".
func (r *Report) Summary() string {
	return fmt.Sprintf("Results: %d/%d healthy", r.Healthy(), len(r.Results))
}

// Down names the unhealthy services, for the one line an on-call engineer reads.
func (r *Report) Down() []string {
	var out []string
	for _, res := range r.Results {
		if !res.Healthy {
			out = append(out, res.Service.Name)
		}
	}
	return out
}

// Status is the table's status cell: mark, code and reason, and what was expected
// when the answer looks fine but is not what the service should say.
func (r Result) Status() string {
	var parts []string
	if e := r.Class.Emoji(); e != "" {
		parts = append(parts, e)
	}
	if r.Code != 0 {
		parts = append(parts, strconv.Itoa(r.Code))
	}
	parts = append(parts, r.Reason)
	s := strings.Join(parts, " ")
	if !r.Healthy && r.Code != 0 && (r.Class == OK || r.Class == Auth || !slices.Equal(r.Service.Expect, []int{200})) {
		s += " (expected " + r.Service.ExpectText() + ")"
	}
	return s
}

// Target is the Domain cell: the host, a port other than 443, a path other than /.
func (r Result) Target(domain string) string {
	t := r.Service.Address(domain)
	if r.Service.Path != "/" {
		t += r.Service.Path
	}
	return t
}

// Formats dig renders.
var Formats = []string{"text", "markdown", "json"}

// CheckFormat rejects an unknown --format before anything runs.
func CheckFormat(format string) error {
	if !slices.Contains(Formats, format) {
		return inputErrorf("unknown --format %q: use text, markdown or json", format)
	}
	return nil
}

// MaskDomain says whether a rendering hides the base domain: markdown is what
// gets published (PR comments, job summaries), and on a pull request every output
// is (the job's log is public too), so they show ${BASE_DOMAIN} unless
// --show-domain asks otherwise.
func MaskDomain(format string, showDomain, onPR bool) bool {
	return !showDomain && (format == "markdown" || onPR)
}

// Render writes the report; with mask the base domain appears as ${BASE_DOMAIN},
// in reasons too (redirect targets, certificate names).
func Render(w io.Writer, r *Report, format string, mask bool) error {
	hide := func(s string) string { return s }
	shown := r.Domain
	if mask && r.Domain != "" {
		hide = func(s string) string { return Mask(s, r.Domain) }
		shown = catalog.DomainPlaceholder
	}
	switch format {
	case "markdown":
		return markdown(w, r, shown, hide)
	case "json":
		return jsonReport(w, r, shown, hide)
	case "text":
		return text(w, r, shown, hide)
	}
	return CheckFormat(format)
}

// Mask replaces the base domain in s with ${BASE_DOMAIN}, in any letter case:
// DNS names are case-insensitive, so a redirect to x.EXAMPLE.com names it too.
func Mask(s, domain string) string {
	if domain == "" || len(s) < len(domain) {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i+len(domain) <= len(s); {
		if asciiEqualFold(s[i:i+len(domain)], domain) {
			b.WriteString(s[last:i])
			b.WriteString(catalog.DomainPlaceholder)
			i += len(domain)
			last = i
			continue
		}
		i++
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// asciiEqualFold compares byte by byte, folding ASCII letters only: a domain is
// ASCII (ParseDomain), and Unicode folding could match across byte lengths.
func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func text(w io.Writer, r *Report, domain string, hide func(string) string) error {
	mark, headline, _ := r.Headline()
	var b strings.Builder
	fmt.Fprintf(&b, "Service Health Check %s %s\n%s (%s per service, took %s)\n\n",
		mark, headline, r.Summary(), r.Timeout, r.Duration.Round(time.Millisecond))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LAYER\tSERVICE\tDOMAIN\tSTATUS")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Service.LayerID, res.Service.Name, res.Target(domain), hide(res.Status()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if down := r.Down(); len(down) > 0 {
		fmt.Fprintf(&b, "\ndown: %s\n", strings.Join(down, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func markdown(w io.Writer, r *Report, domain string, hide func(string) string) error {
	mark, headline, _ := r.Headline()
	var b strings.Builder
	fmt.Fprintf(&b, "## Service Health Check %s %s\n\n", mark, headline)
	summary := r.Summary()
	if down := r.Down(); len(down) > 0 {
		summary += " · down: " + cell(strings.Join(down, ", "))
	}
	fmt.Fprintf(&b, "<details open>\n<summary>%s</summary>\n\n", summary)
	b.WriteString("| Layer | Service | Domain | Status |\n|-------|---------|--------|--------|\n")
	for _, res := range r.Results {
		fmt.Fprintf(&b, "| %s | %s | `%s` | %s |\n", cell(res.Service.LayerID), cell(res.Service.Name),
			strings.ReplaceAll(res.Target(domain), "`", ""), cell(hide(res.Status())))
	}
	b.WriteString("\n</details>\n\n")
	run := ""
	if r.RunURL != "" {
		run = " · [run](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(r.RunURL) + ")"
	}
	fmt.Fprintf(&b, "<sub>%s UTC%s · %s timeout per service · ✅ 200 · 🔒 401/403 · ❔ 404 · ⚠️ 503/526, TLS · ❌ 502/504 · ⛔ timeout, unreachable · healthy means the answer the catalog expects</sub>\n",
		r.Started.UTC().Format("2006-01-02 15:04"), run, r.Timeout)
	_, err := io.WriteString(w, b.String())
	return err
}

// cell keeps a value inside one markdown table cell and out of HTML.
func cell(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", "\\|", "<", "&lt;", ">", "&gt;", "`", "'").Replace(s)
	return s
}

type jsonResult struct {
	Layer      string `json:"layer"`
	LayerDir   string `json:"layer_dir"`
	ID         string `json:"id"`
	Service    string `json:"service"`
	Domain     string `json:"domain"`
	URL        string `json:"url"`
	Code       int    `json:"code"`
	Class      Class  `json:"class"`
	Mark       string `json:"mark"`
	Reason     string `json:"reason"`
	Status     string `json:"status"`
	Healthy    bool   `json:"healthy"`
	Expect     []int  `json:"expect"`
	Redirects  int    `json:"redirects"`
	DurationMS int64  `json:"duration_ms"`
}

type jsonDoc struct {
	Status     string       `json:"status"`
	Headline   string       `json:"headline"`
	ExitCode   int          `json:"exit_code"`
	Healthy    int          `json:"healthy"`
	Total      int          `json:"total"`
	Domain     string       `json:"domain"`
	Started    time.Time    `json:"started"`
	TimeoutMS  int64        `json:"timeout_ms"`
	DurationMS int64        `json:"duration_ms"`
	Services   []jsonResult `json:"services"`
}

func jsonReport(w io.Writer, r *Report, domain string, hide func(string) string) error {
	mark, headline, status := r.Headline()
	doc := jsonDoc{
		Status: status, Headline: mark + " " + headline, ExitCode: r.ExitCode(),
		Healthy: r.Healthy(), Total: len(r.Results), Domain: domain, Started: r.Started.UTC(),
		TimeoutMS: r.Timeout.Milliseconds(), DurationMS: r.Duration.Milliseconds(),
		Services: make([]jsonResult, len(r.Results)),
	}
	for i, res := range r.Results {
		s := res.Service
		doc.Services[i] = jsonResult{
			Layer: s.LayerID, LayerDir: s.LayerDir, ID: s.ID, Service: s.Name,
			Domain: res.Target(domain), URL: s.URL(domain), Code: res.Code, Class: res.Class,
			Mark: res.Class.Emoji(), Reason: hide(res.Reason), Status: hide(res.Status()),
			Healthy: res.Healthy, Expect: s.Expect, Redirects: res.Redirects,
			DurationMS: res.Duration.Milliseconds(),
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
