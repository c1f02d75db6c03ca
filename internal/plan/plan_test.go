package plan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/plan"
)

func TestMaskerMasksValuesTheirFormsAndPatterns(t *testing.T) {
	m, err := plan.NewMasker([]string{"s3cr3t-value", "ab", "line one\nline two is long"}, []string{`ghp_[A-Za-z0-9]{6,}`})
	require.NoError(t, err)
	assert.Equal(t, "key=*** token=*** ab", m.Mask("key=s3cr3t-value token=ghp_abcdef123 ab"))
	assert.Equal(t, "*** / ***", m.Mask("line one / line two is long"), "multi-line secrets are masked line by line")
	m.Add(`say "hi"`)
	assert.Equal(t, `{"v":"***"}`, m.Mask(`{"v":"say \"hi\""}`), "JSON-escaped forms are masked too")
	var nilMasker *plan.Masker
	assert.Equal(t, "as is", nilMasker.Mask("as is"))

	_, err = plan.NewMasker(nil, []string{"("})
	assert.ErrorContains(t, err, "mask pattern 1")
	_, err = plan.NewMasker(nil, []string{"x*"})
	assert.ErrorContains(t, err, "empty string")
}

func TestMaskerLongestSecretFirst(t *testing.T) {
	m, err := plan.NewMasker([]string{"abcd", "abcdefgh"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "*** ***", m.Mask("abcdefgh abcd"))
}

func TestSourceHashCoversTheLayerAndItsModulesButNotWorkingFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"terraform/1.a/main.tf":                      {Data: []byte("a")},
		"terraform/1.a/.terraform/x":                 {Data: []byte("cache")},
		"terraform/1.a/terraform.tfstate":            {Data: []byte("{}")},
		"terraform/1.a/values/v.yaml":                {Data: []byte("v")},
		"modules/m/main.tf":                          {Data: []byte("m")},
		"terraform/2.b/main.tf":                      {Data: []byte("b")},
		"terraform/1.a/.terraform/infra/plan.tfplan": {Data: []byte("p")},
	}
	dirs := []string{"terraform/1.a", "modules/m"}
	h1, err := plan.SourceHash(fsys, dirs)
	require.NoError(t, err)
	fsys["terraform/1.a/.terraform/x"] = &fstest.MapFile{Data: []byte("other cache")}
	fsys["terraform/2.b/main.tf"] = &fstest.MapFile{Data: []byte("other layer")}
	fsys["terraform/1.a/terraform.tfstate"] = &fstest.MapFile{Data: []byte(`{"serial":2}`)}
	fsys["terraform/1.a/errored.tfstate"] = &fstest.MapFile{Data: []byte(`{"serial":3}`)}
	fsys["terraform/1.a/.terraform.lock.hcl"] = &fstest.MapFile{Data: []byte("written by init")}
	h2, err := plan.SourceHash(fsys, dirs)
	require.NoError(t, err)
	assert.Equal(t, h1, h2)
	for _, change := range []string{"terraform/1.a/values/v.yaml", "modules/m/main.tf", "terraform/1.a/new.tf"} {
		fsys[change] = &fstest.MapFile{Data: []byte("changed")}
		h3, err := plan.SourceHash(fsys, dirs)
		require.NoError(t, err)
		assert.NotEqual(t, h1, h3, change)
		h1 = h3
	}
}

