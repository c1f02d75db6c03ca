package stage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// validateCommands: init without a backend (validating needs no state or
// credentials) and then validate. An existing lock file is honoured and never
// rewritten; without one, init picks versions from the constraints.
func validateCommands(t Target) (initCmd, validate Command) {
	args := []string{"init", "-backend=false", "-input=false", "-no-color"}
	if t.HasLockFile {
		args = append(args, "-lockfile=readonly")
	}
	session := t.Path + "#validate"
	initCmd = Command{Tool: Engine, Args: args, Dir: t.Path, Session: session, SkipKey: "init:" + t.InitKey, InstallsProviders: true}
	validate = Command{Tool: Engine, Args: []string{"validate", "-json", "-no-color"}, Dir: t.Path, Session: session}
	return initCmd, validate
}

func runValidate(ctx context.Context, r Runner, t Target) Result {
	if len(t.SyntaxErrors) > 0 {
		return Result{Status: Fail, Findings: append([]Finding(nil), t.SyntaxErrors...)}
	}
	initCmd, validate := validateCommands(t)
	out, err := r.Run(ctx, initCmd)
	if err != nil {
		return errorResult(t, "init: "+err.Error())
	}
	if out.ExitCode != 0 {
		return ParseInitFailure(r.Root(), t.Path, out)
	}
	out, err = r.Run(ctx, validate)
	if err != nil {
		return errorResult(t, "validate: "+err.Error())
	}
	return ParseValidate(r.Root(), t.Path, out)
}

// ParseInitFailure reports a failed init. Its diagnostics (a missing module, an
// unknown provider, a lock file that does not match) are problems with the layer.
func ParseInitFailure(root, dir string, out Output) Result {
	findings := diagnosticsOf(root, dir, out)
	for i := range findings {
		findings[i].Message = "init: " + findings[i].Message
	}
	if len(findings) == 0 {
		return Result{Status: Error, Findings: []Finding{{File: dir, Severity: "error",
			Message: fmt.Sprintf("init exited %d: %s", out.ExitCode, tail(out.Stderr+out.Stdout, 10))}}}
	}
	return Result{Status: Fail, Findings: findings}
}

// ParseValidate reads "validate -json": exit 0 valid, 1 with "valid": false.
func ParseValidate(root, dir string, out Output) Result {
	var probe struct {
		Valid *bool `json:"valid"`
	}
	var parsed tfjson.ValidateOutput
	if err := json.Unmarshal([]byte(out.Stdout), &probe); err != nil || probe.Valid == nil {
		return unreadableValidate(dir, out)
	}
	if err := json.Unmarshal([]byte(out.Stdout), &parsed); err != nil {
		return unreadableValidate(dir, out)
	}
	var findings []Finding
	for _, d := range parsed.Diagnostics {
		f := Finding{File: dir, Severity: strings.ToLower(string(d.Severity)), Message: d.Summary, Detail: d.Detail}
		if d.Range != nil {
			f.File, f.Line, f.Column = repoPath(root, dir, d.Range.Filename), max(d.Range.Start.Line, 0), max(d.Range.Start.Column, 0)
		}
		findings = append(findings, f)
	}
	if parsed.Valid && out.ExitCode == 0 {
		return Result{Status: Pass, Findings: findings}
	}
	return Result{Status: Fail, Findings: findings}
}

func unreadableValidate(dir string, out Output) Result {
	return Result{Status: Error, Findings: []Finding{{File: dir, Severity: "error",
		Message: fmt.Sprintf("validate exited %d with unreadable output: %s", out.ExitCode, tail(out.Stderr+out.Stdout, 10))}}}
}
