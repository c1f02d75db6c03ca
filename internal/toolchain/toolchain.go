// Package toolchain knows the pinned tool versions and where the setup script puts
// the tools, and decides how terraform/tofu install providers: as they would for
// the user (their registry, their CLI configuration), or, when asked, from a local
// filesystem mirror first.
package toolchain

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed versions.env
var versionsEnv string

// Versions are the pinned tool versions shared by the setup script, the native
// executor and the Dagger module's images.
type Versions struct {
	Terraform, Tofu, TFLint string
	VersityGW               string // the S3 server tests keep remote state in
}

// Pinned returns the versions from versions.env.
func Pinned() Versions {
	vals := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(versionsEnv))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vals[k] = strings.Trim(v, `"`)
		}
	}
	return Versions{Terraform: vals["TERRAFORM_VERSION"], Tofu: vals["TOFU_VERSION"], TFLint: vals["TFLINT_VERSION"], VersityGW: vals["VERSITYGW_VERSION"]}
}

// Engines lists the engines a layer can be checked with.
var Engines = []string{"terraform", "tofu"}

// Version returns the pinned version of an engine or "tflint".
func (v Versions) Version(tool string) string {
	switch tool {
	case "terraform":
		return v.Terraform
	case "tofu":
		return v.Tofu
	case "tflint":
		return v.TFLint
	case "versitygw":
		return v.VersityGW
	}
	return ""
}

// FindTool resolves another pinned tool (versitygw) the way Find resolves the
// engines: INFRA_<TOOL>_BIN, the pinned build in the cache, then the PATH.
func FindTool(tool string) (string, error) {
	v := Pinned().Version(tool)
	if v == "" {
		return "", fmt.Errorf("no pinned version of %q", tool)
	}
	return find(tool, v)
}

// CacheDir is where tools, the provider mirror and workspaces live.
func CacheDir() string {
	if d := os.Getenv("INFRA_CACHE_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "infra")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "infra")
	}
	return filepath.Join(os.TempDir(), "infra-cache")
}

// Tools are the resolved binaries for one run.
type Tools struct {
	EngineName string // "terraform" or "tofu"
	Engine     string // path of the engine binary
	TFLint     string // path of tflint
	// Mirror is a provider filesystem mirror to install from, "" to install providers
	// as terraform init does for the user. Set it from ResolveMirror.
	Mirror string
}

// MissingError says a tool is not installed; callers map it to the tool-error exit code.
type MissingError struct{ Tool, Hint string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s is not installed: %s", e.Tool, e.Hint)
}

// Find resolves the tools: an explicit INFRA_<TOOL>_BIN, then the pinned build in the
// cache, then the PATH.
func Find(engine string) (Tools, error) {
	if engine != "terraform" && engine != "tofu" {
		return Tools{}, fmt.Errorf("unknown engine %q: use terraform or tofu", engine)
	}
	v := Pinned()
	t := Tools{EngineName: engine}
	var err error
	if t.Engine, err = find(engine, v.Version(engine)); err != nil {
		return t, err
	}
	if t.TFLint, err = find("tflint", v.TFLint); err != nil {
		return t, err
	}
	return t, nil
}

// MirrorEnv names the environment variable that asks for a provider mirror.
const MirrorEnv = "INFRA_PROVIDER_MIRROR"

// DefaultMirror is where the setup script builds the filesystem mirror of the
// providers the reference layers use.
func DefaultMirror() string { return filepath.Join(CacheDir(), "tools", "mirror") }

// ResolveMirror decides whether providers come from a local filesystem mirror, and
// which: the --provider-mirror flag, else INFRA_PROVIDER_MIRROR, else infra.hcl's
// provider_mirror (relative to the repository root). "" everywhere means none:
// providers install as terraform init does for the user. A mirror that is asked
// for but is not a directory is an error (bad input).
func ResolveMirror(flag, configured, repoRoot string) (string, error) {
	dir, from := flag, "--provider-mirror"
	if dir == "" {
		dir, from = os.Getenv(MirrorEnv), MirrorEnv
	}
	if dir == "" && configured != "" {
		dir, from = configured, "provider_mirror in infra.hcl"
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(repoRoot, dir)
		}
	}
	if dir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("%s %q: %v", from, dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%s %q is not a directory (a provider filesystem mirror, such as scripts/setup-tools builds in %s)", from, dir, DefaultMirror())
	}
	return abs, nil
}

