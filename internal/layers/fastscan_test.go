package layers

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/testfixture"
)

// slowScan reads src with the HCL parser; ok is false when it has errors.
func slowScan(src []byte) (*dirScan, bool) {
	s := &dirScan{}
	s.parseFile(src, "terraform/2.b/main.tf", "terraform/2.b", false)
	return s, len(s.problems) == 0 && len(s.broken) == 0
}

func fastFacts(src []byte) (*dirScan, bool) {
	f, ok := fastScan(src, "terraform/2.b")
	if !ok {
		return nil, false
	}
	s := &dirScan{}
	f.addTo(s)
	return s, true
}

func sameFacts(t *testing.T, want, got *dirScan, src []byte) {
	t.Helper()
	assert.Equal(t, want.state, got.state, "state\n%s", src)
	assert.Equal(t, want.remoteStates, got.remoteStates, "remote states\n%s", src)
	assert.Equal(t, want.modules, got.modules, "modules\n%s", src)
	assert.Equal(t, want.initParts, got.initParts, "init parts\n%s", src)
}

// fastScanSeeds are files the fast path must read itself, without falling back.
func fastScanSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for name, content := range testfixture.Tree(testfixture.Diamond(3)...) {
		seeds[name] = []byte(content)
	}
	root := filepath.Join("..", "..")
	for _, dir := range []string{"terraform", "modules"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tf") {
				b, err := os.ReadFile(p)
				seeds[p] = b
				return err
			}
			return err
		})
		require.NoError(t, err)
	}
	seeds["tricky"] = []byte(`# a comment with "quotes" and { braces
terraform {
  required_version = ">= 1.5" // trailing
  required_providers {
    null = { source = "hashicorp/null", version = "~> 3.0" } /* block comment */
    helm = {
      source  = "hashicorp/helm"
      version = ">= 2.12, < 4"
    }
  }
  backend "s3" {
    bucket = "state"
    key    = "2.b/terraform.tfstate"
    assume_role {
      role_arn = "arn:x"
    }
  }
}

locals {
  text = <<-EOT
    a "quoted" } brace and ${upper("x}")} and $${literal}
    EOT
  obj = { a = "}", b = ["]", "{"] }
}

module "one_line" { source = "../../modules/x" }

module "versioned" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0" # pinned
  tags = {
    "Name" = "x"
  }
}

data "terraform_remote_state" "a" {
  backend = "s3"
  config = {
    bucket = var.bucket
    key    = "1.a/terraform.tfstate"
  }
}

data "terraform_remote_state" "local" {
  backend = "local"
  config  = { path = "../1.a/terraform.tfstate" }
}

resource "null_resource" "x" {
  triggers = {
    s = "%{if true}yes%{endif}"
  }
}

provider "kubernetes" {
  alias = "k"
}

data "aws_caller_identity" "me" {}
`)
	return seeds
}

func TestFastScanMatchesHCLOnRealFiles(t *testing.T) {
	for name, src := range fastScanSeeds(t) {
		t.Run(name, func(t *testing.T) {
			want, ok := slowScan(src)
			require.True(t, ok, "seed does not parse: %+v", want.problems)
			got, ok := fastFacts(src)
			require.True(t, ok, "the fast path gave up on a plain file")
			sameFacts(t, want, got, src)
		})
	}
}

func TestFastScanGivesUpOnWhatItDoesNotRead(t *testing.T) {
	for _, src := range []string{
		"module \"m\" {\n  source = \"${path.module}/x\"\n}\n",
		"module \"m\" {\n  source = \"a\\\\b\"\n}\n",
		"terraform {\n  backend \"s3\" {\n    key = (\"k\")\n  }\n}\n",
		"resource \"x\" {\n}\n",
		"resource \"x\" \"y\" {\n",
		"módulo \"m\" {}\n",
		"module \"m\" {\n  source = \"a\"\n  source = \"b\"\n}\n",
		"a \"a\\",                    // an escape cut off by the end of the file, in a label
		"x = \"a\\",                  // and in an expression
		"a \"b\" \"c\" \"d\" {\n}\n", // more labels than any block discovery reads
	} {
		_, ok := fastScan([]byte(src), "d")
		assert.False(t, ok, src)
	}
}

// The fast path either gives up or reads exactly what the HCL parser reads.
func FuzzFastScanMatchesHCL(f *testing.F) {
	for _, src := range fastScanSeeds(f) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		want, ok := slowScan(src)
		if !ok {
			return
		}
		got, ok := fastFacts(src)
		if !ok {
			return
		}
		sameFacts(t, want, got, src)
	})
}

// FuzzParseDir holds the hand-written layer directory matcher to the pattern the
// model documents.
func FuzzParseDir(f *testing.F) {
	for _, seed := range []string{"1.bootstrap", "12.data-lake", "3.a_b", "1.", ".x", "1.-x", "01.x", "1.x.y", "a.b", "99999999999999999999.x", "1.ünï", "2.platform ", "00-prereqs", "01_vpc", "06-ok", "5.my layer", "5.my.layer", "1-", "1_-x", "-1.x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, dir string) {
		index, name, ok := parseDir(dir)
		m := dirPattern.FindStringSubmatch(dir)
		if m == nil {
			if ok {
				t.Fatalf("%q: matched by hand, not by the pattern", dir)
			}
			return
		}
		want, err := strconv.Atoi(m[1])
		if err != nil {
			if ok {
				t.Fatalf("%q: a number out of range was accepted", dir)
			}
			return
		}
		if !ok || index != want || name != m[2] {
			t.Fatalf("%q: got (%d, %q, %v), the pattern says (%d, %q)", dir, index, name, ok, want, m[2])
		}
	})
}
