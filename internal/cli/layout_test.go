package cli_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// copyLayout copies a fixture of testdata/engine, symlinks as symlinks.
func copyLayout(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "testdata", "engine", name)
	dst := t.TempDir()
	require.NoError(t, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	}))
	return dst
}

// rawFindings runs the tools by hand in a layer's directory, as a user would,
// and returns what each reports as "file:line" (format: the files fmt lists).
func rawFindings(t *testing.T, tools toolchain.Tools, root, layer string) map[string][]string {
	t.Helper()
	dir := filepath.Join(root, filepath.FromSlash(layer))
	run := func(bin string, args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1")
		out, _ := cmd.Output() // non-zero exits are findings
		return string(out)
	}
	got := map[string][]string{"format": {}, "lint": {}, "validate": {}}
	for _, f := range strings.Fields(run(tools.Engine, "fmt", "-check", "-recursive", "-list=true", "-no-color")) {
		got["format"] = append(got["format"], filepath.ToSlash(filepath.Join(layer, f)))
	}
	var lint struct {
		Issues []struct {
			Rule  struct{ Name string } `json:"rule"`
			Range struct {
				Filename string `json:"filename"`
				Start    struct{ Line int }
			} `json:"range"`
		} `json:"issues"`
	}
	args := []string{"--format=json", "--call-module-type=local"}
	if _, err := os.Stat(filepath.Join(root, ".tflint.hcl")); err == nil {
		args = append(args, "--config="+filepath.Join(root, ".tflint.hcl"))
	}
	require.NoError(t, json.Unmarshal([]byte(run(tools.TFLint, args...)), &lint))
	for _, is := range lint.Issues {
		got["lint"] = append(got["lint"], filepath.ToSlash(filepath.Join(layer, is.Range.Filename))+":"+strconv.Itoa(is.Range.Start.Line)+" "+is.Rule.Name)
	}
	run(tools.Engine, "init", "-backend=false", "-input=false", "-no-color")
	var val struct {
		Diagnostics []struct {
			Severity string
			Summary  string
			Range    *struct {
				Filename string
				Start    struct{ Line int }
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(run(tools.Engine, "validate", "-json", "-no-color")), &val))
	for _, d := range val.Diagnostics {
		if d.Range != nil {
			got["validate"] = append(got["validate"], filepath.ToSlash(filepath.Join(layer, d.Range.Filename))+":"+strconv.Itoa(d.Range.Start.Line)+" "+d.Summary)
		}
	}
	for _, v := range got {
		sort.Strings(v)
	}
	return got
}

// Each repository layout gives the layers the model says, and per layer the
// findings the raw tools give in that layer's directory.
func TestLayoutsFindWhatTheRawToolsFind(t *testing.T) {
	tools := testfixture.Tools(t, "terraform")
	for _, tc := range []struct {
		fixture string
		layers  []string
		exit    int
	}{
		{"layout-numbered", []string{"00-prereqs", "01-vpc", "02-eks"}, 1},
		{"layout-named", []string{"bootstrap", "platform", "aws-root"}, 1},
		{"layout-envs", []string{"bootstrap", "platform", "envs/prod/data", "envs/staging/data"}, 1},
		{"layout-tfvars", []string{"network", "app"}, 0},
		{"layout-symlink", []string{"layers/1.a", "layers/2.b"}, 0},
		{"layout-terragrunt", []string{"terraform/1.base", "terraform/2.app"}, 0},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			src := copyLayout(t, tc.fixture)
			r := run(t, "validate", "--source", src, "--format", "json")
			require.Equal(t, tc.exit, r.code, r.stderr+r.stdout)
			rep := decode(t, r)
			var paths []string
			for _, l := range rep.Layers {
				paths = append(paths, l.Path)
				if strings.Contains(r.stderr, l.Path+" is a Terragrunt unit") {
					continue // what Terragrunt generates is not there for the raw tools either
				}
				raw := rawFindings(t, tools, src, l.Path)
				ours := map[string][]string{"format": {}, "lint": {}, "validate": {}}
				for _, f := range l.Format.Findings {
					if !contains(ours["format"], f.File) {
						ours["format"] = append(ours["format"], f.File)
					}
				}
				for _, f := range l.Lint.Findings {
					ours["lint"] = append(ours["lint"], f.File+":"+strconv.Itoa(f.Line)+" "+f.Rule)
				}
				for _, f := range l.Validate.Findings {
					ours["validate"] = append(ours["validate"], f.File+":"+strconv.Itoa(f.Line)+" "+f.Message)
				}
				for _, v := range ours {
					sort.Strings(v)
				}
				assert.Equal(t, raw, ours, l.Path)
			}
			assert.Equal(t, tc.layers, paths)
		})
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// --env narrows every command to the shared layers and one environment's;
// plan-like commands refuse to guess one.
func TestEnvSelectsTheSharedLayersAndOneEnvironment(t *testing.T) {
	testfixture.Tools(t, "terraform")
	src := copyLayout(t, "layout-envs")
	r := run(t, "validate", "--source", src, "--env", "staging", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	var paths []string
	for _, l := range decode(t, r).Layers {
		paths = append(paths, l.Path)
	}
	assert.Equal(t, []string{"bootstrap", "platform", "envs/staging/data"}, paths)

	r = run(t, "validate", "--source", src, "--env", "qa")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `unknown environment "qa" (environments: staging, prod)`)

	r = run(t, "plan", "--source", src, "--layer", "data")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "the selected layers belong to environments prod and staging: pass --env with one of them")

	// One environment's own layer says which environment it is for. (Its S3
	// backend is not reachable here: the plan itself fails at init.)
	r = run(t, "plan", "--source", src, "--layer", "staging-data")
	assert.NotEqual(t, 2, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stderr, "infra: environment staging: the selected layers that differ by environment are its own")
	assert.Contains(t, r.stderr, "plan: 1 layer(s)")

	r = run(t, "validate", "--source", copyLayout(t, "layout-named"), "--env", "prod")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--env prod: infra.hcl declares no environments; leave --env out")
}

