// Package native runs stage commands with host binaries, for machines without a
// container runtime (tests, Atlantis pods, laptops). The checks work on a snapshot
// of the repository so that they never write into the user's tree (.terraform,
// lock files) and see one consistent version of it, as a container would. Runs
// that touch state (plan, apply, drift) work in place instead (InPlace): whatever
// the engine writes relative to a layer (local state, errored.tfstate, crash.log,
// files the configuration makes) lands where the user expects it.
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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

// Option adjusts New.
type Option func(*options)

type options struct {
	onWait  func()
	inPlace bool
}

// InPlace runs the commands in the repository itself, as a plain terraform run in
// a layer's directory would, with only the engine's data directory (.terraform:
// providers, modules, plan files) moved into the cache through TF_DATA_DIR. Init
// writes a dependency lock file into a layer that has none, as terraform does.
func InPlace() Option { return func(o *options) { o.inPlace = true } }

// OnWait is called when another run holds the workspace of the same repository and
// this one has to wait for it.
func OnWait(f func()) Option { return func(o *options) { o.onWait = f } }

// Executor runs commands in a persistent workspace copy of one repository, or in
// the repository itself (InPlace).
type Executor struct {
	source    string
	workspace string
	// dataRoot, in place, holds each layer's data directory at the layer's path.
	dataRoot  string
	tools     toolchain.Tools
	env       []string
	lock      *flock.Flock
	providers providerServers
	outside   []Link
	// pluginCache, when there is one, is held by every command that installs
	// providers: concurrent inits sharing one plugin cache crash (OpenTofu 1.10) or
	// race, across runs too.
	pluginCache *exclusive
	// dataDirs guards each directory's .terraform between the stages of one run,
	// which run concurrently in the same directory: init rewrites the module
	// manifest there, and tflint reads it (a half-written manifest failed lint).
	dataDirs sync.Map // directory -> *sync.RWMutex
}

// guardDataDir locks dir's .terraform for cmd: init writes it, tflint reads it,
// anything else runs freely. It returns the unlock.
func (e *Executor) guardDataDir(cmd stage.Command, dir string) func() {
	writes := cmd.Tool == stage.Engine && len(cmd.Args) > 0 && cmd.Args[0] == "init"
	if !writes && cmd.Tool != stage.TFLint {
		return func() {}
	}
	v, _ := e.dataDirs.LoadOrStore(dir, &sync.RWMutex{})
	mu := v.(*sync.RWMutex)
	if writes {
		mu.Lock()
		return mu.Unlock
	}
	mu.RLock()
	return mu.RUnlock
}

// exclusive is a resource used by one command at a time, in this process and
// across processes (a file lock).
type exclusive struct {
	mu   sync.Mutex
	file *flock.Flock
}

func (x *exclusive) do(ctx context.Context, f func()) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, err := x.file.TryLockContext(ctx, 100*time.Millisecond); err != nil {
		return err
	}
	defer x.file.Unlock()
	f()
	return nil
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
	kind := "work"
	if o.inPlace {
		kind = "data"
	}
	workspace := filepath.Join(cacheDir, kind, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(workspace, 0o700); err != nil {
		return nil, fmt.Errorf("creating workspace: %w", err)
	}
	lock := flock.New(workspace + ".lock")
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("locking workspace: %w", err)
	}
	if !locked {
		if o.onWait != nil {
			o.onWait()
		}
		if err := lock.Lock(); err != nil {
			return nil, fmt.Errorf("locking workspace: %w", err)
		}
	}
	cliConfig := ""
	if tools.Mirror != "" {
		if cliConfig, err = toolchain.CLIConfig(filepath.Join(cacheDir, "tools"), tools.Mirror); err != nil {
			lock.Close()
			return nil, fmt.Errorf("writing CLI config: %w", err)
		}
	}
	e := &Executor{source: abs, workspace: workspace, tools: tools, lock: lock}
	// Providers from registries go through a shared plugin cache, or every layer
	// would download them again; a mirror's are linked from it and need none.
	pluginCache := ""
	if tools.Mirror == "" {
		pluginCache = filepath.Join(cacheDir, "plugin-cache", tools.EngineName)
		if err := os.MkdirAll(pluginCache, 0o755); err != nil {
			lock.Close()
			return nil, fmt.Errorf("creating the plugin cache: %w", err)
		}
		e.pluginCache = &exclusive{file: flock.New(pluginCache + ".lock")}
	}
	e.env = buildEnv(os.Environ(), cliConfig, pluginCache)
	if o.inPlace {
		e.dataRoot, e.workspace = workspace, abs
		return e, nil
	}
	if e.outside, err = Sync(abs, workspace); err != nil {
		e.Close()
		return nil, fmt.Errorf("copying the repository to the workspace: %w", err)
	}
	return e, nil
}

