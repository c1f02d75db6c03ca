package stage

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// formatCommand checks formatting without writing: "fmt -check" exits 3 when a file
// would change and prints the file names and a unified diff. The local modules the
// layer calls are its code too, so they are checked in the same process.
func formatCommand(t Target) Command {
	args := []string{"fmt", "-check", "-diff", "-recursive", "-no-color", "."}
	for _, m := range t.Modules {
		args = append(args, relativeTo(t.Path, m))
	}
	return Command{Tool: Engine, Args: args, Dir: t.Path, Session: t.Path + "#format"}
}

func runFormat(ctx context.Context, r Runner, t Target) Result {
	out, err := r.Run(ctx, formatCommand(t))
	if err != nil {
		return errorResult(t, "format: "+err.Error())
	}
	return withColumns(ParseFormat(r.Root(), t.Path, out), t.SyntaxErrors)
}

// withColumns completes findings that fmt located by line only (its syntax errors)
// with the column of the parser's error at that place.
func withColumns(res Result, syntaxErrors []Finding) Result {
	for i, f := range res.Findings {
		if f.Column != 0 {
			continue
		}
		for _, e := range syntaxErrors {
			if e.File == f.File && e.Line == f.Line && e.Message == f.Message {
				res.Findings[i].Column = e.Column
				break
			}
		}
	}
	return res
}

// ParseFormat reads the output of "fmt -check -diff".
func ParseFormat(root, dir string, out Output) Result {
	switch out.ExitCode {
	case 0:
		return Result{Status: Pass}
	case 3:
		findings := parseDiff(root, dir, out.Stdout)
		if len(findings) == 0 {
			// Some versions list files without a diff for files they cannot diff.
			for _, line := range strings.Split(out.Stdout, "\n") {
				if f := strings.TrimSpace(line); f != "" && !strings.HasPrefix(f, "-") && !strings.HasPrefix(f, "+") {
					findings = append(findings, Finding{File: repoPath(root, dir, f), Line: 1, Severity: "error", Message: "file is not formatted; terraform fmt (or tofu fmt) fixes it"})
				}
			}
		}
		return Result{Status: Fail, Findings: findings}
	default:
		if diags := diagnosticsOf(root, dir, out); len(diags) > 0 {
			return Result{Status: Fail, Findings: diags}
		}
		return Result{Status: Error, Findings: []Finding{{File: dir, Severity: "error",
			Message: fmt.Sprintf("fmt exited %d: %s", out.ExitCode, tail(out.Stderr+out.Stdout, 10))}}}
	}
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@`)

// parseDiff makes one finding per hunk, at the first line that fmt would change.
func parseDiff(root, dir, diff string) []Finding {
	var findings []Finding
	var file string
	var cur *Finding
	oldLine := 0
	flush := func() {
		if cur != nil {
			cur.Detail = strings.TrimRight(cur.Detail, "\n")
			findings = append(findings, *cur)
			cur = nil
		}
	}
	for _, line := range strings.Split(diff, "\n") {
		switch {
		case strings.HasPrefix(line, "--- "):
			flush()
			file = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, "--- ")), "old/")
		case strings.HasPrefix(line, "+++ "):
		case hunkHeader.MatchString(line):
			flush()
			n, _ := strconv.Atoi(hunkHeader.FindStringSubmatch(line)[1])
			oldLine = n
			cur = &Finding{File: repoPath(root, dir, file), Line: 0, Severity: "error",
				Message: "not formatted; terraform fmt (or tofu fmt) fixes it", Detail: line + "\n"}
		case cur != nil && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "-") || strings.HasPrefix(line, "+")):
			cur.Detail += line + "\n"
			if cur.Line == 0 && (line[0] == '-' || line[0] == '+') {
				cur.Line = oldLine
			}
			if line[0] != '+' {
				oldLine++
			}
		default:
			flush() // a file-name line or the end of the diff
		}
	}
	flush()
	return findings
}
