package catalog

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

const sample = `domain_variable = "zone"

service "api" {
  layer     = "L1"
  name      = "Kubernetes API"
  subdomain = "@"
  port      = 6443
  path      = "/livez"
  expect    = [403, 401, 401]
}

service "web" {
  layer     = "platform"
  name      = "Web"
  subdomain = "www.eu"
}
`

func TestParse(t *testing.T) {
	c, err := Parse([]byte(sample), "services.hcl")
	require.NoError(t, err)
	assert.Equal(t, "zone", c.DomainVariable)
	require.Len(t, c.Services, 2)
	api, web := c.Services[0], c.Services[1]
	assert.Equal(t, Service{ID: "api", Name: "Kubernetes API", Layer: "L1", Subdomain: "", Port: 6443, Path: "/livez", Expect: []int{401, 403}, Pos: "services.hcl:3"}, api)
	assert.Equal(t, Service{ID: "web", Name: "Web", Layer: "platform", Subdomain: "www.eu", Port: 443, Path: "/", Expect: []int{200}, Pos: "services.hcl:12"}, web)
	assert.Equal(t, "https://example.com:6443/livez", api.URL("example.com"))
	assert.Equal(t, "www.eu.example.com", web.Address("example.com"))
	assert.Equal(t, "401/403", api.ExpectText())
	assert.True(t, api.Healthy(403))
	assert.False(t, api.Healthy(200))
}

// TestParseErrors: every malformed catalog is an InputError naming file:line.
func TestParseErrors(t *testing.T) {
	svc := func(body string) string {
		return "\n\nservice \"x\" {\n  layer = \"L1\"\n  name = \"X\"\n  subdomain = \"x\"\n" + body + "}\n"
	}
	cases := map[string]struct{ src, want string }{
		"syntax":           {"service \"x\" {\n  layer = \n}", "services.hcl:2: Invalid expression"},
		"no services":      {"# nothing\n", "services.hcl: no service blocks"},
		"unknown top":      {"colour = \"red\"\n", "services.hcl:1: Unsupported argument"},
		"unknown attr":     {svc("  colour = \"red\"\n"), "services.hcl:7: Unsupported argument"},
		"missing name":     {"service \"x\" {\n  layer = \"L1\"\n  subdomain = \"x\"\n}\n", `services.hcl:1: Missing required argument: The argument "name" is required`},
		"no label":         {"service {\n}\n", "services.hcl:1: Missing id for service"},
		"bad id":           {"service \"Bad Id\" {\n}\n", `services.hcl:1: service id "Bad Id"`},
		"duplicate":        {svc("") + svc(""), `services.hcl:10: service "x" is declared twice (first at services.hcl:3)`},
		"same probe":       {svc("") + strings.Replace(svc(""), "service \"x\"", "service \"y\"", 1), `services.hcl:10: service "y" probes the same host, port and path as service "x"`},
		"layer list":       {strings.Replace(svc(""), `"L1"`, `"L1,L2"`, 1), "services.hcl:4: layer must name one layer"},
		"layer number":     {strings.Replace(svc(""), `"L1"`, `2`, 1), ""},
		"layer object":     {strings.Replace(svc(""), `"L1"`, `{a = 1}`, 1), "services.hcl:4: layer must be a string"},
		"variable":         {strings.Replace(svc(""), `"L1"`, `var.layer`, 1), "services.hcl:4: Variables not allowed"},
		"function":         {strings.Replace(svc(""), `"L1"`, `upper("l1")`, 1), "services.hcl:4: Function calls not allowed"},
		"null":             {strings.Replace(svc(""), `"L1"`, `null`, 1), "services.hcl:4: layer must be a literal value"},
		"empty name":       {strings.Replace(svc(""), `"X"`, `" "`, 1), "services.hcl:5: name must be a non-empty single line"},
		"pipe in name":     {strings.Replace(svc(""), `"X"`, `"a|b"`, 1), "services.hcl:5: name must be"},
		"empty subdomain":  {strings.Replace(svc(""), `"x"`+"\n", `""`+"\n", 1), `services.hcl:6: subdomain is the part before the base domain ("i-secrets"); use "@"`},
		"url subdomain":    {strings.Replace(svc(""), `= "x"`, `= "https://x"`, 1), `services.hcl:6: subdomain "https://x" is not a host name`},
		"upper subdomain":  {strings.Replace(svc(""), `= "x"`, `= "X"`, 1), `services.hcl:6: subdomain "X" is not a host name`},
		"dash subdomain":   {strings.Replace(svc(""), `= "x"`, `= "x-"`, 1), `services.hcl:6: subdomain "x-"`},
		"wildcard":         {strings.Replace(svc(""), `= "x"`, `= "*.x"`, 1), `services.hcl:6: subdomain "*.x"`},
		"port zero":        {svc("  port = 0\n"), "services.hcl:7: port must be between 1 and 65535, not 0"},
		"port big":         {svc("  port = 70000\n"), "services.hcl:7: port must be between 1 and 65535, not 70000"},
		"port fraction":    {svc("  port = 4.5\n"), "services.hcl:7: port must be a whole number, not 4.5"},
		"port huge":        {svc("  port = 1e300\n"), "services.hcl:7: port must be a whole number"},
		"port string":      {svc("  port = \"https\"\n"), "services.hcl:7: port must be a number"},
		"path relative":    {svc("  path = \"healthz\"\n"), "services.hcl:7: path must start with /"},
		"path space":       {svc("  path = \"/a b\"\n"), "services.hcl:7: path must start with /"},
		"expect empty":     {svc("  expect = []\n"), "services.hcl:7: expect lists the status codes that mean healthy; it cannot be empty"},
		"expect range":     {svc("  expect = [200, 999]\n"), "services.hcl:7: expect holds HTTP status codes (100-599), not 999"},
		"expect scalar":    {svc("  expect = 200\n"), "services.hcl:7: expect must be a list of numbers"},
		"expect strings":   {svc("  expect = [\"ok\"]\n"), "services.hcl:7: expect must be a list of numbers"},
		"expect null item": {svc("  expect = [null]\n"), "services.hcl:7: expect holds a null"},
		"domain var":       {"domain_variable = \"var.x\"\n" + svc(""), `services.hcl:1: domain_variable must name a terraform variable`},
		"block twice":      {svc("  port = 1\n  port = 2\n"), "services.hcl:8: Attribute redefined"},
		"non_http string":  {"non_http = \"mail\"\n" + svc(""), "services.hcl:1: non_http must be a list of strings"},
		"non_http name":    {"non_http = [\"Mail\"]\n" + svc(""), `services.hcl:1: non_http: "Mail" is not a name under the base domain`},
		"non_http url":     {"non_http = [\"smtp://mail\"]\n" + svc(""), `services.hcl:1: non_http: "smtp://mail" is not a name`},
		"non_http null":    {"non_http = [null]\n" + svc(""), "services.hcl:1: non_http holds a null"},
		"non_http service": {"non_http = [\"x\"]\n" + svc(""), `services.hcl:4: service "x" probes x.${BASE_DOMAIN}, which non_http (services.hcl:1) says serves no HTTP`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.src), "services.hcl")
			if c.want == "" { // a number converts to a string: "2" is a layer name
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var inputErr *InputError
			require.ErrorAs(t, err, &inputErr)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(fstest.MapFS{}, "services.hcl")
	assert.ErrorContains(t, err, "no services catalog services.hcl in the repository")
}

// FuzzParse: any input is a catalog whose entries satisfy the rules, or an
// InputError with a position; never a panic.
func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("service \"a\" {\n layer = \"L1\"\n name = \"A\"\n subdomain = \"@\"\n expect = [401]\n}\n")
	f.Add("service \"a\" { \n}")
	f.Add(`service "a" { layer = "L1" name = "A" subdomain = "a" port = 1e400 }`)
	f.Fuzz(func(t *testing.T, src string) {
		c, err := Parse([]byte(src), "services.hcl")
		if err != nil {
			var inputErr *InputError
			require.ErrorAs(t, err, &inputErr)
			assert.True(t, strings.HasPrefix(err.Error(), "services.hcl"), err.Error())
			return
		}
		require.NotEmpty(t, c.Services)
		for _, s := range c.Services {
			assert.True(t, s.Port >= 1 && s.Port <= 65535)
			assert.True(t, strings.HasPrefix(s.Path, "/"))
			assert.NotEmpty(t, s.Expect)
			assert.NotContains(t, s.Name, "|")
			assert.NoError(t, checkSubdomain(orApex(s.Subdomain)))
		}
	})
}

