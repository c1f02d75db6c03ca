package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/infra-flash/infra/ci/internal/dagger"
	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/gitchange"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

// gitImage runs git for --layer changed and is the base the tofu binary is copied
// into (OpenTofu publishes only a binary image, and init fetches git-sourced
// modules with git): git is in the image, not installed on every run.
const gitImage = "alpine/git:v2.49.1"

// hclPatterns are the files the layer model is read from (var files: an
// environment's layers are known by the files they take).
var hclPatterns = []string{"**/*.tf", "**/*.tf.json", "**/*.hcl", "**/*.tfvars", "**/*.tfvars.json"}

// exported is the repository's HCL, exported once into the module's container
// (one call, not one per file).
type exported struct {
	fsys  fs.FS
	close func()
}

// exportHCL exports the HCL files of the source and the files matching extra.
func (m *Infra) exportHCL(ctx context.Context, extra ...string) (*exported, error) {
	dir, err := os.MkdirTemp("", "infra-hcl-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	if _, err := m.Source.Filter(dagger.DirectoryFilterOpts{Include: append(slices.Clone(hclPatterns), extra...)}).Export(ctx, dir); err != nil {
		cleanup()
		return nil, fmt.Errorf("reading the repository's HCL: %w", err)
	}
	if err := m.linkInto(ctx, dir); err != nil {
		cleanup()
		return nil, err
	}
	return &exported{fsys: repofs.Dir(dir), close: cleanup}, nil
}

// linkInto recreates the source's symlinks in the exported HCL: a filter keeps a
// link only when its own name matches a pattern, so a layer or module directory
// that is a link (layers/1.a -> ../stacks/a) would be missing from the model.
// The files it points to are exported already. A link leading out of the source
// is left out, as a filter leaves it: there is nothing behind it here. One find,
// cached by the source's digest like every exec.
func (m *Infra) linkInto(ctx context.Context, dir string) error {
	out, err := dag.Container().From(gitImage).
		WithMountedDirectory("/src", m.Source).
		WithWorkdir("/src").
		WithExec(repofs.FindLinks).
		Stdout(ctx)
	if err != nil {
		return fmt.Errorf("listing the repository's symlinks: %w", err)
	}
	for _, l := range repofs.ParseLinks(out) {
		at := filepath.Join(dir, filepath.FromSlash(l.Path))
		if _, err := os.Lstat(at); err == nil {
			continue // a link the filter kept (a linked .tf file)
		}
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(l.Target, at); err != nil {
			return fmt.Errorf("recreating the symlink %s: %w", l.Path, err)
		}
	}
	return nil
}

// source is the exported HCL and the layer model read from it by the same
// use-case code as the native CLI's.
type source struct {
	*exported
	model *usecase.Model
}

// load exports the source's HCL (and extra) and reads the layer model.
func (m *Infra) load(ctx context.Context, extra ...string) (*source, error) {
	e, err := m.exportHCL(ctx, extra...)
	if err != nil {
		return nil, err
	}
	model, err := usecase.Load(m.repo(ctx, e.fsys), m.settings())
	if err != nil {
		e.close()
		return nil, err
	}
	return &source{exported: e, model: model}, nil
}

// repo is the exported source as the use cases see it; git runs in a container.
func (m *Infra) repo(ctx context.Context, fsys fs.FS) usecase.Repo {
	r := usecase.Repo{FS: fsys, NoHistory: errNoGit}
	if m.GitDir != nil {
		r.Changed = m.changedFiles
	}
	return r
}

// settings are the constructor's overrides of infra.hcl.
func (m *Infra) settings() usecase.Settings {
	return usecase.Settings{LayersDir: m.LayersDir, Engine: m.Engine}
}

// sink prints warnings on the function's log; progress lines are Dagger's own.
func sink() usecase.Sink {
	return usecase.Sink{Warn: func(w string) { fmt.Fprintln(os.Stderr, "warning: "+w) }}
}

// discover reads the layer model of the source.
func (m *Infra) discover(ctx context.Context) (*layers.Set, repoconfig.Config, error) {
	src, err := m.load(ctx)
	if err != nil {
		return nil, repoconfig.Config{}, err
	}
	src.close()
	return src.model.Set, src.model.Config, nil
}

