package stage

import (
	"regexp"
	"strconv"
	"strings"
)

var (
	diagStart = regexp.MustCompile(`^(Error|Warning): (.+)$`)
	diagWhere = regexp.MustCompile(`^on (.+?) line (\d+)`)
	// Some init errors name the place only in the text: `for module "m" at main.tf:1.`
	diagAt = regexp.MustCompile(`\bat ([^\s:]+\.tf(?:\.json)?):(\d+)`)
	// Source snippet lines ("  3:   a = 1"): the location already points there.
	snippetLine = regexp.MustCompile(`^\d+: `)
)

// diagnosticsOf reads the diagnostics of a failed command: terraform writes them to
// stderr and its progress to stdout, which is read only when stderr has none.
func diagnosticsOf(root, dir string, out Output) []Finding {
	if d := parseTextDiagnostics(root, dir, out.Stderr); len(d) > 0 {
		return d
	}
	return parseTextDiagnostics(root, dir, out.Stdout)
}

// parseTextDiagnostics reads terraform/tofu human-readable diagnostics ("Error: ...",
// then "on main.tf line 3, in ..."), with or without the box-drawing margin.
func parseTextDiagnostics(root, dir, text string) []Finding {
	var out []Finding
	var cur *Finding
	var detail []string
	flush := func() {
		if cur != nil {
			cur.Detail = strings.TrimSpace(strings.Join(detail, "\n"))
			out = append(out, *cur)
		}
		cur, detail = nil, nil
	}
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(raw), "│╷╵"))
		if m := diagStart.FindStringSubmatch(line); m != nil {
			flush()
			cur = &Finding{File: dir, Severity: strings.ToLower(m[1]), Message: m[2]}
			continue
		}
		if cur == nil {
			continue
		}
		if m := diagWhere.FindStringSubmatch(line); m != nil && cur.Line == 0 {
			cur.File = repoPath(root, dir, m[1])
			cur.Line, _ = strconv.Atoi(m[2])
			continue
		}
		if m := diagAt.FindStringSubmatch(line); m != nil && cur.Line == 0 {
			cur.File = repoPath(root, dir, m[1])
			cur.Line, _ = strconv.Atoi(m[2])
		}
		if line != "" && !strings.HasPrefix(raw, "╵") && !snippetLine.MatchString(line) {
			detail = append(detail, line)
		}
	}
	flush()
	var errs []Finding
	for _, f := range out {
		if f.Severity == "error" {
			errs = append(errs, f)
		}
	}
	return errs
}
