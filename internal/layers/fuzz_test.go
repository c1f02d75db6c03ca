package layers_test

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

// Any file content either yields a layer set or an InputError; never a panic.
func FuzzDiscover(f *testing.F) {
	f.Add(remoteState("x", "1.a/terraform.tfstate"), false)
	f.Add(`module "m" { source = "../../modules/m" }`, false)
	f.Add(`{"data":{"terraform_remote_state":{"x":{"backend":"s3","config":{"key":"1.a/terraform.tfstate"}}}}}`, true)
	f.Add("terraform {\n  backend \"s3\" {\n    key = var.k\n  }\n}\n", false)
	f.Add("resource \"x\" {", false)
	f.Fuzz(func(t *testing.T, src string, isJSON bool) {
		name := "terraform/2.b/main.tf"
		if isJSON {
			name += ".json"
		}
		fsys := fstest.MapFS{
			"terraform/1.a/main.tf": file(backend("1.a/terraform.tfstate")),
			name:                    file(src),
			"modules/m/main.tf":     file(`module "n" { source = "../../terraform/2.b" }`),
		}
		set, err := layers.Discover(fsys, repoconfig.Defaults())
		if err != nil {
			var inputErr *layers.InputError
			if !errors.As(err, &inputErr) {
				t.Fatalf("not an InputError: %T %v", err, err)
			}
			return
		}
		if len(set.Layers) != 2 {
			t.Fatalf("want 2 layers, got %d", len(set.Layers))
		}
	})
}

func FuzzRepoConfig(f *testing.F) {
	f.Add("layers_dir = \"infra\"\nengine = \"tofu\"\nlayer \"1.a\" {\n  depends_on = [\"2.b\"]\n}\n")
	f.Add("layers_dir = \"../x\"")
	f.Add("layer {")
	f.Add("layers = [\"bootstrap\", \"envs/*/data\"]\nenvironment \"staging\" {\n  dir = \"envs/staging\"\n  var_files = [\"a.tfvars\"]\n}\n")
	f.Add("environment \"a\" {\n  backend_config = \"x.hcl\"\n  domain = \"a.example.com\"\n}\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := repoconfig.Parse([]byte(src))
		if err == nil && cfg.LayersDir == "" {
			t.Fatalf("accepted config without directories: %+v", cfg)
		}
	})
}

// Any infra.hcl over a repository of every layout either yields a layer set
// with unique keys or an error; never a panic.
func FuzzDeclaredLayouts(f *testing.F) {
	f.Add("layers = [\"*\", \"envs/*/*\"]\nenvironment \"staging\" {\n  dir = \"envs/staging\"\n}\n")
	f.Add("layers = [\"**\"]\n")
	f.Add("layers = [\"[\"]\n")
	f.Add("layers = [\"a/net\", \"b/net\"]\nenvironment \"p\" {\n  backend_config = \"p.hcl\"\n}\n")
	f.Fuzz(func(t *testing.T, src string) {
		fsys := fstest.MapFS{
			"infra.hcl":                    file(src),
			"01-vpc/main.tf":               file(backend("vpc")),
			"bootstrap/main.tf":            file(backend("bootstrap") + remoteState("v", "vpc")),
			"a/net/main.tf":                file(backend("a")),
			"b/net/main.tf":                file(backend("b")),
			"b/net/p.hcl":                  file("key = \"p\"\n"),
			"envs/staging/data/x.tf":       file(remoteState("b", "bootstrap")),
			"envs/prod/data/x.tf":          file(""),
			"terraform/1.a/main.tf":        file(""),
			"terraform/2.b/terragrunt.hcl": file("inputs = {}"),
		}
		cfg, err := repoconfig.Load(fsys)
		if err != nil {
			return
		}
		set, err := layers.Discover(fsys, cfg)
		if err != nil {
			var inputErr *layers.InputError
			if !errors.As(err, &inputErr) {
				t.Fatalf("not an InputError: %T %v", err, err)
			}
			return
		}
		keys := map[string]bool{}
		for _, l := range set.Layers {
			if keys[l.Dir] {
				t.Fatalf("two layers keyed %q", l.Dir)
			}
			keys[l.Dir] = true
		}
	})
}
