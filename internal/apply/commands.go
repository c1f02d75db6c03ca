package apply

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/stage"
)

// workDir holds the files a run makes in a layer (plan files): the engine's own
// data directory, which executors keep between the commands of a session and
// never leave in the repository.
const workDir = stage.DataDir

// commands builds the engine invocations of one layer.
type commands struct {
	layer          *layers.Layer
	backendConfigs []string // later files override earlier ones
	varFiles       []string
	lockTimeout    time.Duration
}

func (c commands) session() string { return Session(c.layer) }

// Session names the executor session a layer's engine commands share: its
// container in the Dagger module, which holds the files they wrote.
func Session(l *layers.Layer) string { return sessionPrefix + l.Dir }

// IsSession tells whether a session is a layer's plan, apply or drift session.
func IsSession(name string) bool { return strings.HasPrefix(name, sessionPrefix) }

const sessionPrefix = "apply:"

func (c commands) cmd(args ...string) stage.Command {
	return stage.Command{Tool: stage.Engine, Args: args, Dir: c.layer.Path, Session: c.session()}
}

// init configures the real backend: never -backend=false here. backendKey
// identifies the backend settings (the layer's block and the file's content), so
// an executor that keeps working directories skips an init whose inputs it has
// already seen succeed: the layer's InitKey covers providers, modules and the
// lock file.
func (c commands) init(backendKey string) stage.Command {
	args := []string{"init", "-input=false", "-no-color", "-reconfigure"}
	for _, f := range c.backendConfigs {
		args = append(args, "-backend-config="+f)
	}
	if c.layer.HasLockFile {
		args = append(args, "-lockfile=readonly")
	}
	cmd := c.cmd(args...)
	cmd.SkipKey = "init-backend:" + c.layer.InitKey + ":" + backendKey
	return cmd
}

func (c commands) lockArgs() []string {
	return []string{"-lock-timeout=" + strconv.FormatInt(c.lockTimeout.Milliseconds(), 10) + "ms"}
}

func (c commands) varArgs() []string {
	out := make([]string, 0, len(c.varFiles))
	for _, f := range c.varFiles {
		out = append(out, "-var-file="+f)
	}
	return out
}

// planFile is a plan file's path relative to the layer, and repoPath the same file
// relative to the repository.
func (c commands) planFile(name string) string { return workDir + "/infra-" + name + ".tfplan" }

func (c commands) repoPath(rel string) string { return c.layer.Path + "/" + rel }

// plan writes a plan file; exit code 0 means no changes, 2 changes.
func (c commands) plan(out string, extra []string) stage.Command {
	args := append([]string{"plan", "-input=false", "-no-color", "-json", "-detailed-exitcode", "-out=" + out}, c.lockArgs()...)
	args = append(args, c.varArgs()...)
	return c.cmd(append(args, extra...)...)
}

func (c commands) show(planFile string) stage.Command {
	return c.cmd("show", "-json", "-no-color", planFile)
}

// applyDirect applies the configuration without a saved plan.
func (c commands) applyDirect(extra []string) stage.Command {
	args := append([]string{"apply", "-input=false", "-no-color", "-json", "-auto-approve"}, c.lockArgs()...)
	args = append(args, c.varArgs()...)
	return c.cmd(append(args, extra...)...)
}

// applyPlan applies a saved plan: variables and arguments are the plan's own.
func (c commands) applyPlan(planFile string) stage.Command {
	args := append([]string{"apply", "-input=false", "-no-color", "-json"}, c.lockArgs()...)
	return c.cmd(append(args, planFile)...)
}

func (c commands) forceUnlock(id string) stage.Command {
	return c.cmd("force-unlock", "-force", "-no-color", id)
}

// skipsBootstrap: with these, the caller chose what to apply, so the bootstrap
// phase would apply something they did not ask for.
func skipsBootstrap(extra []string) bool {
	for _, a := range extra {
		for _, f := range []string{"-target", "-destroy", "-refresh-only", "-replace"} {
			if a == f || strings.HasPrefix(a, f+"=") {
				return true
			}
		}
	}
	return false
}

// forbiddenExtra are arguments the run sets itself; passing them would change
// what it means (a second plan file, prompts, another state).
var forbiddenExtra = []string{"-out", "-auto-approve", "-input", "-lock", "-lock-timeout", "-detailed-exitcode", "-state", "-state-out", "-backup", "-chdir", "-var-file", "-no-color", "-json"}

// CheckExtraArgs validates the arguments passed through after --.
func CheckExtraArgs(extra []string) error {
	for _, a := range extra {
		if !strings.HasPrefix(a, "-") {
			return fmt.Errorf("extra argument %q: only flags pass through (such as -destroy, -target=ADDR, -refresh-only, -var=NAME=VALUE)", a)
		}
		name, _, _ := strings.Cut(a, "=")
		for _, f := range forbiddenExtra {
			if name == f {
				return fmt.Errorf("extra argument %s is set by the run itself and cannot be passed through", name)
			}
		}
	}
	return nil
}

// appliedSummary reads what an apply reported doing from its machine-readable
// output: the resources it finished changing and its closing counts. A failed
// apply has no counts; they are then counted from the resources it did finish.
func appliedSummary(stdout string, m *plan.Masker) plan.Summary {
	// Data sources read during the apply complete too ("read"): not a change.
	changed := map[string]bool{"create": true, "update": true, "delete": true, "replace": true}
	s := plan.Empty()
	actions := map[string]string{}
	var order []string
	var counts *plan.Summary
	for _, msg := range readUI(stdout).messages {
		switch {
		case msg.Type == "apply_complete" && msg.Hook != nil && changed[msg.Hook.Action]:
			addr, action := msg.Hook.Resource.Addr, msg.Hook.Action
			prev, seen := actions[addr]
			switch {
			case !seen:
				order = append(order, addr)
				actions[addr] = action
			case prev != action:
				actions[addr] = "replace" // destroyed and created again
			}
		case msg.Type == "change_summary" && msg.Changes != nil && msg.Changes.Operation != "plan":
			c := msg.Changes
			counts = &plan.Summary{Add: max(c.Add, 0), Change: max(c.Change, 0), Destroy: max(c.Remove, 0), Import: max(c.Import, 0)}
		}
	}
	for _, addr := range order {
		a := actions[addr]
		s.Changes = append(s.Changes, plan.Resource{Address: m.Mask(addr), Action: a})
		s.Tally(a)
	}
	if counts != nil {
		s.Add, s.Change, s.Destroy, s.Replace, s.Import = counts.Add, counts.Change, counts.Destroy, 0, counts.Import
	}
	return s
}

// add folds the counts of a second apply phase into the first.
func add(a, b plan.Summary) plan.Summary {
	a.Add += b.Add
	a.Change += b.Change
	a.Destroy += b.Destroy
	a.Import += b.Import
	a.Changes = append(append([]plan.Resource{}, a.Changes...), b.Changes...)
	return a
}
