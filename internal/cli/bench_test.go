package cli_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/infra-flash/infra/internal/cli"
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

// benchValidate runs `validate --layer all` and the naive loop alternately on copies
// of the same tree, warm (one untimed run of each first), and reports their ratio.
func benchValidate(b *testing.B, files testfixture.Files, treeDir string) {
	tools := testfixture.Tools(b, "terraform")
	cliConfig, err := toolchain.CLIConfig(b.TempDir(), tools.Mirror)
	if err != nil {
		b.Fatal(err)
	}
	ours, naive := b.TempDir(), b.TempDir()
	if treeDir != "" {
		copyTree(b, treeDir, ours)
		copyTree(b, treeDir, naive)
	} else {
		testfixture.Write(b, ours, files)
		testfixture.Write(b, naive, files)
	}
	layerDirs, _ := filepath.Glob(filepath.Join(naive, "terraform", "*.*"))
	lintCfg := ""
	if _, err := os.Stat(filepath.Join(naive, ".tflint.hcl")); err == nil {
		lintCfg = "--config=" + filepath.Join(naive, ".tflint.hcl")
	}
	runNaive := func() {
		cmd := exec.Command("bash", append([]string{"-c", naiveLoop, "naive"}, layerDirs...)...)
		cmd.Env = append(os.Environ(), "ENGINE="+tools.Engine, "TFLINT="+tools.TFLint, "LINTCFG="+lintCfg,
			"TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("naive loop: %v\n%s", err, out)
		}
	}
	runOurs := func() {
		var out strings.Builder
		if code := cli.Run(context.Background(), []string{"validate", "--source", ours, "--quiet"}, &out, io.Discard); code != 0 {
			b.Fatalf("validate exited %d on a clean tree:\n%s", code, out.String())
		}
	}
	runNaive()
	runOurs()
	var naiveTime, oursTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		runNaive()
		naiveTime += time.Since(start)
		start = time.Now()
		runOurs()
		oursTime += time.Since(start)
	}
	b.ReportMetric(float64(naiveTime.Milliseconds())/float64(b.N), "naive-ms/op")
	b.ReportMetric(float64(oursTime.Milliseconds())/float64(b.N), "infra-ms/op")
	b.ReportMetric(float64(oursTime)/float64(naiveTime), "ratio")
	b.Logf("%d layers, %d cores: naive loop %.2fs, validate --layer all %.2fs, ratio %.2f",
		len(layerDirs), runtime.NumCPU(), naiveTime.Seconds()/float64(b.N), oursTime.Seconds()/float64(b.N), float64(oursTime)/float64(naiveTime))
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

// BenchmarkValidateReference4 checks the repository's own four layers.
func BenchmarkValidateReference4(b *testing.B) {
	root, err := filepath.Abs("../..")
	if err != nil {
		b.Fatal(err)
	}
	benchValidate(b, nil, root)
}

// BenchmarkValidateDiamond12 checks a generated 12-layer tree where layer 1 fans
// out to ten layers that fan in to layer 12.
func BenchmarkValidateDiamond12(b *testing.B) {
	benchValidate(b, testfixture.Tree(testfixture.Diamond(12)...), "")
}