func TestSaveLoadVerify(t *testing.T) {
	dir := t.TempDir()
	data := []byte("plan bytes")
	meta := plan.Meta{Layer: "1.a", Commit: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", SourceHash: "src", PlanHash: plan.Hash(data), Engine: "tofu", Created: time.Now().UTC()}
	require.NoError(t, plan.Save(dir, meta, data))
	got, gotData, err := plan.Load(os.DirFS(dir), ".", "1.a")
	require.NoError(t, err)
	assert.Equal(t, data, gotData)
	assert.Equal(t, meta.PlanHash, got.PlanHash)
	assert.NoError(t, plan.Verify(got, gotData, meta.Commit, "src"))

	_, _, err = plan.Load(os.DirFS(dir), ".", "2.b")
	assert.ErrorIs(t, err, plan.ErrNoPlan)

	cases := map[string]struct {
		data           []byte
		commit, source string
		want           string
	}{
		"another commit": {data, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "src", "made at commit aaaaaaaaaaaa, not at bbbbbbbbbbbb"},
		"unknown commit": {data, "", "src", "pass --sha"},
		"another source": {data, meta.Commit, "other", "files differ"},
		"edited plan":    {[]byte("plan bytes!"), meta.Commit, "src", "plan file's hash"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := plan.Verify(got, c.data, c.commit, c.source)
			var refused *plan.RefusedError
			require.ErrorAs(t, err, &refused)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	// Metadata naming another layer is refused.
	require.NoError(t, os.WriteFile(filepath.Join(dir, plan.MetaName("3.c")), []byte(`{"layer":"1.a"}`), 0o644))
	_, _, err = plan.Load(os.DirFS(dir), ".", "3.c")
	assert.ErrorContains(t, err, `metadata is for layer "1.a"`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, plan.MetaName("4.d")), []byte(`nope`), 0o644))
	_, _, err = plan.Load(os.DirFS(dir), ".", "4.d")
	assert.ErrorContains(t, err, "unreadable plan metadata")
}

func TestMarkdownCodeSpansSurviveBackticks(t *testing.T) {
	s := plan.Summary{Changes: []plan.Resource{{Address: "null_resource.a[\"`x`\"]", Action: "create"}}}
	md := s.Markdown(0, false)
	assert.True(t, strings.Contains(md, "`` null_resource.a[\"`x`\"] ``"), md)
}

// The previous value of a sensitive variable lives in the prior state, marked
// sensitive where the variable went in, and unmarked where a resource copied
// it: learnt from the marks, it is masked in both.
func TestSensitiveValuesComeFromTheMarksBeforeAndAfter(t *testing.T) {
	p, err := plan.Parse([]byte(`{
  "format_version": "1.2",
  "variables": {"secret": {"value": "new-secret-value"}, "plain": {"value": "visible"}},
  "configuration": {"root_module": {"variables": {"secret": {"sensitive": true}, "plain": {}}}},
  "resource_changes": [{
    "address": "terraform_data.this", "mode": "managed", "type": "terraform_data", "name": "this",
    "change": {
      "actions": ["update"],
      "before": {"input": "old-secret-value", "output": "old-secret-value", "id": "1"},
      "after": {"input": "new-secret-value", "id": "1"},
      "after_unknown": {"output": true},
      "before_sensitive": {"input": true},
      "after_sensitive": {"input": true, "flag": true}
    }
  }],
  "output_changes": {"out": {"actions": ["update"], "before": "old-output-value", "after": "new-output-value",
    "before_sensitive": true, "after_sensitive": true}},
  "prior_state": {"format_version": "1.0", "values": {
    "outputs": {"out": {"sensitive": true, "value": "old-output-value"}, "shown": {"sensitive": false, "value": "public"}},
    "root_module": {"child_modules": [{"resources": [{"address": "module.m.x.y", "mode": "managed", "type": "x", "name": "y",
      "values": {"password": "child-module-secret", "list": ["a", "list-secret-value"]},
      "sensitive_values": {"password": true, "list": [false, true]}}]}]}
  }}
}`))
	require.NoError(t, err)
	values := plan.SensitiveValues(p)
	for _, v := range []string{"new-secret-value", "old-secret-value", "old-output-value", "new-output-value", "child-module-secret", "list-secret-value"} {
		assert.Contains(t, values, v)
	}
	for _, v := range []string{"visible", "public", "1", "a"} {
		assert.NotContains(t, values, v)
	}
	m, err := plan.NewMasker(values, nil)
	require.NoError(t, err)
	text := strings.Join(plan.Summarize(p, m).Lines(""), "\n")
	assert.Contains(t, text, `output: "***" -> (known after apply)`)
	assert.NotContains(t, text, "secret-value")
}