func find(tool, version string) (string, error) {
	if p := os.Getenv("INFRA_" + strings.ToUpper(tool) + "_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", &MissingError{Tool: tool, Hint: fmt.Sprintf("INFRA_%s_BIN=%s does not exist", strings.ToUpper(tool), p)}
		}
		return p, nil
	}
	pinned := filepath.Join(CacheDir(), "tools", "bin", tool+"-"+version)
	if _, err := os.Stat(pinned); err == nil {
		return pinned, nil
	}
	if p, err := exec.LookPath(tool); err == nil {
		return p, nil
	}
	return "", &MissingError{Tool: tool, Hint: "run scripts/setup-tools to build the pinned version, or put " + tool + " on the PATH"}
}

// CLIConfig writes (once) a terraform/tofu CLI configuration that installs the
// providers the filesystem mirror has from it and every other provider from its
// registry, and returns its path. Terraform merges the versions of every
// installation method that matches a provider and fails when one of them cannot
// be reached, so each mirrored provider is included in the mirror and excluded
// from direct installation: offline, the mirror still serves what it has.
// With no mirror it returns an empty configuration.
func CLIConfig(dir, mirror string) (string, error) {
	var body string
	if mirror != "" {
		var include []string
		for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
			namespaces, _ := os.ReadDir(filepath.Join(mirror, host))
			for _, ns := range namespaces {
				if !ns.IsDir() {
					continue
				}
				types, _ := os.ReadDir(filepath.Join(mirror, host, ns.Name()))
				for _, t := range types {
					if t.IsDir() {
						include = append(include, fmt.Sprintf("%q", host+"/"+ns.Name()+"/"+t.Name()))
					}
				}
			}
		}
		list := strings.Join(include, ", ")
		body = fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [%s]\n  }\n  direct {\n    exclude = [%s]\n  }\n}\n", mirror, list, list)
	}
	sum := sha256.Sum256([]byte(body))
	path := filepath.Join(dir, "cli-"+hex.EncodeToString(sum[:6])+".tfrc")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".cli-*.tfrc")
	if err != nil {
		return "", err
	}
	_, werr := tmp.WriteString(body)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return "", werr
	}
	return path, os.Rename(tmp.Name(), path)
}

// BaseImage is the image the tofu binary is copied into: OpenTofu 1.10+ publishes
// only a minimal image holding the binary, not one to run directly.
const BaseImage = "alpine:3.22"

// Image returns the pinned container image of "terraform", "tofu" or "tflint", the
// same versions the setup script builds for the native executor. The tofu image
// only carries /usr/local/bin/tofu (see BaseImage).
func (v Versions) Image(tool string) string {
	switch tool {
	case "terraform":
		return "hashicorp/terraform:" + v.Terraform
	case "tofu":
		return "ghcr.io/opentofu/opentofu:" + v.Tofu + "-minimal"
	case "tflint":
		return "ghcr.io/terraform-linters/tflint:v" + v.TFLint
	}
	return ""
}

// AtlantisVersion is the Atlantis release the server image builds on; generated
// atlantis.yaml files are tested against the same release's parser.
const AtlantisVersion = "v0.34.0"

// AtlantisImage returns the pinned stock Atlantis server image.
func AtlantisImage() string { return "ghcr.io/runatlantis/atlantis:" + AtlantisVersion }

// GoImage builds the infra binary for the Atlantis image.
const GoImage = "golang:1.25.4-alpine"

// ImageBinDir is where the Atlantis image keeps the pinned binaries, ahead of the
// stock image's own terraform on the PATH.
const ImageBinDir = "/opt/infra/bin"

// ImageTool is one pinned binary the Atlantis image carries: the file at From in
// Image, copied to Path; Env names the variable through which the infra CLI finds
// it (Find), so the pinned build is used whatever else is on the PATH.
type ImageTool struct {
	Name, Image, From, Path, Env string
}

// AtlantisTools lists the pinned binaries the Atlantis image copies in from the
// same images the Dagger module runs the stages with.
func (v Versions) AtlantisTools() []ImageTool {
	from := map[string]string{
		"terraform": "/bin/terraform",
		"tofu":      "/usr/local/bin/tofu",
		"tflint":    "/usr/local/bin/tflint",
	}
	var out []ImageTool
	for _, tool := range []string{"terraform", "tofu", "tflint"} {
		out = append(out, ImageTool{
			Name:  tool,
			Image: v.Image(tool),
			From:  from[tool],
			Path:  ImageBinDir + "/" + tool,
			Env:   "INFRA_" + strings.ToUpper(tool) + "_BIN",
		})
	}
	return out
}