func TestFmtNeedsNoTFLint(t *testing.T) {
	testfixture.Tools(t, "terraform")
	t.Setenv("INFRA_TFLINT_BIN", filepath.Join(t.TempDir(), "no-tflint"))
	src := copyLayout(t, "layout-named")
	r := run(t, "fmt", "--source", src)
	assert.Equal(t, 0, r.code, r.stderr+r.stdout)
	r = run(t, "lint", "--source", src)
	assert.Equal(t, 3, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stderr, "tflint is not installed")
}

// dig probes an environment's services and the shared ones, under the
// environment's domain; with environments it needs --env.
func TestDigProbesOneEnvironment(t *testing.T) {
	src := copyLayout(t, "layout-envs")
	require.NoError(t, os.WriteFile(filepath.Join(src, "infra.hcl"), []byte(`layers = ["bootstrap", "platform", "envs/*/data"]

environment "staging" {
  dir    = "envs/staging"
  domain = "example.test"
}

environment "prod" {
  dir    = "envs/prod"
  domain = "prod.invalid"
}
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "services.hcl"), []byte(`service "app" {
  layer     = "platform"
  name      = "App"
  subdomain = "app"
  path      = "/code/200"
}

service "db-staging" {
  layer     = "staging-data"
  name      = "DB"
  subdomain = "db"
  path      = "/code/200"
}

service "db-prod" {
  layer     = "prod-data"
  name      = "Warehouse"
  subdomain = "warehouse"
  path      = "/code/200"
}
`), 0o644))
	connectTo, cacert := digServer(t)
	r := run(t, "dig", "--source", src, "--env", "staging", "--connect-to", connectTo, "--cacert", cacert, "--format", "json", "--quiet")
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	var doc struct {
		Total    int `json:"total"`
		Services []struct {
			ID string `json:"id"`
		} `json:"services"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	var ids []string
	for _, s := range doc.Services {
		ids = append(ids, s.ID)
	}
	assert.ElementsMatch(t, []string{"app", "db-staging"}, ids)

	r = run(t, "dig", "--source", src, "--domain", "example.test", "--connect-to", connectTo, "--cacert", cacert)
	assert.Equal(t, 2, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stderr, "belong to environments prod and staging: pass --env")
}
