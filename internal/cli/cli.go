// Package cli is the native command line: the same pipeline as the Dagger module,
// run with host binaries. main only calls Run, so tests drive it in-process.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/infra-flash/infra/internal/gitchange"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

const usage = `infra: checks for a layered Terraform repository

Usage:
  infra validate [flags]   format, lint and validate each layer
  infra fmt [flags]        only the format check
  infra lint [flags]       only tflint
  infra layers [flags]     list the layers in apply order with their dependencies
  infra atlantis-config    write (or --check) atlantis.yaml from the layer model

Flags:
  --source DIR        repository root (default: the current directory)
  --layers-dir DIR    directory holding the N.name layers (default: infra.hcl's layers_dir, else terraform)
  --layer SEL         all, changed, or layers by directory (2.platform), name (platform) or ID (L2);
                      repeat or separate with commas (default: all)
  --base REF          what "changed" compares with (default: the PR base, origin/main or main)
  --engine NAME       terraform or tofu (default: infra.hcl's engine, else terraform)
  --format FMT        text, markdown or json (default: text)
  --concurrency N     stages run at once (default: cores + 1)
  --quiet             no progress lines on stderr

Exit codes: 0 all passed, 1 a check failed, 2 bad input, 3 a tool could not run.
`

type options struct {
	source, layersDir, base, engine, format string
	layer                                   multiFlag
	concurrency                             int
	quiet                                   bool
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Run executes the command line and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return report.ExitBadInput
		}
		return report.ExitOK
	}
	cmd, rest := args[0], args[1:]
	if cmd == "atlantis-config" {
		return atlantisConfig(rest, stdout, stderr)
	}
	var kinds []stage.Kind
	switch cmd {
	case "validate":
		kinds = stage.Kinds
	case "fmt":
		kinds = []stage.Kind{stage.Format}
	case "lint":
		kinds = []stage.Kind{stage.Lint}
	case "layers":
	default:
		fmt.Fprintf(stderr, "infra: unknown command %q\n\n%s", cmd, usage)
		return report.ExitBadInput
	}
	opts, err := parseFlags(cmd, rest, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return report.ExitOK
		}
		fmt.Fprintf(stderr, "infra %s: %v\n", cmd, err)
		return report.ExitBadInput
	}
	set, cfg, err := discover(opts)
	if err != nil {
		fmt.Fprintf(stderr, "infra %s: %v\n", cmd, err)
		return report.ExitBadInput
	}
	if cmd == "layers" {
		return printLayers(stdout, stderr, set, opts.format)
	}
	return check(ctx, opts, cfg, set, kinds, stdout, stderr)
}

func parseFlags(cmd string, args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.source, "source", ".", "")
	fs.StringVar(&o.layersDir, "layers-dir", "", "")
	fs.Var(&o.layer, "layer", "")
	fs.StringVar(&o.base, "base", "", "")
	fs.StringVar(&o.engine, "engine", "", "")
	fs.StringVar(&o.format, "format", "text", "")
	fs.IntVar(&o.concurrency, "concurrency", 0, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	if cmd == "layers" && o.format == "markdown" {
		return nil, fmt.Errorf("unknown --format %q for layers: use text or json", o.format)
	}
	if report.CheckFormat(o.format) != nil {
		return nil, fmt.Errorf("unknown --format %q: use text, markdown or json", o.format)
	}
	if o.engine != "" && o.engine != "terraform" && o.engine != "tofu" {
		return nil, fmt.Errorf("unknown --engine %q: use terraform or tofu", o.engine)
	}
	if o.concurrency < 0 {
		return nil, fmt.Errorf("--concurrency must be positive")
	}
	if len(o.layer) == 0 {
		o.layer = multiFlag{layers.All}
	}
	if st, err := os.Stat(o.source); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("--source %q is not a directory", o.source)
	}
	return o, nil
}

func discover(o *options) (*layers.Set, repoconfig.Config, error) {
	fsys := os.DirFS(o.source)
	cfg, err := repoconfig.Load(fsys)
	if err != nil {
		return nil, cfg, err
	}
	if o.layersDir != "" {
		if cfg.LayersDir, err = repoconfig.CleanRel("--layers-dir", o.layersDir); err != nil {
			return nil, cfg, err
		}
	}
	set, err := layers.Discover(fsys, cfg)
	return set, cfg, err
}

func check(ctx context.Context, o *options, cfg repoconfig.Config, set *layers.Set, kinds []stage.Kind, stdout, stderr io.Writer) int {
	selected, err := set.Select(o.layer, func() ([]string, error) {
		base := o.base
		if base == "" {
			base = gitchange.DefaultBase(ctx, o.source)
		}
		return gitchange.ChangedFiles(ctx, o.source, base)
	})
	if err != nil {
		fmt.Fprintf(stderr, "infra: %v\n", err)
		return selectionExitCode(err)
	}
	engine := cfg.EngineFor(o.engine)
	rep := &report.Report{Engine: engine, Stages: kinds}
	if len(selected) == 0 {
		if !o.quiet {
			fmt.Fprintln(stderr, "infra: no layer is affected by the change; nothing to check")
		}
		return render(stdout, stderr, o.format, rep)
	}
	tools, err := toolchain.Find(engine)
	if err != nil {
		fmt.Fprintf(stderr, "infra: %v\n", err)
		return report.ExitToolError
	}
	exec, err := native.New(o.source, toolchain.CacheDir(), tools, native.OnWait(func() {
		fmt.Fprintln(stderr, "infra: another run is checking this repository; waiting for it to finish")
	}))
	if err != nil {
		fmt.Fprintf(stderr, "infra: %v\n", err)
		return report.ExitToolError
	}
	defer exec.Close()
	popts := pipeline.Options{Engine: engine, Stages: kinds, Concurrency: o.concurrency}
	if !o.quiet {
		fmt.Fprintf(stderr, "checking %d layer(s) with %s: %s\n", len(selected), engine, dirs(selected))
		popts.OnResult = func(l *layers.Layer, k stage.Kind, r stage.Result) {
			fmt.Fprintln(stderr, report.Progress(l, k, r))
		}
	}
	rep = pipeline.Run(ctx, selected, exec, popts)
	return render(stdout, stderr, o.format, rep)
}

func render(stdout, stderr io.Writer, format string, rep *report.Report) int {
	if err := report.Render(stdout, rep, format); err != nil {
		fmt.Fprintf(stderr, "infra: writing the report: %v\n", err)
		return report.ExitToolError
	}
	return rep.ExitCode()
}

func printLayers(stdout, stderr io.Writer, set *layers.Set, format string) int {
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"layers_dir": set.Config.LayersDir, "layers": set.Layers}); err != nil {
			fmt.Fprintf(stderr, "infra: %v\n", err)
			return report.ExitToolError
		}
		return report.ExitOK
	}
	if err := report.LayerList(stdout, set.Layers); err != nil {
		fmt.Fprintf(stderr, "infra: %v\n", err)
		return report.ExitToolError
	}
	return report.ExitOK
}

func dirs(ls []*layers.Layer) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Dir
	}
	return strings.Join(names, ", ")
}

// selectionExitCode: a bad ref or a source without git history is bad input; git
// failing to run at all is a tool error.
func selectionExitCode(err error) int {
	var inputErr *layers.InputError
	var refErr *gitchange.BadRefError
	var repoErr *gitchange.NotRepoError
	if errors.As(err, &inputErr) || errors.As(err, &refErr) || errors.As(err, &repoErr) {
		return report.ExitBadInput
	}
	return report.ExitToolError
}
