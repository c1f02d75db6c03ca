package apply

import (
	"context"

	"github.com/infra-flash/infra/internal/stage"
)

// Files moves plan files in and out of the directory a runner's commands see.
// Paths are repository-relative; session is the Command.Session the file belongs
// to (a container executor keeps one filesystem per session).
type Files interface {
	Get(ctx context.Context, session, path string) ([]byte, error)
	Put(ctx context.Context, session, path string, data []byte) error
}

// filesOf is the runner's own Files, when it has them (the native executor).
func filesOf(r stage.Runner) Files {
	if e, ok := r.(envRunner); ok {
		r = e.Runner
	}
	f, _ := r.(Files)
	return f
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
