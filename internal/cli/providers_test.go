package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/testmirror"
	"github.com/infra-flash/infra/internal/toolchain"
)

// registryHost is where each engine's lock files say a provider comes from.
var registryHost = map[string]string{"terraform": "registry.terraform.io", "tofu": "registry.opentofu.org"}

const otherZH = "zh:0000000000000000000000000000000000000000000000000000000000000000"

// Providers installed the way real users install them: from a registry-like
// network mirror over HTTPS (the user's CLI configuration), honouring committed
// lock files. Each case breaks the second of two layers; the first must pass.
func TestProvidersFromANetworkMirror(t *testing.T) {
	null := testmirror.LocalBuild(t, "null")
	for _, engine := range []string{"terraform", "tofu"} {
		t.Run(engine, func(t *testing.T) {
			testfixture.ToolsWithoutMirror(t, engine)
			m := testmirror.Start(t, null)
			m.Use(t)
			pkg := m.Package("null", null.Version)
			host := registryHost[engine]
			lock := func(version string, hashes ...string) string {
				return testmirror.LockFile(host, "null", version, ">= 3.0.0", hashes...)
			}
			cases := []struct {
				name   string
				change func(testfixture.Files)
				status string // of L2's Validate
				want   string // in its finding
			}{
				{"no lock file: versions from the constraints", func(testfixture.Files) {}, "pass", ""},
				{"a lock file with the package's hashes", func(f testfixture.Files) {
					f["terraform/2.b/.terraform.lock.hcl"] = lock(null.Version, pkg.H1, pkg.ZH)
				}, "pass", ""},
				{"a lock file pinning a version the registry lacks", func(f testfixture.Files) {
					f["terraform/2.b/.terraform.lock.hcl"] = lock("3.2.0", otherZH)
				}, "fail", "provider hashicorp/null 3.2.0: the version the lock file selects is not available from its registry"},
				{"a lock file with other hashes", func(f testfixture.Files) {
					f["terraform/2.b/.terraform.lock.hcl"] = lock(null.Version, "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", otherZH)
				}, "fail", "provider hashicorp/null " + null.Version + ": the package's checksum is not among those the lock file records"},
				{"a constraint the registry cannot meet", func(f testfixture.Files) {
					f["terraform/2.b/versions.tf"] = strings.Replace(f["terraform/2.b/versions.tf"], `">= 3.0"`, `"~> 9.0"`, 1)
				}, "fail", "provider hashicorp/null: no available release matches the version constraints"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					files := testfixture.Tree(testfixture.Chain("a", "b")...)
					tc.change(files)
					src := repo(t, files)
					before := snapshot(t, src)

					r := run(t, "validate", "--source", src, "--engine", engine, "--format", "json")
					rep := decode(t, r)
					require.Len(t, rep.Layers, 2)
					assert.Equal(t, "pass", rep.Layers[0].Validate.Status, "the other layer is unaffected: %+v", rep.Layers[0].Validate)
					l2 := rep.Layers[1].Validate
					require.Equal(t, tc.status, l2.Status, "%+v", l2)
					if tc.status == "pass" {
						assert.Equal(t, 0, r.code, r.stderr)
					} else {
						assert.Equal(t, 1, r.code, "the repository's fault: a check failed")
						require.Len(t, l2.Findings, 1, "%+v", l2.Findings)
						assert.Contains(t, l2.Findings[0].Message, tc.want)
						assert.NotContains(t, l2.Findings[0].Message, "\n", "one line")
					}
					assert.Equal(t, before, snapshot(t, src), "the committed lock file is never rewritten")
					if tc.name == "no lock file: versions from the constraints" {
						// What init records is what the mirror computed: the h1: of the zip's files.
						// (The first case, so its workspace is the only one in the cache.)
						made := workspaceFile(t, "terraform/2.b/.terraform.lock.hcl")
						assert.Contains(t, made, pkg.H1)
					}
				})
			}

			t.Run("an unreachable registry is no failure of the repository", func(t *testing.T) {
				src := repo(t, testfixture.Tree(testfixture.Chain("a", "b")...))
				m.Close()
				r := run(t, "validate", "--source", src, "--engine", engine, "--format", "json")
				assert.Equal(t, 3, r.code, "could not run")
				rep := decode(t, r)
				for _, l := range rep.Layers {
					require.Equal(t, "error", l.Validate.Status, "%+v", l.Validate)
					assert.Contains(t, l.Validate.Findings[0].Message, "provider hashicorp/null: its registry or mirror could not be reached")
					assert.Contains(t, l.Validate.Findings[0].Message, "connection refused")
				}
			})
		})
	}
}

// With a filesystem mirror asked for, the providers it has come from it and any
// other provider from its registry: offline, that one cannot be installed, and the
// report says so for it alone.
func TestFilesystemMirrorServesWhatItHas(t *testing.T) {
	random := testmirror.LocalBuild(t, "random")
	testfixture.ToolsWithoutMirror(t, "terraform")
	mirror := t.TempDir()
	rel := filepath.Join("registry.terraform.io", "hashicorp", "random", random.Version, filepath.Base(filepath.Dir(random.Binary)))
	require.NoError(t, os.MkdirAll(filepath.Join(mirror, rel), 0o755))
	require.NoError(t, os.Link(random.Binary, filepath.Join(mirror, rel, filepath.Base(random.Binary))))

	files := testfixture.Tree(testfixture.Layer{Dir: "1.a"})
	files["terraform/1.a/random.tf"] = "resource \"random_id\" \"x\" {\n  byte_length = 4\n}\n"
	src := repo(t, files)

	r := run(t, "validate", "--source", src, "--provider-mirror", mirror, "--format", "json")
	v := decode(t, r).Layers[0].Validate
	if v.Status == "pass" {
		return // online: hashicorp/null came from its registry
	}
	assert.Equal(t, 3, r.code, "an unreachable registry is no failure of the repository")
	require.Equal(t, "error", v.Status, "%+v", v)
	for _, f := range v.Findings {
		assert.Contains(t, f.Message, "provider hashicorp/null", "only the provider the mirror lacks goes to its registry")
		assert.NotContains(t, f.Message, "random")
	}

	bad := run(t, "validate", "--source", src, "--provider-mirror", filepath.Join(mirror, "nope"))
	assert.Equal(t, 2, bad.code)
	assert.Contains(t, bad.stderr, "is not a directory")

	t.Setenv(toolchain.MirrorEnv, filepath.Join(mirror, "gone"))
	bad = run(t, "validate", "--source", src)
	assert.Equal(t, 2, bad.code)
	assert.Contains(t, bad.stderr, toolchain.MirrorEnv)
}

// Inits share one plugin cache for providers from registries: many at once, in one
// run and in two runs side by side, cold, must all pass (concurrent tofu inits
// sharing a cache used to crash).
func TestConcurrentInitsShareThePluginCache(t *testing.T) {
	null := testmirror.LocalBuild(t, "null")
	testfixture.ToolsWithoutMirror(t, "tofu")
	m := testmirror.Start(t, null)
	m.Use(t)
	srcs := []string{repo(t, testfixture.Tree(testfixture.Diamond(6)...)), repo(t, testfixture.Tree(testfixture.Diamond(6)...))}
	results := make([]result, len(srcs))
	var wg sync.WaitGroup
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = run(t, "validate", "--source", src, "--engine", "tofu", "--concurrency", "8", "--format", "json")
		}()
	}
	wg.Wait()
	for _, r := range results {
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		for _, l := range decode(t, r).Layers {
			assert.Equal(t, "pass", l.Validate.Status, l.Name)
		}
	}
}
