package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

const srcMount = "/src"

// startMarker is the first line every exec writes on stderr: the second at which
// it started. An exec Dagger replays from its cache replays the line with the
// original second, earlier than this call, which is how a result is known to
// come from the cache.
const startMarker = "infra-exec-started:"

// quietDir holds the output of the engine commands of plan, apply and drift,
// outside the source mount.
const quietDir = "/infra-io"

// containerRunner runs stage commands in the pinned tool images. Commands of one
// session (init, then validate) run on top of each other's container, so validate
// sees the .terraform directory init made; sessions share nothing else, and each
// session's container holds only what its stage reads (stage.Inputs), so a change
// elsewhere in the repository keeps its cached results.
type containerRunner struct {
	src      *dagger.Directory
	engine   string
	versions toolchain.Versions
	inputs   map[string]stage.Filter // by session
	started  int64                   // this call's start, in Unix seconds
	// prepare, when set, adds to every engine container (secrets, a run ID).
	prepare func(*dagger.Container) *dagger.Container

	mu       sync.Mutex
	sessions map[string]*dagger.Container
	fresh    map[string]bool // sessions with an exec that ran in this call, or whose origin is unknown
	seen     map[string]bool
}

func newContainerRunner(src *dagger.Directory, engine string, v toolchain.Versions, inputs map[string]stage.Filter) *containerRunner {
	return &containerRunner{src: src, engine: engine, versions: v, inputs: inputs, started: time.Now().Unix(),
		sessions: map[string]*dagger.Container{}, fresh: map[string]bool{}, seen: map[string]bool{}}
}

func (r *containerRunner) Root() string { return srcMount }

// files is what the session's container gets of the repository. Directory.filter
// keeps the source's content hashing, so the containers' cache keys follow the
// selected files' content alone.
func (r *containerRunner) files(session string) *dagger.Directory {
	f, ok := r.inputs[session]
	if !ok { // a session no stage declared: the whole repository, correct if less cacheable
		return r.src
	}
	return r.src.Filter(dagger.DirectoryFilterOpts{Include: f.Include, Exclude: f.Exclude})
}

func (r *containerRunner) base(cmd stage.Command) *dagger.Container {
	// One cache volume per directory, locked while in use: concurrent installs into
	// one plugin cache are unsafe, across layers and across simultaneous calls alike.
	key := strings.NewReplacer("/", "-", ".", "-").Replace(cmd.Dir)
	locked := dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}
	files := r.files(cmd.Session)
	if cmd.Tool == stage.TFLint {
		return dag.Container().From(r.versions.Image("tflint")).
			WithMountedCache("/root/.tflint.d/plugins", dag.CacheVolume("infra-tflint-plugins-"+key), locked).
			WithMountedDirectory(srcMount, files)
	}
	ctr := r.engineContainer().
		WithEnvVariable("TF_IN_AUTOMATION", "1").
		WithEnvVariable("TF_INPUT", "0").
		WithEnvVariable("CHECKPOINT_DISABLE", "1")
	if _, kind, _ := sessionKind(cmd.Session); kind != stage.Format { // fmt installs nothing: no cache, no lock to wait for
		ctr = ctr.WithMountedCache("/plugin-cache", dag.CacheVolume("infra-"+r.engine+"-plugins-"+key), locked).
			WithEnvVariable("TF_PLUGIN_CACHE_DIR", "/plugin-cache")
	}
	if r.prepare != nil {
		ctr = r.prepare(ctr)
	}
	ctr = ctr.WithMountedDirectory(srcMount, files)
	if apply.IsSession(cmd.Session) {
		// Plan files go to the data directory, which init makes only when it
		// installs something: a layer of built-in resources alone has none.
		ctr = ctr.WithDirectory(srcMount+"/"+cmd.Dir+"/"+stage.DataDir, dag.Directory())
	}
	return ctr
}

func (r *containerRunner) Run(ctx context.Context, cmd stage.Command) (stage.Output, error) {
	r.mu.Lock()
	ctr, ok := r.sessions[cmd.Session]
	r.mu.Unlock()
	if !ok {
		ctr = r.base(cmd)
	}
	bin := r.engine
	if cmd.Tool == stage.TFLint {
		bin = "tflint"
	}
	ctr = ctr.WithWorkdir(srcMount + "/" + cmd.Dir)
	for k, v := range cmd.Env {
		ctr = ctr.WithEnvVariable(k, v)
	}
	// Every image has a POSIX shell (alpine based); the marker goes to stderr first.
	script := `echo "` + startMarker + `$(date +%s)" >&2; exec "$@"`
	quiet := apply.IsSession(cmd.Session)
	if quiet {
		// What plan, show and apply print holds variable and state values
		// (show -json: every variable in clear), and Dagger's progress output
		// shows an exec's stdout and stderr: into files instead, read back
		// without being shown.
		script = `mkdir -p ` + quietDir + ` && echo "` + startMarker + `$(date +%s)" >` + quietDir + `/err && exec "$@" >` + quietDir + `/out 2>>` + quietDir + `/err`
	}
	stamped := append([]string{"sh", "-c", script, "infra-exec", bin}, cmd.Args...)
	ctr = ctr.WithExec(stamped, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})

	var out stage.Output
	var err error
	if out.ExitCode, err = ctr.ExitCode(ctx); err != nil {
		var execErr *dagger.ExecError
		if errors.As(err, &execErr) {
			stderr, _ := r.unstamp(cmd.Session, execErr.Stderr)
			return stage.Output{Stdout: execErr.Stdout, Stderr: stderr, ExitCode: execErr.ExitCode}, nil
		}
		return out, err
	}
	stdout, stderr := ctr.Stdout, ctr.Stderr
	if quiet {
		stdout = func(ctx context.Context) (string, error) { return ctr.File(quietDir + "/out").Contents(ctx) }
		stderr = func(ctx context.Context) (string, error) { return ctr.File(quietDir + "/err").Contents(ctx) }
	}
	if out.Stdout, err = stdout(ctx); err != nil {
		return out, err
	}
	if out.Stderr, err = stderr(ctx); err != nil {
		return out, err
	}
	out.Stderr, _ = r.unstamp(cmd.Session, out.Stderr)
	r.mu.Lock()
	r.sessions[cmd.Session] = ctr
	r.mu.Unlock()
	return out, nil
}

// unstamp removes the start marker from stderr and records whether the exec ran
// in this call (or might have: a missing marker counts as ran).
func (r *containerRunner) unstamp(session, stderr string) (string, bool) {
	first, rest, _ := strings.Cut(stderr, "\n")
	replayed := false
	if sec, ok := strings.CutPrefix(first, startMarker); ok {
		stderr = rest
		if n, err := strconv.ParseInt(strings.TrimSpace(sec), 10, 64); err == nil {
			replayed = n < r.started
		}
	}
	r.mu.Lock()
	r.seen[session] = true
	if !replayed {
		r.fresh[session] = true
	}
	r.mu.Unlock()
	return stderr, replayed
}

// replayed reports whether every exec of these sessions came from Dagger's cache.
func (r *containerRunner) replayed(sessions []string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range sessions {
		if !r.seen[s] || r.fresh[s] {
			return false
		}
	}
	return true
}

func (r *containerRunner) engineContainer() *dagger.Container {
	if r.engine != "tofu" {
		return dag.Container().From(r.versions.Image(r.engine)) // ships git, for git-sourced modules
	}
	tofu := dag.Container().From(r.versions.Image("tofu")).File("/usr/local/bin/tofu")
	return dag.Container().From(gitImage).WithFile("/usr/local/bin/tofu", tofu)
}
