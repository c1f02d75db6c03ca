package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/cli"
	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/testmirror"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

type jsonFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Message  string `json:"message"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Detail   string `json:"detail"`
}

type jsonStage struct {
	Status   string        `json:"status"`
	Findings []jsonFinding `json:"findings"`
}

type jsonReport struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Engine   string `json:"engine"`
	Layers   []struct {
		Name      string    `json:"name"`
		ID        string    `json:"id"`
		Path      string    `json:"path"`
		DependsOn []string  `json:"depends_on"`
		Format    jsonStage `json:"format"`
		Lint      jsonStage `json:"lint"`
		Validate  jsonStage `json:"validate"`
	} `json:"layers"`
}

func decode(t *testing.T, r result) jsonReport {
	t.Helper()
	var rep jsonReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return rep
}

func threeLayers() testfixture.Files {
	return testfixture.Tree(testfixture.Chain("bootstrap", "platform", "data")...)
}

func repo(t *testing.T, files testfixture.Files) string {
	t.Helper()
	dir := t.TempDir()
	testfixture.Write(t, dir, files)
	return dir
}

// snapshot lists every file under dir with its contents, to prove a run wrote nothing.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, p)
		if info.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	}))
	return out
}

func TestValidateCleanTreePasses(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, threeLayers())
	before := snapshot(t, src)

	r := run(t, "validate", "--source", src, "--layer", "all", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	rep := decode(t, r)
	assert.Equal(t, "pass", rep.Status)
	assert.Equal(t, "terraform", rep.Engine)
	require.Len(t, rep.Layers, 3)
	for i, name := range []string{"1.bootstrap", "2.platform", "3.data"} {
		l := rep.Layers[i]
		assert.Equal(t, name, l.Name)
		for _, st := range []jsonStage{l.Format, l.Lint, l.Validate} {
			assert.Equal(t, "pass", st.Status)
			assert.Empty(t, st.Findings)
		}
	}
	assert.Equal(t, []string{"1.bootstrap"}, rep.Layers[1].DependsOn)
	assert.Equal(t, before, snapshot(t, src), "validating must not write into the repository")
	assert.Contains(t, r.stderr, "✓ L3 Data")

	// The second run reuses the workspace's init and still passes.
	r = run(t, "validate", "--source", src, "--format", "json")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.Equal(t, before, snapshot(t, src))
}

func TestUnformattedFileFailsFormatForThatLayerOnly(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["terraform/2.platform/extra.tf"] = "locals {\n  a = 1\n    bb = 2\n}\n\noutput \"sum\" {\n  description = \"A sum.\"\n  value       = local.a + local.bb\n}\n"
	src := repo(t, files)

	r := run(t, "validate", "--source", src, "--format", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	rep := decode(t, r)
	assert.Equal(t, "fail", rep.Status)
	assert.Equal(t, "pass", rep.Layers[0].Format.Status)
	assert.Equal(t, "pass", rep.Layers[2].Format.Status)
	platform := rep.Layers[1]
	require.Equal(t, "fail", platform.Format.Status)
	require.Len(t, platform.Format.Findings, 1)
	f := platform.Format.Findings[0]
	assert.Equal(t, "terraform/2.platform/extra.tf", f.File)
	assert.Equal(t, 2, f.Line)
	assert.Contains(t, f.Detail, "-  a = 1")
	assert.Contains(t, f.Detail, "+  a  = 1")
	assert.Equal(t, "pass", platform.Lint.Status, "a format failure must not hide the other stages")
	assert.Equal(t, "pass", platform.Validate.Status)
}

func TestLintFindingFailsLintWithFileAndLine(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["terraform/3.data/variables.tf"] = "variable \"unused\" {\n  description = \"Never read.\"\n  type        = string\n  default     = \"x\"\n}\n"
	src := repo(t, files)

	r := run(t, "validate", "--source", src, "--format", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	rep := decode(t, r)
	data := rep.Layers[2]
	require.Equal(t, "fail", data.Lint.Status)
	require.Len(t, data.Lint.Findings, 1)
	f := data.Lint.Findings[0]
	assert.Equal(t, "terraform/3.data/variables.tf", f.File)
	assert.Equal(t, 1, f.Line)
	assert.Equal(t, "terraform_unused_declarations", f.Rule)
	assert.Equal(t, "warning", f.Severity)
	assert.Contains(t, f.Message, `variable "unused" is declared but not used`)
	assert.Equal(t, "pass", data.Format.Status)
	assert.Equal(t, "pass", data.Validate.Status)
	assert.Equal(t, "pass", rep.Layers[0].Lint.Status)
}

func TestBadReferenceFailsValidateWithFileAndLine(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["terraform/1.bootstrap/bad.tf"] = "output \"broken\" {\n  description = \"Reads something that does not exist.\"\n  value       = null_resource.missing.id\n}\n"
	src := repo(t, files)

	r := run(t, "validate", "--source", src, "--format", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	rep := decode(t, r)
	l := rep.Layers[0]
	require.Equal(t, "fail", l.Validate.Status)
	require.NotEmpty(t, l.Validate.Findings)
	f := l.Validate.Findings[0]
	assert.Equal(t, "terraform/1.bootstrap/bad.tf", f.File)
	assert.Equal(t, 3, f.Line)
	assert.Equal(t, "error", f.Severity)
	assert.Equal(t, "Reference to undeclared resource", f.Message)
	assert.Equal(t, "pass", rep.Layers[1].Validate.Status)
}

func TestMissingModuleFailsValidateThroughInit(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["terraform/2.platform/more.tf"] = "module \"gone\" {\n  source = \"../../modules/gone\"\n}\n"
	src := repo(t, files)

	r := run(t, "validate", "--source", src, "--layer", "platform", "--format", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	rep := decode(t, r)
	require.Len(t, rep.Layers, 1)
	v := rep.Layers[0].Validate
	require.Equal(t, "fail", v.Status)
	require.NotEmpty(t, v.Findings)
	located := false
	for _, f := range v.Findings {
		assert.Contains(t, f.Message, "init: ")
		located = located || (f.File == "terraform/2.platform/more.tf" && f.Line == 1)
	}
	assert.True(t, located, "a finding points at the module call: %+v", v.Findings)
}

// A layer calling a registry module whose registry cannot be reached (offline,
// a closed port here) could not be checked: that is no finding of the repository.
func TestUnreachableModuleRegistryCouldNotRun(t *testing.T) {
	for _, engine := range []string{"terraform", "tofu"} {
		t.Run(engine, func(t *testing.T) {
			testfixture.Tools(t, engine)
			files := threeLayers()
			files["terraform/2.platform/vpc.tf"] = "module \"vpc\" {\n  source  = \"127.0.0.1:1/acme/vpc/aws\"\n  version = \"5.0.0\"\n}\n"
			src := repo(t, files)

			r := run(t, "validate", "--source", src, "--engine", engine, "--format", "json")
			assert.Equal(t, 3, r.code, "could not run, not a failed check: %s", r.stdout)
			rep := decode(t, r)
			require.Len(t, rep.Layers, 3)
			v := rep.Layers[1].Validate
			require.Equal(t, "error", v.Status, "%+v", v)
			require.NotEmpty(t, v.Findings)
			assert.Contains(t, v.Findings[0].Message, "module vpc: its module registry could not be reached")
			assert.Contains(t, v.Findings[0].Message, "connection refused")
			assert.Equal(t, "pass", rep.Layers[0].Validate.Status, "the other layers are checked")

			md := run(t, "validate", "--source", src, "--engine", engine, "--format", "markdown", "--layer", "platform")
			assert.Equal(t, 3, md.code)
			assert.Contains(t, md.stdout, "⚠️")
			assert.NotContains(t, md.stdout, "❌")

			// A module from a git server that cannot be reached: git's own words.
			files["terraform/2.platform/vpc.tf"] = "module \"vpc\" {\n  source = \"git::https://127.0.0.1:1/org/vpc.git?ref=v1\"\n}\n"
			src = repo(t, files)
			r = run(t, "validate", "--source", src, "--engine", engine, "--format", "json", "--layer", "platform")
			assert.Equal(t, 3, r.code, "could not run, not a failed check: %s", r.stdout)
			v = decode(t, r).Layers[0].Validate
			require.Equal(t, "error", v.Status, "%+v", v)
			assert.Contains(t, v.Findings[0].Message, "Failed to download module")
		})
	}
}

// A tflint plugin that cannot be downloaded (offline, here a closed port on a
// GitHub Enterprise-style host) is no lint failure of the repository.
func TestUnreachableTFLintPluginCouldNotRun(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files[".tflint.hcl"] = "plugin \"x\" {\n  enabled = true\n  version = \"0.1.0\"\n  source  = \"127.0.0.1:1/org/tflint-ruleset-x\"\n}\n"
	r := run(t, "lint", "--source", repo(t, files), "--layer", "platform", "--format", "json")
	assert.Equal(t, 3, r.code, r.stdout)
	l := decode(t, r).Layers[0].Lint
	require.Equal(t, "error", l.Status, "%+v", l)
	require.Len(t, l.Findings, 1, "said once, not again for each module the layer calls: %+v", l.Findings)
	msg := l.Findings[0].Message
	assert.Contains(t, msg, "Failed to install a plugin")
	assert.True(t, strings.HasSuffix(msg, "connection refused"), "the cause comes last: %q", msg)
}

// A layer whose required_version excludes the engine at hand was not checked:
// could not run (exit 3), not a failure of its code.
func TestRequiredVersionExcludingTheEngineCouldNotRun(t *testing.T) {
	for _, engine := range []string{"terraform", "tofu"} {
		t.Run(engine, func(t *testing.T) {
			testfixture.Tools(t, engine)
			files := threeLayers()
			files["terraform/2.platform/versions.tf"] = strings.Replace(files["terraform/2.platform/versions.tf"], `">= 1.5.0"`, `"~> 1.3.0"`, 1)
			r := run(t, "validate", "--source", repo(t, files), "--engine", engine, "--layer", "platform", "--format", "json")
			assert.Equal(t, 3, r.code, r.stdout)
			v := decode(t, r).Layers[0].Validate
			require.Equal(t, "error", v.Status, "%+v", v)
			assert.Contains(t, v.Findings[0].Message, "the layer's required_version excludes the engine version this run uses")
		})
	}
}

func TestBadInputExitsTwoWithAClearMessage(t *testing.T) {
	testfixture.Tools(t, "terraform")
	cyclic := testfixture.Tree(
		testfixture.Layer{Dir: "1.a", DependsOn: []string{"2.b"}},
		testfixture.Layer{Dir: "2.b", DependsOn: []string{"1.a"}},
	)
	cases := []struct {
		name  string
		files testfixture.Files
		args  []string
		want  string
	}{
		{"unknown layer", threeLayers(), []string{"--layer", "nope"}, `unknown layer "nope" (layers: 1.bootstrap, 2.platform, 3.data; or all, changed)`},
		{"cycle", cyclic, nil, "layer dependency cycle: 1.a -> 2.b -> 1.a"},
		{"no terraform directory", testfixture.Files{"README.md": "hi"}, nil, `no layers directory "terraform"`},
		{"unknown format", threeLayers(), []string{"--format", "yaml"}, `unknown --format "yaml"`},
		{"stray argument", threeLayers(), []string{"all"}, `unexpected argument "all"`},
		{"changed without git", threeLayers(), []string{"--layer", "changed", "--base", "main"}, "is not a git work tree"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := repo(t, tc.files)
			r := run(t, append([]string{"validate", "--source", src}, tc.args...)...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Empty(t, r.stdout, "no half report on bad input")
		})
	}
	r := run(t, "deploy")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `unknown command "deploy"`)
}

// Run from a layer's directory, the message points at the repository root.
func TestRunFromASubdirectoryNamesTheRoot(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, threeLayers())
	git(t, src, "init", "-q")
	sub := filepath.Join(src, "terraform", "2.platform")
	r := run(t, "layers", "--source", sub)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `no layers directory "terraform"`)
	assert.Contains(t, r.stderr, "the repository root seems to be "+src+": run there or pass --source "+src)
	assert.Empty(t, r.stdout)

	r = run(t, "layers", "--source", t.TempDir())
	assert.Equal(t, 2, r.code)
	assert.NotContains(t, r.stderr, "seems to be", "no guess without a repository around")
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
}

func TestChangedSelectsTouchedLayersAndDependents(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, testfixture.Tree(testfixture.Chain("bootstrap", "platform", "data", "insight")...))
	git(t, src, "init", "-q", "-b", "main")
	git(t, src, "add", "-A")
	git(t, src, "commit", "-qm", "base")
	git(t, src, "checkout", "-qb", "feature")

	layersOf := func(r result) []string {
		require.Equal(t, 0, r.code, r.stderr)
		var names []string
		for _, l := range decode(t, r).Layers {
			names = append(names, l.Name)
		}
		return names
	}
	args := []string{"fmt", "--source", src, "--layer", "changed", "--base", "main", "--format", "json"}

	assert.Empty(t, layersOf(run(t, args...)), "no change, no layer")

	bad := run(t, "fmt", "--source", src, "--layer", "changed", "--base", "origin/nope")
	assert.Equal(t, 2, bad.code)
	assert.Contains(t, bad.stderr, `cannot compare with "origin/nope"`)

	// A committed change in L2 selects L2 and everything that reads it.
	p := filepath.Join(src, "terraform/2.platform/outputs.tf")
	b, _ := os.ReadFile(p)
	require.NoError(t, os.WriteFile(p, append(b, []byte("# touched\n")...), 0o644))
	git(t, src, "commit", "-qam", "touch platform")
	assert.Equal(t, []string{"2.platform", "3.data", "4.insight"}, layersOf(run(t, args...)))

	// An untracked file in the last layer adds only that layer.
	git(t, src, "reset", "-q", "--hard", "main")
	require.NoError(t, os.WriteFile(filepath.Join(src, "terraform/4.insight/new.tf"), []byte("# new\n"), 0o644))
	assert.Equal(t, []string{"4.insight"}, layersOf(run(t, args...)))

	// A change to the shared module, not yet committed, selects every caller.
	require.NoError(t, os.Remove(filepath.Join(src, "terraform/4.insight/new.tf")))
	m := filepath.Join(src, "modules/marker/main.tf")
	b, _ = os.ReadFile(m)
	require.NoError(t, os.WriteFile(m, append(b, []byte("# edited\n")...), 0o644))
	assert.Equal(t, []string{"1.bootstrap", "2.platform", "3.data", "4.insight"}, layersOf(run(t, args...)))

	// Changes on the base branch after the fork point are not the branch's changes.
	git(t, src, "checkout", "-q", "--", ".")
	git(t, src, "checkout", "-q", "main")
	p1 := filepath.Join(src, "terraform/1.bootstrap/outputs.tf")
	b, _ = os.ReadFile(p1)
	require.NoError(t, os.WriteFile(p1, append(b, []byte("# on main\n")...), 0o644))
	git(t, src, "commit", "-qam", "main moves on")
	git(t, src, "checkout", "-q", "feature")
	assert.Empty(t, layersOf(run(t, args...)))
}

func TestMarkdownMatrix(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["terraform/3.data/extra.tf"] = "locals {\n    x = 1\n}\n"
	src := repo(t, files)

	r := run(t, "validate", "--source", src, "--format", "markdown", "--quiet")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Empty(t, r.stderr, "--quiet prints no progress")
	lines := strings.Split(r.stdout, "\n")
	assert.Equal(t, []string{
		"| Layer | Format | Lint | Validate |",
		"|:------|:------:|:----:|:--------:|",
		"| **L1** Bootstrap | ✅ | ✅ | ✅ |",
		"| **L2** Platform | ✅ | ✅ | ✅ |",
		"| **L3** Data | ❌ | ❌ | ✅ |",
		"",
		"<sub>✅ passed · ❌ failed</sub>",
	}, lines[:7])
	assert.Contains(t, r.stdout, "<details><summary>❌ <b>L3</b> Data · Format: 1 finding</summary>")
	assert.Contains(t, r.stdout, "- `terraform/3.data/extra.tf:2` not formatted; terraform fmt (or tofu fmt) fixes it")
	assert.Contains(t, r.stdout, "  ```diff\n  @@ -1,3 +1,3 @@\n   locals {\n  -    x = 1\n  +  x = 1\n   }\n  ```")
	assert.Contains(t, r.stdout, "- `terraform/3.data/extra.tf:2` `terraform_unused_declarations` local.x is declared but not used")
}

func TestSingleStageCommandsSkipTheOthers(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, threeLayers())
	r := run(t, "lint", "--source", src, "--layer", "L1", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	rep := decode(t, r)
	require.Len(t, rep.Layers, 1)
	assert.Equal(t, "skip", rep.Layers[0].Format.Status)
	assert.Equal(t, "pass", rep.Layers[0].Lint.Status)
	assert.Equal(t, "skip", rep.Layers[0].Validate.Status)
}

func TestLayersCommand(t *testing.T) {
	src := repo(t, testfixture.Tree(testfixture.Diamond(4)...))
	r := run(t, "layers", "--source", src)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, strings.Join([]string{
		"1. L1   1.l01            terraform/1.l01              depends on: -",
		"2. L2   2.l02            terraform/2.l02              depends on: 1.l01",
		"3. L3   3.l03            terraform/3.l03              depends on: 1.l01",
		"4. L4   4.l04            terraform/4.l04              depends on: 2.l02, 3.l03",
		"",
	}, "\n"), r.stdout)
}

func TestTofuEngine(t *testing.T) {
	testfixture.Tools(t, "tofu")
	src := repo(t, threeLayers())
	r := run(t, "validate", "--source", src, "--engine", "tofu", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	rep := decode(t, r)
	assert.Equal(t, "tofu", rep.Engine)
	assert.Equal(t, "pass", rep.Layers[2].Validate.Status)
}

func TestTofuFindingsAreLocatedToo(t *testing.T) {
	testfixture.Tools(t, "tofu")
	files := threeLayers()
	files["terraform/2.platform/extra.tf"] = "output \"broken\" {\n    description = \"Reads something that does not exist.\"\n  value       = null_resource.missing.id\n}\n"
	src := repo(t, files)

	r := run(t, "validate", "--source", src, "--engine", "tofu", "--layer", "L2", "--format", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	l := decode(t, r).Layers[0]
	require.Equal(t, "fail", l.Format.Status)
	assert.Equal(t, "terraform/2.platform/extra.tf", l.Format.Findings[0].File)
	assert.Equal(t, 2, l.Format.Findings[0].Line)
	require.Equal(t, "fail", l.Validate.Status)
	assert.Equal(t, "terraform/2.platform/extra.tf", l.Validate.Findings[0].File)
	assert.Equal(t, 3, l.Validate.Findings[0].Line)
	assert.Equal(t, "Reference to undeclared resource", l.Validate.Findings[0].Message)
}

func TestMissingToolExitsThree(t *testing.T) {
	testfixture.Tools(t, "terraform")
	t.Setenv("INFRA_TFLINT_BIN", filepath.Join(t.TempDir(), "no-tflint"))
	r := run(t, "validate", "--source", repo(t, threeLayers()))
	assert.Equal(t, 3, r.code)
	assert.Contains(t, r.stderr, "tflint is not installed")
}

func TestUnformattedModuleFailsFormatForItsCallers(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["modules/marker/extra.tf"] = "locals {\nunused = 1\n}\n"
	src := repo(t, files)

	r := run(t, "fmt", "--source", src, "--format", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	for _, l := range decode(t, r).Layers {
		require.Equal(t, "fail", l.Format.Status, l.Name)
		require.Len(t, l.Format.Findings, 1)
		assert.Equal(t, "modules/marker/extra.tf", l.Format.Findings[0].File)
		assert.Equal(t, 2, l.Format.Findings[0].Line)
	}
}

func TestLintFindingInAModuleFailsLintForItsCallers(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["modules/marker/extra.tf"] = "variable \"unused\" {\n  description = \"Never read.\"\n  type        = string\n  default     = \"x\"\n}\n"
	src := repo(t, files)

	r := run(t, "lint", "--source", src, "--layer", "bootstrap,data", "--format", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	rep := decode(t, r)
	require.Len(t, rep.Layers, 2)
	for _, l := range rep.Layers {
		require.Equal(t, "fail", l.Lint.Status, l.Name)
		require.Len(t, l.Lint.Findings, 1, l.Name)
		f := l.Lint.Findings[0]
		assert.Equal(t, "modules/marker/extra.tf", f.File)
		assert.Equal(t, 1, f.Line)
		assert.Equal(t, "terraform_unused_declarations", f.Rule)
	}
}

// Help asked for and completion scripts are output (piped to less, written to a
// file); no command at all is bad input, its usage on stderr.
func TestHelpAndCompletionGoToStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"validate", "--help"}, {"help", "flash"}} {
		r := run(t, args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Contains(t, r.stdout, "Usage:", "%v", args)
		assert.Empty(t, r.stderr, "%v", args)
	}
	r := run(t, "--version")
	assert.Equal(t, 0, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "infra version "), r.stdout)

	r = run(t, "completion", "bash")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "bash completion")
	assert.Empty(t, r.stderr)

	r = run(t)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "Usage:")
	assert.Empty(t, r.stdout)
}

// With a mirror, a lock file that pins what the mirror lacks fails that layer; the
// run says the mirror may be why, and how to run without one.
func TestLockFileAgainstAMirrorSaysWhy(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["terraform/2.platform/.terraform.lock.hcl"] = testmirror.LockFile("registry.terraform.io", "null", "3.0.0", ">= 3.0.0", otherZH)
	r := run(t, "validate", "--source", repo(t, files), "--format", "json")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Equal(t, "fail", decode(t, r).Layers[1].Validate.Status)
	assert.Contains(t, r.stderr, "infra: note: providers the mirror ")
	assert.Contains(t, r.stderr, "without a mirror (INFRA_PROVIDER_MIRROR= and no --provider-mirror or provider_mirror)")

	r = run(t, "validate", "--source", repo(t, threeLayers()))
	assert.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "note:")
}

// A stale local state file in a layer (an old local apply) does not break init.
func TestLocalStateInALayerIsIgnored(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := threeLayers()
	files["terraform/2.platform/terraform.tfstate"] = "{}"
	r := run(t, "validate", "--source", repo(t, files), "--layer", "platform")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
}

// An interrupted run (Ctrl-C, a cancelled CI job) never passes and says why.
func TestInterruptedRunSaysSo(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := repo(t, threeLayers())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := cli.Run(ctx, []string{"validate", "--source", src, "--no-cache"}, &stdout, &stderr)
	assert.Equal(t, 3, code)
	assert.Contains(t, stderr.String(), "infra: interrupted: the run stopped before its end (what did not finish is not a result)")
}

// A lock file the other engine wrote fails init with "dependency changes"; the run
// says why.
func TestLockFileOfTheOtherEngineWarns(t *testing.T) {
	files := threeLayers()
	files["terraform/2.platform/.terraform.lock.hcl"] = testmirror.LockFile("registry.terraform.io", "null", "3.0.0", ">= 3.0.0", otherZH)
	src := repo(t, files)
	want := "infra: warning: terraform/2.platform/.terraform.lock.hcl records providers of registry.terraform.io, as terraform writes it; " +
		"tofu looks them up at registry.opentofu.org, so its init failed: commit a lock file tofu init wrote, or use --engine terraform\n"

	t.Run("tofu", func(t *testing.T) {
		testfixture.Tools(t, "tofu")
		r := run(t, "validate", "--source", src, "--engine", "tofu", "--layer", "platform", "--quiet")
		assert.Equal(t, 1, r.code, r.stderr)
		assert.Contains(t, r.stderr, want)
	})
	t.Run("terraform", func(t *testing.T) {
		testfixture.Tools(t, "terraform")
		r := run(t, "validate", "--source", src, "--engine", "terraform", "--layer", "platform", "--quiet")
		assert.NotContains(t, r.stderr, "records providers of")
	})
}
