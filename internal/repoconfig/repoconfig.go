// Package repoconfig reads the optional repository config file, infra.hcl, at the
// repository root. Every setting has a default, so a repository needs no file at all.
package repoconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FileName is the config file's name at the repository root.
const FileName = "infra.hcl"

// Config is the repository's pipeline configuration.
type Config struct {
	// LayersDir holds the numbered layer directories (N.name, NN-name, NN_name);
	// "." when they sit at the root.
	LayersDir string
	// LayersDirSet says LayersDir was chosen (by the file or a flag), not the
	// default: only the default also looks for numbered directories at the root.
	LayersDirSet bool
	// Layers, when set, declares the layer roots instead: directories or globs
	// relative to the repository root, each match a layer.
	Layers []string
	// Environments are the declared environments, in the file's order.
	Environments []Environment
	// Engine is "terraform" or "tofu"; empty means the caller's default.
	Engine string
	// DependsOn declares layer dependencies the HCL does not show, keyed by layer directory.
	DependsOn map[string][]string
	// ProviderMirror is a provider filesystem mirror to install providers from
	// (relative to the repository root, or absolute); "" installs them as terraform
	// init does for the user.
	ProviderMirror string
	// Bootstrap lists, per layer directory, the -target addresses applied before the
	// rest of the layer (default: module.nodep when the layer calls it).
	Bootstrap map[string][]string
	// MaskPatterns are regular expressions whose matches are masked in rendered plans.
	MaskPatterns []string
	// PRAutomation is how pull requests plan and apply: "atlantis" (an Atlantis
	// server, atlantis.yaml) or "comments" (comment commands run in CI).
	PRAutomation string
	// Comments is comment mode's policy.
	Comments Comments
}

// Comments is who may run comment commands and what /apply waits for.
type Comments struct {
	Trusted         []string // author associations; default OWNER, MEMBER, COLLABORATOR
	RequireApproval bool     // default true
	RequireChecks   bool     // default true
}

// PR automation modes.
const (
	PRAtlantis = "atlantis"
	PRComments = "comments"
)

// Environment is one environment "name" block: the layers under Dir belong to
// it; the others are shared.
type Environment struct {
	Name string
	Dir  string // repository-relative; "" when the environment has no directory of its own
	// VarFiles and BackendConfig are relative to a layer's directory: a layer
	// outside Dir that holds them is applied in this environment with them.
	VarFiles      []string
	BackendConfig string
	Domain        string // what dig probes; "" when not set
	Pos           string // "infra.hcl:LINE,COL" of the block, for messages
}

// Environment returns the environment called name, or nil.
func (c Config) Environment(name string) *Environment {
	for i := range c.Environments {
		if c.Environments[i].Name == name {
			return &c.Environments[i]
		}
	}
	return nil
}

// EnvironmentNames lists the declared environments, in the file's order.
func (c Config) EnvironmentNames() []string {
	out := make([]string, len(c.Environments))
	for i, e := range c.Environments {
		out[i] = e.Name
	}
	return out
}

// DefaultEngine is used when neither a flag nor infra.hcl names one.
const DefaultEngine = "terraform"

// EngineFor returns the engine a run uses: the caller's choice (a flag), else the
// file's, else DefaultEngine.
func (c Config) EngineFor(override string) string {
	switch {
	case override != "":
		return override
	case c.Engine != "":
		return c.Engine
	}
	return DefaultEngine
}

// Defaults returns the configuration used when infra.hcl is absent.
func Defaults() Config {
	return Config{LayersDir: "terraform", DependsOn: map[string][]string{}, Bootstrap: map[string][]string{},
		PRAutomation: PRAtlantis, Comments: Comments{Trusted: []string{"OWNER", "MEMBER", "COLLABORATOR"}, RequireApproval: true, RequireChecks: true}}
}

type fileSchema struct {
	LayersDir      *string         `hcl:"layers_dir,optional"`
	LayerRoots     *[]string       `hcl:"layers,optional"`
	Environments   []envSchema     `hcl:"environment,block"`
	Engine         *string         `hcl:"engine,optional"`
	ProviderMirror *string         `hcl:"provider_mirror,optional"`
	Mask           []string        `hcl:"mask_patterns,optional"`
	Layers         []layerSchema   `hcl:"layer,block"`
	PRAutomation   *string         `hcl:"pr_automation,optional"`
	Comments       *commentsSchema `hcl:"comments,block"`
}

type commentsSchema struct {
	Trusted         *[]string `hcl:"trusted,optional"`
	RequireApproval *bool     `hcl:"require_approval,optional"`
	RequireChecks   *bool     `hcl:"require_checks,optional"`
}

// associations are GitHub's author associations.
var associations = map[string]bool{"OWNER": true, "MEMBER": true, "COLLABORATOR": true, "CONTRIBUTOR": true,
	"FIRST_TIME_CONTRIBUTOR": true, "FIRST_TIMER": true, "MANNEQUIN": true, "NONE": true}

