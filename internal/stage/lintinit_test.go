package stage_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// recorder runs commands with a real executor and notes the tflint --init runs
// that were not skipped.
type recorder struct {
	stage.Runner
	mu    sync.Mutex
	inits int
}

func (r *recorder) Run(ctx context.Context, cmd stage.Command) (stage.Output, error) {
	out, err := r.Runner.Run(ctx, cmd)
	if cmd.Tool == stage.TFLint && len(cmd.Args) > 0 && cmd.Args[0] == "--init" && !out.Skipped {
		r.mu.Lock()
		r.inits++
		r.mu.Unlock()
	}
	return out, err
}

// tflint --init runs again exactly when the plugin blocks of the lint config change
// (a plugin added or bumped), not on every run and not for rule changes.
func TestLintInitFollowsThePluginBlocks(t *testing.T) {
	tools := testfixture.Tools(t, "terraform")
	src := t.TempDir()
	files := testfixture.Tree(testfixture.Layer{Dir: "1.a"})
	files[".tflint.hcl"] = "plugin \"terraform\" {\n  enabled = true\n  preset  = \"recommended\"\n}\n"
	testfixture.Write(t, src, files)

	lint := func() (stage.Result, int) {
		t.Helper()
		set, err := layers.Discover(os.DirFS(src), repoconfig.Defaults())
		require.NoError(t, err)
		exec, err := native.New(src, toolchain.CacheDir(), tools)
		require.NoError(t, err)
		defer exec.Close()
		rec := &recorder{Runner: exec}
		res := stage.Run(context.Background(), stage.Lint, rec, pipeline.Target(set.Layers[0], stage.NewShared()))
		return res, rec.inits
	}
	setConfig := func(content string) {
		t.Helper()
		require.NoError(t, os.WriteFile(filepath.Join(src, ".tflint.hcl"), []byte(content), 0o644))
	}

	res, inits := lint()
	require.Equal(t, stage.Pass, res.Status, "%+v", res)
	assert.Equal(t, 2, inits, "the first run initialises the layer and its module")
	_, inits = lint()
	assert.Equal(t, 0, inits, "nothing changed")

	setConfig("plugin \"terraform\" {\n  enabled = true\n  preset  = \"recommended\"\n}\n\nrule \"terraform_unused_declarations\" {\n  enabled = false\n}\n")
	_, inits = lint()
	assert.Equal(t, 0, inits, "a rule needs no plugin")

	setConfig("plugin \"terraform\" {\n  enabled = true\n  preset  = \"all\"\n}\n")
	_, inits = lint()
	assert.Equal(t, 2, inits, "a changed plugin block")

	// A plugin added between two runs is installed, not reported as missing. Offline
	// the download fails, which says init ran; online it installs.
	setConfig("plugin \"terraform\" {\n  enabled = true\n  preset  = \"all\"\n}\n\nplugin \"aws\" {\n  enabled = true\n  version = \"0.38.0\"\n  source  = \"github.com/terraform-linters/tflint-ruleset-aws\"\n}\n")
	res, inits = lint()
	assert.Positive(t, inits, "a new plugin block")
	for _, f := range res.Findings {
		assert.NotContains(t, f.Message, "Did you run", "init ran before lint: %+v", f)
	}
}
