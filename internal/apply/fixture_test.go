package apply_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/state"
	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// env is one test's world: tools, an S3 server, a repository and run settings.
type env struct {
	t       testing.TB
	tools   toolchain.Tools
	s3      *testfixture.S3
	src     string
	backend string // backend config file
	// engineBackend is the file the engine reads, as the CLI writes it: without the
	// credentials, which travel in the environment.
	engineBackend string
	vars          string // var file
	cfgFile       state.ConfigFile
	vals          map[string]any
}

func newEnv(t testing.TB, files testfixture.Files) *env {
	t.Helper()
	e := &env{t: t, tools: testfixture.Tools(t, "tofu"), s3: testfixture.StartS3(t), src: t.TempDir(), vals: map[string]any{}}
	testfixture.Write(t, e.src, files)
	dir := t.TempDir()
	e.backend = filepath.Join(dir, "backend.hcl")
	require.NoError(t, os.WriteFile(e.backend, []byte(e.s3.BackendConfig()), 0o600))
	var err error
	e.cfgFile, err = state.ParseConfigFile([]byte(e.s3.BackendConfig()))
	require.NoError(t, err)
	e.engineBackend = filepath.Join(dir, "engine-backend.hcl")
	require.NoError(t, os.WriteFile(e.engineBackend, e.cfgFile.WithoutCredentials(), 0o600))
	e.vars = filepath.Join(dir, "vars.tfvars.json")
	e.writeVars()
	return e
}

// setVar sets a layer variable in the var file every layer is given.
func (e *env) setVar(name string, v any) {
	e.vals[name] = v
	e.writeVars()
}

func (e *env) writeVars() {
	vals := map[string]any{"state": e.s3.StateSettings()}
	for k, v := range e.vals {
		vals[k] = v
	}
	data, err := json.Marshal(vals)
	require.NoError(e.t, err)
	require.NoError(e.t, os.WriteFile(e.vars, data, 0o600))
}

// write changes files of the repository.
func (e *env) write(files testfixture.Files) { testfixture.Write(e.t, e.src, files) }

// layers discovers the repository's layers.
func (e *env) layers() *layers.Set {
	fsys := os.DirFS(e.src)
	cfg, err := repoconfig.Load(fsys)
	require.NoError(e.t, err)
	set, err := layers.Discover(fsys, cfg)
	require.NoError(e.t, err)
	return set
}

// options prepares a run the way the CLI does: a native executor in the
// repository, the credentials in the environment.
func (e *env) options(src string) (apply.Options, func()) {
	e.t.Helper()
	ex, err := native.New(src, toolchain.CacheDir(), e.tools, native.InPlace())
	require.NoError(e.t, err)
	masker, err := plan.NewMasker(nil, nil)
	require.NoError(e.t, err)
	cfg, err := repoconfig.Load(os.DirFS(src))
	require.NoError(e.t, err)
	return apply.Options{Bootstrap: cfg.Bootstrap,
		Engine: "tofu", Runner: apply.WithEnv(ex, e.cfgFile.CredentialEnv()), Files: ex, Source: os.DirFS(src),
		Backend: e.cfgFile, BackendConfigPath: e.engineBackend, VarFiles: []string{e.vars},
		Concurrency: 3, Masker: masker, Commit: "1111111111111111111111111111111111111111",
	}, func() { ex.Close() }
}

func (e *env) apply(mod ...func(*apply.Options)) *apply.Report {
	e.t.Helper()
	opts, done := e.options(e.src)
	defer done()
	for _, m := range mod {
		m(&opts)
	}
	rep, err := apply.Apply(context.Background(), e.layers().Layers, opts)
	require.NoError(e.t, err)
	return rep
}

func (e *env) stateOf(layer string) []byte {
	return e.s3.Object(e.t, layer+"/terraform.tfstate")
}

// statusOf maps layer directories to their status.
func statusOf(rep *apply.Report) map[string]apply.Status {
	out := map[string]apply.Status{}
	for _, l := range rep.Layers {
		out[l.Layer.Dir] = l.Status
	}
	return out
}

func result(t testing.TB, rep *apply.Report, dir string) apply.LayerResult {
	t.Helper()
	for _, l := range rep.Layers {
		if l.Layer.Dir == dir {
			return l
		}
	}
	t.Fatalf("no result for %s", dir)
	return apply.LayerResult{}
}

// recorder wraps a runner and keeps the commands it ran, in order.
type recorder struct {
	stage.Runner
	mu   sync.Mutex
	cmds []stage.Command
	at   []time.Time
}

func (r *recorder) Run(ctx context.Context, c stage.Command) (stage.Output, error) {
	r.mu.Lock()
	r.cmds = append(r.cmds, c)
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
	return r.Runner.Run(ctx, c)
}

func (r *recorder) lines(dir string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.cmds {
		if strings.HasSuffix(c.Dir, "/"+dir) {
			var args []string
			for _, a := range c.Args {
				if !strings.HasPrefix(a, "-var-file=") && !strings.HasPrefix(a, "-backend-config=") && !strings.HasPrefix(a, "-lock-timeout=") && a != "-no-color" && a != "-input=false" && a != "-json" {
					args = append(args, a)
				}
			}
			out = append(out, strings.Join(args, " "))
		}
	}
	return out
}
