package toolchain_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/toolchain"
)

// versionsFile reads KEY=value lines of versions.env from disk, independently of
// the embedded copy that Pinned parses.
func versionsFile(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("versions.env")
	require.NoError(t, err)
	defer f.Close()
	vals := map[string]string{}
	re := regexp.MustCompile(`^([A-Z_]+)=([0-9][0-9A-Za-z.+-]*)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			vals[m[1]] = m[2]
		}
	}
	require.NoError(t, sc.Err())
	return vals
}

// isolate points every tool lookup at empty temporary directories.
func isolate(t *testing.T) (cache string) {
	t.Helper()
	cache = t.TempDir()
	t.Setenv("INFRA_CACHE_DIR", cache)
	t.Setenv("PATH", t.TempDir())
	t.Setenv("INFRA_TERRAFORM_BIN", "")
	t.Setenv("INFRA_TOFU_BIN", "")
	t.Setenv("INFRA_TFLINT_BIN", "")
	t.Setenv(toolchain.MirrorEnv, "")
	return cache
}

// executable writes an executable file and returns its path.
func executable(t *testing.T, path string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o755))
	return path
}

func TestPinnedMatchesVersionsEnv(t *testing.T) {
	want := versionsFile(t)
	v := toolchain.Pinned()
	semver := regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	for tool, got := range map[string]string{"TERRAFORM_VERSION": v.Terraform, "TOFU_VERSION": v.Tofu, "TFLINT_VERSION": v.TFLint} {
		assert.NotEmpty(t, got, tool)
		assert.Regexp(t, semver, got, tool)
		assert.Equal(t, want[tool], got, tool)
	}
}

func TestVersionByTool(t *testing.T) {
	v := toolchain.Versions{Terraform: "1.5.7", Tofu: "1.10.6", TFLint: "0.64.0"}
	assert.Equal(t, "1.5.7", v.Version("terraform"))
	assert.Equal(t, "1.10.6", v.Version("tofu"))
	assert.Equal(t, "0.64.0", v.Version("tflint"))
	assert.Empty(t, v.Version("pulumi"))
}

func TestEnginesHaveVersions(t *testing.T) {
	v := toolchain.Pinned()
	require.Equal(t, []string{"terraform", "tofu"}, toolchain.Engines)
	for _, e := range toolchain.Engines {
		assert.NotEmpty(t, v.Version(e), e)
	}
}

func TestImage(t *testing.T) {
	v := toolchain.Versions{Terraform: "1.5.7", Tofu: "1.10.6", TFLint: "0.64.0"}
	assert.Equal(t, "hashicorp/terraform:1.5.7", v.Image("terraform"))
	assert.Equal(t, "ghcr.io/opentofu/opentofu:1.10.6-minimal", v.Image("tofu"))
	assert.Equal(t, "ghcr.io/terraform-linters/tflint:v0.64.0", v.Image("tflint"))
	assert.Empty(t, v.Image("pulumi"))
}

func TestPinnedImagesUsePinnedVersions(t *testing.T) {
	v := toolchain.Pinned()
	assert.True(t, strings.HasSuffix(v.Image("terraform"), ":"+v.Terraform))
	assert.True(t, strings.HasSuffix(v.Image("tofu"), ":"+v.Tofu+"-minimal"))
	assert.True(t, strings.HasSuffix(v.Image("tflint"), ":v"+v.TFLint))
}

func TestBaseImageIsPinned(t *testing.T) {
	assert.Regexp(t, `^[a-z0-9./-]+:[0-9]+(\.[0-9]+)+$`, toolchain.BaseImage)
}

func TestCacheDirPrecedence(t *testing.T) {
	tests := []struct {
		name             string
		infra, xdg, home string
		want             string
	}{
		{"INFRA_CACHE_DIR wins", "/c/infra", "/c/xdg", "/c/home", "/c/infra"},
		{"XDG_CACHE_HOME", "", "/c/xdg", "/c/home", "/c/xdg/infra"},
		{"HOME", "", "", "/c/home", "/c/home/.cache/infra"},
		{"no home", "", "", "", filepath.Join(os.TempDir(), "infra-cache")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("INFRA_CACHE_DIR", tt.infra)
			t.Setenv("XDG_CACHE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			assert.Equal(t, tt.want, toolchain.CacheDir())
		})
	}
}

func TestFindUsesExplicitBinaries(t *testing.T) {
	isolate(t)
	bin := t.TempDir()
	tf := executable(t, filepath.Join(bin, "my-terraform"))
	lint := executable(t, filepath.Join(bin, "my-tflint"))
	t.Setenv("INFRA_TERRAFORM_BIN", tf)
	t.Setenv("INFRA_TFLINT_BIN", lint)
	// An explicit binary wins over a pinned build and the PATH.
	executable(t, filepath.Join(toolchain.CacheDir(), "tools", "bin", "terraform-"+toolchain.Pinned().Terraform))
	executable(t, filepath.Join(os.Getenv("PATH"), "tflint"))

	tools, err := toolchain.Find("terraform")
	require.NoError(t, err)
	assert.Equal(t, "terraform", tools.EngineName)
	assert.Equal(t, tf, tools.Engine)
	assert.Equal(t, lint, tools.TFLint)
}

func TestFindUsesTheEnginesOwnVariable(t *testing.T) {
	isolate(t)
	bin := t.TempDir()
	t.Setenv("INFRA_TERRAFORM_BIN", executable(t, filepath.Join(bin, "terraform")))
	tofu := executable(t, filepath.Join(bin, "tofu"))
	t.Setenv("INFRA_TOFU_BIN", tofu)
	t.Setenv("INFRA_TFLINT_BIN", executable(t, filepath.Join(bin, "tflint")))

	tools, err := toolchain.Find("tofu")
	require.NoError(t, err)
	assert.Equal(t, "tofu", tools.EngineName)
	assert.Equal(t, tofu, tools.Engine)
}

func TestFindPrefersPinnedBuildOverPath(t *testing.T) {
	cache := isolate(t)
	v := toolchain.Pinned()
	pinnedTF := executable(t, filepath.Join(cache, "tools", "bin", "terraform-"+v.Terraform))
	pinnedLint := executable(t, filepath.Join(cache, "tools", "bin", "tflint-"+v.TFLint))
	executable(t, filepath.Join(os.Getenv("PATH"), "terraform"))
	executable(t, filepath.Join(os.Getenv("PATH"), "tflint"))

	tools, err := toolchain.Find("terraform")
	require.NoError(t, err)
	assert.Equal(t, pinnedTF, tools.Engine)
	assert.Equal(t, pinnedLint, tools.TFLint)
}

func TestFindIgnoresOtherVersionsInTheCache(t *testing.T) {
	cache := isolate(t)
	executable(t, filepath.Join(cache, "tools", "bin", "terraform-0.0.1"))
	onPath := executable(t, filepath.Join(os.Getenv("PATH"), "terraform"))
	t.Setenv("INFRA_TFLINT_BIN", executable(t, filepath.Join(t.TempDir(), "tflint")))

	tools, err := toolchain.Find("terraform")
	require.NoError(t, err)
	assert.Equal(t, onPath, tools.Engine)
}

func TestFindFallsBackToPath(t *testing.T) {
	isolate(t)
	tf := executable(t, filepath.Join(os.Getenv("PATH"), "terraform"))
	lint := executable(t, filepath.Join(os.Getenv("PATH"), "tflint"))

	tools, err := toolchain.Find("terraform")
	require.NoError(t, err)
	assert.Equal(t, tf, tools.Engine)
	assert.Equal(t, lint, tools.TFLint)
}

func TestFindMissingExplicitBinary(t *testing.T) {
	isolate(t)
	t.Setenv("INFRA_TERRAFORM_BIN", executable(t, filepath.Join(t.TempDir(), "terraform")))
	nowhere := filepath.Join(t.TempDir(), "does-not-exist", "tflint")
	t.Setenv("INFRA_TFLINT_BIN", nowhere)
	// A tflint on the PATH does not hide the broken setting.
	executable(t, filepath.Join(os.Getenv("PATH"), "tflint"))

	_, err := toolchain.Find("terraform")
	require.Error(t, err)
	var missing *toolchain.MissingError
	require.True(t, errors.As(err, &missing), "want a MissingError, got %T: %v", err, err)
	assert.Equal(t, "tflint", missing.Tool)
	assert.Contains(t, missing.Hint, "INFRA_TFLINT_BIN="+nowhere)
	assert.Contains(t, err.Error(), "tflint is not installed")
	assert.Contains(t, err.Error(), nowhere)
}

func TestFindMissingTool(t *testing.T) {
	isolate(t)
	t.Setenv("INFRA_TERRAFORM_BIN", executable(t, filepath.Join(t.TempDir(), "terraform")))

	_, err := toolchain.Find("terraform")
	require.Error(t, err)
	var missing *toolchain.MissingError
	require.True(t, errors.As(err, &missing), "want a MissingError, got %T: %v", err, err)
	assert.Equal(t, "tflint", missing.Tool)
	assert.Contains(t, missing.Hint, "scripts/setup-tools")
	assert.Contains(t, missing.Hint, "put tflint on the PATH")
	assert.Equal(t, "tflint is not installed: "+missing.Hint, err.Error())
}

func TestFindMissingEngine(t *testing.T) {
	isolate(t)
	t.Setenv("INFRA_TFLINT_BIN", executable(t, filepath.Join(t.TempDir(), "tflint")))

	_, err := toolchain.Find("tofu")
	var missing *toolchain.MissingError
	require.True(t, errors.As(err, &missing), "want a MissingError, got %T: %v", err, err)
	assert.Equal(t, "tofu", missing.Tool)
}

func TestFindRejectsUnknownEngine(t *testing.T) {
	isolate(t)
	_, err := toolchain.Find("pulumi")
	require.Error(t, err)
	var missing *toolchain.MissingError
	assert.False(t, errors.As(err, &missing), "an unknown engine is bad input, not a missing tool")
	assert.Contains(t, err.Error(), `unknown engine "pulumi"`)
}

func TestResolveMirror(t *testing.T) {
	repo := t.TempDir()
	inRepo := filepath.Join(repo, "vendor", "providers")
	require.NoError(t, os.MkdirAll(inRepo, 0o755))
	flagDir, envDir := t.TempDir(), t.TempDir()
	file := filepath.Join(repo, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	tests := []struct {
		name, flag, env, configured string
		want, err                   string
	}{
		{name: "none asked for: providers install as init does", want: ""},
		{name: "the flag wins", flag: flagDir, env: envDir, configured: "vendor/providers", want: flagDir},
		{name: "then the environment", env: envDir, configured: "vendor/providers", want: envDir},
		{name: "then infra.hcl, relative to the repository", configured: "vendor/providers", want: inRepo},
		{name: "a missing directory is an error", flag: filepath.Join(repo, "nope"), err: `--provider-mirror "` + filepath.Join(repo, "nope") + `" is not a directory`},
		{name: "a file is no mirror", env: file, err: toolchain.MirrorEnv + ` "` + file + `" is not a directory`},
		{name: "infra.hcl's is checked too", configured: "gone", err: `provider_mirror in infra.hcl "` + filepath.Join(repo, "gone") + `" is not a directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(toolchain.MirrorEnv, tt.env)
			got, err := toolchain.ResolveMirror(tt.flag, tt.configured, repo)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestFindDoesNotPickAMirrorByItself(t *testing.T) {
	cache := isolate(t)
	require.NoError(t, os.MkdirAll(filepath.Join(cache, "tools", "mirror"), 0o755))
	bin := t.TempDir()
	t.Setenv("INFRA_TERRAFORM_BIN", executable(t, filepath.Join(bin, "terraform")))
	t.Setenv("INFRA_TFLINT_BIN", executable(t, filepath.Join(bin, "tflint")))
	tools, err := toolchain.Find("terraform")
	require.NoError(t, err)
	assert.Empty(t, tools.Mirror, "a mirror is used only when asked for")
	assert.Equal(t, filepath.Join(cache, "tools", "mirror"), toolchain.DefaultMirror())
}

// mirrorTree creates provider directories HOST/NAMESPACE/TYPE/VERSION/TARGET.
func mirrorTree(t *testing.T, providers ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range providers {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.FromSlash(p), "3.3.1", "linux_amd64"), 0o755))
	}
	return dir
}

