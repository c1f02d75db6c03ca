package apply

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/infra-flash/infra/internal/state"
)

// layerConfig is what apply needs from a layer's own HCL: its backend block and
// the module calls it makes (a module named nodep is applied first).
type layerConfig struct {
	backendType string
	backend     state.ConfigFile // literal attributes of the backend block
	modules     []string
}

var (
	rootSchema      = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "terraform"}, {Type: "module", LabelNames: []string{"name"}}}}
	terraformSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type"}}}}
)

// readLayerConfig parses the top-level .tf and .tf.json files of dir.
func readLayerConfig(fsys fs.FS, dir string) (layerConfig, error) {
	cfg := layerConfig{backend: state.ConfigFile{}}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return cfg, fmt.Errorf("reading %s: %w", dir, err)
	}
	parser := hclparse.NewParser()
	for _, e := range entries {
		name := e.Name()
		isJSON := strings.HasSuffix(name, ".tf.json")
		if e.IsDir() || !isJSON && !strings.HasSuffix(name, ".tf") {
			continue
		}
		src, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return cfg, err
		}
		var file *hcl.File
		var diags hcl.Diagnostics
		if isJSON {
			file, diags = parser.ParseJSON(src, path.Join(dir, name))
		} else {
			file, diags = parser.ParseHCL(src, path.Join(dir, name))
		}
		if diags.HasErrors() {
			return cfg, fmt.Errorf("invalid HCL: %s", diags.Error())
		}
		content, _, _ := file.Body.PartialContent(rootSchema)
		for _, b := range content.Blocks {
			if b.Type == "module" {
				cfg.modules = append(cfg.modules, b.Labels[0])
				continue
			}
			inner, _, _ := b.Body.PartialContent(terraformSchema)
			for _, be := range inner.Blocks {
				cfg.backendType = be.Labels[0]
				attrs, _ := be.Body.JustAttributes()
				for n, a := range attrs {
					if v, d := a.Expr.Value(nil); !d.HasErrors() && v.IsWhollyKnown() {
						cfg.backend[n] = v
					}
				}
			}
		}
	}
	sort.Strings(cfg.modules)
	return cfg, nil
}

// BootstrapModule is the module applied on its own before the rest of a layer,
// when a layer calls it: it creates what the layer's providers need (a cluster and
// its kubeconfig), so the full apply cannot run before it exists.
const BootstrapModule = "nodep"

// bootstrapTargets returns the -target addresses applied first: the configured
// list when there is one, else module.nodep when the layer calls it.
func bootstrapTargets(cfg layerConfig, configured []string) []string {
	if len(configured) > 0 {
		return configured
	}
	for _, m := range cfg.modules {
		if m == BootstrapModule {
			return []string{"module." + BootstrapModule}
		}
	}
	return nil
}

// StateSettings says where a layer's state lives: its backend block merged with
// the backend config file and the environment, as the engine would. For the
// local backend (or none) statePath is the state file's path relative to the
// repository: the block's path, else terraform.tfstate in the layer.
func StateSettings(fsys fs.FS, dir string, file state.ConfigFile, getenv func(string) string) (s state.Settings, statePath string, err error) {
	cfg, err := readLayerConfig(fsys, dir)
	if err != nil {
		return s, "", err
	}
	s = state.Resolve(cfg.backendType, cfg.backend, file, getenv)
	statePath = path.Join(dir, "terraform.tfstate")
	if p, ok := cfg.backend["path"]; ok && (s.Type == "local") && p.Type().FriendlyName() == "string" {
		statePath = path.Join(dir, p.AsString())
	}
	return s, statePath, nil
}

// EnvBackend is the backend config a layer runs with in an environment: the
// environment's file (relative to the layer's directory; "" for none) over the
// run's, as the engine merges two -backend-config files.
func EnvBackend(fsys fs.FS, dir, envFile string, run state.ConfigFile) (state.ConfigFile, error) {
	if envFile == "" {
		return run, nil
	}
	name := path.Join(dir, envFile)
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("backend config %s: %w", name, err)
	}
	file, err := state.ParseConfigFile(src)
	if err != nil {
		return nil, fmt.Errorf("backend config %s: %w", name, err)
	}
	merged := state.ConfigFile{}
	for k, v := range run {
		merged[k] = v
	}
	for k, v := range file {
		merged[k] = v
	}
	return merged, nil
}
