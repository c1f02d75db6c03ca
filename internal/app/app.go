// Package app holds the use cases: validate (and fmt, lint), layers, plan, apply,
// drift and unlock, written once over an options value and a few seams (where the
// repository's files are, how git says what changed, what runs the tools, where
// progress goes). The two doors, the native CLI (internal/cli) and the Dagger
// module (ci/), only turn their arguments into those options and the results into
// output: what a use case decides, it decides the same way behind both.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/infra-flash/infra/internal/gitchange"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
)

// Error ends a use case with an exit code and a one-line message; the CLI prints
// the message and exits with the code, the module fails with the message.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// BadInput is an Error with report.ExitBadInput.
func BadInput(format string, args ...any) error {
	return &Error{Code: report.ExitBadInput, Msg: fmt.Sprintf(format, args...)}
}

// ToolError is an Error with report.ExitToolError.
func ToolError(err error) error {
	return &Error{Code: report.ExitToolError, Msg: err.Error()}
}

// Code is the exit code an error from a use case stands for: an Error's own, else
// a tool error (anything unforeseen is not the user's input).
func Code(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return report.ExitOK
	}
	return report.ExitToolError
}

// Sink receives what a run says besides its result: progress lines (which a quiet
// run may drop), warnings (which it never drops: they say where a result may be
// incomplete) and notes (never dropped either: they explain a result).
type Sink struct {
	Progress func(string)
	Warn     func(string)
	Note     func(string)
}

func (s Sink) progress(format string, args ...any) {
	if s.Progress != nil {
		s.Progress(fmt.Sprintf(format, args...))
	}
}

// log is the progress sink as a function that is never nil.
func (s Sink) log() func(string) {
	if s.Progress == nil {
		return func(string) {}
	}
	return s.Progress
}

func (s Sink) warn(format string, args ...any) {
	if s.Warn != nil {
		s.Warn(fmt.Sprintf(format, args...))
	}
}

// Repo is the repository as the use cases see it.
type Repo struct {
	// FS holds the repository's files; discovery reads its HCL.
	FS fs.FS
	// Changed lists the files changed since base ("" for the default base), for
	// --layer changed; nil when the caller has no git history to ask.
	Changed func(ctx context.Context, base string) ([]string, error)
	// NoHistory is the error --layer changed gets when Changed is nil.
	NoHistory error
	// Hint, when set, is appended to a discovery error (where the repository root
	// seems to be, for a run started in a layer's directory).
	Hint func() string
}

// Selection is which layers a run works on.
type Selection struct {
	Layers []string // all, changed, or layers by directory, name or ID
	Base   string   // what "changed" compares with; "" for the default chain
	Env    string   // --env: only the shared layers and this environment's
	// NeedsEnv: the run works on real infrastructure, so it needs Env when a
	// selected layer differs by environment (layers.Set.InEnv).
	NeedsEnv bool
}

// selectionCode: a bad ref, a source without git history or an unknown layer is
// bad input; git failing to run at all is a tool error.
func selectionCode(err error) int {
	var inputErr *layers.InputError
	var refErr *gitchange.BadRefError
	var repoErr *gitchange.NotRepoError
	var foreignErr *gitchange.ForeignGitError
	var appErr *Error
	switch {
	case errors.As(err, &appErr):
		return appErr.Code
	case errors.As(err, &inputErr), errors.As(err, &refErr), errors.As(err, &repoErr), errors.As(err, &foreignErr):
		return report.ExitBadInput
	}
	return report.ExitToolError
}
