// Package repoconfig reads the optional repository config file, infra.hcl, at the
// repository root. Every setting has a default, so a repository needs no file at all.
package repoconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// FileName is the config file's name at the repository root.
const FileName = "infra.hcl"

// Config is the repository's pipeline configuration.
type Config struct {
	// LayersDir holds the N.name layer directories; "." when they sit at the root.
	LayersDir string
	// ModulesDir holds the reusable modules the layers call.
	ModulesDir string
	// Engine is "terraform" or "tofu"; empty means the caller's default.
	Engine string
	// DependsOn declares layer dependencies the HCL does not show, keyed by layer directory.
	DependsOn map[string][]string
}

// Defaults returns the configuration used when infra.hcl is absent.
func Defaults() Config {
	return Config{LayersDir: "terraform", ModulesDir: "modules", DependsOn: map[string][]string{}}
}

type fileSchema struct {
	LayersDir  *string       `hcl:"layers_dir,optional"`
	ModulesDir *string       `hcl:"modules_dir,optional"`
	Engine     *string       `hcl:"engine,optional"`
	Layers     []layerSchema `hcl:"layer,block"`
}

type layerSchema struct {
	Name      string   `hcl:"name,label"`
	DependsOn []string `hcl:"depends_on,optional"`
}

var engines = map[string]bool{"terraform": true, "tofu": true}

// Load reads infra.hcl from the root of fsys, returning Defaults when it does not exist.
// Errors carry the file, line and column of the problem.
func Load(fsys fs.FS) (Config, error) {
	cfg := Defaults()
	src, err := fs.ReadFile(fsys, FileName)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("reading %s: %w", FileName, err)
	}
	return Parse(src)
}

// Parse decodes the contents of an infra.hcl file.
func Parse(src []byte) (Config, error) {
	cfg := Defaults()
	file, diags := hclparse.NewParser().ParseHCL(src, FileName)
	if diags.HasErrors() {
		return cfg, diagError(diags)
	}
	var raw fileSchema
	if diags := gohcl.DecodeBody(file.Body, nil, &raw); diags.HasErrors() {
		return cfg, diagError(diags)
	}
	if raw.LayersDir != nil {
		dir, err := CleanRel("layers_dir", *raw.LayersDir)
		if err != nil {
			return cfg, err
		}
		cfg.LayersDir = dir
	}
	if raw.ModulesDir != nil {
		dir, err := CleanRel("modules_dir", *raw.ModulesDir)
		if err != nil {
			return cfg, err
		}
		cfg.ModulesDir = dir
	}
	if raw.Engine != nil {
		if !engines[*raw.Engine] {
			return cfg, fmt.Errorf("%s: engine must be \"terraform\" or \"tofu\", not %q", FileName, *raw.Engine)
		}
		cfg.Engine = *raw.Engine
	}
	for _, l := range raw.Layers {
		if _, dup := cfg.DependsOn[l.Name]; dup {
			return cfg, fmt.Errorf("%s: layer %q is declared twice", FileName, l.Name)
		}
		cfg.DependsOn[l.Name] = l.DependsOn
	}
	return cfg, nil
}

var windowsAbs = regexp.MustCompile(`^[A-Za-z]:`)

// CleanRel validates a repository-relative directory: no absolute paths, no escaping the root.
func CleanRel(field, dir string) (string, error) {
	if dir == "" || path.IsAbs(dir) || windowsAbs.MatchString(dir) {
		return "", fmt.Errorf("%s: %s must be a path relative to the repository root, not %q", FileName, field, dir)
	}
	clean := path.Clean(dir)
	if clean == ".." || len(clean) > 2 && clean[:3] == "../" {
		return "", fmt.Errorf("%s: %s must stay inside the repository, not %q", FileName, field, dir)
	}
	return clean, nil
}

func diagError(diags hcl.Diagnostics) error {
	return fmt.Errorf("invalid %s: %s", FileName, diags.Error())
}
