package apply_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"

	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/state"
	"github.com/infra-flash/infra/internal/testfixture"
)

func chain() []testfixture.StateLayer {
	return []testfixture.StateLayer{
		{Dir: "1.one"},
		{Dir: "2.two", DependsOn: []string{"1.one"}},
		{Dir: "3.three", DependsOn: []string{"2.two"}},
	}
}

func TestAppliesInDependencyOrderAndASecondApplyChangesNothing(t *testing.T) {
	e := newEnv(t, testfixture.StateTree(chain()...))
	rec := &recorder{}
	rep := e.apply(func(o *apply.Options) { rec.Runner = o.Runner; o.Runner = rec })
	require.Equal(t, report.ExitOK, rep.ExitCode(), renderText(rep))
	for _, l := range rep.Layers {
		assert.Equal(t, apply.Applied, l.Status, l.Layer.Dir)
		require.NotNil(t, l.Applied)
		assert.Equal(t, 1, l.Applied.Add, l.Layer.Dir)
	}
	// Each layer starts only after the layer it reads has finished, re-plan included.
	first, last := map[string]time.Time{}, map[string]time.Time{}
	for i, c := range rec.cmds {
		dir := filepath.Base(c.Dir)
		if _, ok := first[dir]; !ok {
			first[dir] = rec.at[i]
		}
		last[dir] = rec.at[i]
	}
	assert.True(t, first["2.two"].After(last["1.one"]))
	assert.True(t, first["3.three"].After(last["2.two"]))
	assert.Equal(t, []string{"init -reconfigure", "apply -auto-approve", "plan -detailed-exitcode -out=.terraform/infra-replan.tfplan"}, rec.lines("1.one"))
	// The dependency really carried data: layer 3's trigger holds layer 2's id.
	assert.Contains(t, string(e.stateOf("3.three")), outputID(t, e.stateOf("2.two")))

	before := map[string][]byte{}
	for _, l := range chain() {
		before[l.Dir] = e.stateOf(l.Dir)
	}
	again := e.apply()
	require.Equal(t, report.ExitOK, again.ExitCode(), renderText(again))
	for _, l := range again.Layers {
		assert.Equal(t, apply.Applied, l.Status)
		assert.Equal(t, 0, l.Applied.Add+l.Applied.Change+l.Applied.Destroy, l.Layer.Dir)
		assert.Equal(t, before[l.Layer.Dir], e.stateOf(l.Layer.Dir), "%s: a no-op apply rewrote the state", l.Layer.Dir)
	}
}

// outputID is the id output of a layer's state.
func outputID(t *testing.T, st []byte) string {
	t.Helper()
	var parsed struct {
		Outputs map[string]struct {
			Value string `json:"value"`
		} `json:"outputs"`
	}
	require.NoError(t, json.Unmarshal(st, &parsed))
	id := parsed.Outputs["id"].Value
	require.NotEmpty(t, id)
	return id
}

func TestBootstrapModuleIsAppliedFirstOnItsOwn(t *testing.T) {
	files := testfixture.StateTree(testfixture.StateLayer{Dir: "1.boot", Extra: `module "nodep" {
  source = "./nodep"
}

resource "null_resource" "after" {
  triggers = {
    kubeconfig = module.nodep.path
  }
}
`})
	// A layer can name its bootstrap targets instead.
	for k, v := range testfixture.StateTree(testfixture.StateLayer{Dir: "2.conf", Extra: "resource \"null_resource\" \"first\" {}\n"}) {
		files[k] = v
	}
	files["infra.hcl"] = "layer \"2.conf\" {\n  bootstrap_targets = [\"null_resource.first\"]\n}\n"
	files["terraform/1.boot/nodep/main.tf"] = `resource "null_resource" "node" {}

output "path" {
  value = "kubeconfig-${null_resource.node.id}"
}
`
	e := newEnv(t, files)
	rec := &recorder{}
	rep := e.apply(func(o *apply.Options) { rec.Runner = o.Runner; o.Runner = rec })
	require.Equal(t, report.ExitOK, rep.ExitCode(), renderText(rep))
	r := result(t, rep, "1.boot")
	assert.Equal(t, []string{"bootstrap -target=module.nodep", "full"}, r.Phases)
	lines := rec.lines("1.boot")
	require.GreaterOrEqual(t, len(lines), 3, lines)
	assert.Equal(t, "apply -auto-approve -target=module.nodep", lines[1])
	assert.Equal(t, "apply -auto-approve", lines[2])
	// First phase: the module alone; second: the rest.
	assert.Equal(t, 3, r.Applied.Add)
	assert.Equal(t, "module.nodep.null_resource.node", r.Applied.Changes[0].Address)

	conf := result(t, rep, "2.conf")
	assert.Equal(t, []string{"bootstrap -target=null_resource.first", "full"}, conf.Phases)
	assert.Equal(t, "apply -auto-approve -target=null_resource.first", rec.lines("2.conf")[1])
	assert.Equal(t, "null_resource.first", conf.Applied.Changes[0].Address)
}

