package docscheck_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/docscheck"
	"github.com/infra-flash/infra/internal/workflowcheck"
)

const repoRoot = "../.."

// docs are the repository's Markdown guide and reference.
func docs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "docs/ has no Markdown files")
	out := []string{"README.md"}
	for _, f := range files {
		rel, err := filepath.Rel(repoRoot, f)
		require.NoError(t, err)
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

func TestRepositoryLinksLeadSomewhere(t *testing.T) {
	findings, err := docscheck.Links(repoRoot, docs(t))
	require.NoError(t, err)
	for _, f := range findings {
		t.Error(f)
	}
}

func TestRepositoryDaggerCallsExist(t *testing.T) {
	mod, err := workflowcheck.ReadModule(filepath.Join(repoRoot, "ci"), "Infra")
	require.NoError(t, err)
	calls := 0
	for _, name := range docs(t) {
		src, err := os.ReadFile(filepath.Join(repoRoot, name))
		require.NoError(t, err)
		for _, c := range docscheck.DaggerCalls(src) {
			calls++
			call, err := workflowcheck.ParseCallFor(c.Args, mod.IsBool)
			if !assert.NoError(t, err, "%s:%d", name, c.Line) {
				continue
			}
			assert.Empty(t, mod.Missing(call), "%s:%d: dagger call %s", name, c.Line, c.Args)
		}
	}
	assert.Greater(t, calls, 20, "the docs show dagger calls; none were found")
}

// A reference file longer than a screenful or two starts with its contents.
func TestLongDocsHaveContents(t *testing.T) {
	for _, name := range docs(t)[1:] {
		src, err := os.ReadFile(filepath.Join(repoRoot, name))
		require.NoError(t, err)
		if bytes.Count(src, []byte("\n")) > 80 {
			assert.Contains(t, string(src), "**Contents**", "%s: over 80 lines without a table of contents", name)
		}
	}
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"The two commands": "the-two-commands",
		"Dagger's cache: what re-runs what (designed, not measured here)": "daggers-cache-what-re-runs-what-designed-not-measured-here",
		"/dig on a pull request":         "dig-on-a-pull-request",
		"`atlantis.yaml`":                "atlantisyaml",
		"The module's shape":             "the-modules-shape",
		"Service Health Check 🟡 Partial": "service-health-check--partial",
		"See [the CLI](cli.md) now":      "see-the-cli-now",
		"snake_case and CAPS":            "snake_case-and-caps",
	} {
		assert.Equal(t, want, docscheck.Slug(heading), heading)
	}
}

func TestAnchorsNumberRepeatsAndSkipCode(t *testing.T) {
	got := docscheck.Anchors([]byte("# Title\n## Flags\n```sh\n# not a heading\n```\n## Flags\n### Flags\n#no-space\n"))
	var names []string
	for a := range got {
		names = append(names, a)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"flags", "flags-1", "flags-2", "title"}, names)
}

func TestLinksFindBrokenOnes(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	write("docs/b.md", "# B\n## Part two\n")
	write("scripts/x", "")
	write("README.md", `# Top
## Here
[ok](docs/b.md) [ok](docs/b.md#part-two) [ok](#here) [ok](scripts/x) [ok](https://example.com/#nope)
[file](docs/c.md)
[anchor](docs/b.md#part-three)
[self](#there)
[abs](/docs/b.md) [out](../elsewhere.md)
`+"`[code](missing.md)`"+`
`+"```"+`
[fenced](missing.md)
`+"```"+`
[titled](docs/b.md "B")
`)
	findings, err := docscheck.Links(root, []string{"README.md", "docs/b.md"})
	require.NoError(t, err)
	var got []string
	for _, f := range findings {
		got = append(got, f.String())
	}
	assert.Equal(t, []string{
		"README.md:4: docs/c.md: no such file docs/c.md",
		"README.md:5: docs/b.md#part-three: docs/b.md has no heading #part-three",
		"README.md:6: #there: README.md has no heading #there",
		"README.md:7: /docs/b.md: not a relative link",
		"README.md:7: ../elsewhere.md: leaves the repository",
	}, got)

	_, err = docscheck.Links(root, []string{"missing.md"})
	assert.Error(t, err)
}

func TestDaggerCalls(t *testing.T) {
	src := "text `dagger call nope` in prose\n```sh\n" +
		"dagger call validate --layer all   # a comment\n" +
		"dagger call github --token env://T \\\n  --event e flash >> \"$GITHUB_STEP_SUMMARY\"\n" +
		"go run ./cmd/infra validate\n" +
		"```\n"
	assert.Equal(t, []docscheck.Call{
		{Line: 3, Args: "validate --layer all"},
		{Line: 4, Args: "github --token env://T --event e flash"},
	}, docscheck.DaggerCalls([]byte(src)))
}

func FuzzLinks(f *testing.F) {
	f.Add("# A\n[x](b.md#c) [y](#a)\n```\n[z](q)\n")
	f.Add("## `x` [y](z)\n~~~\n```\n~~~\n[l](<a b>)")
	f.Fuzz(func(t *testing.T, doc string) {
		root := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(root, "a.md"), []byte(doc), 0o644))
		_, err := docscheck.Links(root, []string{"a.md"})
		require.NoError(t, err)
		docscheck.Anchors([]byte(doc))
		docscheck.DaggerCalls([]byte(doc))
	})
}
