package apply

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/infra-flash/infra/internal/plan"
)

// MarkdownLimit keeps a rendered report under GitHub's comment size (65,536), with
// room for a caller's header.
const MarkdownLimit = 60000

// Render writes the report as text, markdown or json, masked once more as a whole.
func Render(w io.Writer, r *Report, format string, m *plan.Masker) error {
	var b strings.Builder
	switch format {
	case "text", "":
		Text(&b, r)
	case "markdown":
		b.WriteString(Markdown(r, MarkdownLimit))
	case "json":
		if err := JSON(&b, r); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown format %q: use text, markdown or json", format)
	}
	_, err := io.WriteString(w, m.Mask(b.String()))
	return err
}

// Headline sums the run up in one line: "apply: 2 applied, 1 failed, 1 skipped".
func Headline(r *Report) string {
	counts := r.Count()
	var parts []string
	for _, s := range []Status{Applied, Planned, NoChanges, Waiting, InSync, Unlocked, Drifted, NotConverged, NotLocked, Failed, Locked, Refused, Error, Skipped} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no layers"}
	}
	return string(r.Op) + ": " + strings.Join(parts, ", ")
}

// Text renders the report for a terminal.
func Text(w io.Writer, r *Report) {
	fmt.Fprintf(w, "%s", Headline(r))
	if r.Commit != "" {
		fmt.Fprintf(w, " at %s", shortSHA(r.Commit))
	}
	fmt.Fprintf(w, " with %s (%s)\n", r.Engine, r.Duration.Round(100e6))
	for _, l := range r.Layers {
		fmt.Fprintf(w, "\n%-28s %s", l.Layer.Label()+" ("+l.Layer.Dir+")", l.Status)
		if s := summaryLine(l); s != "" {
			fmt.Fprintf(w, ": %s", s)
		}
		fmt.Fprintln(w)
		if l.Reason != "" {
			fmt.Fprintf(w, "    %s\n", l.Reason)
		}
		if l.PlanHash != "" {
			fmt.Fprintf(w, "    plan sha256 %s\n", l.PlanHash)
		}
		if len(l.Phases) > 1 || len(l.Phases) == 1 && l.Phases[0] != "full" {
			fmt.Fprintf(w, "    phases: %s\n", strings.Join(l.Phases, ", "))
		}
		for _, s := range sections(l) {
			if lines := s.sum.Lines("      "); len(lines) > 0 {
				fmt.Fprintf(w, "    %s:\n%s\n", s.title, strings.Join(lines, "\n"))
			}
		}
		if l.Detail != "" && l.Status != Skipped {
			fmt.Fprintf(w, "    output:\n%s\n", indent(l.Detail, "      "))
		}
	}
}

type section struct {
	title string
	sum   *plan.Summary
}

// sections are the plan summaries a layer result carries, titled for its op.
func sections(l LayerResult) []section {
	var out []section
	if l.Plan != nil {
		title := "plan"
		if l.Status == Drifted || l.Status == InSync {
			title = "code vs live state"
		}
		out = append(out, section{title, l.Plan})
	}
	if l.Applied != nil && l.Plan == nil && len(l.Applied.Changes) > 0 {
		title := "applied"
		if l.Status != Applied && l.Status != NotConverged {
			title = "applied before it stopped"
		}
		out = append(out, section{title, l.Applied})
	}
	if l.Residual != nil {
		out = append(out, section{"still changing after apply", l.Residual})
	}
	if l.Refresh != nil {
		out = append(out, section{"changed outside the engine", l.Refresh})
	}
	return out
}

