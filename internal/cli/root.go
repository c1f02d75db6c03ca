// Package cli is the native command line: the same capabilities as the Dagger
// module, run with host binaries. main only calls Run, so tests drive it in-process.
//
// One file per command (validate.go, layers.go, ...), each adding a cobra command
// to the root in newRoot; flags shared by several commands are defined once here.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/gitchange"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
)

// Run executes the command line and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.newRoot()
	root.SetArgs(args)
	// Help asked for and completion scripts go to stdout (infra completion bash >
	// file); errors, and the usage shown for no command at all, to stderr.
	root.SetOut(stdout)
	root.SetErr(stderr)
	if len(args) == 0 {
		root.SetOut(stderr)
		_ = root.Usage()
		return report.ExitBadInput
	}
	err := root.ExecuteContext(ctx)
	if ctx.Err() != nil {
		// What was cut short reports "context canceled" or "stopped": say why, once, and never pass.
		fmt.Fprintln(stderr, "infra: interrupted: the run stopped before its end (what did not finish is not a result)")
		return report.ExitToolError
	}
	var ex *exitError
	switch {
	case err == nil:
		return report.ExitOK
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(stderr, ex.msg)
		}
		return ex.code
	default: // cobra's own errors: unknown command or flag, bad flag value
		name := "infra"
		if c, _, ferr := root.Find(args); ferr == nil && c != root {
			name = c.CommandPath()
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return report.ExitBadInput
	}
}

// app holds what every command shares: the output streams and the global flags.
type app struct {
	stdout, stderr io.Writer

	source    string // repository root
	layersDir string // overrides infra.hcl's layers_dir
	engine    string // overrides infra.hcl's engine
	quiet     bool
}

func (a *app) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "infra",
		Short: "CI for a layered Terraform repository",
		Long: `infra: checks for a layered Terraform repository, with host binaries.
The same commands exist as functions of the Dagger module (dagger call <command>).

Exit codes: 0 all passed, 1 a check failed, 2 bad input, 3 a tool could not run.`,
		Version:           version(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: func(*cobra.Command, []string) error { return a.checkGlobals() },
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: report.ExitBadInput, msg: fmt.Sprintf("%s: %v (see --help)", c.CommandPath(), err)}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.source, "source", ".", "repository root")
	pf.StringVar(&a.layersDir, "layers-dir", "", "directory holding the N.name layers (default: infra.hcl's layers_dir, else terraform)")
	pf.StringVar(&a.engine, "engine", "", "terraform or tofu (default: infra.hcl's engine, else terraform)")
	pf.BoolVar(&a.quiet, "quiet", false, "no progress lines on stderr")

	root.AddCommand(a.checkCommands()...)
	root.AddCommand(a.layersCommand())
	root.AddCommand(a.applyCommands()...)
	root.AddCommand(a.digCommand(), a.catalogCommand())
	root.AddCommand(a.flashCommand(), a.kickCommand(), a.reviewGateCommand(), a.commentCommand())
	root.AddCommand(a.atlantisConfigCommand())
	return root
}

// version is what --version prints: the module version and, when the build
// recorded it, the commit, for bug reports.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += ", commit " + rev
		if settings["vcs.modified"] == "true" {
			v += " (modified)"
		}
	}
	return v + ", " + bi.GoVersion
}

func (a *app) checkGlobals() error {
	if err := a.settings().Validate(); err != nil {
		return a.fail(err)
	}
	if st, err := os.Stat(a.source); err != nil || !st.IsDir() {
		return a.badInput("--source %q is not a directory", a.source)
	}
	return nil
}

// exitError ends a command with an exit code, after printing msg (if any) on stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// exit returns nil for ExitOK, else an error carrying the code; msg may be empty
// when the command already said what went wrong.
func exit(code int) error {
	if code == report.ExitOK {
		return nil
	}
	return &exitError{code: code}
}

func (a *app) badInput(format string, args ...any) error {
	return &exitError{code: report.ExitBadInput, msg: "infra: " + fmt.Sprintf(format, args...)}
}

func (a *app) toolError(err error) error {
	return &exitError{code: report.ExitToolError, msg: "infra: " + err.Error()}
}

// noArgs rejects positional arguments: every input is a flag.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &exitError{code: report.ExitBadInput, msg: fmt.Sprintf("infra: unexpected argument %q (flags only; see --help)", args[0])}
	}
	return nil
}

