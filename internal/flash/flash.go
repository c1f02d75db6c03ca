// Package flash composes the one infra-flash comment a PR carries: the branch and
// commit, the CI status matrix with each failing layer's findings collapsed under
// it, the layer graph, what Atlantis last did per layer (or, in comment mode,
// what /plan and /apply did on the commit), and a link to the run.
// It is pure: values in, markdown out, always within the size it is given.
package flash

import (
	"fmt"
	"sort"
	"strings"

	"github.com/infra-flash/infra/internal/atlantis"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/slash"
)

// Commit is what the comment says about the commit it reports on.
type Commit struct {
	SHA     string
	Subject string
	Branch  string
}

// Input is everything the comment shows.
type Input struct {
	Report *report.Report
	// Layers is the whole tree in apply order, for the graph; nil draws only the
	// layers the report covers.
	Layers   []*layers.Layer
	Commit   Commit
	Atlantis atlantis.Status
	// Comments, when set, is comment mode (infra.hcl's pr_automation =
	// "comments"): a Plans section about /plan and /apply replaces Atlantis's.
	Comments *CommentPlans
	RunURL   string
	// FullText says where the complete report is when the comment had to leave
	// findings out ("the job summary"); empty for the job summary itself.
	FullText string
	// FullCut: the text FullText names had to leave findings out too, so it
	// is not called the full report.
	FullCut bool
}

// CommentPlans is what comment mode's /plan and /apply last recorded on the
// commit (their commit statuses); a zero Step: not run on it.
type CommentPlans struct {
	Plan, Apply Step
}

// Step is one command's record: its state (success, failure, error, pending),
// its one-line description and the run that made it.
type Step struct {
	State, Description, URL string
}

// Compose renders the comment within limit bytes. When it must shrink, findings
// go first, then the layer graph, then the Atlantis command hints; the matrix,
// the Atlantis status and the end stay, and the end says where the full text is.
func Compose(in Input, limit int) string {
	head := header(in.Commit)
	ciHead := "### 🔍 CI Status (Syntax Only)\n\n"
	graph := graphSection(in)
	status, hints := atlantisSection(in)
	if in.Comments != nil {
		status, hints = plansSection(in)
	}
	end := footer(in)

	fixed := len(head) + len(ciHead) + len(status) + len(end)
	// The matrix renders findings until its budget is spent and never less than
	// the bare matrix, so one render settles the usual case; only a matrix too
	// big for its budget drops the optional parts, in this order, and retries.
	var ci string
	budget := 0
	for _, drop := range []*string{nil, &graph, &hints} {
		if drop != nil {
			*drop = ""
		}
		budget = limit - fixed - len(graph) - len(hints)
		if ci = matrix(in.Report, budget); len(ci) <= budget {
			break
		}
	}
	if len(ci) > budget { // even the bare matrix does not fit: cut it, keep the end
		has := " has all of it"
		if in.FullCut {
			has = " has more of it"
		}
		ci = cutLines(ci, budget, "\n> ✂️ The matrix is cut here to fit GitHub's limit; "+where(in)+has+".\n\n")
	}
	out := head + ciHead + ci + graph + status + hints + end
	if len(out) > limit { // a limit smaller than the fixed parts themselves
		return cutLines(out, limit, "\n")
	}
	return out
}

