package apply_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// diamond is n layers: the first fans out to the middle ones, which fan in to the
// last, each reading its dependencies' state.
func diamond(n int) []testfixture.StateLayer {
	ls := make([]testfixture.StateLayer, n)
	for i := range ls {
		ls[i].Dir = fmt.Sprintf("%d.l%02d", i+1, i+1)
		ls[i].Extra = "variable \"rev\" {\n  type = string\n}\n\nresource \"null_resource\" \"rev\" {\n  triggers = {\n    rev = var.rev\n  }\n}\n"
	}
	for i := 1; i < n-1; i++ {
		ls[i].DependsOn = []string{ls[0].Dir}
		ls[n-1].DependsOn = append(ls[n-1].DependsOn, ls[i].Dir)
	}
	return ls
}

// BenchmarkApplyDiamond10 applies a 10-layer diamond (every layer replaces a
// resource each round) with apply.Apply, and with what a hand-written CI script
// does: for each layer in order, init, apply -auto-approve, and a
// plan -detailed-exitcode to check convergence, with the same binaries, mirror,
// bucket and variables. It reports both and their ratio.
func BenchmarkApplyDiamond10(b *testing.B) {
	ls := diamond(10)
	e := newEnv(b, testfixture.StateTree(ls...))
	e.setVar("rev", "warm")
	require.Equal(b, 0, e.apply().ExitCode()) // providers linked, state created

	naiveSrc := b.TempDir()
	testfixture.Write(b, naiveSrc, testfixture.StateTree(ls...))
	cliConfig, err := toolchain.CLIConfig(filepath.Join(toolchain.CacheDir(), "tools"), e.tools.Mirror)
	require.NoError(b, err)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "TF_INPUT=0")
	for k, v := range e.cfgFile.CredentialEnv() {
		env = append(env, k+"="+v)
	}
	order := e.layers().Layers
	naive := func() {
		for _, l := range order {
			dir := filepath.Join(naiveSrc, filepath.FromSlash(l.Path))
			for _, args := range [][]string{
				{"init", "-input=false", "-no-color", "-reconfigure", "-backend-config=" + e.engineBackend},
				{"apply", "-input=false", "-no-color", "-auto-approve", "-var-file=" + e.vars},
				{"plan", "-input=false", "-no-color", "-detailed-exitcode", "-var-file=" + e.vars},
			} {
				cmd := exec.Command(e.tools.Engine, args...)
				cmd.Dir, cmd.Env = dir, env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%s %s: %v\n%s", l.Dir, strings.Join(args[:1], " "), err, out)
				}
			}
		}
	}
	naive() // warm its working directories too

	var naiveTime, infraTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.setVar("rev", fmt.Sprintf("naive-%d", i))
		start := time.Now()
		naive()
		naiveTime += time.Since(start)

		e.setVar("rev", fmt.Sprintf("infra-%d", i))
		start = time.Now() // the workspace sync counts: the CLI does it on every run
		opts, done := e.options(e.src)
		rep, err := apply.Apply(context.Background(), order, opts)
		infraTime += time.Since(start)
		done()
		require.NoError(b, err)
		require.Equal(b, 0, rep.ExitCode(), renderText(rep))
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(naiveTime.Seconds()/n, "naive-s/op")
	b.ReportMetric(infraTime.Seconds()/n, "infra-s/op")
	b.ReportMetric(infraTime.Seconds()/naiveTime.Seconds(), "ratio")
}
