// Package native runs stage commands with host binaries, for machines without a
// container runtime (tests, Atlantis pods, laptops). It works on a snapshot of the
// repository so that a run never writes into the user's tree (.terraform, lock
// files) and sees one consistent version of it, as a container would.
package native

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

// Option adjusts New.
type Option func(*options)

type options struct{ onWait func() }

// OnWait is called when another run holds the workspace of the same repository and
// this one has to wait for it.
func OnWait(f func()) Option { return func(o *options) { o.onWait = f } }

// Executor runs commands in a persistent workspace copy of one repository.
type Executor struct {
	source    string
	workspace string
	tools     toolchain.Tools
	env       []string
	lock      *os.File
	providers providerServers
}

// New prepares the workspace for source under cacheDir/work and takes an exclusive
// lock on it (a second run on the same repository waits). Call Close when done.
func New(source, cacheDir string, tools toolchain.Tools, opts ...Option) (*Executor, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + tools.EngineName))
	workspace := filepath.Join(cacheDir, "work", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(workspace, 0o755); err != nil {
		return nil, fmt.Errorf("creating workspace: %w", err)
	}
	lock, err := os.OpenFile(workspace+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking workspace: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if o.onWait != nil {
			o.onWait()
		}
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			lock.Close()
			return nil, fmt.Errorf("locking workspace: %w", err)
		}
	}
	cliConfig, err := toolchain.CLIConfig(filepath.Join(cacheDir, "tools"), tools.Mirror)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("writing CLI config: %w", err)
	}
	e := &Executor{source: abs, workspace: workspace, tools: tools, lock: lock}
	e.env = buildEnv(os.Environ(), cliConfig)
	if err := Sync(abs, workspace); err != nil {
		e.Close()
		return nil, fmt.Errorf("copying the repository to the workspace: %w", err)
	}
	return e, nil
}

// buildEnv keeps the caller's environment (proxies, registry credentials) but owns
// the variables that decide where terraform reads and writes.
func buildEnv(base []string, cliConfig string) []string {
	drop := map[string]bool{"TF_CLI_CONFIG_FILE": true, "TF_DATA_DIR": true, "TF_PLUGIN_CACHE_DIR": true,
		"TF_WORKSPACE": true, "TF_CLI_ARGS": true, "TF_LOG": true}
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "TF_CLI_ARGS_") {
			continue
		}
		env = append(env, kv)
	}
	// No shared plugin cache: concurrent inits sharing one crashed tofu; the mirror
	// is linked, not copied, so nothing is lost.
	return append(env, "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1")
}

// Root is the workspace: tools print absolute paths under it.
func (e *Executor) Root() string { return e.workspace }

// Close stops the provider servers and releases the workspace lock.
func (e *Executor) Close() error {
	e.providers.stop()
	if e.lock == nil {
		return nil
	}
	err := e.lock.Close()
	e.lock = nil
	return err
}

// Run executes one command in the workspace.
func (e *Executor) Run(ctx context.Context, cmd stage.Command) (stage.Output, error) {
	bin := e.tools.Engine
	if cmd.Tool == stage.TFLint {
		bin = e.tools.TFLint
	}
	dir := filepath.Join(e.workspace, filepath.FromSlash(cmd.Dir))
	stamp := ""
	if cmd.SkipKey != "" {
		sum := sha256.Sum256([]byte(bin + "\x00" + strings.Join(cmd.Args, "\x00") + "\x00" + cmd.SkipKey))
		stamp = filepath.Join(dir, ".terraform", "infra-stamps", hex.EncodeToString(sum[:12]))
		if _, err := os.Stat(stamp); err == nil {
			return stage.Output{Skipped: true}, nil
		}
	}
	c := exec.CommandContext(ctx, bin, cmd.Args...)
	c.Dir = dir
	c.Env = e.env
	for k, v := range cmd.Env {
		c.Env = append(c.Env, k+"="+v)
	}
	shared, servers := e.providerEnv(ctx, cmd, dir)
	c.Env = append(c.Env, shared...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	if died(servers) && ctx.Err() == nil { // a shared provider crashed under it: ask again the usual way
		return e.Run(ctx, unshared(cmd))
	}
	out := stage.Output{Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return out, ctx.Err()
	case errors.As(err, &exitErr):
		out.ExitCode = exitErr.ExitCode()
		if out.ExitCode < 0 { // killed by a signal: a crash, not an answer
			return out, fmt.Errorf("%s %s: %v", filepath.Base(bin), cmd.Args[0], err)
		}
	case err != nil:
		return out, fmt.Errorf("running %s: %w", filepath.Base(bin), err)
	}
	if stamp != "" && out.ExitCode == 0 {
		if err := os.MkdirAll(filepath.Dir(stamp), 0o755); err == nil {
			_ = os.WriteFile(stamp, nil, 0o644)
		}
	}
	return out, nil
}
