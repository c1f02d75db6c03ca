package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/gitchange"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/stage"
)

// gitImage runs git for --layer changed and is the base the tofu binary is copied
// into (OpenTofu publishes only a binary image, and init fetches git-sourced
// modules with git): git is in the image, not installed on every run.
const gitImage = "alpine/git:v2.49.1"

// hclPatterns are the files the layer model is read from.
var hclPatterns = []string{"**/*.tf", "**/*.tf.json", "**/*.hcl"}

// source is the repository's HCL, exported once into the module's container, and
// the layer model read from it.
type source struct {
	fsys  fs.FS
	cfg   repoconfig.Config
	set   *layers.Set
	close func()
}

// load exports the HCL files of the source, and the files matching extra, in one
// call (not one call per file) and runs the same discovery as the native CLI on them.
func (m *Infra) load(ctx context.Context, extra ...string) (*source, error) {
	dir, err := os.MkdirTemp("", "infra-hcl-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	if _, err := m.Source.Filter(dagger.DirectoryFilterOpts{Include: append(slices.Clone(hclPatterns), extra...)}).Export(ctx, dir); err != nil {
		cleanup()
		return nil, fmt.Errorf("reading the repository's HCL: %w", err)
	}
	src := &source{fsys: repofs.Dir(dir), close: cleanup}
	if src.cfg, err = repoconfig.Load(src.fsys); err != nil {
		cleanup()
		return nil, err
	}
	if m.LayersDir != "" {
		src.cfg.LayersDir = m.LayersDir
	}
	if src.set, err = layers.Discover(src.fsys, src.cfg); err != nil {
		cleanup()
		return nil, err
	}
	return src, nil
}

// discover reads the layer model of the source.
func (m *Infra) discover(ctx context.Context) (*layers.Set, repoconfig.Config, error) {
	src, err := m.load(ctx)
	if err != nil {
		return nil, repoconfig.Config{}, err
	}
	src.close()
	return src.set, src.cfg, nil
}

// stageInputs maps each session the stages will open to what its commands read
// (stage.Inputs): the layer's own sessions, and the lint of each module a layer
// calls, which reads the module, the modules it calls and the lint config of the
// layers that call it.
func (s *source) stageInputs(selected []*layers.Layer, kinds []stage.Kind) map[string]stage.Filter {
	out := map[string]stage.Filter{}
	for _, l := range selected {
		t := pipeline.Target(l, nil)
		for _, k := range kinds {
			out[session(l.Path, k)] = stage.Inputs(k, t)
			if k != stage.Lint {
				continue
			}
			for _, mod := range l.Modules {
				calls, err := layers.ModuleClosure(s.fsys, mod)
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
var errNoGit = errors.New("--layer changed needs the repository's .git directory, and this call has none " +
	"(the source is not a git checkout, or the module was called with --source from elsewhere): " +
	"pass it with `dagger call --git-dir <repository>/.git ...`, or select layers by name or with --layer all")

// changedFiles runs the git commands the native CLI runs, in a container holding
// the repository with its .git directory, resolving an empty base the same way.
func (m *Infra) changedFiles(ctx context.Context, base string) ([]string, error) {
	if strings.HasPrefix(base, "-") {
		return nil, &gitchange.BadRefError{Ref: base, Detail: "a ref cannot start with '-'"}
	}
	if m.GitDir == nil {
		return nil, errNoGit
	}
	if ok, err := m.GitDir.Exists(ctx, "HEAD"); err != nil || !ok {
		return nil, errNoGit
	}
	ctr := dag.Container().From(gitImage).
		WithMountedDirectory("/src", m.Source).
		WithMountedDirectory("/src/.git", m.GitDir).
		WithWorkdir("/src").
		WithEnvVariable("GIT_CONFIG_COUNT", "1").
		WithEnvVariable("GIT_CONFIG_KEY_0", "safe.directory").
		WithEnvVariable("GIT_CONFIG_VALUE_0", "*")
	git := func(args []string) (string, int, error) {
		c := ctr.WithExec(append([]string{"git"}, args...), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		code, err := c.ExitCode(ctx)
		if err != nil {
			return "", 0, err
		}
		out, err := c.Stdout(ctx)
		if err != nil {
			return "", 0, err
		}
		if code != 0 {
			stderr, _ := c.Stderr(ctx)
			return strings.TrimSpace(stderr), code, nil
		}
		return out, 0, nil
	}
	if base == "" {
		candidates := gitchange.BaseCandidates(m.GithubBaseRef)
		base = candidates[len(candidates)-1]
		for _, c := range candidates {
			if _, code, err := git(gitchange.VerifyArgs(c)); err == nil && code == 0 {
				base = c
				break
			}
		}
	}
	if _, code, err := git(gitchange.VerifyArgs(base)); err != nil {
		return nil, err
	} else if code != 0 {
		return nil, &gitchange.BadRefError{Ref: base, Detail: "no such commit in the repository's .git (fetch it first: actions/checkout with fetch-depth: 0)"}
	}
	var outputs []string
	for _, args := range [][]string{gitchange.DiffArgs(base), gitchange.UntrackedArgs()} {
		out, code, err := git(args)
		if err != nil {
			return nil, err
		}
		if code != 0 {
			return nil, &gitchange.BadRefError{Ref: base, Detail: "git " + args[0] + ": " + out}
		}
		outputs = append(outputs, out)
	}
	return gitchange.ParseNames(outputs...), nil
}