func TestFailureLeavesDependentsUntouchedAndReportsThemSkipped(t *testing.T) {
	ls := chain()
	ls[1].Extra = `resource "null_resource" "boom" {
  provisioner "local-exec" {
    command = "echo the provisioner failed on purpose >&2; exit 3"
  }
}
`
	ls = append(ls, testfixture.StateLayer{Dir: "4.side", DependsOn: []string{"1.one"}})
	e := newEnv(t, testfixture.StateTree(ls...))
	rep := e.apply()
	assert.Equal(t, report.ExitFailed, rep.ExitCode())
	assert.Equal(t, map[string]apply.Status{"1.one": apply.Applied, "2.two": apply.Failed, "3.three": apply.Skipped, "4.side": apply.Applied}, statusOf(rep))
	two, three := result(t, rep, "2.two"), result(t, rep, "3.three")
	assert.Contains(t, two.Reason, "local-exec")
	assert.Contains(t, two.Detail, "failed on purpose")
	assert.Contains(t, three.Reason, "2.two, which failed")
	assert.Nil(t, e.stateOf("3.three"), "layer 3 must not have been touched")
	// What the failed layer did before it stopped is reported, not lost.
	require.NotNil(t, two.Applied)
	assert.Equal(t, []plan.Resource{{Address: "null_resource.this", Action: "create"}}, two.Applied.Changes)
	text := renderText(rep)
	assert.Contains(t, text, "apply: 2 applied, 1 failed, 1 skipped")
	assert.Contains(t, text, "applied before it stopped")
}

func TestConcurrentApplyIsRefusedNamingTheHolderAndLeavesStateAlone(t *testing.T) {
	files := testfixture.StateTree(testfixture.StateLayer{Dir: "1.slow", Extra: `variable "pause" {
  type = number
}

resource "null_resource" "slow" {
  triggers = {
    pause = var.pause
  }
  provisioner "local-exec" {
    command = "sleep ${var.pause}"
  }
}
`})
	e := newEnv(t, files)
	e.setVar("pause", 0)
	require.Equal(t, report.ExitOK, e.apply().ExitCode())
	e.setVar("pause", 10)

	// Two checkouts, as two CI runners would have.
	other := t.TempDir()
	copyTree(t, e.src, other)

	first := make(chan *apply.Report, 1)
	firstOpts, firstDone := e.options(e.src)
	defer firstDone()
	go func() {
		rep, _ := apply.Apply(context.Background(), e.layers().Layers, firstOpts)
		first <- rep
	}()
	lock := waitForLock(t, e, "1.slow")
	held := e.stateOf("1.slow")

	opts, done := e.options(other)
	defer done()
	rep, err := apply.Apply(context.Background(), e.layers().Layers, opts)
	require.NoError(t, err)
	r := result(t, rep, "1.slow")
	assert.Equal(t, apply.Locked, r.Status, renderText(rep))
	assert.Equal(t, report.ExitToolError, rep.ExitCode())
	require.NotNil(t, r.Lock)
	assert.Equal(t, lock.ID, r.Lock.ID)
	assert.Contains(t, r.Reason, lock.ID)
	assert.Contains(t, r.Reason, lock.Who)
	assert.Contains(t, r.Reason, "apply")
	assert.Equal(t, held, e.stateOf("1.slow"), "the refused run changed the state object")

	firstRep := <-first
	require.NotNil(t, firstRep)
	assert.Equal(t, apply.Applied, result(t, firstRep, "1.slow").Status, renderText(firstRep))
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	}))
}