type layerSchema struct {
	Name      string   `hcl:"name,label"`
	DependsOn []string `hcl:"depends_on,optional"`
	Bootstrap []string `hcl:"bootstrap_targets,optional"`
}

type envSchema struct {
	Name          string   `hcl:"name,label"`
	Dir           *string  `hcl:"dir,optional"`
	VarFiles      []string `hcl:"var_files,optional"`
	BackendConfig *string  `hcl:"backend_config,optional"`
	Domain        *string  `hcl:"domain,optional"`
}

var envName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidEnvName tells whether name may name an environment: lower-case letters,
// digits, - and _, so that it is safe in a path and in a comment command.
func ValidEnvName(name string) bool { return envName.MatchString(name) }

var hostname = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

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

// Parse decodes the contents of an infra.hcl file. Errors name the file, line and
// column; on error the defaults come back, never a half-read config.
func Parse(src []byte) (Config, error) {
	file, diags := hclparse.NewParser().ParseHCL(src, FileName)
	if diags.HasErrors() {
		return Defaults(), diagError(diags)
	}
	var raw fileSchema
	if diags := gohcl.DecodeBody(file.Body, nil, &raw); diags.HasErrors() {
		return Defaults(), diagError(diags)
	}
	cfg, err := validate(raw, file.Body)
	if err != nil {
		return Defaults(), err
	}
	return cfg, nil
}

func validate(raw fileSchema, body hcl.Body) (Config, error) {
	cfg := Defaults()
	if raw.LayersDir != nil {
		dir, err := CleanRel("layers_dir", *raw.LayersDir)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", attrPos(body, "layers_dir"), err)
		}
		cfg.LayersDir = dir
		cfg.LayersDirSet = true
	}
	if raw.LayerRoots != nil {
		if raw.LayersDir != nil {
			return cfg, fmt.Errorf("%s: set layers or layers_dir, not both: layers lists every layer root, layers_dir one directory of numbered layers", attrPos(body, "layers"))
		}
		if len(*raw.LayerRoots) == 0 {
			return cfg, fmt.Errorf("%s: layers must list at least one directory or glob, such as [\"bootstrap\", \"envs/*/app\"]", attrPos(body, "layers"))
		}
		for _, p := range *raw.LayerRoots {
			clean, err := CleanRel("layers", p)
			if err == nil {
				_, err = path.Match(clean, "")
				if err != nil {
					err = fmt.Errorf("layers: %q is not a valid glob", p)
				}
			}
			if err != nil {
				return cfg, fmt.Errorf("%s: %w", attrPos(body, "layers"), err)
			}
			cfg.Layers = append(cfg.Layers, clean)
		}
	}
	if err := readEnvironments(&cfg, raw.Environments, body); err != nil {
		return cfg, err
	}
	if raw.Engine != nil {
		if !engines[*raw.Engine] {
			return cfg, fmt.Errorf("%s: engine must be \"terraform\" or \"tofu\", not %q", attrPos(body, "engine"), *raw.Engine)
		}
		cfg.Engine = *raw.Engine
	}
	if raw.ProviderMirror != nil {
		if *raw.ProviderMirror == "" {
			return cfg, fmt.Errorf("%s: provider_mirror must name a directory; leave it out to install providers from their registries", attrPos(body, "provider_mirror"))
		}
		cfg.ProviderMirror = *raw.ProviderMirror
	}
	first := map[string]string{}
	for i, l := range raw.Layers {
		pos := blockPos(body, i)
		if at, dup := first[l.Name]; dup {
			return cfg, fmt.Errorf("%s: layer %q is declared twice (first at %s)", pos, l.Name, at)
		}
		first[l.Name] = pos
		cfg.DependsOn[l.Name] = l.DependsOn
		for _, t := range l.Bootstrap {
			if !targetPattern.MatchString(t) {
				return cfg, fmt.Errorf("%s: bootstrap_targets: %q is not a resource or module address", pos, t)
			}
		}
		if len(l.Bootstrap) > 0 {
			cfg.Bootstrap[l.Name] = l.Bootstrap
		}
	}
	for i, p := range raw.Mask {
		if _, err := regexp.Compile(p); err != nil {
			return cfg, fmt.Errorf("%s: mask_patterns[%d] is not a regular expression", attrPos(body, "mask_patterns"), i)
		}
	}
	cfg.MaskPatterns = raw.Mask
	if raw.PRAutomation != nil {
		if *raw.PRAutomation != PRAtlantis && *raw.PRAutomation != PRComments {
			return cfg, fmt.Errorf("%s: pr_automation must be %q or %q, not %q", attrPos(body, "pr_automation"), PRAtlantis, PRComments, *raw.PRAutomation)
		}
		cfg.PRAutomation = *raw.PRAutomation
	}
	if c := raw.Comments; c != nil {
		if c.Trusted != nil {
			if len(*c.Trusted) == 0 {
				return cfg, fmt.Errorf("%s: comments.trusted lists nobody: no comment could run a command", FileName)
			}
			for _, a := range *c.Trusted {
				if !associations[a] {
					return cfg, fmt.Errorf("%s: comments.trusted: %q is not an author association (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, …)", FileName, a)
				}
			}
			cfg.Comments.Trusted = *c.Trusted
		}
		if c.RequireApproval != nil {
			cfg.Comments.RequireApproval = *c.RequireApproval
		}
		if c.RequireChecks != nil {
			cfg.Comments.RequireChecks = *c.RequireChecks
		}
	}
	return cfg, nil
}

