package apply

import (
	"regexp"
	"strings"

	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/state"
)

// failure is why a command did not do its job, already masked.
type failure struct {
	status Status
	reason string
	detail string
	lock   *state.Lock
}

var (
	errorLine = regexp.MustCompile(`(?m)^[│ ]*Error: (.+)$`)
	// What the S3 API and the SDKs answer when credentials are wrong or missing.
	credentialMarkers = []string{"InvalidAccessKeyId", "SignatureDoesNotMatch", "XAdminUserNotFound", "InvalidClientTokenId", "AccessDenied", "ExpiredToken",
		"no valid credential sources", "failed to refresh cached credentials", "StatusCode: 403"}
	unreachableMarkers = []string{"connection refused", "no such host", "i/o timeout", "dial tcp", "TLS handshake"}
)

// classify reads a failed command's output: the machine-readable UI's
// diagnostics where the command had -json (plan, apply), the text otherwise
// (init and force-unlock have no -json form in terraform 1.5). step names what was running ("init",
// "plan", ...). The output is masked before anything is kept.
func classify(step, stdout, stderr string, m *plan.Masker) failure {
	stdout, stderr = humanOutput(stdout, stderr)
	out := m.Mask(stderr)
	if strings.TrimSpace(out) == "" {
		out = m.Mask(stdout)
	}
	f := failure{status: Failed, detail: tail(out, 30)}
	if l, ok := state.ParseLockError(out); ok {
		f.status, f.lock = Locked, &l
		f.reason = "the state is " + l.Describe(now())
		return f
	}
	var summaries []string
	for _, mm := range errorLine.FindAllStringSubmatch(out, 3) {
		summaries = append(summaries, strings.TrimSpace(mm[1]))
	}
	summary := strings.Join(summaries, "; ")
	switch {
	case containsAny(out, credentialMarkers):
		f.status = Error
		f.reason = step + ": the state backend refused the credentials; check the access key and secret in the backend config"
	case containsAny(out, unreachableMarkers) && (step == "init" || aboutState(summaries)):
		f.status = Error
		f.reason = step + ": the state backend could not be reached"
	case strings.Contains(out, "Failed to persist state") || strings.Contains(out, "Failed to save state"):
		f.status = Error
		f.reason = step + ": the state could not be saved to the backend"
	case strings.Contains(out, "Saved plan is stale"):
		f.reason = "the saved plan is stale: the state changed after it was made; plan again"
	case summary != "":
		f.reason = step + ": " + summary
	default:
		f.reason = step + " failed"
	}
	if summary != "" && f.status == Error {
		f.reason += " (" + summary + ")"
	}
	return f
}

// aboutState: an error unreachable hosts caused is the backend's when the engine
// says it was reading, writing or locking state (a provider's API being down is
// the configuration's failure, not ours).
func aboutState(summaries []string) bool {
	for _, s := range summaries {
		if strings.Contains(strings.ToLower(s), "state") {
			return true
		}
	}
	return false
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// tail keeps the last n lines.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
