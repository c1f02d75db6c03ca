package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// naiveLoop is the baseline: what a hand-written CI script does, one layer after the
// other, each tool in turn, with the same binaries, mirror and lint config.
const naiveLoop = `set -u
for dir in "$@"; do
  (cd "$dir" &&
    "$ENGINE" fmt -check -recursive >/dev/null
    "$TFLINT" $LINTCFG --call-module-type=local >/dev/null
    "$ENGINE" init -backend=false -input=false >/dev/null
    "$ENGINE" validate >/dev/null) || true
done
`

// sample is one timed run: wall time and the CPU time of the process and every
// process it waited for (the tools, their provider plugins).
type sample struct{ wall, cpu time.Duration }

// timed runs cmd and measures it.
func timed(b *testing.B, cmd *exec.Cmd, what string) sample {
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", what, err, out)
	}
	return sample{wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
}

// loadSampler records the 1-minute load average while a benchmark runs: figures
// taken on a busy machine say so.
type loadSampler struct {
	stop    chan struct{}
	done    sync.WaitGroup
	samples []float64
}

func sampleLoad() *loadSampler {
	s := &loadSampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile("/proc/loadavg"); err == nil {
				if f := strings.Fields(string(b)); len(f) > 0 {
					if v, err := strconv.ParseFloat(f[0], 64); err == nil {
						s.samples = append(s.samples, v)
					}
				}
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// end stops sampling and returns the mean and maximum load ("" where there is
// no /proc/loadavg).
func (s *loadSampler) end() (mean, peak float64, ok bool) {
	close(s.stop)
	s.done.Wait()
	if len(s.samples) == 0 {
		return 0, 0, false
	}
	for _, v := range s.samples {
		mean += v
		peak = max(peak, v)
	}
	return mean / float64(len(s.samples)), peak, true
}

// benchCase sets up a benchmark comparing infra with the naive loop on the same tree.
type benchCase struct {
	files   testfixture.Files // the tree, or
	treeDir string            // a directory to copy it from
	args    []string          // validate flags (--no-cache for cold results)
	// before, when set, runs (untimed) before each infra run: the change it reacts to.
	before func(b *testing.B, src string, i int)
}

// infraBinary builds the CLI: infra runs as a child process like the naive loop,
// so both sides' CPU is measured the same way.
func infraBinary(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "infra")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/infra").CombinedOutput(); err != nil {
		b.Fatalf("building infra: %v\n%s", err, out)
	}
	return bin
}

// run alternates the naive loop and `infra validate --layer all` on copies of the
// same tree (each warmed by one untimed run), b.N times each (at least 5 for a
// median; scripts/bench asks for more), and reports the ratio of the medians, the
// spread and CPU seconds of each side, and the machine's load meanwhile.
func (bc benchCase) run(b *testing.B) {
	tools := testfixture.Tools(b, "terraform")
	bin := infraBinary(b)
	cliConfig, err := toolchain.CLIConfig(b.TempDir(), tools.Mirror)
	if err != nil {
		b.Fatal(err)
	}
	ours, naive := b.TempDir(), b.TempDir()
	if bc.treeDir != "" {
		copyTree(b, bc.treeDir, ours)
		copyTree(b, bc.treeDir, naive)
	} else {
		testfixture.Write(b, ours, bc.files)
		testfixture.Write(b, naive, bc.files)
	}
	var layerDirs []string // the N.name directories; terraform/ also holds files such as backend.hcl.example
	matches, _ := filepath.Glob(filepath.Join(naive, "terraform", "*.*"))
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.IsDir() {
			layerDirs = append(layerDirs, m)
		}
	}
	lintCfg := ""
	if _, err := os.Stat(filepath.Join(naive, ".tflint.hcl")); err == nil {
		lintCfg = "--config=" + filepath.Join(naive, ".tflint.hcl")
	}
	runNaive := func() sample {
		cmd := exec.Command("bash", append([]string{"-c", naiveLoop, "naive"}, layerDirs...)...)
		cmd.Env = append(os.Environ(), "ENGINE="+tools.Engine, "TFLINT="+tools.TFLint, "LINTCFG="+lintCfg,
			"TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		return timed(b, cmd, "naive loop")
	}
	runOurs := func() sample {
		cmd := exec.Command(bin, append([]string{"validate", "--source", ours, "--layer", "all", "--quiet"}, bc.args...)...)
		return timed(b, cmd, "infra validate")
	}
	runNaive()
	runOurs()
	var naiveRuns, oursRuns []sample
	load := sampleLoad()
	i := 0
	for b.Loop() {
		naiveRuns = append(naiveRuns, runNaive())
		if bc.before != nil {
			b.StopTimer()
			bc.before(b, ours, i)
			b.StartTimer()
		}
		oursRuns = append(oursRuns, runOurs())
		i++
	}
	b.StopTimer()
	reportPair(b, "infra validate", len(layerDirs), naiveRuns, oursRuns, load)
}