func TestCLIConfigListsMirroredProviders(t *testing.T) {
	mirror := mirrorTree(t,
		"registry.terraform.io/hashicorp/null",
		"registry.terraform.io/hashicorp/random",
		"registry.opentofu.org/hashicorp/null",
	)
	path, err := toolchain.CLIConfig(filepath.Join(t.TempDir(), "tools"), mirror)
	require.NoError(t, err)
	body, err := os.ReadFile(path)
	require.NoError(t, err)

	list := `"registry.terraform.io/hashicorp/null", "registry.terraform.io/hashicorp/random", "registry.opentofu.org/hashicorp/null"`
	assert.Equal(t, "provider_installation {\n"+
		"  filesystem_mirror {\n"+
		"    path    = \""+mirror+"\"\n"+
		"    include = ["+list+"]\n"+
		"  }\n"+
		"  direct {\n"+
		"    exclude = ["+list+"]\n"+
		"  }\n"+
		"}\n", string(body))
}

func TestCLIConfigIsWrittenOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tools")
	mirror := mirrorTree(t, "registry.terraform.io/hashicorp/null")
	first, err := toolchain.CLIConfig(dir, mirror)
	require.NoError(t, err)
	assert.Equal(t, dir, filepath.Dir(first))
	assert.True(t, strings.HasSuffix(first, ".tfrc"), first)

	second, err := toolchain.CLIConfig(dir, mirror)
	require.NoError(t, err)
	assert.Equal(t, first, second)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files are left behind")
}

