package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/infra-flash/infra/internal/stage"
)

// Files moves plan files in and out of the directory a runner's commands see.
// Paths are repository-relative; session is the Command.Session the file belongs
// to (a container executor keeps one filesystem per session).
type Files interface {
	Get(ctx context.Context, session, path string) ([]byte, error)
	Put(ctx context.Context, session, path string, data []byte) error
}

// LocalFiles is Files for executors whose commands see the repository at a host
// directory (the native executor's workspace).
type LocalFiles struct{ Root string }

func (f LocalFiles) path(p string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(p))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q is not inside the repository", p)
	}
	return filepath.Join(f.Root, clean), nil
}

// Get reads a file a command wrote.
func (f LocalFiles) Get(_ context.Context, _, p string) ([]byte, error) {
	full, err := f.path(p)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(full)
}

// Put places a file for the next commands.
func (f LocalFiles) Put(_ context.Context, _, p string, data []byte) error {
	full, err := f.path(p)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, data, 0o600)
}

// WithEnv returns a runner that adds env to every command, for values that must
// reach the engine but never a report (the state credentials, which
// terraform_remote_state reads from the environment).
func WithEnv(r stage.Runner, env map[string]string) stage.Runner {
	if len(env) == 0 {
		return r
	}
	return envRunner{r, env}
}

type envRunner struct {
	stage.Runner
	env map[string]string
}

func (e envRunner) Run(ctx context.Context, cmd stage.Command) (stage.Output, error) {
	merged := make(map[string]string, len(cmd.Env)+len(e.env))
	for k, v := range e.env {
		merged[k] = v
	}
	for k, v := range cmd.Env {
		merged[k] = v
	}
	cmd.Env = merged
	return e.Runner.Run(ctx, cmd)
}