// stageInputs maps each session the stages will open to what its commands read
// (stage.Inputs): the layer's own sessions, and the lint of each module a layer
// calls, which reads the module, the modules it calls and the lint config of the
// layers that call it.
func stageInputs(fsys fs.FS, selected []*layers.Layer, kinds []stage.Kind) map[string]stage.Filter {
	out := map[string]stage.Filter{}
	for _, l := range selected {
		t := pipeline.Target(l, nil)
		for _, k := range kinds {
			out[session(l.Path, k)] = stage.Inputs(k, t)
			if k != stage.Lint {
				continue
			}
			for _, mod := range l.Modules {
				calls, err := layers.ModuleClosure(fsys, mod)
				if err != nil { // unreadable HCL: what the layer reads covers the module's calls
					calls = l.Modules
				}
				f := stage.Inputs(stage.Lint, stage.Target{Path: mod, Modules: calls, LintConfig: l.LintConfig})
				prev := out[session(mod, stage.Lint)]
				out[session(mod, stage.Lint)] = stage.Filter{Include: union(prev.Include, f.Include), Exclude: union(prev.Exclude, f.Exclude)}
			}
		}
	}
	return out
}

// session names the commands of one stage in one directory, as the stages do
// ("<dir>#<stage>"; see stage.Command.Session).
func session(dir string, k stage.Kind) string { return dir + "#" + string(k) }

// sessionKind splits a session name; ok is false for a name the stages do not make.
func sessionKind(s string) (dir string, k stage.Kind, ok bool) {
	i := strings.LastIndex(s, "#")
	if i < 0 {
		return "", "", false
	}
	return s[:i], stage.Kind(s[i+1:]), true
}

// stageSessions are the sessions whose commands make up a layer's stage result:
// its own, and for lint those of the modules it calls.
func stageSessions(l *layers.Layer, k stage.Kind) []string {
	out := []string{session(l.Path, k)}
	if k == stage.Lint {
		for _, mod := range l.Modules {
			out = append(out, session(mod, k))
		}
	}
	return out
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string{}, a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// errNoGit says what to do when --layer changed has no history to compare with.
var errNoGit = &usecase.Error{Code: report.ExitBadInput, Msg: "--layer changed needs the repository's .git directory, and this call has none " +
	"(the source is not a git checkout, or the module was called with --source from elsewhere): " +
	"pass it with `dagger call --git-dir <repository>/.git ...`, or select layers by name or with --layer all"}

// gitIn runs git in a container holding the repository with its .git directory:
// the same commands, parsed by the same code, as the native CLI's host git.
func (m *Infra) gitIn() gitchange.Git {
	ctr := dag.Container().From(gitImage).
		WithMountedDirectory("/src", m.Source).
		WithMountedDirectory("/src/.git", m.GitDir).
		WithWorkdir("/src").
		WithEnvVariable("GIT_CONFIG_COUNT", "1").
		WithEnvVariable("GIT_CONFIG_KEY_0", "safe.directory").
		WithEnvVariable("GIT_CONFIG_VALUE_0", "*")
	return func(ctx context.Context, args ...string) (string, error) {
		c := ctr.WithExec(append([]string{"git"}, args...), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		code, err := c.ExitCode(ctx)
		if err != nil {
			return "", err
		}
		if code != 0 {
			stderr, _ := c.Stderr(ctx)
			return "", gitchange.Fail(args, stderr)
		}
		return c.Stdout(ctx)
	}
}

// ownGit is the source's git history: nil when the call has none, or when the
// .git given is another repository's (the default --git-dir is the caller's, even
// with --source from elsewhere).
func (m *Infra) ownGit(ctx context.Context) (gitchange.Git, error) {
	if m.GitDir == nil {
		return nil, errNoGit
	}
	if ok, err := m.GitDir.Exists(ctx, "HEAD"); err != nil || !ok {
		return nil, errNoGit
	}
	g := m.gitIn()
	if err := gitchange.CheckOwn(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// changedFiles is --layer changed: the native CLI's orchestration with git in a
// container, resolving an empty base the same way.
func (m *Infra) changedFiles(ctx context.Context, base string) ([]string, error) {
	if strings.HasPrefix(base, "-") {
		return nil, &gitchange.BadRefError{Ref: base, Detail: "a ref cannot start with '-'"}
	}
	g, err := m.ownGit(ctx)
	if err != nil {
		return nil, err
	}
	explicit := base != ""
	if !explicit {
		base = gitchange.DefaultBaseWith(ctx, g, m.GithubBaseRef)
	}
	files, err := gitchange.Changed(ctx, g, "the repository's .git", base)
	var refErr *gitchange.BadRefError
	if !explicit && errors.As(err, &refErr) {
		refErr.Tried = gitchange.BaseCandidates(m.GithubBaseRef)
	}
	return files, err
}

// selection is the function's --layer and --base with the object's --env.
func (m *Infra) selection(layer []string, base string) usecase.Selection {
	return usecase.Selection{Layers: layer, Base: base, Env: m.Env}
}
