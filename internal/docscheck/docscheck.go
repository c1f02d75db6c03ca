// Package docscheck holds the Markdown documentation to the repository: every
// relative link leads to a file that exists, and an #anchor to a heading of that
// file (as GitHub names headings), and every `dagger call` shown in a code block
// can be read as a command line (whether the module has its functions and flags is
// the workflowcheck package's Module.Missing).
package docscheck

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// Finding is one broken link, located in its document.
type Finding struct {
	File string
	Line int
	Msg  string
}

func (f Finding) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Msg) }

// line is one line of a document that is not a fence itself; block numbers the
// fenced code block it is in, 0 outside code.
type line struct {
	n     int
	text  string
	block int
}

var (
	fence    = regexp.MustCompile("^ {0,3}(```|~~~)")
	heading  = regexp.MustCompile(`^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$`)
	codeSpan = regexp.MustCompile("`+[^`]*`+")
	link     = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	scheme   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// lines splits a document into lines, numbering its fenced code blocks.
func lines(src []byte) []line {
	var out []line
	inFence, blocks := "", 0
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		t := sc.Text()
		if m := fence.FindStringSubmatch(t); m != nil {
			switch {
			case inFence == "":
				inFence = m[1]
				blocks++
			case inFence == m[1]:
				inFence = ""
			}
			continue
		}
		l := line{n: n, text: t}
		if inFence != "" {
			l.block = blocks
		}
		out = append(out, l)
	}
	return out
}

// prose returns the lines outside fenced code blocks.
func prose(src []byte) []line {
	var out []line
	for _, l := range lines(src) {
		if l.block == 0 {
			out = append(out, l)
		}
	}
	return out
}

// Slug is the anchor GitHub gives a heading: inline markup dropped, lower case,
// every character but letters, digits, spaces, '-' and '_' removed, spaces turned
// into '-'.
func Slug(text string) string {
	text = mdLink.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(text)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Anchors returns the anchors of a document's headings; a repeated heading gets
// "-1", "-2", … as on GitHub.
func Anchors(src []byte) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range prose(src) {
		m := heading.FindStringSubmatch(l.text)
		if m == nil {
			continue
		}
		s := Slug(m[2])
		k := seen[s]
		seen[s]++
		if k > 0 {
			s = fmt.Sprintf("%s-%d", s, k)
		}
		out[s] = true
	}
	return out
}

// Links checks the relative links of the named Markdown files, given as
// slash-separated paths under root. A link leaving root, an absolute path, a
// missing file and an anchor naming no heading are findings; links with a scheme
// (https:, mailto:) are not checked.
func Links(root string, files []string) ([]Finding, error) {
	var out []Finding
	anchors := map[string]map[string]bool{}
	read := func(name string) (map[string]bool, error) {
		if a, ok := anchors[name]; ok {
			return a, nil
		}
		src, err := os.ReadFile(path.Join(root, name))
		if err != nil {
			return nil, err
		}
		anchors[name] = Anchors(src)
		return anchors[name], nil
	}
	for _, name := range files {
		src, err := os.ReadFile(path.Join(root, name))
		if err != nil {
			return nil, err
		}
		for _, l := range prose(src) {
			for _, m := range link.FindAllStringSubmatch(codeSpan.ReplaceAllString(l.text, ""), -1) {
				if msg := checkLink(root, name, m[1], read); msg != "" {
					out = append(out, Finding{File: name, Line: l.n, Msg: msg})
				}
			}
		}
	}
	return out, nil
}

func checkLink(root, from, target string, read func(string) (map[string]bool, error)) string {
	if scheme.MatchString(target) {
		return ""
	}
	if strings.HasPrefix(target, "/") {
		return fmt.Sprintf("%s: not a relative link", target)
	}
	file, anchor, _ := strings.Cut(target, "#")
	to := from
	if file != "" {
		to = path.Clean(path.Join(path.Dir(from), file))
		if to == ".." || strings.HasPrefix(to, "../") {
			return fmt.Sprintf("%s: leaves the repository", target)
		}
		if _, err := os.Stat(path.Join(root, to)); err != nil {
			return fmt.Sprintf("%s: no such file %s", target, to)
		}
	}
	if anchor == "" || !strings.HasSuffix(to, ".md") {
		return ""
	}
	a, err := read(to)
	if err != nil {
		return fmt.Sprintf("%s: %v", target, err)
	}
	if !a[anchor] {
		return fmt.Sprintf("%s: %s has no heading #%s", target, to, anchor)
	}
	return ""
}

// Call is a `dagger call` command shown in a code block: what follows "dagger
// call", continuation lines joined, without a trailing comment or redirection.
type Call struct {
	Line int
	Args string
}

// DaggerCalls returns the `dagger call` commands of a document's fenced code blocks.
func DaggerCalls(src []byte) []Call {
	var out []Call
	var cur strings.Builder
	start, block := 0, 0
	for _, l := range lines(src) {
		if l.block != block {
			cur.Reset()
			block = l.block
		}
		if l.block == 0 {
			continue
		}
		if cur.Len() == 0 {
			start = l.n
		}
		if body, ok := strings.CutSuffix(l.text, `\`); ok {
			cur.WriteString(strings.TrimSpace(body) + " ")
			continue
		}
		cur.WriteString(strings.TrimSpace(l.text))
		cmd := cur.String()
		cur.Reset()
		if _, args, ok := strings.Cut(cmd, "dagger call "); ok {
			out = append(out, Call{Line: start, Args: strings.TrimSpace(cutTail(args))})
		}
	}
	return out
}

// cutTail drops a shell comment (" #…") and a redirection or pipe after the command.
func cutTail(s string) string {
	for _, sep := range []string{" #", " >", " |"} {
		if i := strings.Index(s, sep); i >= 0 {
			s = s[:i]
		}
	}
	return s
}
