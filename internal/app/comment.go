package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/planstore"
	"github.com/infra-flash/infra/internal/prlock"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/review"
	"github.com/infra-flash/infra/internal/slash"
	"github.com/infra-flash/infra/internal/state"
)

// CommentPolicy is who may command the pipeline from a comment and what an
// apply waits for (infra.hcl's comments block).
type CommentPolicy struct {
	Trusted         []string // author associations; default review.Trusted
	RequireApproval bool
	RequireChecks   bool
}

// trusted are the associations that command, and whose reviews count.
func (p CommentPolicy) trusted() []string {
	if len(p.Trusted) == 0 {
		return review.Trusted
	}
	return p.Trusted
}

// DefaultCommentPolicy: owners, members and collaborators; apply waits for an
// approval and green checks.
func DefaultCommentPolicy() CommentPolicy {
	return CommentPolicy{Trusted: slices.Clone(review.Trusted), RequireApproval: true, RequireChecks: true}
}

// CommentOptions are one comment run's options.
type CommentOptions struct {
	// Apply carries what plan and apply share with the plan and apply commands
	// (settings, backend config, var files, masks, environment); the selection,
	// operation, commit and plans are the comment's.
	Apply ApplyOptions
	Event *actions.Event
	Repo  string // owner/name
	// Policy overrides infra.hcl's comments block when set.
	Policy *CommentPolicy
	// WorkflowTrusted is the list the workflow's `if:` let through (before any
	// runner started); nil: no workflow filtered. It must name the same
	// associations as the policy, which alone decides (see WorkflowTrusted).
	WorkflowTrusted []string
	// Release: the event is the pull request closing; release its locks.
	Release bool
	// PlansDir keeps /plan's plans until /apply, under pr-N/COMMIT/.
	PlansDir string
	// PlanStore, when set, carries the plans from the /plan run to the /apply
	// run (PlansDir is then scratch space).
	PlanStore PlanStore
	// SourceCommit is the commit checked out ("" when unknown): plan and apply
	// run only when it is the pull request's head.
	SourceCommit string
	// DryRun: the forge prints instead of sending (the door's client does that);
	// here, PR locks are checked but not taken or released, and plans not kept.
	DryRun bool
	// Locks addresses a layer's PR lock; nil: next to its state (LocksNextToState).
	// envBackend is the run's environment's backend config file for the layer.
	Locks func(l *layers.Layer, envBackend string) (*prlock.Locks, error)
}

// PullRequest is what the comment flow asks of the forge about the pull request.
type PullRequest interface {
	Head(ctx context.Context) (string, error)
	// Approval: approved for head, the commit to be applied (an approval
	// given before a push does not count), by a reviewer of a trusted
	// association.
	Approval(ctx context.Context, head string, trusted []string) (ok bool, reason string, err error)
	ChecksPassed(ctx context.Context, sha string) (ok bool, reason string, err error)
	Live() forge.Commenter // the live comment of /plan, /apply and answers
	// Association stands in for an event without author associations
	// (Gitea, Forgejo): the user's permission on the repository.
	Association(ctx context.Context, login string) (string, error)
	// Record notes what /plan or /apply did on a commit (a commit status the
	// infra-flash comment's Plans section reads).
	Record(ctx context.Context, sha string, cmd slash.Name, state, description string) error
}

// PlanStore keeps plans between runs, keyed by pull request and commit.
type PlanStore interface {
	// env is the environment the plans are for ("" for none).
	Keep(ctx context.Context, pr int, env, commit, dir string, layers []string) error
	Fetch(ctx context.Context, pr int, env, commit, dir string, layers []string) error
	Latest(ctx context.Context, pr int) (string, error)
}

// PlanBucket keeps the plans in the state backend's bucket (the backend
// config's), under infra-plans/OWNER/NAME/.
func PlanBucket(backendConfig []byte, getenv func(string) string, repo string) (PlanStore, error) {
	file, err := state.ParseConfigFile(backendConfig)
	if err != nil {
		return nil, BadInput("--backend-config: %v", err)
	}
	prefix := path.Join("infra-plans", repo)
	st, err := state.NewStore(state.Resolve("s3", nil, file, getenv).WithKey(prefix))
	if err != nil {
		return nil, BadInput("keeping plans in the state bucket: %v", err)
	}
	return planstore.Bucket{Objects: st, Prefix: prefix}, nil
}