// waitForLock polls the bucket until the layer's lock object appears.
func waitForLock(t *testing.T, e *env, layer string) state.Lock {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if data := e.s3.Object(t, layer+"/terraform.tfstate.tflock"); data != nil {
			l, err := state.ParseLockJSON(data)
			if err == nil {
				return l
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the lock object never appeared")
	return state.Lock{}
}

func TestKilledRunLeavesALockOnlyItsIDReleases(t *testing.T) {
	files := testfixture.StateTree(testfixture.StateLayer{Dir: "1.slow", Extra: `resource "null_resource" "slow" {
  provisioner "local-exec" {
    command = "sleep 60"
  }
}
`})
	e := newEnv(t, files)
	set := e.layers()
	killedOpts, killedDone := e.options(e.src)
	killed := make(chan *apply.Report, 1)
	go func() {
		rep, _ := apply.Apply(context.Background(), set.Layers, killedOpts)
		killed <- rep
	}()
	lock := waitForLock(t, e, "1.slow")
	killEngine(t)
	rep := <-killed
	killedDone()
	require.NotNil(t, rep)
	assert.Equal(t, apply.Error, rep.Layers[0].Status, renderText(rep))

	opts, done := e.options(e.src)
	defer done()
	l := set.Get("1.slow")

	rep, err := apply.Unlock(context.Background(), l, "00000000-0000-0000-0000-000000000000", opts)
	require.NoError(t, err)
	r := rep.Layers[0]
	assert.Equal(t, apply.Refused, r.Status)
	assert.Equal(t, report.ExitBadInput, rep.ExitCode())
	assert.Contains(t, r.Reason, lock.ID, "a refusal names the lock actually held")
	assert.NotNil(t, e.s3.Object(t, "1.slow/terraform.tfstate.tflock"), "a wrong ID must not release the lock")

	// The lock shows in a run that cannot take it, with the same ID.
	blocked, err := apply.Apply(context.Background(), set.Layers, opts)
	require.NoError(t, err)
	assert.Equal(t, apply.Locked, blocked.Layers[0].Status)
	assert.Equal(t, lock.ID, blocked.Layers[0].Lock.ID)

	rep, err = apply.Unlock(context.Background(), l, lock.ID, opts)
	require.NoError(t, err)
	assert.Equal(t, apply.Unlocked, rep.Layers[0].Status, renderText(rep))
	assert.Equal(t, report.ExitOK, rep.ExitCode())
	assert.Nil(t, e.s3.Object(t, "1.slow/terraform.tfstate.tflock"))

	rep, err = apply.Unlock(context.Background(), l, lock.ID, opts)
	require.NoError(t, err)
	assert.Equal(t, apply.NotLocked, rep.Layers[0].Status)
}

func TestStoppedRunInterruptsTheEngineWhichReleasesItsLock(t *testing.T) {
	files := testfixture.StateTree(testfixture.StateLayer{Dir: "1.slow", Extra: `resource "null_resource" "slow" {
  provisioner "local-exec" {
    command = "sleep 60"
  }
}
`}, testfixture.StateLayer{Dir: "2.after", DependsOn: []string{"1.slow"}})
	e := newEnv(t, files)
	opts, done := e.options(e.src)
	defer done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped := make(chan *apply.Report, 1)
	go func() {
		rep, _ := apply.Apply(ctx, e.layers().Layers, opts)
		stopped <- rep
	}()
	waitForLock(t, e, "1.slow")
	cancel()
	rep := <-stopped
	require.NotNil(t, rep)
	assert.Equal(t, apply.Error, result(t, rep, "1.slow").Status)
	assert.Contains(t, result(t, rep, "1.slow").Reason, "stopped")
	assert.Equal(t, apply.Skipped, result(t, rep, "2.after").Status)
	assert.Nil(t, e.s3.Object(t, "1.slow/terraform.tfstate.tflock"), "an interrupted engine releases its lock")
	assert.Nil(t, e.stateOf("2.after"))
}

// killEngine kills -9 the engine process this test started, as a crashed runner
// or a cancelled CI job would, and then what it had started (the provisioner's
// shell), so that nothing outlives the test.
func killEngine(t *testing.T) {
	t.Helper()
	children := processChildren(t)
	var engines []int
	for _, p := range children[os.Getpid()] {
		if strings.HasPrefix(p.comm, "tofu") {
			engines = append(engines, p.pid)
		}
	}
	require.Len(t, engines, 1, "expected exactly one engine process to kill")
	require.NoError(t, syscall.Kill(engines[0], syscall.SIGKILL))
	var descendants func(pid int)
	descendants = func(pid int) {
		for _, c := range children[pid] {
			_ = syscall.Kill(c.pid, syscall.SIGKILL)
			descendants(c.pid)
		}
	}
	descendants(engines[0])
}

type proc struct {
	pid  int
	comm string
}

// processChildren maps each process ID to its children, from /proc.
func processChildren(t *testing.T) map[int][]proc {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	out := map[int][]proc{}
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat) // pid (comm) state ppid ...
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		out[ppid] = append(out[ppid], proc{pid: pid, comm: s[open+1 : closing]})
	}
	return out
}