func header(c Commit) string {
	var b strings.Builder
	b.WriteString("## ⚡ infra-flash")
	if c.Branch != "" {
		b.WriteString(" | " + report.CodeSpan(c.Branch))
	}
	b.WriteString("\n\n")
	if c.SHA != "" || c.Subject != "" {
		b.WriteString("### 📍 Commit\n")
		if sha := shortSHA(c.SHA); sha != "" {
			b.WriteString(report.CodeSpan(sha))
		}
		if c.Subject != "" {
			b.WriteString(" - " + report.InlineText(c.Subject))
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

func matrix(r *report.Report, limit int) string {
	var b strings.Builder
	if r == nil {
		return "_No checks ran._\n\n"
	}
	_ = report.Markdown(&b, r, max(limit, 1))
	s := b.String()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s + "\n"
}

func graphSection(in Input) string {
	ls := in.Layers
	if ls == nil && in.Report != nil {
		for _, l := range in.Report.Layers {
			ls = append(ls, l.Layer)
		}
	}
	if len(ls) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("<details><summary>🗺️ Layer graph (apply order)</summary>\n\n```mermaid\n")
	_ = report.Mermaid(&b, ls, in.Report)
	b.WriteString("```\n\n</details>\n\n")
	return b.String()
}

var outcomeMark = map[atlantis.Outcome]string{atlantis.Success: "✅", atlantis.Failed: "❌", atlantis.Errored: "⚠️"}

// atlantisSection is the status table (kept) and the command hints (optional).
func atlantisSection(in Input) (status, hints string) {
	var b strings.Builder
	b.WriteString("### 🔮 Atlantis (Real Plan/Apply)\n\n")
	b.WriteString("> CI checks syntax only. **Atlantis is the only way to plan and apply.**\n\n")

	dirs := atlantisDirs(in)
	st := in.Atlantis
	if len(st.Plan) == 0 && len(st.Apply) == 0 {
		b.WriteString("_No Atlantis plan on this PR yet._\n\n")
	} else {
		b.WriteString("| Layer | Plan | Apply |\n|:------|:-----|:------|\n")
		for _, d := range dirs {
			plan, hasPlan := st.Plan[d.dir]
			apply, hasApply := st.Apply[d.dir]
			if !hasPlan && !hasApply {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", d.label, runCell(plan, hasPlan), runCell(apply, hasApply))
		}
		b.WriteString("\n")
	}
	if f := st.LastFailure; f != nil {
		fmt.Fprintf(&b, "> ❌ The latest `atlantis %s` failed: %s%s\n\n", report.InlineText(f.Command), report.InlineText(f.Summary), link(f.URL))
	}
	status = b.String()

	var paths []string
	for _, d := range dirs {
		if d.selected {
			paths = append(paths, d.dir)
		}
	}
	var h strings.Builder
	h.WriteString("<details><summary>Atlantis commands</summary>\n\n| Comment | What it does |\n|:--|:--|\n")
	for _, x := range atlantis.Hints(paths) {
		fmt.Fprintf(&h, "| %s | %s |\n", report.CellCode(x.Command), report.CellText(x.What))
	}
	h.WriteString("\n</details>\n\n")
	return status, h.String()
}

var stepMark = map[string]string{"success": "✅", "failure": "❌", "error": "⚠️", "pending": "⏳"}

// plansSection is comment mode's status (kept) and command hints (optional).
func plansSection(in Input) (status, hints string) {
	var b strings.Builder
	b.WriteString("### 🔮 Plans (from comments)\n\n")
	b.WriteString("> CI checks syntax only. **Plans and applies run from comments on this pull request**, not Atlantis: comment `/plan`, then `/apply` once the pull request is approved.\n\n")
	st := in.Comments
	at := "this commit"
	if in.Commit.SHA != "" {
		at = report.CodeSpan(shortSHA(in.Commit.SHA))
	}
	if st.Plan.State == "" && st.Apply.State == "" {
		fmt.Fprintf(&b, "_No `/plan` on %s yet._\n\n", at)
	} else {
		fmt.Fprintf(&b, "| Command | On %s |\n|:--|:--|\n", at)
		fmt.Fprintf(&b, "| `/plan` | %s |\n| `/apply` | %s |\n\n", stepCell(st.Plan), stepCell(st.Apply))
	}
	status = b.String()

	var h strings.Builder
	h.WriteString("<details><summary>Comment commands</summary>\n\n| Comment | What it does |\n|:--|:--|\n")
	for _, n := range slash.Names {
		u := slash.Usage[n]
		fmt.Fprintf(&h, "| %s | %s |\n", report.CellCode(u[0]), report.CellText(u[1]))
	}
	h.WriteString("\n</details>\n\n")
	return status, h.String()
}

func stepCell(s Step) string {
	if s.State == "" {
		return "—"
	}
	mark, ok := stepMark[s.State]
	if !ok {
		mark = report.CellText(s.State)
	}
	if s.Description != "" {
		mark += " " + report.CellText(clip(s.Description, 140))
	}
	return mark + runLink(s.URL)
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

type dirRow struct {
	dir, label string
	selected   bool // checked in this run
}

// atlantisDirs lists the layers in apply order (checked ones, and any Atlantis
// reported on), then directories Atlantis reported that are no layer.
func atlantisDirs(in Input) []dirRow {
	var rows []dirRow
	seen := map[string]bool{}
	checked := map[string]bool{}
	if in.Report != nil {
		for _, l := range in.Report.Layers {
			checked[l.Layer.Path] = true
		}
	}
	all := in.Layers
	if all == nil && in.Report != nil {
		for _, l := range in.Report.Layers {
			all = append(all, l.Layer)
		}
	}
	for _, l := range all {
		_, p := in.Atlantis.Plan[l.Path]
		_, a := in.Atlantis.Apply[l.Path]
		if checked[l.Path] || p || a {
			rows = append(rows, dirRow{l.Path, "**" + l.ID() + "** " + report.CellText(l.Title), checked[l.Path]})
			seen[l.Path] = true
		}
	}
	var other []string
	for _, m := range []map[string]atlantis.Run{in.Atlantis.Plan, in.Atlantis.Apply} {
		for d := range m {
			if !seen[d] {
				seen[d] = true
				other = append(other, d)
			}
		}
	}
	sort.Strings(other)
	for _, d := range other {
		rows = append(rows, dirRow{dir: d, label: report.CellCode(d)})
	}
	return rows
}

func runCell(r atlantis.Run, ok bool) string {
	if !ok {
		return "—"
	}
	s := outcomeMark[r.Outcome]
	if r.Summary != "" {
		s += " " + report.CellText(clip(r.Summary, 90))
	}
	return s + link(r.URL)
}

func link(url string) string { return linkAs("comment", url) }

func runLink(url string) string { return linkAs("run", url) }

func linkAs(text, url string) string {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return ""
	}
	return " ([" + text + "](" + strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "|", "%7C").Replace(url) + "))"
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func where(in Input) string {
	if in.FullText != "" {
		return in.FullText
	}
	return "the run"
}

func footer(in Input) string {
	var parts []string
	if strings.HasPrefix(in.RunURL, "https://") || strings.HasPrefix(in.RunURL, "http://") {
		parts = append(parts, "🏃 [The run]("+strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(in.RunURL)+")")
	}
	switch {
	case in.FullText != "" && in.FullCut:
		parts = append(parts, "more findings are in "+in.FullText+", cut to GitHub's size limit too: `infra validate` lists them all")
	case in.FullText != "":
		parts = append(parts, "the full report is in "+in.FullText)
	}
	parts = append(parts, "updated in place on every push")
	return "---\n<sub>" + strings.Join(parts, " · ") + "</sub>\n"
}

// cutLines cuts text at a line end within limit bytes, then appends note.
func cutLines(text string, limit int, note string) string {
	n := limit - len(note)
	if n <= 0 {
		return ""
	}
	if n >= len(text) {
		return text + note
	}
	if i := strings.LastIndexByte(text[:n], '\n'); i >= 0 {
		n = i + 1
	} else {
		for n > 0 && text[n]&0xC0 == 0x80 {
			n--
		}
	}
	return text[:n] + note
}
