package repoconfig_test

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/repoconfig"
)

func TestDefaults(t *testing.T) {
	cfg := repoconfig.Defaults()
	assert.Equal(t, "terraform", cfg.LayersDir)
	assert.Empty(t, cfg.Engine)
	assert.NotNil(t, cfg.DependsOn, "callers may add to the map without a nil check")
	assert.Empty(t, cfg.DependsOn)
}

func TestLoadWithoutFileReturnsDefaults(t *testing.T) {
	fsys := fstest.MapFS{"terraform/1.a/main.tf": {Data: []byte("locals {}\n")}}
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	assert.Equal(t, repoconfig.Defaults(), cfg)
}

func TestLoadReadsFileAtRoot(t *testing.T) {
	fsys := fstest.MapFS{repoconfig.FileName: {Data: []byte("layers_dir = \"infra\"\nengine = \"tofu\"\n")}}
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	assert.Equal(t, "infra", cfg.LayersDir)
	assert.Equal(t, "tofu", cfg.Engine)
}

func TestLoadIgnoresConfigOutsideTheRoot(t *testing.T) {
	fsys := fstest.MapFS{"sub/" + repoconfig.FileName: {Data: []byte("layers_dir = \"infra\"\n")}}
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	assert.Equal(t, repoconfig.Defaults(), cfg)
}

func TestLoadReportsUnreadableFile(t *testing.T) {
	// A directory named infra.hcl exists but cannot be read as a file: that is not
	// "absent", so it must not silently fall back to the defaults.
	fsys := fstest.MapFS{repoconfig.FileName: {Mode: fs.ModeDir | 0o755}}
	_, err := repoconfig.Load(fsys)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading infra.hcl")
}

