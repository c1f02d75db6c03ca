package stage_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// layer writes one layer at terraform/1.a and returns a native executor on it.
func layer(t *testing.T, files testfixture.Files) (*native.Executor, stage.Target) {
	t.Helper()
	tools := testfixture.Tools(t, "terraform")
	src := t.TempDir()
	testfixture.Write(t, src, files)
	exec, err := native.New(src, toolchain.CacheDir(), tools)
	require.NoError(t, err)
	t.Cleanup(func() { exec.Close() })
	_, lockErr := os.Stat(filepath.Join(src, "terraform/1.a/.terraform.lock.hcl"))
	return exec, stage.Target{Path: "terraform/1.a", InitKey: "k", HasLockFile: lockErr == nil}
}

func TestFormatReportsEveryHunk(t *testing.T) {
	exec, target := layer(t, testfixture.Files{
		"terraform/1.a/main.tf": "locals {\n  a = 1\n    b = 2\n}\n\n\n\n\n\n\nlocals {\nc   = 3\n}\n",
	})
	r := stage.Run(context.Background(), stage.Format, exec, target)
	require.Equal(t, stage.Fail, r.Status)
	require.Len(t, r.Findings, 2)
	assert.Equal(t, 3, r.Findings[0].Line)
	assert.Equal(t, 12, r.Findings[1].Line)
	for _, f := range r.Findings {
		assert.Equal(t, "terraform/1.a/main.tf", f.File)
	}
}

func TestFormatChecksNestedDirectories(t *testing.T) {
	exec, target := layer(t, testfixture.Files{
		"terraform/1.a/main.tf":           "locals {\n  a = 1\n}\n",
		"terraform/1.a/templates/x.tftpl": "not hcl",
		"terraform/1.a/nested/n.tf":       "locals {\nb = 1\n}\n",
	})
	r := stage.Run(context.Background(), stage.Format, exec, target)
	require.Equal(t, stage.Fail, r.Status)
	require.Len(t, r.Findings, 1)
	assert.Equal(t, "terraform/1.a/nested/n.tf", r.Findings[0].File)
}

func TestLintReportsABrokenConfigWhereItIs(t *testing.T) {
	exec, target := layer(t, testfixture.Files{
		".tflint.hcl":           "plugin \"terraform\" {\n  enabled = \n}\n",
		"terraform/1.a/main.tf": "locals {\n  a = 1\n}\n",
	})
	target.LintConfig = ".tflint.hcl"
	r := stage.Run(context.Background(), stage.Lint, exec, target)
	// The config's own syntax error is reported where it is, like a code problem.
	require.Equal(t, stage.Fail, r.Status, "%+v", r)
	require.NotEmpty(t, r.Findings)
	assert.Equal(t, ".tflint.hcl", r.Findings[0].File)
	assert.Equal(t, 2, r.Findings[0].Line)
	assert.Equal(t, "Invalid expression", r.Findings[0].Message)
}

func TestLintUsesTheRootConfig(t *testing.T) {
	files := testfixture.Files{
		// "all" adds terraform_documented_variables, which the default preset does not check.
		".tflint.hcl":           "plugin \"terraform\" {\n  enabled = true\n  preset  = \"all\"\n}\n",
		"terraform/1.a/main.tf": "terraform {\n  required_version = \">= 1.5\"\n}\n\nvariable \"v\" {\n  type = string\n}\n\noutput \"v\" {\n  description = \"v\"\n  value       = var.v\n}\n",
	}
	exec, target := layer(t, files)
	r := stage.Run(context.Background(), stage.Lint, exec, target)
	assert.Equal(t, stage.Pass, r.Status, "without the root config the default preset passes: %+v", r)

	target.LintConfig = ".tflint.hcl"
	r = stage.Run(context.Background(), stage.Lint, exec, target)
	require.Equal(t, stage.Fail, r.Status, "%+v", r)
	var rules []string
	for _, f := range r.Findings {
		rules = append(rules, f.Rule)
	}
	assert.Contains(t, rules, "terraform_documented_variables")
}