// reportPair reports a benchmark's two sides: the ratio of the medians, the spread
// and CPU seconds of each, and the machine's load while they ran.
func reportPair(b *testing.B, what string, layers int, naiveRuns, oursRuns []sample, load *loadSampler) {
	meanLoad, peakLoad, haveLoad := load.end()

	walls := func(ss []sample) (w, c []time.Duration) {
		for _, s := range ss {
			w, c = append(w, s.wall), append(c, s.cpu)
		}
		return w, c
	}
	nw, nc := walls(naiveRuns)
	ow, oc := walls(oursRuns)
	ratio := testfixture.Median(ow).Seconds() / testfixture.Median(nw).Seconds()
	b.ReportMetric(testfixture.Median(nw).Seconds(), "naive-s")
	b.ReportMetric(testfixture.Median(ow).Seconds(), "infra-s")
	b.ReportMetric(testfixture.Median(nc).Seconds(), "naive-cpu-s")
	b.ReportMetric(testfixture.Median(oc).Seconds(), "infra-cpu-s")
	b.ReportMetric(ratio, "ratio")
	loadText := "load unknown (no /proc/loadavg)"
	if haveLoad {
		b.ReportMetric(meanLoad, "load")
		loadText = fmt.Sprintf("load %.2f mean, %.2f peak", meanLoad, peakLoad)
	}
	b.Logf("%d layers, %d runs each, %d cores, %s\n"+
		"  naive loop     median %.2fs, %s, CPU %.2fs\n"+
		"  %-14s median %.2fs, %s, CPU %.2fs\n"+
		"  ratio %.3f", layers, len(nw), runtime.NumCPU(), loadText,
		testfixture.Median(nw).Seconds(), testfixture.Spread(nw, 10*time.Millisecond), testfixture.Median(nc).Seconds(),
		what, testfixture.Median(ow).Seconds(), testfixture.Spread(ow, 10*time.Millisecond), testfixture.Median(oc).Seconds(), ratio)
}

func copyTree(b *testing.B, src, dst string) {
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() && (info.Name() == ".terraform" || info.Name() == ".git") {
			return filepath.SkipDir
		}
		if !(rel == "." || rel == ".tflint.hcl" || strings.HasPrefix(rel, "terraform") || strings.HasPrefix(rel, "modules")) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
}

func referenceTree(b *testing.B) string {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	return root
}

// BenchmarkValidateReference4 checks the repository's own four layers, every result
// computed (--no-cache): the cold case.
func BenchmarkValidateReference4(b *testing.B) {
	benchCase{treeDir: referenceTree(b), args: []string{"--no-cache"}}.run(b)
}

// BenchmarkValidateDiamond12 checks a generated 12-layer tree where layer 1 fans
// out to ten layers that fan in to layer 12, every result computed.
func BenchmarkValidateDiamond12(b *testing.B) {
	benchCase{files: testfixture.Tree(testfixture.Diamond(12)...), args: []string{"--no-cache"}}.run(b)
}

// BenchmarkValidateDiamond12Unchanged runs again with nothing changed: every
// result comes from the result cache.
func BenchmarkValidateDiamond12Unchanged(b *testing.B) {
	benchCase{files: testfixture.Tree(testfixture.Diamond(12)...)}.run(b)
}

// BenchmarkValidateDiamond12OneFileChanged changes one file of one middle layer
// before each run: that layer's three results are computed, the rest reused.
func BenchmarkValidateDiamond12OneFileChanged(b *testing.B) {
	benchCase{
		files: testfixture.Tree(testfixture.Diamond(12)...),
		before: func(b *testing.B, src string, i int) {
			p := filepath.Join(src, "terraform", "6.l06", "main.tf")
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, fmt.Appendf(data, "# change %d\n", i), 0o644); err != nil {
				b.Fatal(err)
			}
		},
	}.run(b)
}
