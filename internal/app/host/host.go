// Package host is the native CLI's executor for the check use case: the host's
// terraform, tofu and tflint in a workspace under the cache directory, with the
// result cache. The Dagger module has its own (containers) and never imports this,
// so the module does not compile the native executor.
package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/resultcache"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/state"
	"github.com/infra-flash/infra/internal/toolchain"
)

// Checker runs the stages with the host's terraform, tofu and tflint: the native
// CLI's Checker. (The Dagger module's runs them in containers.)
type Checker struct {
	Source  string // the repository root on disk
	Mirror  string // --provider-mirror; "" for $INFRA_PROVIDER_MIRROR, else infra.hcl's
	NoCache bool   // recompute every result (and keep the fresh ones)
	Out     usecase.Sink
}

// Open finds the tools, opens the workspace and the result cache.
func (h Checker) Open(_ context.Context, run usecase.CheckRun) (*usecase.CheckSession, error) {
	tools, mirror, err := findTools(h.Source, h.Mirror, run.Model, slices.Contains(run.Kinds, stage.Lint))
	if err != nil {
		return nil, err
	}
	ex, err := native.New(h.Source, toolchain.CacheDir(), tools, native.OnWait(func() {
		progress(h.Out, "infra: another run is checking this repository; waiting for it to finish")
	}))
	if err != nil {
		return nil, usecase.ToolError(err)
	}
	for _, l := range ex.Outside() {
		warn(h.Out, "%s", l)
	}
	cache, closeCache := h.openResultCache(tools, ex)
	sess := &usecase.CheckSession{Runner: ex, Cache: cache, Close: func() { closeCache(); ex.Close() }}
	if mirror != "" {
		sess.After = func(rep *report.Report, out usecase.Sink) {
			if usecase.LockFileFailed(rep) {
				note(out, "providers the mirror %s has are installed from it alone; a lock file "+
					"pinning versions or registry checksums it lacks fails; without a mirror (%s= and no --provider-mirror "+
					"or provider_mirror) providers install as terraform init does", mirror, toolchain.MirrorEnv)
			}
		}
	}
	return sess, nil
}

// openResultCache opens the result cache for one run. A cache that cannot be
// opened (a read-only cache directory) only costs speed: the run goes on without it.
func (h Checker) openResultCache(tools toolchain.Tools, ex *native.Executor) (pipeline.Cache, func()) {
	opts := resultcache.Options{Refresh: h.NoCache}
	if mb, err := strconv.Atoi(os.Getenv("INFRA_RESULT_CACHE_MB")); err == nil && mb > 0 {
		opts.MaxBytes = int64(mb) << 20
	}
	c, err := resultcache.Open(filepath.Join(toolchain.CacheDir(), "results"),
		resultcache.Env{Engine: tools.Engine, TFLint: tools.TFLint, Environ: ex.Environ()}, opts)
	if err != nil {
		progress(h.Out, "infra: not using the result cache: %v", err)
		return nil, func() {}
	}
	return c, func() {
		if err := c.Close(); err != nil {
			progress(h.Out, "infra: trimming the result cache: %v", err)
		}
	}
}

func progress(s usecase.Sink, format string, args ...any) {
	if s.Progress != nil {
		s.Progress(fmt.Sprintf(format, args...))
	}
}

func warn(s usecase.Sink, format string, args ...any) {
	if s.Warn != nil {
		s.Warn(fmt.Sprintf(format, args...))
	}
}

// Applier runs plan, apply, drift and unlock with the host's binaries.
type Applier struct {
	Source string // the repository root on disk
	Mirror string // --provider-mirror
	Out    usecase.Sink
}

// Open finds the engine, writes the backend config where it reads it, and opens
// the workspace; the backend's credentials reach the engine as its environment.
func (h Applier) Open(_ context.Context, run usecase.ApplyRun) (*usecase.ApplySession, error) {
	tools, _, err := findTools(h.Source, h.Mirror, run.Model, false)
	if err != nil {
		return nil, err
	}
	sess := &usecase.ApplySession{Source: repofs.Dir(h.Source)}
	if run.Backend != nil {
		if sess.BackendConfigPath, err = writeBackend(run.Backend); err != nil {
			return nil, usecase.ToolError(err)
		}
	}
	// The engine runs in the layer's own directory (see docs/state.md): state,
	// errored.tfstate and files a configuration writes land where the user expects.
	ex, err := native.New(h.Source, toolchain.CacheDir(), tools, native.InPlace(), native.OnWait(func() {
		progress(h.Out, "infra: another run is using this repository's workspace; waiting for it to finish")
	}))
	if err != nil {
		return nil, usecase.ToolError(err)
	}
	sess.Runner = apply.WithEnv(ex, run.Backend.CredentialEnv())
	sess.Close = func() { ex.Close() }
	return sess, nil
}

// writeBackend writes the backend config without its credentials where the engine
// reads it: a file named by its content, so an unchanged backend lets the
// workspace skip init.
func writeBackend(cfg state.ConfigFile) (string, error) {
	content := cfg.WithoutCredentials()
	sum := sha256.Sum256(content)
	dir := filepath.Join(toolchain.CacheDir(), "backend")
	path := filepath.Join(dir, hex.EncodeToString(sum[:12])+".hcl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, content, 0o600)
}

func note(s usecase.Sink, format string, args ...any) {
	if s.Note != nil {
		s.Note(fmt.Sprintf(format, args...))
	}
}

// findTools finds the engine (and tflint, when the run lints) and the provider
// mirror the run installs from: a missing tool is a tool error, a bad mirror bad input.
func findTools(source, mirrorFlag string, m *usecase.Model, lints bool) (toolchain.Tools, string, error) {
	mirror, err := toolchain.ResolveMirror(mirrorFlag, m.Config.ProviderMirror, source)
	if err != nil {
		return toolchain.Tools{}, "", usecase.BadInput("%v", err)
	}
	tools, err := toolchain.Find(m.Engine)
	var missing *toolchain.MissingError
	if errors.As(err, &missing) && missing.Tool == "tflint" && !lints {
		err = nil // format, validate, plan and apply never run tflint
	}
	if err != nil {
		return tools, "", usecase.ToolError(err)
	}
	tools.Mirror = mirror
	return tools, mirror, nil
}