// Outside lists the symlinks of the repository that lead out of it: the workspace
// does not have them, so the checks do not see what they point to.
func (e *Executor) Outside() []Link { return e.outside }

// buildEnv keeps the caller's environment (proxies, registry credentials, the
// user's CLI configuration) but owns the variables that decide where terraform
// reads and writes. cliConfig replaces the user's CLI configuration when set (a
// provider mirror was asked for); a TF_CLI_CONFIG_FILE naming no file is dropped,
// as terraform would only warn about it.
func buildEnv(base []string, cliConfig, pluginCache string) []string {
	drop := map[string]bool{"TF_DATA_DIR": true, "TF_PLUGIN_CACHE_DIR": true, "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE": true,
		"TF_WORKSPACE": true, "TF_CLI_ARGS": true, "TF_LOG": true}
	var env []string
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		if drop[k] || strings.HasPrefix(k, "TF_CLI_ARGS_") {
			continue
		}
		if k == "TF_CLI_CONFIG_FILE" {
			if _, err := os.Stat(v); cliConfig != "" || err != nil {
				continue
			}
		}
		env = append(env, kv)
	}
	if cliConfig != "" {
		env = append(env, "TF_CLI_CONFIG_FILE="+cliConfig)
	}
	if pluginCache != "" {
		// The workspace's lock files are never the user's, so a cached provider may be
		// recorded with the cache's checksum alone instead of downloaded again.
		env = append(env, "TF_PLUGIN_CACHE_DIR="+pluginCache, "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE=true")
	}
	return append(env, "TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1")
}

// toolIdentity names a binary by path, size and modification time, so that a tool
// upgraded in place (a tflint on the PATH) invalidates what it did before.
func toolIdentity(bin string) string {
	st, err := os.Stat(bin)
	if err != nil {
		return bin
	}
	return fmt.Sprintf("%s\x00%d\x00%d", bin, st.Size(), st.ModTime().UnixNano())
}

// Root is where the tools see the repository (the workspace, or the repository
// itself in place): they print absolute paths under it.
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

// interruptGrace is how long a stopped run waits for the engine to wind down.
const interruptGrace = 5 * time.Minute