func readEnvironments(cfg *Config, envs []envSchema, body hcl.Body) error {
	for i, e := range envs {
		pos := blockPosOf(body, "environment", i)
		if !ValidEnvName(e.Name) {
			return fmt.Errorf("%s: environment name %q must be lower-case letters, digits, - and _", pos, e.Name)
		}
		if other := cfg.Environment(e.Name); other != nil {
			return fmt.Errorf("%s: environment %q is declared twice (first at %s)", pos, e.Name, other.Pos)
		}
		dir := ""
		if e.Dir != nil {
			var err error
			if dir, err = CleanRel("dir", *e.Dir); err != nil {
				return fmt.Errorf("%s: environment %q: %w", pos, e.Name, err)
			}
		}
		if e.Dir == nil && len(e.VarFiles) == 0 && e.BackendConfig == nil {
			return fmt.Errorf("%s: environment %q needs a dir (its layers), or var_files or backend_config (the files its layers apply with)", pos, e.Name)
		}
		env := Environment{Name: e.Name, Dir: dir, Pos: pos}
		for _, o := range cfg.Environments {
			if dir == "" || o.Dir == "" {
				continue
			}
			if dir == o.Dir || dir == "." || o.Dir == "." || strings.HasPrefix(dir, o.Dir+"/") || strings.HasPrefix(o.Dir, dir+"/") {
				return fmt.Errorf("%s: environments %q and %q have overlapping directories (%s, %s): a layer belongs to one environment", pos, o.Name, e.Name, o.Dir, dir)
			}
		}
		for _, f := range e.VarFiles {
			if f == "" || path.IsAbs(f) || windowsAbs.MatchString(f) {
				return fmt.Errorf("%s: environment %q: var_files are relative to the layer's directory, not %q", pos, e.Name, f)
			}
			env.VarFiles = append(env.VarFiles, path.Clean(f))
		}
		if e.BackendConfig != nil {
			f := *e.BackendConfig
			if f == "" || path.IsAbs(f) || windowsAbs.MatchString(f) {
				return fmt.Errorf("%s: environment %q: backend_config is a file relative to the layer's directory, not %q", pos, e.Name, f)
			}
			env.BackendConfig = path.Clean(f)
		}
		if e.Domain != nil {
			if !hostname.MatchString(*e.Domain) {
				return fmt.Errorf("%s: environment %q: domain %q is not a host name", pos, e.Name, *e.Domain)
			}
			env.Domain = *e.Domain
		}
		cfg.Environments = append(cfg.Environments, env)
	}
	return nil
}

// attrPos is "infra.hcl:LINE,COL" of an attribute's value.
func attrPos(body hcl.Body, name string) string {
	if sb, ok := body.(*hclsyntax.Body); ok {
		if a, ok := sb.Attributes[name]; ok {
			return pos(a.Expr.Range())
		}
	}
	return FileName
}

// blockPos is the position of the i-th layer block.
func blockPos(body hcl.Body, i int) string { return blockPosOf(body, "layer", i) }

// blockPosOf is the position of the i-th block of a type.
func blockPosOf(body hcl.Body, typ string, i int) string {
	if sb, ok := body.(*hclsyntax.Body); ok {
		n := 0
		for _, b := range sb.Blocks {
			if b.Type != typ {
				continue
			}
			if n == i {
				return pos(b.DefRange())
			}
			n++
		}
	}
	return FileName
}

func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

var windowsAbs = regexp.MustCompile(`^[A-Za-z]:`)

// targetPattern accepts addresses such as module.nodep or null_resource.a["x"],
// never anything that could pass as a command-line flag.
var targetPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\[\]"-]*$`)

// CleanRel validates a repository-relative directory: no absolute paths, no escaping the root.
func CleanRel(field, dir string) (string, error) {
	if dir == "" || path.IsAbs(dir) || windowsAbs.MatchString(dir) {
		return "", fmt.Errorf("%s must be a path relative to the repository root, not %q", field, dir)
	}
	clean := path.Clean(dir)
	if clean == ".." || len(clean) > 2 && clean[:3] == "../" {
		return "", fmt.Errorf("%s must stay inside the repository, not %q", field, dir)
	}
	return clean, nil
}

func diagError(diags hcl.Diagnostics) error {
	return fmt.Errorf("invalid %s: %s", FileName, diags.Error())
}