func TestCLIConfigPathChangesWithContent(t *testing.T) {
	dir := t.TempDir()
	a, err := toolchain.CLIConfig(dir, mirrorTree(t, "registry.terraform.io/hashicorp/null"))
	require.NoError(t, err)
	b, err := toolchain.CLIConfig(dir, mirrorTree(t, "registry.terraform.io/hashicorp/null", "registry.terraform.io/hashicorp/helm"))
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "a mirror with other providers gets its own config")
}

func TestCLIConfigWithoutMirrorIsEmpty(t *testing.T) {
	dir := t.TempDir()
	path, err := toolchain.CLIConfig(dir, "")
	require.NoError(t, err)
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Empty(t, body)

	again, err := toolchain.CLIConfig(dir, "")
	require.NoError(t, err)
	assert.Equal(t, path, again)
}

func TestCLIConfigReportsUnwritableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := toolchain.CLIConfig(filepath.Join(file, "tools"), "")
	assert.Error(t, err)
}

// The Atlantis image must be reproducible: every image it is made from carries
// an exact version, never a moving tag.
func TestAtlantisImageIsPinned(t *testing.T) {
	exact := regexp.MustCompile(`^[a-z0-9./-]+:v?[0-9]+\.[0-9]+\.[0-9]+(-[a-z]+)?$`)
	assert.Regexp(t, exact, toolchain.AtlantisImage())
	assert.Contains(t, toolchain.AtlantisImage(), "runatlantis/atlantis:")
	assert.Regexp(t, exact, toolchain.GoImage)

	v := toolchain.Pinned()
	tools := v.AtlantisTools()
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
		assert.Equal(t, v.Image(tool.Name), tool.Image, "%s comes from the image the stages run", tool.Name)
		assert.Regexp(t, exact, tool.Image, tool.Name)
		assert.True(t, strings.HasPrefix(tool.From, "/"), tool.From)
		assert.Equal(t, toolchain.ImageBinDir+"/"+tool.Name, tool.Path)
		assert.Equal(t, "INFRA_"+strings.ToUpper(tool.Name)+"_BIN", tool.Env)
	}
	assert.Equal(t, []string{"terraform", "tofu", "tflint"}, names)
}

// The variables the image sets are the ones Find reads first.
func TestAtlantisToolsAreFoundThroughTheirVariables(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	for _, tool := range toolchain.Pinned().AtlantisTools() {
		t.Setenv(tool.Env, executable(t, filepath.Join(dir, tool.Name)))
	}
	for _, engine := range toolchain.Engines {
		got, err := toolchain.Find(engine)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(dir, engine), got.Engine)
		assert.Equal(t, filepath.Join(dir, "tflint"), got.TFLint)
	}
}

// The server image runs the Atlantis release whose parser the generated
// atlantis.yaml is tested against.
func TestAtlantisVersionMatchesParserTest(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "atlantisyaml", "atlantisparse", "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(mod), "github.com/runatlantis/atlantis "+toolchain.AtlantisVersion+"\n")
}