// Run executes one command in the workspace.
func (e *Executor) Run(ctx context.Context, cmd stage.Command) (stage.Output, error) {
	bin := e.tools.Engine
	if cmd.Tool == stage.TFLint {
		bin = e.tools.TFLint
	}
	dir := filepath.Join(e.workspace, filepath.FromSlash(cmd.Dir))
	dataDir := filepath.Join(dir, stage.DataDir)
	if e.dataRoot != "" {
		dataDir = filepath.Join(e.dataRoot, filepath.FromSlash(cmd.Dir))
		cmd.Args = inDataDir(cmd.Args, dataDir)
		// The engine makes it only when init has something to install; plan files
		// go there regardless.
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return stage.Output{}, fmt.Errorf("creating the data directory: %w", err)
		}
	}
	// A stamp records the key of the last successful run of this command in this
	// directory: the command is skipped only while the key is still the same, so
	// going back to an earlier key (a lock file added, then deleted) runs it again.
	stamp, key := "", ""
	if cmd.SkipKey != "" && len(cmd.Args) > 0 {
		sum := sha256.Sum256([]byte(string(cmd.Tool) + "\x00" + cmd.Args[0])) // one stamp per kind of state: init, tflint --init
		stamp = filepath.Join(dataDir, "infra-stamps", hex.EncodeToString(sum[:12]))
		key = toolIdentity(bin) + "\x00" + strings.Join(cmd.Args, "\x00") + "\x00" + cmd.SkipKey
		if last, err := os.ReadFile(stamp); err == nil && string(last) == key {
			return stage.Output{Skipped: true}, nil
		}
		_ = os.Remove(stamp) // a run that fails leaves the state unknown
	}
	c := exec.CommandContext(ctx, bin, cmd.Args...)
	// Stopped runs interrupt the engine rather than kill it: interrupted, it
	// finishes what it is doing, saves state and releases its lock; killed, it
	// would leave the lock held and the state behind reality.
	c.Cancel = func() error {
		if err := c.Process.Signal(os.Interrupt); err != nil { // Windows has no interrupt signal
			return c.Process.Kill()
		}
		return nil
	}
	c.WaitDelay = interruptGrace
	c.Dir = dir
	// A copy: stages run at once, and appending to the shared slice would write
	// one stage's variables into another's when it has room to spare.
	c.Env = slices.Clone(e.env)
	for k, v := range cmd.Env {
		c.Env = append(c.Env, k+"="+v)
	}
	if e.dataRoot != "" {
		c.Env = append(c.Env, "TF_DATA_DIR="+dataDir)
	}
	shared, servers := e.providerEnv(ctx, cmd, dir)
	c.Env = append(c.Env, shared...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	unlock := e.guardDataDir(cmd, dir)
	var err error
	if cmd.InstallsProviders && e.pluginCache != nil {
		if lerr := e.pluginCache.do(ctx, func() { err = c.Run() }); lerr != nil {
			unlock()
			return stage.Output{}, fmt.Errorf("waiting for the plugin cache: %w", lerr)
		}
	} else {
		err = c.Run()
	}
	unlock()
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
			_ = os.WriteFile(stamp, []byte(key), 0o644)
		}
	}
	return out, nil
}

// inDataDir points the arguments naming files in the data directory at dataDir.
func inDataDir(args []string, dataDir string) []string {
	prefix := stage.DataDir + "/"
	out := make([]string, len(args))
	for i, a := range args {
		flag, val, isFlag := strings.Cut(a, "=")
		switch {
		case strings.HasPrefix(a, prefix):
			a = filepath.Join(dataDir, filepath.FromSlash(strings.TrimPrefix(a, prefix)))
		case isFlag && strings.HasPrefix(flag, "-") && strings.HasPrefix(val, prefix):
			a = flag + "=" + filepath.Join(dataDir, filepath.FromSlash(strings.TrimPrefix(val, prefix)))
		}
		out[i] = a
	}
	return out
}

// hostPath is where a repository-relative path is on this machine: a file in a
// layer's data directory is in the cache when the executor runs in place.
func (e *Executor) hostPath(p string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(p))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q is not inside the repository", p)
	}
	if e.dataRoot != "" {
		parts := strings.Split(filepath.ToSlash(clean), "/")
		for i, part := range parts {
			if part == stage.DataDir {
				return filepath.Join(append([]string{e.dataRoot}, append(parts[:i], parts[i+1:]...)...)...), nil
			}
		}
	}
	return filepath.Join(e.workspace, clean), nil
}

// Get reads a file a command wrote (a plan file), by its repository-relative path.
func (e *Executor) Get(_ context.Context, _, p string) ([]byte, error) {
	full, err := e.hostPath(p)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(full)
}

// Put places a file for the next commands; it may hold secrets (a plan).
func (e *Executor) Put(_ context.Context, _, p string, data []byte) error {
	full, err := e.hostPath(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		return err
	}
	return os.WriteFile(full, data, 0o600)
}