func TestDriftIsDetectedInTheCodeAndInReality(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "managed.txt")
	files := testfixture.StateTree(testfixture.StateLayer{Dir: "1.files", Extra: `variable "path" {
  type = string
}

resource "local_file" "managed" {
  filename = var.path
  content  = "managed by the layer\n"
}
`})
	e := newEnv(t, files)
	e.setVar("path", outside)
	first := e.apply()
	require.Equal(t, report.ExitOK, first.ExitCode(), renderText(first))

	drift := func() *apply.Report {
		opts, done := e.options(e.src)
		defer done()
		rep, err := apply.Drift(context.Background(), e.layers().Layers, opts)
		require.NoError(t, err)
		return rep
	}
	rep := drift()
	assert.Equal(t, apply.InSync, rep.Layers[0].Status, renderText(rep))
	assert.Equal(t, report.ExitOK, rep.ExitCode())

	// Reality moves: someone deletes the file.
	require.NoError(t, os.Remove(outside))
	rep = drift()
	r := rep.Layers[0]
	assert.Equal(t, apply.Drifted, r.Status, renderText(rep))
	assert.Equal(t, report.ExitFailed, rep.ExitCode())
	require.NotNil(t, r.Refresh)
	require.Len(t, r.Refresh.Drift, 1)
	assert.Equal(t, "local_file.managed", r.Refresh.Drift[0].Address)
	assert.Equal(t, "delete", r.Refresh.Drift[0].Action)
	assert.Contains(t, r.Reason, "changed outside")
	// The normal plan would create it again.
	require.NotNil(t, r.Plan)
	assert.Equal(t, 1, r.Plan.Add)

	// Put reality back, then let the code move on without applying it.
	require.Equal(t, report.ExitOK, e.apply().ExitCode())
	e.write(map[string]string{"terraform/1.files/extra.tf": "resource \"null_resource\" \"new\" {}\n"})
	rep = drift()
	r = rep.Layers[0]
	assert.Equal(t, apply.Drifted, r.Status)
	assert.Contains(t, r.Reason, "the code differs from the live state: 1 to add")
	assert.Empty(t, r.Refresh.Drift)
	assert.Contains(t, apply.Markdown(rep, apply.MarkdownLimit), "null_resource.new")
}

func TestApplyRefusesAPlanMadeForAnotherCommitOrSource(t *testing.T) {
	e := newEnv(t, testfixture.StateTree(testfixture.StateLayer{Dir: "1.one"}))
	plans := t.TempDir()
	opts, done := e.options(e.src)
	opts.SavePlan = func(m plan.Meta, data []byte) error { return plan.Save(plans, m, data) }
	rep, err := apply.Plan(context.Background(), e.layers().Layers, opts)
	done()
	require.NoError(t, err)
	require.Equal(t, apply.Planned, rep.Layers[0].Status, renderText(rep))
	hash := rep.Layers[0].PlanHash
	require.Len(t, hash, 64)
	assert.Equal(t, 1, rep.Layers[0].Plan.Add)

	withPlans := func(commit string) *apply.Report {
		return e.apply(func(o *apply.Options) { o.Plans = os.DirFS(plans); o.Commit = commit })
	}
	rep = withPlans("2222222222222222222222222222222222222222")
	r := rep.Layers[0]
	assert.Equal(t, apply.Refused, r.Status)
	assert.Equal(t, report.ExitBadInput, rep.ExitCode())
	assert.Contains(t, r.Reason, "made at commit 111111111111, not at 222222222222")
	assert.Nil(t, e.stateOf("1.one"), "a refused plan must not touch the state")

	// Same commit, but the layer's files changed since.
	e.write(map[string]string{"terraform/1.one/more.tf": "# a comment\n"})
	rep = withPlans("1111111111111111111111111111111111111111")
	assert.Equal(t, apply.Refused, rep.Layers[0].Status)
	assert.Contains(t, rep.Layers[0].Reason, "files differ")
	require.NoError(t, os.Remove(filepath.Join(e.src, "terraform/1.one/more.tf")))

	rep = withPlans("1111111111111111111111111111111111111111")
	r = rep.Layers[0]
	assert.Equal(t, apply.Applied, r.Status, renderText(rep))
	assert.Equal(t, hash, r.PlanHash)
	assert.Equal(t, []string{"saved plan " + hash[:12]}, r.Phases)
	assert.Contains(t, renderText(rep), hash)
	assert.NotNil(t, e.stateOf("1.one"))
}

