package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/infra-flash/infra/internal/stage"
)

// Marks used in the markdown matrix.
var marks = map[stage.Status]string{
	stage.Pass:  "✅",
	stage.Fail:  "❌",
	stage.Skip:  "➖",
	stage.Error: "⚠️",
}

// Mark returns the emoji for a status.
func Mark(s stage.Status) string { return marks[s] }

// DefaultMarkdownLimit keeps a rendered report well inside GitHub's 65,536-character
// comment limit, leaving room for the rest of a comment.
const DefaultMarkdownLimit = 60000

// Markdown writes the status matrix and, under it, the findings of every failing
// stage in collapsible sections. Findings past limit characters are summarised,
// never cut mid-way, so the markup stays well formed.
func Markdown(w io.Writer, r *Report, limit int) error {
	if limit <= 0 {
		limit = DefaultMarkdownLimit
	}
	if len(r.Layers) == 0 {
		_, err := io.WriteString(w, "_No layer is selected: nothing to check._\n")
		return err
	}
	var b strings.Builder
	b.WriteString("| Layer |")
	align := "|:------|"
	envs := r.hasEnvironments()
	if envs {
		b.WriteString(" Environment |")
		align += ":------------|"
	}
	for _, k := range stage.Kinds {
		b.WriteString(" " + k.Title() + " |")
		align += ":" + strings.Repeat("-", len(k.Title())) + ":|"
	}
	b.WriteString("\n" + align + "\n")
	for _, l := range r.Layers {
		if !l.Layer.Unnumbered {
			fmt.Fprintf(&b, "| **%s** %s |", l.Layer.ID(), cell(l.Layer.Title))
		} else {
			fmt.Fprintf(&b, "| **%s** |", cell(l.Layer.Dir))
		}
		if envs {
			b.WriteString(" " + cell(envOf(l.Layer)) + " |")
		}
		for _, k := range stage.Kinds {
			b.WriteString(" " + Mark(l.Result(k).Status) + cachedMark(l.Result(k), " <sub>cached</sub>") + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n" + legend(r) + "\n")

	omitted := 0
	for _, l := range r.Layers {
		for _, k := range stage.Kinds {
			res := l.Result(k)
			if res.Status != stage.Fail && res.Status != stage.Error {
				continue
			}
			section, fits := findingsSection(l, k, res, limit-200-b.Len())
			if !fits {
				omitted += max(len(res.Findings), 1)
				continue
			}
			b.WriteString(section)
		}
	}
	if omitted > 0 {
		noun := "findings are"
		if omitted == 1 {
			noun = "finding is"
		}
		fmt.Fprintf(&b, "\n> %d more %s not shown here: the run's log and `--format json` have them all.\n", omitted, noun)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func legend(r *Report) string {
	used := map[stage.Status]bool{}
	for _, l := range r.Layers {
		for _, k := range stage.Kinds {
			used[l.Result(k).Status] = true
		}
	}
	var parts []string
	for _, s := range []stage.Status{stage.Pass, stage.Fail, stage.Error, stage.Skip} {
		if used[s] {
			name := map[stage.Status]string{stage.Pass: "passed", stage.Fail: "failed", stage.Error: "could not run", stage.Skip: "skipped"}[s]
			parts = append(parts, Mark(s)+" "+name)
		}
	}
	if n, _ := r.Cached(); n > 0 {
		parts = append(parts, "cached: reused from an earlier run, nothing it reads has changed")
	}
	return "<sub>" + strings.Join(parts, " · ") + "</sub>"
}

// findingsSection renders one stage's findings, or reports that they do not fit
// in room bytes; it stops building as soon as they cannot fit.
func findingsSection(l LayerResult, k stage.Kind, res stage.Result, room int) (string, bool) {
	if room <= 0 {
		return "", false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n<details><summary>%s <b>%s</b> %s · %s: %s</summary>\n\n",
		Mark(res.Status), l.Layer.ID(), html(l.Layer.Title), k.Title(), countText(res))
	for _, f := range res.Findings {
		b.WriteString("- " + location(f))
		if f.Rule != "" {
			b.WriteString(" `" + strings.ReplaceAll(f.Rule, "`", "'") + "`")
		}
		b.WriteString(" " + inline(f.Message) + "\n")
		if f.Detail != "" {
			lang := ""
			if k == stage.Format {
				lang = "diff"
			}
			b.WriteString("\n" + fenced(f.Detail, lang, "  ") + "\n")
		}
		if b.Len() > room {
			return "", false
		}
	}
	b.WriteString("\n</details>\n")
	return b.String(), b.Len() <= room
}

func countText(res stage.Result) string {
	if res.Status == stage.Error {
		return "could not run"
	}
	if n := len(res.Findings); n == 1 {
		return "1 finding"
	} else {
		return fmt.Sprintf("%d findings", n)
	}
}

func location(f stage.Finding) string {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	if loc == "" {
		return ""
	}
	return "`" + strings.ReplaceAll(loc, "`", "'") + "`"
}

// inline makes tool text safe on one markdown line of a list: whitespace folded and
// HTML escaped outside code spans (inside them GitHub shows text as it is, and
// escaping would show the entities). Unbalanced backticks escape everything.
func inline(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 {
		return html(s)
	}
	for i := 0; i < len(parts); i += 2 {
		parts[i] = html(parts[i])
	}
	return strings.Join(parts, "`")
}

// cell makes text safe in a table cell: inline, and pipes escaped.
func cell(s string) string { return strings.ReplaceAll(inline(s), "|", "\\|") }

// htmlEscaper is built once: building a Replacer costs far more than using it.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func html(s string) string { return htmlEscaper.Replace(s) }

// fenced wraps text in a code fence longer than any backtick run inside it.
func fenced(text, lang, indent string) string {
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var b strings.Builder
	b.WriteString(indent + fence + lang + "\n")
	for _, l := range lines {
		b.WriteString(indent + l + "\n")
	}
	b.WriteString(indent + fence)
	return b.String()
}
