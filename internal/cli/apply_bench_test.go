package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// applyNaiveLoop is the baseline for apply: what a hand-written deploy script does,
// one layer after the other in dependency order, with the same binary, mirror,
// bucket and variables.
const applyNaiveLoop = `set -eu
for dir in "$@"; do
  cd "$dir"
  "$ENGINE" init -input=false -reconfigure -backend-config="$BACKEND" >/dev/null
  "$ENGINE" apply -input=false -auto-approve -var-file="$VARS" >/dev/null
  "$ENGINE" plan -input=false -detailed-exitcode -var-file="$VARS" >/dev/null
done
`

// BenchmarkApplyDiamond10 applies a generated 10-layer diamond (layer 1 fans out to
// eight layers that fan in to layer 10, each reading its dependencies' state on a
// local S3 server) with `infra apply --layer all` and with the naive loop, every
// layer replacing a resource on every run.
func BenchmarkApplyDiamond10(b *testing.B) {
	tools := testfixture.Tools(b, "tofu")
	s3 := testfixture.StartS3(b)
	bin := infraBinary(b)
	var ls []testfixture.StateLayer
	for _, l := range testfixture.Diamond(10) {
		ls = append(ls, testfixture.StateLayer{Dir: l.Dir, DependsOn: l.DependsOn,
			Extra: "variable \"rev\" {\n  type = string\n}\n\nresource \"null_resource\" \"rev\" {\n  triggers = {\n    rev = var.rev\n  }\n}\n"})
	}
	files := testfixture.StateTree(ls...)
	files["infra.hcl"] = "engine = \"tofu\"\n"
	ours, naive, dir := b.TempDir(), b.TempDir(), b.TempDir()
	testfixture.Write(b, ours, files)
	testfixture.Write(b, naive, files)
	backend, vars := filepath.Join(dir, "backend.hcl"), filepath.Join(dir, "vars.tfvars.json")
	if err := os.WriteFile(backend, []byte(s3.BackendConfig()), 0o600); err != nil {
		b.Fatal(err)
	}
	setRev := func(rev string) {
		data, _ := json.Marshal(map[string]any{"state": s3.StateSettings(), "rev": rev})
		if err := os.WriteFile(vars, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	cfg, err := repoconfig.Load(os.DirFS(naive))
	if err != nil {
		b.Fatal(err)
	}
	set, err := layers.Discover(os.DirFS(naive), cfg)
	if err != nil {
		b.Fatal(err)
	}
	var ordered []string
	for _, l := range set.Layers {
		ordered = append(ordered, filepath.Join(naive, filepath.FromSlash(l.Path)))
	}
	cliConfig, err := toolchain.CLIConfig(b.TempDir(), tools.Mirror)
	if err != nil {
		b.Fatal(err)
	}
	runNaive := func() sample {
		cmd := exec.Command("bash", append([]string{"-c", applyNaiveLoop, "naive"}, ordered...)...)
		cmd.Env = append(os.Environ(), "ENGINE="+tools.Engine, "BACKEND="+backend, "VARS="+vars,
			"TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
			"AWS_ACCESS_KEY_ID="+s3.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3.Secret) // for terraform_remote_state
		return timed(b, cmd, "naive loop")
	}
	runOurs := func() sample {
		cmd := exec.Command(bin, "apply", "--source", ours, "--layer", "all", "--backend-config", backend, "--var-file", vars, "--quiet")
		return timed(b, cmd, "infra apply")
	}
	setRev("warm-naive")
	runNaive()
	setRev("warm-infra")
	runOurs()
	var naiveRuns, oursRuns []sample
	load := sampleLoad()
	i := 0
	for b.Loop() {
		b.StopTimer()
		setRev(fmt.Sprintf("naive-%d", i))
		b.StartTimer()
		naiveRuns = append(naiveRuns, runNaive())
		b.StopTimer()
		setRev(fmt.Sprintf("infra-%d", i))
		b.StartTimer()
		oursRuns = append(oursRuns, runOurs())
		i++
	}
	b.StopTimer()
	reportPair(b, "infra apply", len(ordered), naiveRuns, oursRuns, load)
}
