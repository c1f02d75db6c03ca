package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/toolchain"
)

// checkOptions are the flags of validate, fmt and lint.
type checkOptions struct {
	selection
	format         string
	concurrency    int
	providerMirror string
	noCache        bool
}

// checkCommands are validate (every stage) and fmt and lint (one stage each).
func (a *app) checkCommands() []*cobra.Command {
	return []*cobra.Command{
		a.checkCommand("validate", "format, lint and validate each layer", stage.Kinds),
		a.checkCommand("fmt", "only the format check", []stage.Kind{stage.Format}),
		a.checkCommand("lint", "only tflint", []stage.Kind{stage.Lint}),
	}
}

func (a *app) checkCommand(name, short string, kinds []stage.Kind) *cobra.Command {
	o := &checkOptions{}
	c := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  noArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return a.check(c, o, kinds) },
	}
	o.addFlags(c, layers.All)
	c.Flags().StringVar(&o.format, "format", "text", "text, markdown or json")
	c.Flags().IntVar(&o.concurrency, "concurrency", 0, "stages run at once (default: cores + 1)")
	o.addToolFlags(c)
	return c
}

// addToolFlags adds the flags of how the stages run: where providers come from
// and whether earlier results are reused (every command that runs checks).
func (o *checkOptions) addToolFlags(c *cobra.Command) {
	c.Flags().StringVar(&o.providerMirror, "provider-mirror", "",
		"install the providers this filesystem mirror has from it, the others as usual "+
			"(default: $"+toolchain.MirrorEnv+", else infra.hcl's provider_mirror, else none: providers install as terraform init does)")
	cacheFlags(c, &o.noCache)
}

func (a *app) check(c *cobra.Command, o *checkOptions, kinds []stage.Kind) error {
	if report.CheckFormat(o.format) != nil {
		return a.badInput("unknown --format %q: use text, markdown or json", o.format)
	}
	rep, _, err := a.runChecks(c.Context(), o, kinds)
	if err != nil {
		return err
	}
	return a.render(o.format, rep)
}

// runChecks runs the stages on the selected layers with host binaries; it also
// returns the whole layer set (the PR comment draws the full graph).
func (a *app) runChecks(ctx context.Context, o *checkOptions, kinds []stage.Kind) (*report.Report, *layers.Set, error) {
	if o.concurrency < 0 {
		return nil, nil, a.badInput("--concurrency must be positive")
	}
	set, cfg, err := a.discover()
	if err != nil {
		return nil, nil, err
	}
	selected, err := a.selectLayers(ctx, set, o.selection)
	if err != nil {
		return nil, nil, err
	}
	// The parser's errors become findings of the layers they break; the other
	// layers are checked as usual.
	if err := set.CheckHCL(repofs.Dir(a.source), selected); err != nil {
		return nil, nil, a.badInput("%v", err)
	}
	a.warn(set)
	engine := cfg.EngineFor(a.engine)
	rep := &report.Report{Engine: engine, Stages: kinds}
	if len(selected) == 0 {
		a.progress("infra: no layer is affected by the change; nothing to check")
		return rep, set, nil
	}
	mirror, err := toolchain.ResolveMirror(o.providerMirror, cfg.ProviderMirror, a.source)
	if err != nil {
		return nil, nil, a.badInput("%v", err)
	}
	tools, err := toolchain.Find(engine)
	var missing *toolchain.MissingError
	if errors.As(err, &missing) && missing.Tool == "tflint" && !slices.Contains(kinds, stage.Lint) {
		err = nil // the format check and validate never run tflint
	}
	if err != nil {
		return nil, nil, a.toolError(err)
	}
	tools.Mirror = mirror
	exec, err := native.New(a.source, toolchain.CacheDir(), tools, native.OnWait(func() {
		a.progress("infra: another run is checking this repository; waiting for it to finish")
	}))
	if err != nil {
		return nil, nil, a.toolError(err)
	}
	defer exec.Close()
	for _, l := range exec.Outside() {
		fmt.Fprintf(a.stderr, "infra: warning: %s\n", l)
	}
	cache, closeCache := a.openResultCache(tools, exec, o.noCache)
	defer closeCache()
	popts := pipeline.Options{Engine: engine, Stages: kinds, Concurrency: o.concurrency, Cache: cache}
	a.progress("checking %d layer(s) with %s: %s", len(selected), engine, dirs(selected))
	if !a.quiet {
		popts.OnResult = func(l *layers.Layer, k stage.Kind, r stage.Result) {
			a.progress("%s", report.Progress(l, k, r))
		}
	}
	rep = pipeline.Run(ctx, selected, exec, popts)
	a.warnLockHosts(rep, engine)
	if mirror != "" && lockFileFailed(rep) {
		fmt.Fprintf(a.stderr, "infra: note: providers the mirror %s has are installed from it alone; a lock file "+
			"pinning versions or registry checksums it lacks fails; without a mirror (%s= and no --provider-mirror "+
			"or provider_mirror) providers install as terraform init does\n", mirror, toolchain.MirrorEnv)
	}
	return rep, set, nil
}

// registryOf is where each engine looks up a provider named without a host.
var registryOf = map[string]string{"terraform": "registry.terraform.io", "tofu": "registry.opentofu.org"}

// warnLockHosts explains a lock file failure when the lock file is the other
// engine's: it records its registry's providers, which this engine does not look
// up, so init fails ("provider dependency changes detected") with nothing saying why.
func (a *app) warnLockHosts(rep *report.Report, engine string) {
	want := registryOf[engine]
	for _, lr := range rep.Layers {
		l := lr.Layer
		if !l.HasLockFile || !lockFileFailed(&report.Report{Layers: []report.LayerResult{lr}}) {
			continue
		}
		name := path.Join(l.Path, ".terraform.lock.hcl")
		data, err := os.ReadFile(filepath.Join(a.source, filepath.FromSlash(name)))
		if err != nil {
			continue // validate reports what it cannot read
		}
		for other, host := range registryOf {
			if other != engine && strings.Contains(string(data), `"`+host+`/`) && !strings.Contains(string(data), `"`+want+`/`) {
				fmt.Fprintf(a.stderr, "infra: warning: %s records providers of %s, as %s writes it; %s looks them up at %s, so its init failed: commit a lock file %s init wrote, or use --engine %s\n",
					name, host, other, engine, want, engine, other)
			}
		}
	}
}

// lockFileFailed tells whether a layer's init failed on its lock file, which with
// a mirror may be the mirror's doing, not the repository's.
func lockFileFailed(rep *report.Report) bool {
	for _, l := range rep.Layers {
		for _, f := range l.Result(stage.Validate).Findings {
			if strings.HasPrefix(f.Message, "init: ") && strings.Contains(f.Message, "lock file") {
				return true
			}
		}
	}
	return false
}

// render writes the report on stdout and ends with the report's exit code.
func (a *app) render(format string, rep *report.Report) error {
	if err := report.Render(a.stdout, rep, format); err != nil {
		return &exitError{code: report.ExitToolError, msg: "infra: writing the report: " + err.Error()}
	}
	return exit(rep.ExitCode())
}