func TestLoadReportsParseErrors(t *testing.T) {
	fsys := fstest.MapFS{repoconfig.FileName: {Data: []byte("engine = \"pulumi\"\n")}}
	_, err := repoconfig.Load(fsys)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"pulumi"`)
}

func TestParseEmptyFileReturnsDefaults(t *testing.T) {
	cfg, err := repoconfig.Parse([]byte("# nothing configured\n"))
	require.NoError(t, err)
	assert.Equal(t, repoconfig.Defaults(), cfg)
}

func TestParseAllFields(t *testing.T) {
	src := `
layers_dir  = "infra/layers"
engine      = "tofu"

layer "2.platform" {
  depends_on = ["1.network"]
}

layer "3.data" {
  depends_on = ["1.network", "2.platform"]
}

layer "4.insight" {
}
`
	cfg, err := repoconfig.Parse([]byte(src))
	require.NoError(t, err)
	assert.Equal(t, "infra/layers", cfg.LayersDir)
	assert.Equal(t, "tofu", cfg.Engine)
	require.Len(t, cfg.DependsOn, 3)
	assert.Equal(t, []string{"1.network"}, cfg.DependsOn["2.platform"])
	assert.Equal(t, []string{"1.network", "2.platform"}, cfg.DependsOn["3.data"])
	deps, ok := cfg.DependsOn["4.insight"]
	assert.True(t, ok, "a layer block without depends_on is still declared")
	assert.Empty(t, deps)
}

func TestParseAcceptsBothEngines(t *testing.T) {
	for _, engine := range []string{"terraform", "tofu"} {
		t.Run(engine, func(t *testing.T) {
			cfg, err := repoconfig.Parse([]byte("engine = \"" + engine + "\"\n"))
			require.NoError(t, err)
			assert.Equal(t, engine, cfg.Engine)
		})
	}
}

func TestParseCleansDirectories(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{".", "."},
		{"./", "."},
		{"./terraform/", "terraform"},
		{"infra//layers", "infra/layers"},
		{"infra/../layers", "layers"},
		{"..layers", "..layers"}, // a name starting with two dots stays inside the root
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cfg, err := repoconfig.Parse([]byte("layers_dir = \"" + tt.in + "\"\n"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.LayersDir)
		})
	}
}

func TestParseLayersDirAtRoot(t *testing.T) {
	cfg, err := repoconfig.Parse([]byte(`layers_dir = "."`))
	require.NoError(t, err)
	assert.Equal(t, ".", cfg.LayersDir)
	assert.Equal(t, "", cfg.Engine, "other settings keep their defaults")
}

func TestParseRejectsDirectoriesOutsideTheRepository(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"absolute layers_dir", `layers_dir = "/abs/terraform"`, `layers_dir must be a path relative to the repository root, not "/abs/terraform"`},
		{"windows drive", `layers_dir = "C:/terraform"`, `layers_dir must be a path relative to the repository root, not "C:/terraform"`},
		{"empty", `layers_dir = ""`, `layers_dir must be a path relative to the repository root, not ""`},
		{"parent", `layers_dir = "../x"`, `layers_dir must stay inside the repository, not "../x"`},
		{"parent itself", `layers_dir = ".."`, `layers_dir must stay inside the repository, not ".."`},
		{"escapes after cleaning", `layers_dir = "a/../../x"`, `layers_dir must stay inside the repository, not "a/../../x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := repoconfig.Parse([]byte(tt.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "infra.hcl")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseRejectsUnknownEngine(t *testing.T) {
	_, err := repoconfig.Parse([]byte("engine = \"pulumi\"\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "infra.hcl")
	assert.Contains(t, err.Error(), `engine must be "terraform" or "tofu", not "pulumi"`)
}

func TestParseRejectsDuplicateLayer(t *testing.T) {
	src := "layer \"1.a\" {\n  depends_on = []\n}\n\nlayer \"1.a\" {\n  depends_on = [\"2.b\"]\n}\n"
	_, err := repoconfig.Parse([]byte(src))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "infra.hcl")
	assert.Contains(t, err.Error(), `layer "1.a" is declared twice`)
}

func TestParseRejectsInvalidHCL(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{
			name: "unknown attribute",
			src:  "engine = \"tofu\"\nlayer_dir = \"infra\"\n",
			want: []string{"infra.hcl:2,1", "Unsupported argument", `"layer_dir"`},
		},
		{
			name: "unknown block",
			src:  "\n\nstage \"lint\" {\n}\n",
			want: []string{"infra.hcl:3,1", "Unsupported block type", `"stage"`},
		},
		{
			name: "unknown attribute in layer",
			src:  "layer \"1.a\" {\n  needs = [\"2.b\"]\n}\n",
			want: []string{"infra.hcl:2,3", "Unsupported argument", `"needs"`},
		},
		{
			name: "layer without label",
			src:  "layer {\n}\n",
			want: []string{"infra.hcl:1,7", "Missing name for layer"},
		},
		{
			name: "unclosed block",
			src:  "layer \"1.a\" {\n  depends_on = []\n",
			want: []string{"infra.hcl:1,13", "Unclosed configuration block"},
		},
		{
			name: "missing value",
			src:  "layers_dir = \"infra\"\nengine =\n",
			want: []string{"infra.hcl:2,9", "Invalid expression"},
		},
		{
			name: "wrong type",
			src:  "layer \"1.a\" {\n  depends_on = \"2.b\"\n}\n",
			want: []string{"infra.hcl:2,17", "list of string required"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := repoconfig.Parse([]byte(tt.src))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "invalid infra.hcl")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestCleanRelNamesTheField(t *testing.T) {
	_, err := repoconfig.CleanRel("--layers-dir", "/tmp/x")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--layers-dir must be a path relative to the repository root, not "/tmp/x"`)
}

func TestCleanRelReturnsCleanPath(t *testing.T) {
	dir, err := repoconfig.CleanRel("--layers-dir", "infra/./layers/")
	require.NoError(t, err)
	assert.Equal(t, "infra/layers", dir)
}

func TestParseValueErrorsNameTheirPosition(t *testing.T) {
	cases := []struct {
		src, want string
	}{
		{"\nengine = \"pulumi\"\n", `infra.hcl:2,10: engine must be "terraform" or "tofu", not "pulumi"`},
		{"layers_dir = \"../up\"\n", `infra.hcl:1,14: layers_dir must stay inside the repository, not "../up"`},
		{"layers_dir = \"/abs\"\n", `infra.hcl:1,14: layers_dir must be a path relative to the repository root, not "/abs"`},
		{"layer \"1.a\" {\n}\n\nlayer \"1.a\" {\n}\n", `infra.hcl:4,1: layer "1.a" is declared twice (first at infra.hcl:1,1)`},
	}
	for _, tc := range cases {
		cfg, err := repoconfig.Parse([]byte(tc.src))
		require.Error(t, err, tc.src)
		assert.Equal(t, tc.want, err.Error())
		assert.Equal(t, repoconfig.Defaults(), cfg, "no half-read config")
	}
}

func TestEngineForPrefersTheFlagThenTheFile(t *testing.T) {
	assert.Equal(t, "terraform", repoconfig.Defaults().EngineFor(""))
	cfg := repoconfig.Defaults()
	cfg.Engine = "tofu"
	assert.Equal(t, "tofu", cfg.EngineFor(""))
	assert.Equal(t, "terraform", cfg.EngineFor("terraform"))
}

func TestParseProviderMirror(t *testing.T) {
	cfg, err := repoconfig.Parse([]byte("provider_mirror = \"vendor/providers\"\n"))
	require.NoError(t, err)
	assert.Equal(t, "vendor/providers", cfg.ProviderMirror)

	cfg, err = repoconfig.Parse([]byte("engine = \"tofu\"\n"))
	require.NoError(t, err)
	assert.Empty(t, cfg.ProviderMirror, "by default providers install from their registries")

	_, err = repoconfig.Parse([]byte("provider_mirror = \"\"\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "infra.hcl:1,19: provider_mirror must name a directory")
}

func TestParseApplySettings(t *testing.T) {
	cfg, err := repoconfig.Parse([]byte(`
mask_patterns = ["tok_[a-z0-9]+"]

layer "1.bootstrap" {
  bootstrap_targets = ["module.nodep", "null_resource.kubeconfig[\"main\"]"]
}
`))
	require.NoError(t, err)
	assert.Equal(t, []string{"tok_[a-z0-9]+"}, cfg.MaskPatterns)
	assert.Equal(t, map[string][]string{"1.bootstrap": {"module.nodep", `null_resource.kubeconfig["main"]`}}, cfg.Bootstrap)

	for name, src := range map[string]string{
		"a flag as target":  "layer \"1.a\" {\n  bootstrap_targets = [\"-destroy\"]\n}\n",
		"spaces in target":  "layer \"1.a\" {\n  bootstrap_targets = [\"module.a module.b\"]\n}\n",
		"bad mask pattern":  "mask_patterns = [\"(\"]\n",
		"mask not a string": "mask_patterns = [{}]\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := repoconfig.Parse([]byte(src))
			assert.Error(t, err)
			assert.Contains(t, err.Error(), "infra.hcl:")
		})
	}
}

func TestCommentMode(t *testing.T) {
	cfg := repoconfig.Defaults()
	assert.Equal(t, repoconfig.PRAtlantis, cfg.PRAutomation)
	assert.Equal(t, repoconfig.Comments{Trusted: []string{"OWNER", "MEMBER", "COLLABORATOR"}, RequireApproval: true, RequireChecks: true}, cfg.Comments)

	cfg, err := repoconfig.Parse([]byte("pr_automation = \"comments\"\ncomments {\n  trusted = [\"OWNER\"]\n  require_checks = false\n}\n"))
	require.NoError(t, err)
	assert.Equal(t, repoconfig.PRComments, cfg.PRAutomation)
	assert.Equal(t, repoconfig.Comments{Trusted: []string{"OWNER"}, RequireApproval: true, RequireChecks: false}, cfg.Comments)

	for src, want := range map[string]string{
		"pr_automation = \"server\"\n":             `infra.hcl:1,17: pr_automation must be "atlantis" or "comments", not "server"`,
		"comments {\n  trusted = []\n}\n":          "comments.trusted lists nobody",
		"comments {\n  trusted = [\"owner\"]\n}\n": `comments.trusted: "owner" is not an author association`,
	} {
		_, err := repoconfig.Parse([]byte(src))
		assert.ErrorContains(t, err, want, src)
	}
}

func TestParseLayerRootsAndEnvironments(t *testing.T) {
	cfg, err := repoconfig.Parse([]byte(`layers = ["bootstrap", "./platform", "envs/*/data"]

environment "staging" {
  dir            = "envs/staging/"
  var_files      = ["env/staging.tfvars"]
  backend_config = "env/staging.s3.hcl"
  domain         = "staging.example.com"
}

environment "prod" {
  dir = "envs/prod"
}
`))
	require.NoError(t, err)
	assert.Equal(t, []string{"bootstrap", "platform", "envs/*/data"}, cfg.Layers)
	assert.Equal(t, []string{"staging", "prod"}, cfg.EnvironmentNames())
	assert.Equal(t, repoconfig.Environment{Name: "staging", Dir: "envs/staging", VarFiles: []string{"env/staging.tfvars"},
		BackendConfig: "env/staging.s3.hcl", Domain: "staging.example.com", Pos: "infra.hcl:3,1"}, *cfg.Environment("staging"))
	assert.Nil(t, cfg.Environment("qa"))
}

func TestParseRejectsBadLayerRootsAndEnvironments(t *testing.T) {
	for src, want := range map[string]string{
		"layers = []\n":                              "infra.hcl:1,10: layers must list at least one directory or glob",
		"layers = [\"../x\"]\n":                      "layers must stay inside the repository",
		"layers = [\"/abs\"]\n":                      "layers must be a path relative to the repository root",
		"layers = [\"a[\"]\n":                        `layers: "a[" is not a valid glob`,
		"layers = [\"a\"]\nlayers_dir = \"t\"\n":     "set layers or layers_dir, not both",
		"environment \"Prod\" {\n  dir = \"p\"\n}\n": `environment name "Prod" must be lower-case`,
		"environment \"p\" {\n  dir = \"p\"\n}\nenvironment \"p\" {\n  dir = \"q\"\n}\n":         `environment "p" is declared twice (first at infra.hcl:1,1)`,
		"environment \"a\" {\n  dir = \"envs\"\n}\nenvironment \"b\" {\n  dir = \"envs/b\"\n}\n": `environments "a" and "b" have overlapping directories (envs, envs/b)`,
		"environment \"a\" {\n  dir = \"../a\"\n}\n":                                             `environment "a": dir must stay inside the repository`,
		"environment \"a\" {\n}\n":                                           `environment "a" needs a dir`,
		"environment \"a\" {\n  var_files = [\"/etc/x\"]\n}\n":               "var_files are relative to the layer's directory",
		"environment \"a\" {\n  dir = \"a\"\n  domain = \"not a host\"\n}\n": `domain "not a host" is not a host name`,
	} {
		_, err := repoconfig.Parse([]byte(src))
		require.Error(t, err, src)
		assert.Contains(t, err.Error(), want, src)
	}
}
