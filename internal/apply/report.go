package apply

import (
	"time"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/state"
)

// Op is what a run does to the layers.
type Op string

const (
	OpPlan   Op = "plan"
	OpApply  Op = "apply"
	OpDrift  Op = "drift"
	OpUnlock Op = "unlock"
)

// Status is a layer's outcome.
type Status string

const (
	Planned      Status = "planned"       // plan: changes to apply
	NoChanges    Status = "no changes"    // plan: nothing to do
	Applied      Status = "applied"       // apply: done, and the re-plan is clean
	NotConverged Status = "not converged" // apply: done, but a re-plan still shows changes
	InSync       Status = "in sync"       // drift: the code, the state and reality agree
	Drifted      Status = "drifted"       // drift: they do not
	Unlocked     Status = "unlocked"      // unlock: the lock is released
	NotLocked    Status = "not locked"    // unlock: there was no lock to release
	Failed       Status = "failed"        // the engine ran and failed (configuration, provider, API)
	Locked       Status = "locked"        // another run holds the state lock
	Refused      Status = "refused"       // not run: the request does not fit (a plan for another commit, a wrong lock ID)
	Waiting      Status = "waiting"       // plan: it reads a layer whose changes are not applied yet
	Error        Status = "error"         // a tool or the state backend could not run or be reached
	Skipped      Status = "skipped"       // not run: a layer it depends on did not apply, or the run was stopped
)

// LayerResult is one layer's outcome.
type LayerResult struct {
	Layer  *layers.Layer `json:"-"`
	Status Status        `json:"status"`
	// Reason says why in one line for anything but success; Detail holds the tail of
	// the engine's output. Both are masked.
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Lock is the holder when the state was locked (or, for unlock, the lock released).
	Lock *state.Lock `json:"lock,omitempty"`
	// Plan is what was planned (plan), applied from a saved plan (apply), or how the
	// code differs from the live state (drift).
	Plan *plan.Summary `json:"plan,omitempty"`
	// PlanHash identifies the plan file made or applied, to match with the PR's.
	PlanHash string `json:"plan_sha256,omitempty"`
	// Applied is what a direct apply reported doing.
	Applied *plan.Summary `json:"applied,omitempty"`
	// Residual is what the re-plan after apply still wanted to change.
	Residual *plan.Summary `json:"residual,omitempty"`
	// Refresh is what changed outside the engine (drift, -refresh-only).
	Refresh *plan.Summary `json:"refresh,omitempty"`
	// SavedState is the repository-relative file holding what an apply did that
	// the backend never received (the engine's errored.tfstate): the only record
	// of it until it is pushed.
	SavedState string `json:"saved_state,omitempty"`
	// Phases lists the applies run, in order: "bootstrap -target=module.nodep", "full".
	Phases   []string      `json:"phases,omitempty"`
	Duration time.Duration `json:"-"`
	// waitsFor is the layer a Waiting one waits for, named to its own dependents.
	waitsFor string
}

// blocksDependents: a layer that did not apply leaves its dependents without the
// state they read, so they are not run.
func (r LayerResult) blocksDependents() bool {
	switch r.Status {
	case Applied, NotConverged, NoChanges, Planned, Waiting, InSync, Drifted, Unlocked, NotLocked:
		return false
	}
	return true
}

// exitCode is the layer's share of the run's exit code.
func (r LayerResult) exitCode() int {
	switch r.Status {
	case Failed, NotConverged, Drifted, NotLocked:
		return report.ExitFailed
	case Refused:
		return report.ExitBadInput
	case Locked, Error:
		return report.ExitToolError
	}
	return report.ExitOK
}

// Report is a run's outcome, layers in the order they were given (apply order).
type Report struct {
	Op       Op            `json:"op"`
	Engine   string        `json:"engine"`
	Commit   string        `json:"commit,omitempty"`
	Layers   []LayerResult `json:"layers"`
	Duration time.Duration `json:"-"`
}

// ExitCode: a refused request (2) outranks a tool or backend error (3), which
// outranks a failure or drift (1): each means the run's answer is less complete.
func (r *Report) ExitCode() int {
	rank := map[int]int{report.ExitOK: 0, report.ExitFailed: 1, report.ExitToolError: 2, report.ExitBadInput: 3}
	code := report.ExitOK
	for _, l := range r.Layers {
		if c := l.exitCode(); rank[c] > rank[code] {
			code = c
		}
	}
	return code
}

// Count returns how many layers ended with each status.
func (r *Report) Count() map[Status]int {
	out := map[Status]int{}
	for _, l := range r.Layers {
		out[l.Status]++
	}
	return out
}