// repo is the source as the use cases see it: its files, and git in it for
// --layer changed.
func (a *app) repo() usecase.Repo {
	return usecase.Repo{
		FS: repofs.Dir(a.source),
		Changed: func(ctx context.Context, base string) ([]string, error) {
			explicit := base != ""
			if !explicit {
				base = gitchange.DefaultBase(ctx, a.source)
			}
			files, err := gitchange.ChangedFiles(ctx, a.source, base)
			var refErr *gitchange.BadRefError
			if !explicit && errors.As(err, &refErr) {
				refErr.Tried = gitchange.BaseCandidates(os.Getenv("GITHUB_BASE_REF"))
			}
			return files, err
		},
		Hint: func() string {
			if root := a.enclosingRepo(); root != "" {
				return fmt.Sprintf("(the repository root seems to be %s: run there or pass --source %s)", root, root)
			}
			return ""
		},
	}
}

// settings are the global flags that override infra.hcl.
func (a *app) settings() usecase.Settings {
	return usecase.Settings{LayersDir: a.layersDir, Engine: a.engine}
}

// sink sends a use case's progress (unless --quiet) and warnings to stderr.
func (a *app) sink() usecase.Sink {
	s := usecase.Sink{Warn: func(w string) { fmt.Fprintf(a.stderr, "infra: warning: %s\n", w) },
		Note: func(n string) { fmt.Fprintf(a.stderr, "infra: note: %s\n", n) }}
	if !a.quiet {
		s.Progress = func(p string) { fmt.Fprintln(a.stderr, p) }
	}
	return s
}

// discover reads infra.hcl and the layer model of the source.
func (a *app) discover() (*layers.Set, repoconfig.Config, error) {
	m, err := usecase.Load(a.repo(), a.settings())
	if err != nil {
		return nil, repoconfig.Config{}, a.fail(err)
	}
	return m.Set, m.Config, nil
}

// fail turns a use case's error into the CLI's exit: its code, its message.
func (a *app) fail(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: usecase.Code(err), msg: "infra: " + err.Error()}
}

// enclosingRepo names the nearest directory above the source holding infra.hcl or
// .git, when the source holds neither: a run from a layer's directory is a common
// first mistake. "" when there is no such directory or the source is a root.
func (a *app) enclosingRepo() string {
	isRoot := func(dir string) bool {
		for _, marker := range []string{repoconfig.FileName, ".git"} {
			if _, err := os.Stat(filepath.Join(dir, marker)); err == nil {
				return true
			}
		}
		return false
	}
	src, err := filepath.Abs(a.source)
	if err != nil || isRoot(src) {
		return ""
	}
	for dir, parent := src, filepath.Dir(src); parent != dir; dir, parent = parent, filepath.Dir(parent) {
		if isRoot(parent) {
			if rel, err := filepath.Rel(src, parent); err == nil && !filepath.IsAbs(a.source) {
				return rel
			}
			return parent
		}
	}
	return ""
}

// selection is the --layer/--base pair of every command that works on layers.
type selection struct {
	layer []string
	base  string
	env   string
	// needsEnv: the command works on real infrastructure, so it needs --env when
	// a selected layer differs by environment (layers.Set.InEnv).
	needsEnv bool
}

func (s *selection) addFlags(c *cobra.Command, defaultLayer string) {
	c.Flags().StringSliceVar(&s.layer, "layer", []string{defaultLayer},
		"all, changed, or layers by directory (2.platform), name (platform) or ID (L2); repeat or separate with commas")
	c.Flags().StringVar(&s.base, "base", "", `what "changed" compares with (default: the PR base, origin/main or main)`)
	c.Flags().StringVar(&s.env, "env", "", "only the shared layers and this environment's (infra.hcl's environment blocks)")
}

func (s selection) value() usecase.Selection {
	return usecase.Selection{Layers: s.layer, Base: s.base, Env: s.env, NeedsEnv: s.needsEnv}
}

// selectLayers resolves the selection; "changed" asks git in the source.
func (a *app) selectLayers(ctx context.Context, set *layers.Set, s selection) ([]*layers.Layer, error) {
	m := &usecase.Model{Set: set}
	selected, err := m.Select(ctx, a.repo(), s.value())
	return selected, a.fail(err)
}

// warn prints the layer model's warnings on stderr, --quiet or not: they say
// where the results may be incomplete.
func (a *app) warn(set *layers.Set) {
	for _, w := range set.Warnings {
		fmt.Fprintf(a.stderr, "infra: warning: %s\n", w)
	}
}

// progress prints a progress line on stderr unless --quiet.
func (a *app) progress(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.stderr, format+"\n", args...)
	}
}

func dirs(ls []*layers.Layer) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Dir
	}
	return strings.Join(names, ", ")
}