// CommentHooks are the flows the comment delegates to the door: /check runs
// the infra-flash flow, /dig the dig flow.
type CommentHooks struct {
	Check func(ctx context.Context, layers []string) error
	Dig   func(ctx context.Context) error
}

// CommentResult is what a comment run did.
type CommentResult struct {
	Command *slash.Command // nil when nothing was asked
	// Refused is why nothing ran (exit 0); Answered says the refusal was said
	// on the pull request too.
	Refused  string
	Answered bool
	Report   *apply.Report // plan and apply
	Masker   *plan.Masker  // what every output of Report goes through
	Released []string      // layers whose PR lock this run released
}

// CommentMarker marks the comments the comment flow writes.
const CommentMarker forge.Marker = "comment"

// Decide reads a comment event: the command to run, or why there is none.
// Outsiders are refused before their text is even parsed.
func Decide(ev *actions.Event, p CommentPolicy) (cmd *slash.Command, refused string, answer bool) {
	trusted := p.trusted()
	switch {
	case ev == nil:
		return nil, "no event", false
	case ev.Name != "issue_comment":
		return nil, fmt.Sprintf("a %s event is not a comment", ev.Name), false
	case ev.Action != "created":
		return nil, fmt.Sprintf("the comment was %s, not created", ev.Action), false
	case ev.Comment == nil:
		return nil, "the event carries no comment", false
	case ev.PR == 0:
		return nil, "the comment is on an issue, not a pull request", false
	case ev.Comment.AuthorType == "Bot":
		return nil, "the comment is a bot's", false
	case !slices.Contains(trusted, ev.Comment.Association):
		assoc := ev.Comment.Association
		if assoc == "" {
			assoc = "unknown"
		}
		return nil, fmt.Sprintf("@%s is %s; comment commands run for %s", ev.Comment.Author, assoc, strings.Join(trusted, ", ")), false
	}
	cmd, err := slash.Parse(ev.Comment.Body)
	var se *slash.Error
	switch {
	case errors.As(err, &se):
		// An unknown word after a slash may be meant for another bot: said
		// here only; a known command used wrongly is answered.
		return nil, se.Msg, !se.Unknown
	case cmd == nil:
		return nil, "the comment is not a command", false
	}
	return cmd, "", false
}

// Comment answers a pull-request comment command (or, with Release, frees a
// closing pull request's locks).
func Comment(ctx context.Context, repo Repo, o CommentOptions, pr PullRequest, ex Applier, hooks CommentHooks, out Sink) (*CommentResult, error) {
	if o.Event == nil {
		return nil, BadInput("infra comment needs the event: --event and --event-name, or the Actions environment")
	}
	if o.Release {
		return releaseClosed(ctx, repo, o, out)
	}
	if o.Policy == nil {
		cfg, err := repoconfig.Load(repo.FS)
		if err != nil {
			return nil, BadInput("%v", err)
		}
		o.Policy = &CommentPolicy{Trusted: cfg.Comments.Trusted, RequireApproval: cfg.Comments.RequireApproval, RequireChecks: cfg.Comments.RequireChecks}
	}
	if err := agreeOnTrust(ctx, o, pr); err != nil {
		return nil, err
	}
	if c := o.Event.Comment; c != nil && c.Association == "" && pr != nil && o.Event.PR != 0 && slash.Wakes(c.Body) {
		assoc, err := pr.Association(ctx, c.Author)
		if err != nil {
			return nil, ToolError(fmt.Errorf("reading @%s's permission: %w", c.Author, err))
		}
		ev := *o.Event
		cc := *c
		cc.Association = assoc
		ev.Comment = &cc
		o.Event = &ev
	}
	cmd, refused, answer := Decide(o.Event, *o.Policy)
	res := &CommentResult{Command: cmd, Refused: refused}
	if cmd == nil {
		if answer {
			res.Answered = true
			return res, say(ctx, pr, "🚫 "+refused+"\n\n"+slash.HelpText())
		}
		return res, nil
	}
	out.progress("%s by @%s on #%d", cmd, o.Event.Comment.Author, o.Event.PR)
	switch cmd.Name {
	case slash.Help:
		return res, say(ctx, pr, slash.HelpText())
	case slash.Dig:
		if hooks.Dig == nil {
			return nil, BadInput("/dig is not available here")
		}
		return res, hooks.Dig(ctx)
	case slash.Check:
		if hooks.Check == nil {
			return nil, BadInput("/check is not available here")
		}
		sel := cmd.Layers
		if len(sel) == 0 {
			sel = []string{layers.Changed}
		}
		return res, hooks.Check(ctx, sel)
	}
	if cmd.Env != "" {
		if o.Apply.Env != "" && o.Apply.Env != cmd.Env {
			return res, say(ctx, pr, fmt.Sprintf("🚫 `%s`: this workflow runs for environment %s only", cmd, o.Apply.Env))
		}
		o.Apply.Env = cmd.Env
	}
	c := &commentRun{ctx: ctx, repo: repo, o: o, pr: pr, ex: ex, out: out, res: res, cmd: cmd}
	switch cmd.Name {
	case slash.Plan, slash.Apply:
		return res, c.planOrApply()
	case slash.Unlock:
		return res, c.unlock()
	}
	return nil, BadInput("unknown command %s", cmd)
}