// summaryLine is the counts that matter for the layer's status.
func summaryLine(l LayerResult) string {
	switch {
	case l.Status == Applied && l.Applied != nil:
		return fmt.Sprintf("%d added, %d changed, %d destroyed; re-plan clean", l.Applied.Add, l.Applied.Change, l.Applied.Destroy)
	case l.Status == NotConverged && l.Residual != nil:
		return "re-plan: " + l.Residual.Counts()
	case (l.Status == Planned || l.Status == NoChanges) && l.Plan != nil:
		return l.Plan.Counts()
	case l.Status == Drifted:
		var parts []string
		if l.Plan != nil && len(l.Plan.Changes)+len(l.Plan.Outputs) > 0 {
			parts = append(parts, "code: "+l.Plan.Counts())
		}
		if l.Refresh != nil && len(l.Refresh.Drift) > 0 {
			parts = append(parts, fmt.Sprintf("%d changed outside", len(l.Refresh.Drift)))
		}
		return strings.Join(parts, "; ")
	case l.Status == Locked && l.Lock != nil:
		return "held by " + orUnknown(l.Lock.Who)
	case l.Status == Unlocked && l.Lock != nil:
		return "released lock " + l.Lock.ID
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown holder"
	}
	return s
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

func shortSHA(s string) string {
	if len(s) > 7 && !strings.ContainsAny(s, " /") {
		return s[:7]
	}
	return s
}

var marks = map[Status]string{
	Applied: "✅", NoChanges: "✅", InSync: "✅", Unlocked: "✅",
	Planned: "📝", Waiting: "⏳", NotConverged: "⚠️", Drifted: "⚠️", NotLocked: "⚠️",
	Failed: "❌", Locked: "🔒", Refused: "⛔", Error: "❌", Skipped: "⏭️",
}

// Markdown renders the report for a PR comment or an issue, within limit bytes:
// details shrink (attributes, then list lengths, then whole sections) until it fits.
func Markdown(r *Report, limit int) string {
	for _, level := range []struct {
		items  int
		brief  bool
		detail bool
	}{{0, false, true}, {50, true, true}, {15, true, false}, {5, true, false}, {-1, true, false}} {
		out := markdown(r, level.items, level.brief, level.detail)
		if limit <= 0 || len(out) <= limit {
			return out
		}
	}
	return truncateMarkdown(markdown(r, -1, true, false), limit)
}

func markdown(r *Report, items int, brief, detail bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### infra %s", r.Op)
	if r.Commit != "" {
		fmt.Fprintf(&b, " · `%s`", shortSHA(r.Commit))
	}
	fmt.Fprintf(&b, " · %s\n\n%s\n\n", r.Engine, Headline(r))
	b.WriteString("| Layer | Status | Summary | Plan |\n|:------|:------|:--------|:-----|\n")
	for _, l := range r.Layers {
		summary := summaryLine(l)
		if summary == "" || l.Status == Skipped || l.Status == Failed || l.Status == Refused || l.Status == Error || l.Status == Locked {
			summary = l.Reason
		}
		hash := ""
		if l.PlanHash != "" {
			hash = "`" + plan.Short(l.PlanHash) + "`"
		}
		fmt.Fprintf(&b, "| **%s** %s | %s %s | %s | %s |\n", l.Layer.ID(), cell(l.Layer.Title), marks[l.Status], l.Status, cell(summary), hash)
	}
	if items < 0 {
		return b.String()
	}
	for _, l := range r.Layers {
		var body strings.Builder
		for _, s := range sections(l) {
			if md := s.sum.Markdown(items, brief); md != "" {
				fmt.Fprintf(&body, "**%s**\n\n%s\n", s.title, md)
			}
		}
		if detail && l.Detail != "" && l.Status != Skipped {
			fmt.Fprintf(&body, "%s\n", fence(l.Detail))
		}
		if body.Len() == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s %s: %s</summary>\n\n%s</details>\n", l.Layer.ID(), html(l.Layer.Title), l.Status, body.String())
	}
	return b.String()
}

func truncateMarkdown(s string, limit int) string {
	const note = "\n\n… (truncated)\n"
	if len(s) <= limit {
		return s
	}
	cut := limit - len(note)
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + note
}

func cell(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", "\\|").Replace(s)
	return html(s)
}

func html(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func fence(s string) string {
	f := "```"
	for strings.Contains(s, f) {
		f += "`"
	}
	return f + "\n" + s + "\n" + f
}

type jsonLayer struct {
	Dir   string `json:"name"`
	ID    string `json:"id"`
	Title string `json:"title"`
	Path  string `json:"path"`
	LayerResult
	DurationMS int64 `json:"duration_ms"`
}

// JSON renders the report for machines.
func JSON(w io.Writer, r *Report) error {
	out := struct {
		*Report
		ExitCode   int         `json:"exit_code"`
		Summary    string      `json:"summary"`
		DurationMS int64       `json:"duration_ms"`
		Layers     []jsonLayer `json:"layers"`
	}{Report: r, ExitCode: r.ExitCode(), Summary: Headline(r), DurationMS: r.Duration.Milliseconds(), Layers: []jsonLayer{}}
	for _, l := range r.Layers {
		out.Layers = append(out.Layers, jsonLayer{Dir: l.Layer.Dir, ID: l.Layer.ID(), Title: l.Layer.Title, Path: l.Layer.Path, LayerResult: l, DurationMS: l.Duration.Milliseconds()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
