package stage

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// lintCommands returns "tflint --init" (installs any plugins the config names; a
// no-op for the bundled ruleset) and the lint run itself in dir, with JSON output.
// The init is skipped while the config's plugin blocks (key) are unchanged.
func lintCommands(dir, config, key string) (initCmd, lint Command) {
	var cfg []string
	if config != "" && path.Dir(config) != dir {
		cfg = []string{"--config=" + relativeTo(dir, config)}
	}
	session := dir + "#lint"
	initCmd = Command{Tool: TFLint, Args: append([]string{"--init", "--no-color"}, cfg...), Dir: dir, Session: session, SkipKey: "tflint-init:" + config + "\x00" + key}
	lint = Command{Tool: TFLint, Args: append([]string{"--format=json", "--no-color", "--call-module-type=local"}, cfg...), Dir: dir, Session: session}
	return initCmd, lint
}

// relativeTo returns target relative to dir; both are clean repository-relative paths.
func relativeTo(dir, target string) string {
	up := ""
	if dir != "." {
		up = strings.Repeat("../", strings.Count(dir, "/")+1)
	}
	return up + target
}

// runLint lints the layer and each local module it calls: tflint reports what it
// finds inside a module only when run in the module's directory. A module called
// by several layers is linted once per run (Target.Shared) and counts for each.
func runLint(ctx context.Context, r Runner, t Target) Result {
	res := lintDir(ctx, r, t.Path, t.LintConfig, t.LintKey)
	if res.Status == Error && len(res.Findings) == 1 && strings.Contains(res.Findings[0].Message, initExited) {
		// The modules share the lint config: their init fails alike; say it once.
		return res
	}
	for _, m := range t.Modules {
		mod := t.Shared.once("lint\x00"+m+"\x00"+t.LintConfig, func() Result { return lintDir(ctx, r, m, t.LintConfig, t.LintKey) })
		res = merge(res, mod)
	}
	return res
}

const initExited = "tflint --init exited"

func lintDir(ctx context.Context, r Runner, dir, config, key string) Result {
	t := Target{Path: dir}
	initCmd, lint := lintCommands(dir, config, key)
	out, err := r.Run(ctx, initCmd)
	if err != nil {
		return errorResult(t, "lint: "+err.Error())
	}
	if out.ExitCode != 0 {
		// A broken .tflint.hcl is reported with its location, like any code problem.
		if diags := diagnosticsOf(r.Root(), dir, out); len(diags) > 0 {
			return Result{Status: Fail, Findings: diags}
		}
		// Its progress is on stdout, the error on stderr: in that order, the error last.
		return errorResult(t, fmt.Sprintf("%s %d: %s", initExited, out.ExitCode, tail(out.Stdout+"\n"+out.Stderr, 10)))
	}
	out, err = r.Run(ctx, lint)
	if err != nil {
		return errorResult(t, "lint: "+err.Error())
	}
	return ParseLint(r.Root(), dir, out)
}

type tflintRange struct {
	Filename string `json:"filename"`
	Start    struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	} `json:"start"`
}

type tflintOutput struct {
	Issues []struct {
		Rule struct {
			Name     string `json:"name"`
			Severity string `json:"severity"`
		} `json:"rule"`
		Message string      `json:"message"`
		Range   tflintRange `json:"range"`
	} `json:"issues"`
	Errors []struct {
		Summary  string       `json:"summary"`
		Message  string       `json:"message"`
		Severity string       `json:"severity"`
		Range    *tflintRange `json:"range"`
	} `json:"errors"`
}

// ParseLint reads "tflint --format=json": exit 0 clean, 2 issues found, 1 an error
// (which may be a problem in the code, such as an HCL syntax error, with a range).
func ParseLint(root, dir string, out Output) Result {
	var parsed tflintOutput
	if err := json.Unmarshal([]byte(out.Stdout), &parsed); err != nil {
		return Result{Status: Error, Findings: []Finding{{File: dir, Severity: "error",
			Message: fmt.Sprintf("tflint exited %d with unreadable output: %s", out.ExitCode, tail(out.Stderr+out.Stdout, 10))}}}
	}
	var findings []Finding
	for _, is := range parsed.Issues {
		findings = append(findings, Finding{
			File: repoPath(root, dir, is.Range.Filename), Line: is.Range.Start.Line, Column: is.Range.Start.Column,
			Severity: strings.ToLower(is.Rule.Severity), Rule: is.Rule.Name, Message: is.Message,
		})
	}
	located := true
	for _, e := range parsed.Errors {
		msg := e.Message
		if e.Summary != "" && e.Summary != msg {
			msg = strings.TrimSpace(e.Summary + ": " + msg)
		}
		f := Finding{File: dir, Severity: "error", Message: msg}
		if e.Range != nil && e.Range.Filename != "" {
			f.File, f.Line, f.Column = repoPath(root, dir, e.Range.Filename), e.Range.Start.Line, e.Range.Start.Column
		} else {
			located = false
		}
		findings = append(findings, f)
	}
	switch {
	case out.ExitCode == 0 && len(parsed.Errors) == 0:
		return Result{Status: Pass, Findings: findings} // issues below the failure severity
	case len(parsed.Errors) > 0 && !located:
		return Result{Status: Error, Findings: findings} // a config or plugin problem, not the code
	case out.ExitCode == 1 && len(findings) == 0:
		return Result{Status: Error, Findings: []Finding{{File: dir, Severity: "error", Message: "tflint failed: " + tail(out.Stderr, 10)}}}
	default:
		return Result{Status: Fail, Findings: findings}
	}
}
