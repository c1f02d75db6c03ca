package layers_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

func discoverErr(t *testing.T, fsys fstest.MapFS) error {
	t.Helper()
	cfg, err := repoconfig.Load(fsys)
	require.NoError(t, err)
	_, err = layers.Discover(fsys, cfg)
	require.Error(t, err)
	return err
}

func TestNamesThatLookNumberedButAreNotAreNoted(t *testing.T) {
	set := discover(t, fstest.MapFS{
		"terraform/1.a/main.tf":           file(""),
		"terraform/5.my layer/main.tf":    file(""),
		"terraform/5.my.layer/main.tf":    file(""),
		"terraform/06-ok/main.tf":         file(""),
		"terraform/2fa/main.tf":           file(""),
		"terraform/7.notes/README.md":     file(""),
		"terraform/8_under_score/x.tf":    file(""),
		"terraform/9 spaced/x.tf":         file(""),
		"terraform/10.ok-too/versions.tf": file(""),
	})
	assert.Equal(t, []string{"1.a", "06-ok", "8_under_score", "10.ok-too"}, dirsOf(set.Layers))
	var skipped []string
	for _, s := range set.Skipped {
		skipped = append(skipped, s.Path)
	}
	assert.Equal(t, []string{"terraform/5.my layer", "terraform/5.my.layer", "terraform/7.notes", "terraform/9 spaced"}, skipped)
	assert.Contains(t, set.Skipped[0].Reason, "not a layer name")
}

func TestNoLayersListsWhereTerraformIsAndTheLineThatSelectsIt(t *testing.T) {
	err := discoverErr(t, fstest.MapFS{
		"README.md":              file(""),
		"stacks/net/main.tf":     file(""),
		"stacks/app/main.tf":     file(""),
		"stacks/app/sub/x.tf":    file(""),
		"modules/vpc/main.tf":    file(""),
		".github/x/y.tf":         file(""),
		"stacks/notes/README.md": file(""),
	})
	assert.Contains(t, err.Error(), `no layers directory "terraform" in the repository, and no numbered layer directories (01-vpc) at its root`)
	assert.Contains(t, err.Error(), "Directories holding .tf files: stacks/app, stacks/net.\nTo make them layers, add to infra.hcl:\n  layers = [\"stacks/app\", \"stacks/net\"]")

	err = discoverErr(t, fstest.MapFS{
		"infra.hcl":          file("layers = [\"envs/*/app\"]\n"),
		"stacks/net/main.tf": file(""),
	})
	assert.Contains(t, err.Error(), `no layers: infra.hcl lists layers = ["envs/*/app"], and no directory it names holds .tf files`)
	assert.Contains(t, err.Error(), `layers = ["stacks/net"]`)
}

func TestTheGraphWinsOverTheNumbersWithAWarning(t *testing.T) {
	set := discover(t, fstest.MapFS{
		"01-app/main.tf": file(backend("app") + remoteState("net", "net")),
		"02-net/main.tf": file(backend("net")),
	})
	assert.Equal(t, []string{"02-net", "01-app"}, dirsOf(set.Layers))
	assert.Contains(t, set.Warnings, "01-app is numbered before 02-net but reads its state: applying 02-net first")
}

func TestTheDefaultLayersDirectoryWinsOverNumberedRoots(t *testing.T) {
	set := discover(t, fstest.MapFS{
		"terraform/1.a/main.tf": file(""),
		"01-other/main.tf":      file(""),
	})
	assert.Equal(t, []string{"1.a"}, dirsOf(set.Layers))
}

func TestDeclaredLayersWithCollidingNamesGetTheirPath(t *testing.T) {
	set := discover(t, fstest.MapFS{
		"infra.hcl":            file("layers = [\"a/net\", \"b/net\", \"apps/*\"]\n\nlayer \"a/net\" {\n  depends_on = [\"web\"]\n}\n"),
		"a/net/main.tf":        file(""),
		"b/net/main.tf":        file(""),
		"apps/web/main.tf":     file(""),
		"apps/.hidden/main.tf": file(""),
	})
	assert.ElementsMatch(t, []string{"a-net", "b-net", "web"}, dirsOf(set.Layers))
	assert.Equal(t, []string{"web"}, set.Get("a-net").DependsOn)
	assert.Empty(t, set.Warnings, "no shared numbers, every pattern matched")
}

func TestTwoEnvironmentsSharingAStateKeyAreBadInput(t *testing.T) {
	err := discoverErr(t, fstest.MapFS{
		"infra.hcl":       file("layers = [\"app\"]\n\nenvironment \"staging\" {\n  backend_config = \"staging.hcl\"\n}\n\nenvironment \"prod\" {\n  backend_config = \"prod.hcl\"\n}\n"),
		"app/main.tf":     file("terraform {\n  backend \"s3\" {}\n}\n"),
		"app/staging.hcl": file("bucket = \"state\"\nkey = \"app.tfstate\"\n"),
		"app/prod.hcl":    file("bucket = \"state\"\nkey    = \"app.tfstate\"\n"),
	})
	assert.Equal(t, `environments staging and prod keep the state of app in the same place (bucket "state", key "app.tfstate" in staging.hcl and prod.hcl): give each environment its own backend key`, err.Error())

	err = discoverErr(t, fstest.MapFS{
		"infra.hcl":       file("layers = [\"app\", \"web\"]\n\nenvironment \"staging\" {\n  backend_config = \"staging.hcl\"\n}\n"),
		"app/main.tf":     file("terraform {\n  backend \"s3\" {}\n}\n"),
		"app/staging.hcl": file("bucket = \"state\"\nkey = \"staging.tfstate\"\n"),
		"web/main.tf":     file("terraform {\n  backend \"s3\" {}\n}\n"),
		"web/staging.hcl": file("bucket = \"state\"\nkey = \"staging.tfstate\"\n"),
	})
	assert.Equal(t, `layers app (environment staging) and web (environment staging) keep their state in the same place (bucket "state", key "staging.tfstate"): give each its own backend key`, err.Error())

	err = discoverErr(t, fstest.MapFS{
		"infra.hcl":                file("layers = [\"envs/*/app\"]\n\nenvironment \"staging\" {\n  dir = \"envs/staging\"\n}\n\nenvironment \"prod\" {\n  dir = \"envs/prod\"\n}\n"),
		"envs/staging/app/main.tf": file(backend("app.tfstate")),
		"envs/prod/app/main.tf":    file(backend("app.tfstate")),
	})
	assert.Contains(t, err.Error(), "layers envs/prod/app (environment prod) and envs/staging/app (environment staging) keep their state in the same place")
}

// A layer reading the state a layer keeps per environment depends on it.
func TestReadingAPerEnvironmentStateIsADependency(t *testing.T) {
	set := discover(t, fstest.MapFS{
		"infra.hcl":       file("layers = [\"app\", \"dns\"]\n\nenvironment \"staging\" {\n  backend_config = \"staging.hcl\"\n}\n"),
		"app/main.tf":     file("terraform {\n  backend \"s3\" {}\n}\n"),
		"app/staging.hcl": file("bucket = \"state\"\nkey = \"staging/app.tfstate\"\n"),
		"dns/main.tf":     file(remoteState("app", "staging/app.tfstate")),
	})
	assert.Equal(t, []string{"app"}, set.Get("dns").DependsOn)
}