// WorkflowTrusted reads the author associations a workflow's `if:` admits,
// as the workflow passes them: a JSON list (the repository variable
// INFRA_COMMENT_ASSOCIATIONS), or "default" when the variable is unset and the
// `if:` falls back to the default list.
func WorkflowTrusted(s string) ([]string, error) {
	if strings.TrimSpace(s) == "default" {
		return DefaultCommentPolicy().Trusted, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil || len(list) == 0 {
		return nil, BadInput("--workflow-trusted %q: want a JSON list of author associations, such as [\"OWNER\"], or \"default\"", s)
	}
	for _, a := range list {
		if !associationPattern.MatchString(a) {
			return nil, BadInput("--workflow-trusted: %q is no author association (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, …)", a)
		}
	}
	return list, nil
}

var associationPattern = regexp.MustCompile(`^[A-Z][A-Z_]{1,40}$`)

// agreeOnTrust: infra.hcl's comments.trusted decides who commands; the
// workflow's `if:` only spares a runner for everyone else. Lists that differ
// mean some trusted author never gets a runner, or the filter is wider than
// it says: the run fails and says so, on the pull request too.
func agreeOnTrust(ctx context.Context, o CommentOptions, pr PullRequest) error {
	if o.WorkflowTrusted == nil || o.Event.Comment == nil {
		return nil
	}
	want := o.Policy.trusted()
	a, b := slices.Clone(want), slices.Clone(o.WorkflowTrusted)
	slices.Sort(a)
	slices.Sort(b)
	if slices.Equal(slices.Compact(a), slices.Compact(b)) {
		return nil
	}
	js, _ := json.Marshal(want)
	msg := fmt.Sprintf("the workflow starts for %s but infra.hcl's comments.trusted is %s: set the repository variable INFRA_COMMENT_ASSOCIATIONS to %s (or change infra.hcl); nothing ran",
		strings.Join(o.WorkflowTrusted, ", "), strings.Join(want, ", "), js)
	if pr != nil && o.Event.PR != 0 {
		if err := say(ctx, pr, "🚫 comment commands are misconfigured: "+msg); err != nil {
			return err
		}
	}
	return BadInput("%s", msg)
}

func say(ctx context.Context, pr PullRequest, body string) error {
	if _, err := pr.Live().Post(ctx, body); err != nil {
		return ToolError(err)
	}
	return nil
}

type commentRun struct {
	ctx  context.Context
	repo Repo
	o    CommentOptions
	pr   PullRequest
	ex   Applier
	out  Sink
	res  *CommentResult
	cmd  *slash.Command
	m    *Model
}

// refuse ends the run without running anything, saying why on the PR.
func (c *commentRun) refuse(format string, args ...any) error {
	c.res.Refused = fmt.Sprintf(format, args...)
	c.res.Answered = true
	c.out.progress("refused: %s", c.res.Refused)
	return say(c.ctx, c.pr, fmt.Sprintf("🚫 `%s` refused: %s", c.cmd, c.res.Refused))
}

func (c *commentRun) locksFor(l *layers.Layer) (*prlock.Locks, error) {
	return locatorOf(c.repo, c.o)(c.m, l)
}

// locatorOf addresses a layer's PR lock with the run's environment's backend
// file, where the caller's Locks (or the default, next to the state) says.
func locatorOf(repo Repo, o CommentOptions) func(*Model, *layers.Layer) (*prlock.Locks, error) {
	locks := o.Locks
	if locks == nil {
		locks = LocksNextToState(repo.FS, "", o.Apply.BackendConfig, o.Apply.Getenv)
	}
	return func(m *Model, l *layers.Layer) (*prlock.Locks, error) {
		_, envBackend := m.Set.EnvFiles(l, o.Apply.Env)
		return locks(l, envBackend)
	}
}

// LocksNextToState addresses each layer's PR lock next to its state: in the
// bucket, or beside the local state file under root (the repository on disk).
// envBackend is the environment's backend config file, relative to the layer.
func LocksNextToState(fsys fs.FS, root string, backendConfig []byte, getenv func(string) string) func(l *layers.Layer, envBackend string) (*prlock.Locks, error) {
	return func(l *layers.Layer, envBackend string) (*prlock.Locks, error) {
		var file state.ConfigFile
		if backendConfig != nil {
			var err error
			if file, err = state.ParseConfigFile(backendConfig); err != nil {
				return nil, fmt.Errorf("--backend-config: %w", err)
			}
		}
		file, err := apply.EnvBackend(fsys, l.Path, envBackend, file)
		if err != nil {
			return nil, err
		}
		settings, statePath, err := apply.StateSettings(fsys, l.Path, file, getenv)
		if err != nil {
			return nil, err
		}
		return prlock.ForState(settings, filepath.Join(root, filepath.FromSlash(statePath)))
	}
}

// planDir is where the plans of the pull request's commit are kept: an
// environment's beside the others', so that one never stands for another.
func (c *commentRun) planDir(commit string) string { return c.planDirIn(c.o.Apply.Env, commit) }

func (c *commentRun) planDirIn(env, commit string) string {
	return filepath.Join(c.o.PlansDir, fmt.Sprintf("pr-%d", c.o.Event.PR), planstore.EnvDir(env), commit)
}

// planOrApply runs /plan or /apply: on the pull request's head, checked out,
// with the layers' PR locks held.
func (c *commentRun) planOrApply() error {
	ctx := c.ctx
	head, err := c.pr.Head(ctx)
	if err != nil {
		return ToolError(err)
	}
	if c.o.SourceCommit != "" && c.o.SourceCommit != head {
		return c.refuse("the checkout is %s but the pull request's head is %s", short(c.o.SourceCommit), short(head))
	}
	if c.m, err = Load(c.repo, c.o.Apply.Settings); err != nil {
		return err
	}
	if c.cmd.Name == slash.Apply {
		if ok, why := c.applyAllowed(head); !ok {
			return c.refuse("%s", why)
		}
	}
	selected, err := c.selectLayers(head)
	if Code(err) == report.ExitBadInput { // a layer the repository does not have
		return c.refuse("%v", err)
	}
	if err != nil || selected == nil {
		return err
	}
	if len(selected) == 0 {
		return c.refuse("no layer is affected by the change")
	}
	if c.cmd.Name == slash.Plan && c.o.PlansDir == "" {
		return BadInput("/plan needs a place to keep the plans (--plans-dir)")
	}
	locks, taken, err := c.takeLocks(selected, head)
	if err != nil || locks == nil {
		return err
	}
	return c.run(selected, head, locks, taken)
}

// releaseUnkept: a layer this /plan locked but kept no plan of is not held
// for nothing; one the pull request held before keeps its lock.
func (c *commentRun) releaseUnkept(locks map[string]*prlock.Locks, taken []string, kept map[string]bool) {
	if c.cmd.Name != slash.Plan || c.o.DryRun {
		return
	}
	for _, dir := range taken {
		if kept[dir] {
			continue
		}
		if ok, err := locks[dir].Release(context.WithoutCancel(c.ctx), c.o.Repo, c.o.Event.PR); err != nil {
			c.out.warn("releasing the lock of %s: %v", dir, err)
		} else if ok {
			c.res.Released = append(c.res.Released, dir)
		}
	}
}

// run plans or applies the selected layers, answering in one comment.
// taken: the locks this run took.
func (c *commentRun) run(selected []*layers.Layer, head string, locks map[string]*prlock.Locks, taken []string) error {
	ctx := c.ctx
	o := c.o.Apply
	o.Selection = Selection{Layers: dirsOf(selected), Env: c.o.Apply.Env}
	o.Commit = head
	dir := c.planDir(head)
	verb := "planning"
	if c.cmd.Name == slash.Plan {
		o.Op = apply.OpPlan
		o.ExtraArgs = c.cmd.EngineArgs
		for _, l := range selected { // a re-plan replaces the layer's plan
			_ = os.Remove(filepath.Join(dir, plan.FileName(l.Dir)))
			_ = os.Remove(filepath.Join(dir, plan.MetaName(l.Dir)))
		}
		o.SavePlan = func(meta plan.Meta, data []byte) error { return plan.Save(dir, meta, data) }
	} else {
		o.Op, verb = apply.OpApply, "applying"
		o.Plans = os.DirFS(dir)
		o.ExtraArgs = nil
	}
	live, err := c.pr.Live().Post(ctx, fmt.Sprintf("⏳ `%s`: %s %s at %s …", c.cmd, verb, strings.Join(dirsOf(selected), ", "), short(head)))
	if err != nil {
		c.releaseUnkept(locks, taken, nil)
		return ToolError(err)
	}
	// The infra-flash comment's Plans section shows the run as under way.
	c.record(head, "pending", verb+" "+strings.Join(dirsOf(selected), ", "))
	var mu sync.Mutex
	var lines []string
	prev := o.OnEvent
	o.OnEvent = func(e apply.Event, line string) {
		if prev != nil {
			prev(e, line)
		}
		if e.Result == nil {
			return
		}
		mu.Lock()
		lines = append(lines, "- "+line)
		body := fmt.Sprintf("⏳ `%s` at %s:\n\n%s", c.cmd, short(head), strings.Join(lines, "\n"))
		mu.Unlock()
		if err := live.Edit(ctx, body); err != nil {
			c.out.warn("editing the comment: %v", err)
		}
	}
	res, err := Apply(ctx, c.repo, o, c.ex, c.out)
	if err == nil && c.cmd.Name == slash.Plan && c.o.PlanStore != nil && !c.o.DryRun {
		if kerr := c.o.PlanStore.Keep(ctx, c.o.Event.PR, c.o.Apply.Env, head, dir, dirsOf(selected)); kerr != nil {
			err = ToolError(fmt.Errorf("keeping the plans for /apply: %w", kerr))
		}
	}
	if err != nil {
		c.releaseUnkept(locks, taken, nil)
		c.record(head, "error", fmt.Sprintf("%s failed: %s", c.cmd, err))
		body := fmt.Sprintf("❌ `%s` failed: %s", c.cmd, err)
		if len(c.res.Released) > 0 {
			body += "\n\n🔓 no plan kept; released: " + strings.Join(c.res.Released, ", ")
		}
		_ = live.Edit(context.WithoutCancel(ctx), body)
		return err
	}
	c.res.Report, c.res.Masker = res.Report, res.Masker
	kept := map[string]bool{}
	for _, r := range res.Report.Layers {
		if r.Status == apply.Planned || r.Status == apply.NoChanges {
			kept[r.Layer.Dir] = true
		}
	}
	c.releaseUnkept(locks, taken, kept)
	state := "success"
	if res.Report.ExitCode() != report.ExitOK {
		state = "failure"
	}
	c.record(head, state, outcomes(res.Report))
	var b strings.Builder
	if err := apply.Render(&b, res.Report, "markdown", res.Masker); err != nil {
		return ToolError(err)
	}
	if c.cmd.Name == slash.Apply && !c.o.DryRun {
		for _, r := range res.Report.Layers {
			if r.Status == apply.Applied || r.Status == apply.NoChanges {
				if released, err := locks[r.Layer.Dir].Release(ctx, c.o.Repo, c.o.Event.PR); err == nil && released {
					c.res.Released = append(c.res.Released, r.Layer.Dir)
				}
			}
		}
	}
	body := b.String()
	if c.cmd.Name == slash.Plan {
		var held []string // kept now, or held from an earlier /plan
		for _, l := range selected {
			if !slices.Contains(c.res.Released, l.Dir) && !c.o.DryRun {
				held = append(held, l.Dir)
			}
		}
		if len(held) > 0 {
			body += fmt.Sprintf("\n\n🔒 locked for #%d until `/apply`, `/unlock` or the pull request closes: %s", c.o.Event.PR, strings.Join(held, ", "))
		}
		if len(c.res.Released) > 0 {
			body += fmt.Sprintf("\n\n🔓 no plan kept of %s: released", strings.Join(c.res.Released, ", "))
		}
	} else if len(c.res.Released) > 0 {
		body += fmt.Sprintf("\n\n🔓 released: %s", strings.Join(c.res.Released, ", "))
	}
	if err := live.Edit(context.WithoutCancel(ctx), body); err != nil {
		return ToolError(err)
	}
	return nil
}

// record notes the command's outcome on the commit; failing to is said, not fatal.
func (c *commentRun) record(head, state, description string) {
	if err := c.pr.Record(context.WithoutCancel(c.ctx), head, c.cmd.Name, state, description); err != nil {
		c.out.warn("recording %s on %s: %v", c.cmd.Name, short(head), err)
	}
}

// outcomes is one line of each layer's outcome: "1.one planned (+1 ~0 -0);
// 2.two no changes".
func outcomes(r *apply.Report) string {
	parts := make([]string, 0, len(r.Layers))
	for _, l := range r.Layers {
		p := l.Layer.Dir + " " + string(l.Status)
		if s := l.Plan; s != nil && (l.Status == apply.Planned || l.Status == apply.Applied) {
			p += fmt.Sprintf(" (+%d ~%d -%d)", s.Add, s.Change, s.Destroy)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// applyAllowed: the pull request approved at its head and the head's checks green, as the
// policy asks; plans for the head must exist.
func (c *commentRun) applyAllowed(head string) (bool, string) {
	if c.o.Policy.RequireApproval {
		ok, why, err := c.pr.Approval(c.ctx, head, c.o.Policy.trusted())
		if err != nil {
			return false, "the approval could not be read: " + err.Error()
		}
		if !ok {
			return false, why
		}
	}
	if c.o.Policy.RequireChecks {
		ok, why, err := c.pr.ChecksPassed(c.ctx, head)
		if err != nil {
			return false, "the checks could not be read: " + err.Error()
		}
		if !ok {
			return false, why
		}
	}
	return true, ""
}

// selectLayers: the command's layers; for /apply without any, every layer
// /plan saved a plan of for the head. A missing or stale plan refuses.
func (c *commentRun) selectLayers(head string) ([]*layers.Layer, error) {
	if c.cmd.Name == slash.Plan {
		sel := c.cmd.Layers
		if len(sel) == 0 {
			sel = []string{layers.Changed}
		}
		return c.selectIn(sel)
	}
	if len(c.cmd.Layers) > 0 {
		// The environment first: it says where the plans are.
		if _, err := c.selectIn(c.cmd.Layers); err != nil {
			return nil, err
		}
	}
	if len(c.cmd.Layers) == 0 && c.o.Apply.Env == "" {
		// No layer and no environment named: the plans say which environment.
		planned, err := c.plannedEnvs(head)
		if err != nil {
			return nil, err
		}
		switch {
		case len(planned) == 1:
			c.o.Apply.Env = planned[0]
		case len(planned) > 1:
			return nil, c.refuse("the head %s has plans for %s: comment `/apply --env NAME`", short(head), strings.Join(planned, " and "))
		}
	}
	dir, err := c.fetchPlans(c.o.Apply.Env, head)
	if err != nil {
		return nil, err
	}
	var want []*layers.Layer
	if len(c.cmd.Layers) > 0 {
		sel, err := c.selectIn(c.cmd.Layers)
		if err != nil {
			return nil, err
		}
		want = sel
	} else {
		for _, l := range c.m.Set.Layers {
			if _, err := os.Stat(filepath.Join(dir, plan.MetaName(l.Dir))); err == nil {
				want = append(want, l)
			}
		}
	}
	var missing []string
	for _, l := range want {
		if _, err := os.Stat(filepath.Join(dir, plan.MetaName(l.Dir))); err != nil {
			missing = append(missing, l.Dir)
		}
	}
	if len(want) == 0 || len(missing) > 0 {
		what := "no plan"
		if len(missing) > 0 {
			what = "no plan of " + strings.Join(missing, ", ")
		}
		if older := c.olderPlans(head); older != "" {
			return nil, c.refuse("%s for the head %s: the plans are of %s, before the last push; comment `/plan` again", what, short(head), older)
		}
		return nil, c.refuse("%s for the head %s; comment `/plan` first", what, short(head))
	}
	return want, nil
}

// fetchPlans brings the plans /plan kept for the head in env into their
// directory.
func (c *commentRun) fetchPlans(env, head string) (string, error) {
	dir := c.planDirIn(env, head)
	if c.o.PlanStore != nil {
		if err := c.o.PlanStore.Fetch(c.ctx, c.o.Event.PR, env, head, dir, dirsOf(c.m.Set.Layers)); err != nil {
			return "", ToolError(fmt.Errorf("fetching the plans of /plan: %w", err))
		}
	}
	return dir, nil
}

// plannedEnvs lists the environments with plans for the head, "" standing for
// plans made without one; empty when no environment is declared.
func (c *commentRun) plannedEnvs(head string) ([]string, error) {
	names := c.m.Config.EnvironmentNames()
	if len(names) == 0 {
		return nil, nil
	}
	var planned []string
	for _, env := range append([]string{""}, names...) {
		dir, err := c.fetchPlans(env, head)
		if err != nil {
			return nil, err
		}
		for _, l := range c.m.Set.Layers {
			if _, err := os.Stat(filepath.Join(dir, plan.MetaName(l.Dir))); err == nil {
				planned = append(planned, env)
				break
			}
		}
	}
	if len(planned) == 1 && planned[0] == "" {
		return nil, nil
	}
	for i, env := range planned {
		if env == "" {
			planned[i] = "no environment"
		}
	}
	return planned, nil
}

// selectIn selects layers in the command's environment, or the one they
// infer (one environment's own layers), which the rest of the run then uses.
func (c *commentRun) selectIn(sel []string) ([]*layers.Layer, error) {
	selected, env, err := c.m.SelectEnv(c.ctx, c.repo, Selection{Layers: sel, Env: c.o.Apply.Env, NeedsEnv: true})
	if err != nil {
		return nil, err
	}
	c.o.Apply.Env = env
	return selected, nil
}

// olderPlans names the commits other plans of this pull request were made for.
func (c *commentRun) olderPlans(head string) string {
	if c.o.PlanStore != nil {
		if latest, err := c.o.PlanStore.Latest(c.ctx, c.o.Event.PR); err == nil && latest != head {
			return short(latest)
		}
		return ""
	}
	entries, _ := os.ReadDir(filepath.Dir(c.planDir(head)))
	var shas []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != head {
			shas = append(shas, short(e.Name()))
		}
	}
	return strings.Join(shas, ", ")
}

// takeLocks holds every selected layer for this pull request, or refuses
// naming who holds one (releasing what it took). taken: the layers it locked
// that the pull request did not hold before. nil locks, nil error: refused.
func (c *commentRun) takeLocks(selected []*layers.Layer, head string) (map[string]*prlock.Locks, []string, error) {
	locks := map[string]*prlock.Locks{}
	var taken []string
	giveBack := func() {
		for _, dir := range taken {
			_, _ = locks[dir].Release(context.WithoutCancel(c.ctx), c.o.Repo, c.o.Event.PR)
		}
	}
	for _, l := range selected {
		lk, err := c.locksFor(l)
		if err != nil {
			giveBack()
			return nil, nil, BadInput("%s: %v", l.Dir, err)
		}
		locks[l.Dir] = lk
		before, err := lk.Holder(c.ctx)
		if err != nil {
			giveBack()
			return nil, nil, ToolError(err)
		}
		if c.o.DryRun {
			if before != nil && (before.PR != c.o.Event.PR || before.Repo != c.o.Repo) {
				return nil, nil, c.refuse("%s", (&prlock.HeldError{Holder: *before}).Error())
			}
			c.out.progress("dry run: would lock %s for #%d", l.Dir, c.o.Event.PR)
			continue
		}
		_, err = lk.Acquire(c.ctx, prlock.Lock{Repo: c.o.Repo, PR: c.o.Event.PR, Layer: l.Dir, Commit: head, By: c.o.Event.Comment.Author})
		if err != nil {
			giveBack()
			var held *prlock.HeldError
			if errors.As(err, &held) {
				return nil, nil, c.refuse("%s", held.Error())
			}
			return nil, nil, ToolError(err)
		}
		if before == nil {
			taken = append(taken, l.Dir)
		}
	}
	return locks, taken, nil
}

// unlock releases the pull request's locks: all, or the named layer's.
func (c *commentRun) unlock() error {
	m, err := Load(c.repo, c.o.Apply.Settings)
	if err != nil {
		return err
	}
	c.m = m
	sel := m.Set.Layers
	if len(c.cmd.Layers) > 0 {
		if sel, err = m.Select(c.ctx, c.repo, Selection{Layers: c.cmd.Layers}); err != nil {
			return err
		}
	}
	if c.o.DryRun {
		return say(c.ctx, c.pr, "🔓 dry run: would release this pull request's locks of "+strings.Join(dirsOf(sel), ", "))
	}
	released, others, err := releaseAll(c.ctx, sel, c.o.Repo, c.o.Event.PR, c.locksFor)
	if err != nil {
		return err
	}
	c.res.Released = released
	body := "🔓 no lock of this pull request to release"
	if len(released) > 0 {
		body = "🔓 released: " + strings.Join(released, ", ")
	}
	if len(others) > 0 {
		body += "\n\nheld by other pull requests (not released): " + strings.Join(others, "; ")
	}
	return say(c.ctx, c.pr, body)
}

func releaseAll(ctx context.Context, sel []*layers.Layer, repo string, pr int, locksFor func(*layers.Layer) (*prlock.Locks, error)) (released, others []string, err error) {
	for _, l := range sel {
		lk, err := locksFor(l)
		if err != nil {
			return released, others, BadInput("%s: %v", l.Dir, err)
		}
		ok, err := lk.Release(ctx, repo, pr)
		var held *prlock.HeldError
		switch {
		case errors.As(err, &held):
			others = append(others, fmt.Sprintf("%s by %s", l.Dir, held.Holder.String()))
		case err != nil:
			return released, others, ToolError(err)
		case ok:
			released = append(released, l.Dir)
		}
	}
	return released, others, nil
}

// releaseClosed frees every lock of a pull request that closed.
func releaseClosed(ctx context.Context, repo Repo, o CommentOptions, out Sink) (*CommentResult, error) {
	if o.Event.Name != "pull_request" || o.Event.PR == 0 {
		return nil, BadInput("--release needs a pull_request event (closed), not %s", o.Event.Name)
	}
	m, err := Load(repo, o.Apply.Settings)
	if err != nil {
		return nil, err
	}
	locate := locatorOf(repo, o)
	released, _, err := releaseAll(ctx, m.Set.Layers, o.Repo, o.Event.PR, func(l *layers.Layer) (*prlock.Locks, error) { return locate(m, l) })
	if err != nil {
		return nil, err
	}
	out.progress("#%d closed: released %d lock(s) %s", o.Event.PR, len(released), strings.Join(released, ", "))
	return &CommentResult{Released: released}, nil
}

func dirsOf(ls []*layers.Layer) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Dir
	}
	return out
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