func TestWrongCredentialsGiveAClearErrorThatDoesNotEchoThem(t *testing.T) {
	e := newEnv(t, testfixture.StateTree(testfixture.StateLayer{Dir: "1.one"}))
	const key, secret = "CANARYACCESSKEY1234", "canary-wrong-secret-5b0f3c"
	for name, replace := range map[string]*strings.Replacer{
		"unknown key":  strings.NewReplacer(e.s3.AccessKey, key, e.s3.Secret, secret),
		"wrong secret": strings.NewReplacer(e.s3.Secret, secret),
	} {
		t.Run(name, func(t *testing.T) {
			bad := replace.Replace(e.s3.BackendConfig())
			var err error
			e.cfgFile, err = state.ParseConfigFile([]byte(bad))
			require.NoError(t, err)

			var progress strings.Builder
			rep := e.apply(func(o *apply.Options) {
				o.OnEvent = func(ev apply.Event) { progress.WriteString(ev.String() + "\n") }
			})
			r := rep.Layers[0]
			assert.Equal(t, apply.Error, r.Status, renderText(rep))
			assert.Equal(t, report.ExitToolError, rep.ExitCode())
			assert.Contains(t, r.Reason, "refused the credentials")
			for _, format := range []string{"text", "markdown", "json"} {
				var b strings.Builder
				require.NoError(t, apply.Render(&b, rep, format, nil))
				assert.NotContains(t, b.String(), secret, format)
				assert.NotContains(t, b.String(), key, format)
			}
			assert.NotContains(t, progress.String(), secret)
			assert.NotContains(t, progress.String(), key)

			// Reading the lock answers the same way, without echoing either.
			block := state.ConfigFile{"key": cty.StringVal("1.one/terraform.tfstate")}
			st, err := state.NewStore(state.Resolve("s3", block, e.cfgFile, nil))
			require.NoError(t, err)
			_, err = st.Lock(context.Background())
			var credErr *state.CredentialsError
			require.ErrorAs(t, err, &credErr)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), key)
		})
	}
}

func TestSensitiveValuesNeverAppearInRenderedPlans(t *testing.T) {
	const canary = "canary-sensitive-7f3a9d"
	const configured = "configured-secret-41c2"
	const patterned = "tok_live_ABCDEF123456"
	files := testfixture.StateTree(testfixture.StateLayer{Dir: "1.one", Extra: `variable "canary" {
  type      = string
  sensitive = true
}

variable "plain" {
  type = string
}

variable "token" {
  type = string
}

resource "null_resource" "secret" {
  triggers = {
    canary = var.canary
    plain  = var.plain
    token  = var.token
    mixed  = "prefix-${var.canary}"
  }
}

output "leak" {
  value     = var.canary
  sensitive = true
}

output "plain" {
  value = "${var.plain}/${var.token}"
}
`})
	e := newEnv(t, files)
	e.setVar("canary", canary)
	e.setVar("plain", configured)
	e.setVar("token", patterned)
	require.Equal(t, report.ExitOK, e.apply().ExitCode())
	e.setVar("canary", canary+"-2") // an update, so before and after both show

	opts, done := e.options(e.src)
	defer done()
	masker, err := plan.NewMasker([]string{configured}, []string{`tok_live_[A-Za-z0-9]+`})
	require.NoError(t, err)
	opts.Masker = masker
	rep, err := apply.Plan(context.Background(), e.layers().Layers, opts)
	require.NoError(t, err)
	r := rep.Layers[0]
	require.Equal(t, apply.Planned, r.Status, renderText(rep))
	require.NotEmpty(t, r.Plan.Changes)
	for _, format := range []string{"text", "markdown", "json"} {
		var b strings.Builder
		require.NoError(t, apply.Render(&b, rep, format, masker))
		out := b.String()
		for _, secret := range []string{canary, configured, patterned} {
			assert.NotContains(t, out, secret, format)
		}
		assert.Contains(t, out, "null_resource.secret", format)
	}
	assert.Contains(t, renderText(rep), "(sensitive value)")
}

func renderText(rep *apply.Report) string {
	var b strings.Builder
	apply.Text(&b, rep)
	return b.String()
}
