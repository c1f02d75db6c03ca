package report_test

import (
	"strings"
	"testing"

	"github.com/infra-flash/infra/internal/stage"
)

// Whatever a tool prints, the markdown stays one well-formed comment: every
// <details> closed, no raw HTML from the tool, within the limit's reach.
func FuzzMarkdown(f *testing.F) {
	f.Add("msg with `code` and <b>", "rule", "@@ -1 +1 @@\n-a\n+b", 2)
	f.Add("```", "`", "````", 1)
	f.Add("</details><details>", "", "<script>", 0)
	f.Add("`<script>` is code, <script> is not", "r", "", 3)
	f.Fuzz(func(t *testing.T, msg, rule, detail string, n int) {
		n = n%50 + 1
		if n < 1 {
			n = 1
		}
		var fs []stage.Finding
		for i := 0; i < n; i++ {
			fs = append(fs, stage.Finding{File: "terraform/1.a/main.tf", Line: i, Rule: rule, Message: msg, Detail: detail})
		}
		r := newReport(row(layer(1, "a", "A"), map[stage.Kind]stage.Result{
			stage.Format: fail(fs...), stage.Lint: fail(fs...),
		}))
		out := outsideFences(markdown(t, r, 4000))
		if strings.Count(out, "<details>") != strings.Count(out, "</details>") {
			t.Fatalf("unbalanced details:\n%s", out)
		}
		if strings.Contains(outsideCodeSpans(out), "<script") {
			t.Fatalf("raw HTML from a tool outside code:\n%s", out)
		}
	})
}

// outsideFences drops fenced code blocks, where GitHub shows text as it is.
func outsideFences(s string) string {
	var b strings.Builder
	fence := ""
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimSpace(line)
		if fence == "" && strings.HasPrefix(trimmed, "```") {
			fence = strings.TrimRight(trimmed, "abcdefghijklmnopqrstuvwxyz")
			continue
		}
		if fence != "" {
			if trimmed == fence {
				fence = ""
			}
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// outsideCodeSpans drops `code spans` from each line, where HTML is shown as text.
func outsideCodeSpans(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		parts := strings.Split(line, "`")
		if len(parts)%2 == 0 {
			b.WriteString(line + "\n")
			continue
		}
		for i := 0; i < len(parts); i += 2 {
			b.WriteString(parts[i])
		}
		b.WriteString("\n")
	}
	return b.String()
}
