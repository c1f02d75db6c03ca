package stage

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
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
// unknown provider, a lock file or a constraint that cannot be met) are problems
// with the layer (Fail); a registry, mirror or module source that cannot be
// reached is not, and makes the result Error (could not run). Provider problems
// are told in one line: which provider, which version, why.
func ParseInitFailure(root, dir string, out Output) Result {
	findings := diagnosticsOf(root, dir, out)
	if len(findings) == 0 {
		return Result{Status: Error, Findings: []Finding{{File: dir, Severity: "error",
			Message: fmt.Sprintf("init exited %d: %s", out.ExitCode, tail(out.Stderr+out.Stdout, 10))}}}
	}
	status := Fail
	for i := range findings {
		msg, unreachable := explainInit(findings[i])
		findings[i].Message = "init: " + msg
		if unreachable {
			status = Error
		}
	}
	return versionExcluded(Result{Status: status, Findings: findings})
}

var (
	// Terraform and OpenTofu wrap their details at 78 columns: match on one line.
	spaces        = regexp.MustCompile(`\s+`)
	noMatch       = regexp.MustCompile(`provider (\S+): no available releases match the given constraints (.+?)(?:$|\s*\(|\. )`)
	noLonger      = regexp.MustCompile(`provider (\S+): the previously-selected version (\S+) is no longer available`)
	checksum      = regexp.MustCompile(`(?:installing|importing) (\S+) v(\S+)\b.*doesn't match any of the checksums (?:previously )?recorded in the dependency lock file`)
	lockMissing   = regexp.MustCompile(`(?i)provider dependency changes detected|lock file is read-only|no version is selected|missing from the dependency lock file|not yet recorded in the dependency lock file`)
	unreachableRe = regexp.MustCompile(`(?i)could not connect to|failed to request discovery document|failed to query provider mirror|dial tcp|no such host|connection refused|i/o timeout|tls handshake|x509:|certificate|request failed after|service unavailable|bad gateway|gateway timeout|network is unreachable|timeout awaiting|context deadline exceeded|unexpected eof|couldn't connect to server|could not resolve host|failed to connect to|connection timed out`)
	moduleCall    = regexp.MustCompile(`for module "([^"]+)"`)
	queryProvider = regexp.MustCompile(`(?:list of available versions for provider|resolve provider|for provider|installing|importing) (\S+?)[: ]`)
)

// explainInit rewrites an init diagnostic about providers as one line naming the
// provider, the version and the reason, and says whether the cause lies outside
// the repository (the registry or a mirror could not be reached).
func explainInit(f Finding) (string, bool) {
	detail := spaces.ReplaceAllString(f.Detail, " ")
	text := f.Message + ": " + detail
	switch {
	case noMatch.MatchString(detail):
		m := noMatch.FindStringSubmatch(detail)
		return fmt.Sprintf("provider %s: no available release matches the version constraints %s", m[1], strings.TrimSuffix(m[2], ".")), false
	case noLonger.MatchString(detail):
		m := noLonger.FindStringSubmatch(detail)
		return fmt.Sprintf("provider %s %s: the version the lock file selects is not available from its registry", m[1], m[2]), false
	case checksum.MatchString(detail):
		m := checksum.FindStringSubmatch(detail)
		return fmt.Sprintf("provider %s %s: the package's checksum is not among those the lock file records", m[1], m[2]), false
	case strings.Contains(f.Message, "rovider") && unreachableRe.MatchString(detail):
		who := "a provider"
		if m := queryProvider.FindStringSubmatch(detail); m != nil {
			who = "provider " + m[1]
		}
		return fmt.Sprintf("%s: its registry or mirror could not be reached (%s)", who, lastClause(detail)), true
	case strings.Contains(f.Message, "Failed to download module") && unreachableRe.MatchString(detail):
		return text, true
	case strings.Contains(f.Message, "module registry") && unreachableRe.MatchString(detail):
		// A registry module (source = "ns/name/provider" with a version) offline.
		who := "a module"
		if m := moduleCall.FindStringSubmatch(detail); m != nil {
			who = "module " + m[1]
		}
		return fmt.Sprintf("%s: its module registry could not be reached (%s)", who, lastClause(detail)), true
	case lockMissing.MatchString(text):
		return f.Message + ": the lock file does not record every provider the configuration requires, at versions meeting its constraints; run init and commit the lock file", false
	}
	return f.Message, false
}

// lastClause keeps the innermost cause of a chained error message.
func lastClause(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	parts := strings.Split(s, ": ")
	if len(parts) > 3 {
		parts = parts[len(parts)-3:]
	}
	return strings.Join(parts, ": ")
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
	return versionExcluded(Result{Status: Fail, Findings: findings})
}

// versionExcluded turns a result whose engine the configuration's required_version
// excludes into "could not run": the code was not checked, and whether it is right
// is for an engine version the layer accepts to say.
func versionExcluded(res Result) Result {
	for i, f := range res.Findings {
		if strings.Contains(f.Message, "Unsupported Terraform Core version") || strings.Contains(f.Message, "Unsupported OpenTofu Core version") {
			res.Status = Error
			res.Findings[i].Message = f.Message + ": the layer's required_version excludes the engine version this run uses, so it could not be checked"
		}
	}
	return res
}

func unreadableValidate(dir string, out Output) Result {
	return Result{Status: Error, Findings: []Finding{{File: dir, Severity: "error",
		Message: fmt.Sprintf("validate exited %d with unreadable output: %s", out.ExitCode, tail(out.Stderr+out.Stdout, 10))}}}
}
