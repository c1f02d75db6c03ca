// Package testfixture writes small, valid, lint-clean layered Terraform trees that
// use only the null provider, for tests and benchmarks of the real tools.
package testfixture

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/infra-flash/infra/internal/toolchain"
)

// Files maps repository-relative paths to contents.
type Files map[string]string

// Layer describes one generated layer.
type Layer struct {
	Dir       string   // "2.platform"
	DependsOn []string // layers whose state it reads
}

// Tree returns a repository with the given layers under terraform/ and one shared
// module, modules/marker, that every layer calls.
func Tree(ls ...Layer) Files {
	f := Files{
		"modules/marker/main.tf": `terraform {
  required_version = ">= 1.5.0"
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = ">= 3.0"
    }
  }
}

variable "name" {
  description = "What the marker is for."
  type        = string
}

resource "null_resource" "this" {
  triggers = {
    name = var.name
  }
}

output "id" {
  description = "The marker's id."
  value       = null_resource.this.id
}
`,
	}
	for _, l := range ls {
		p := "terraform/" + l.Dir + "/"
		f[p+"versions.tf"] = fmt.Sprintf(`terraform {
  required_version = ">= 1.5.0"
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = ">= 3.0"
    }
  }
  backend "s3" {
    bucket = "state"
    key    = "%s/terraform.tfstate"
    region = "auto"
  }
}
`, l.Dir)
		var b strings.Builder
		fmt.Fprintf(&b, "module \"marker\" {\n  source = \"../../modules/marker\"\n  name   = %q\n}\n", l.Dir)
		deps := append([]string(nil), l.DependsOn...)
		sort.Strings(deps)
		for _, d := range deps {
			fmt.Fprintf(&b, `
data "terraform_remote_state" "%s" {
  backend = "s3"
  config = {
    bucket = "state"
    key    = "%s/terraform.tfstate"
    region = "auto"
  }
}
`, ident(d), d)
		}
		f[p+"main.tf"] = b.String()
		var o strings.Builder
		o.WriteString("output \"marker\" {\n  description = \"This layer's marker.\"\n  value       = module.marker.id\n}\n")
		for _, d := range deps {
			fmt.Fprintf(&o, "\noutput \"from_%s\" {\n  description = \"The marker of a layer this one reads.\"\n  value       = data.terraform_remote_state.%s.outputs.marker\n}\n", ident(d), ident(d))
		}
		f[p+"outputs.tf"] = o.String()
	}
	return f
}

func ident(dir string) string { return "l_" + strings.NewReplacer(".", "_", "-", "_").Replace(dir) }

// Chain returns n layers, each reading the previous one.
func Chain(names ...string) []Layer {
	out := make([]Layer, len(names))
	for i, n := range names {
		out[i] = Layer{Dir: fmt.Sprintf("%d.%s", i+1, n)}
		if i > 0 {
			out[i].DependsOn = []string{out[i-1].Dir}
		}
	}
	return out
}

// Diamond returns n layers where layer 1 fans out to the middle ones, which fan in
// to the last: the dependency shape that dependency-ordered runners serialise.
func Diamond(n int) []Layer {
	out := make([]Layer, n)
	for i := range out {
		out[i] = Layer{Dir: fmt.Sprintf("%d.l%02d", i+1, i+1)}
	}
	for i := 1; i < n-1; i++ {
		out[i].DependsOn = []string{out[0].Dir}
	}
	for i := 1; i < n-1; i++ {
		out[n-1].DependsOn = append(out[n-1].DependsOn, out[i].Dir)
	}
	return out
}

// Write creates the files under dir.
func Write(t testing.TB, dir string, files Files) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Tools finds the installed pinned tools and points the process at them through
// the INFRA_* variables, with caches and workspaces in a fresh temporary directory.
// Providers come from the setup script's filesystem mirror (INFRA_PROVIDER_MIRROR),
// as the tests run offline. It fails (never skips) when they are missing:
// scripts/test installs them.
func Tools(t testing.TB, engine string) toolchain.Tools {
	t.Helper()
	mirror, err := toolchain.ResolveMirror(toolchain.DefaultMirror(), "", "")
	tools := ToolsWithoutMirror(t, engine) // moves the cache dir: resolve the mirror first
	if err != nil {
		t.Fatalf("%v: run scripts/setup-tools", err)
	}
	tools.Mirror = mirror
	t.Setenv(toolchain.MirrorEnv, mirror)
	return tools
}

// ToolsWithoutMirror is Tools for tests of the default provider installation
// (the user's CLI configuration and registries): no mirror is asked for.
func ToolsWithoutMirror(t testing.TB, engine string) toolchain.Tools {
	t.Helper()
	tools, err := toolchain.Find(engine)
	if err != nil {
		t.Fatalf("%v (scripts/test installs the tools before running the tests)", err)
	}
	t.Setenv("INFRA_"+strings.ToUpper(engine)+"_BIN", tools.Engine)
	t.Setenv("INFRA_TFLINT_BIN", tools.TFLint)
	t.Setenv(toolchain.MirrorEnv, "")
	if gw, err := toolchain.FindTool("versitygw"); err == nil {
		t.Setenv("INFRA_VERSITYGW_BIN", gw) // StartS3 finds it after the cache moves
	}
	t.Setenv("INFRA_CACHE_DIR", t.TempDir())
	return tools
}