func orApex(sub string) string {
	if sub == "" {
		return Apex
	}
	return sub
}

// repo is this repository's tree: the catalog, the README and terraform/.
func repo(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	root := os.DirFS("../..")
	for _, pattern := range []string{"services.hcl", "README.md", "terraform/*/*.tf", "terraform/*/values/*.tftpl"} {
		names, err := fs.Glob(root, pattern)
		require.NoError(t, err)
		for _, name := range names {
			data, err := fs.ReadFile(root, name)
			require.NoError(t, err)
			fsys[name] = &fstest.MapFile{Data: data}
		}
	}
	require.Contains(t, fsys, "services.hcl")
	return fsys
}

func check(t *testing.T, fsys fstest.MapFS) (*CheckResult, error) {
	t.Helper()
	set, err := layers.Discover(fsys, repoconfig.Defaults())
	require.NoError(t, err)
	c, err := Open(fsys, FileName, set)
	if err != nil {
		return nil, err
	}
	return Check(fsys, set, c)
}

func TestResolveUnknownLayer(t *testing.T) {
	fsys := repo(t)
	fsys["services.hcl"] = &fstest.MapFile{Data: []byte("service \"x\" {\n  layer = \"L9\"\n  name = \"X\"\n  subdomain = \"x\"\n}\n")}
	_, err := check(t, fsys)
	assert.ErrorContains(t, err, `services.hcl:1: service "x" names layer "L9", which is not one layer of the repository (layers: L1 1.bootstrap, L2 2.platform, L3 3.data, L4 4.insight)`)
	fsys["services.hcl"] = &fstest.MapFile{Data: []byte("service \"x\" {\n  layer = \"all\"\n  name = \"X\"\n  subdomain = \"x\"\n}\n")}
	_, err = check(t, fsys)
	assert.ErrorContains(t, err, `names layer "all"`)
}

// TestRepositoryAgrees: this repository's catalog, README table and terraform
// hosts agree, and services come back in apply order.
func TestRepositoryAgrees(t *testing.T) {
	res, err := check(t, repo(t))
	require.NoError(t, err)
	assert.Empty(t, res.Findings)
	assert.True(t, res.ReadmeTable)
	var ids, layerIDs []string
	for _, s := range res.Catalog.Services {
		ids = append(ids, s.ID)
		layerIDs = append(layerIDs, s.LayerID)
	}
	assert.Equal(t, []string{"atlantis", "vault", "kdashboard", "kcloud", "signoz", "posthog"}, ids)
	assert.Equal(t, []string{"L1", "L2", "L2", "L2", "L4", "L4"}, layerIDs)
	assert.Len(t, res.Hosts, 6)
}
