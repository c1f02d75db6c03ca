package main

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

const srcMount = "/src"

// containerRunner runs stage commands in the pinned tool images. Commands of one
// session (init, then validate) run on top of each other's container, so validate
// sees the .terraform directory init made; sessions share nothing else.
type containerRunner struct {
	src      *dagger.Directory
	engine   string
	versions toolchain.Versions

	// prepare, when set, adds to every engine container (secrets, a run ID).
	prepare func(*dagger.Container) *dagger.Container

	mu       sync.Mutex
	sessions map[string]*dagger.Container
}

func newContainerRunner(src *dagger.Directory, engine string, v toolchain.Versions) *containerRunner {
	return &containerRunner{src: src, engine: engine, versions: v, sessions: map[string]*dagger.Container{}}
}

func (r *containerRunner) Root() string { return srcMount }

func (r *containerRunner) base(cmd stage.Command) *dagger.Container {
	// One cache volume per directory, locked while in use: concurrent installs into
	// one plugin cache are unsafe, across layers and across simultaneous calls alike.
	key := strings.NewReplacer("/", "-", ".", "-").Replace(cmd.Dir)
	locked := dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}
	if cmd.Tool == stage.TFLint {
		return dag.Container().From(r.versions.Image("tflint")).
			WithMountedCache("/root/.tflint.d/plugins", dag.CacheVolume("infra-tflint-plugins-"+key), locked).
			WithMountedDirectory(srcMount, r.src)
	}
	ctr := r.engineContainer().
		WithMountedCache("/plugin-cache", dag.CacheVolume("infra-"+r.engine+"-plugins-"+key), locked).
		WithEnvVariable("TF_PLUGIN_CACHE_DIR", "/plugin-cache").
		WithEnvVariable("TF_IN_AUTOMATION", "1").
		WithEnvVariable("TF_INPUT", "0").
		WithEnvVariable("CHECKPOINT_DISABLE", "1").
		WithMountedDirectory(srcMount, r.src)
	if r.prepare != nil {
		ctr = r.prepare(ctr)
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
	ctr = ctr.WithExec(append([]string{bin}, cmd.Args...), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})

	var out stage.Output
	var err error
	if out.ExitCode, err = ctr.ExitCode(ctx); err != nil {
		var execErr *dagger.ExecError
		if errors.As(err, &execErr) {
			return stage.Output{Stdout: execErr.Stdout, Stderr: execErr.Stderr, ExitCode: execErr.ExitCode}, nil
		}
		return out, err
	}
	if out.Stdout, err = ctr.Stdout(ctx); err != nil {
		return out, err
	}
	if out.Stderr, err = ctr.Stderr(ctx); err != nil {
		return out, err
	}
	r.mu.Lock()
	r.sessions[cmd.Session] = ctr
	r.mu.Unlock()
	return out, nil
}

func (r *containerRunner) engineContainer() *dagger.Container {
	if r.engine != "tofu" {
		return dag.Container().From(r.versions.Image(r.engine))
	}
	tofu := dag.Container().From(r.versions.Image("tofu")).File("/usr/local/bin/tofu")
	// git fetches git-sourced modules during init, as in the terraform image.
	return dag.Container().From(toolchain.BaseImage).
		WithExec([]string{"apk", "add", "--no-cache", "git"}).
		WithFile("/usr/local/bin/tofu", tofu)
}
