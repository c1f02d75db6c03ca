package report

import "strings"

// InlineText makes untrusted text (a commit subject, a tool's message) safe on
// one markdown line: whitespace folded, HTML escaped outside code spans.
func InlineText(s string) string { return inline(s) }

// CellText is InlineText for a table cell: pipes escaped too.
func CellText(s string) string { return cell(s) }

// CodeSpan shows text verbatim in a code span that backticks inside it cannot
// close. In a table cell, use CellCode.
func CodeSpan(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// CellCode is CodeSpan for a table cell: GitHub splits cells on pipes even
// inside code spans unless they are escaped.
func CellCode(s string) string { return strings.ReplaceAll(CodeSpan(s), "|", "\\|") }