func TestValidateKeepsWarningsOnPass(t *testing.T) {
	exec, target := layer(t, testfixture.Files{
		"terraform/1.a/main.tf": "terraform {\n  required_providers {\n    null = {\n      source = \"hashicorp/null\"\n    }\n  }\n}\n\nresource \"null_resource\" \"a\" {}\n\nresource \"null_resource\" \"b\" {\n  depends_on = [\"null_resource.a\"]\n}\n",
	})
	r := stage.Run(context.Background(), stage.Validate, exec, target)
	if r.Status == stage.Pass {
		for _, f := range r.Findings {
			assert.Equal(t, "warning", f.Severity)
		}
	} else {
		// Quoted references are an error in newer engines: then it must be located.
		require.Equal(t, stage.Fail, r.Status)
		assert.Equal(t, "terraform/1.a/main.tf", r.Findings[0].File)
		assert.Equal(t, 12, r.Findings[0].Line)
	}
}

func TestValidateSkipsInitWhenNothingInitNeedsChanged(t *testing.T) {
	exec, target := layer(t, testfixture.Tree(testfixture.Layer{Dir: "1.a"}))
	ctx := context.Background()
	require.Equal(t, stage.Pass, stage.Run(ctx, stage.Validate, exec, target).Status)

	initCmd := stage.Command{Tool: stage.Engine, Args: []string{"init", "-backend=false", "-input=false", "-no-color"},
		Dir: target.Path, SkipKey: "init:" + target.InitKey}
	out, err := exec.Run(ctx, initCmd)
	require.NoError(t, err)
	assert.True(t, out.Skipped, "the second init with the same key is skipped")

	initCmd.SkipKey = "init:other"
	out, err = exec.Run(ctx, initCmd)
	require.NoError(t, err)
	assert.False(t, out.Skipped)
	assert.Equal(t, 0, out.ExitCode, out.Stderr)
}

func TestValidateHonoursALockFileWithoutRewritingIt(t *testing.T) {
	ctx := context.Background()
	tools := testfixture.Tools(t, "terraform")
	src := t.TempDir()
	testfixture.Write(t, src, testfixture.Tree(testfixture.Layer{Dir: "1.a"}))
	layerDir := filepath.Join(src, "terraform/1.a")

	// A lock file for the providers this machine has, made by init in the workspace
	// (never one to commit: its hashes are those of local builds).
	exec, err := native.New(src, toolchain.CacheDir(), tools)
	require.NoError(t, err)
	out, err := exec.Run(ctx, stage.Command{Tool: stage.Engine, Dir: "terraform/1.a",
		Args: []string{"init", "-backend=false", "-no-color"}})
	require.NoError(t, err)
	require.Equal(t, 0, out.ExitCode, out.Stderr)
	exec.Close()
	lock, err := os.ReadFile(filepath.Join(exec.Root(), "terraform/1.a/.terraform.lock.hcl"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(layerDir, ".terraform.lock.hcl"), lock, 0o644))

	exec, err = native.New(src, toolchain.CacheDir(), tools)
	require.NoError(t, err)
	defer exec.Close()
	target := stage.Target{Path: "terraform/1.a", InitKey: "with-lock", HasLockFile: true}
	r := stage.Run(ctx, stage.Validate, exec, target)
	assert.Equal(t, stage.Pass, r.Status, "%+v", r)

	// A lock file whose hashes do not match the installable providers fails validate
	// with init's explanation, instead of being silently rewritten.
	bad := []byte(`provider "registry.terraform.io/hashicorp/null" {
  version     = "3.3.1"
  constraints = ">= 3.0"
  hashes = [
    "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
  ]
}
`)
	require.NoError(t, os.WriteFile(filepath.Join(layerDir, ".terraform.lock.hcl"), bad, 0o644))
	_, err = native.Sync(src, exec.Root())
	require.NoError(t, err)
	target.InitKey = "bad-lock"
	r = stage.Run(ctx, stage.Validate, exec, target)
	require.Equal(t, stage.Fail, r.Status, "%+v", r)
	assert.Contains(t, r.Findings[0].Message, "init: ")
	got, err := os.ReadFile(filepath.Join(layerDir, ".terraform.lock.hcl"))
	require.NoError(t, err)
	assert.Equal(t, bad, got, "the user's lock file is untouched")
}
