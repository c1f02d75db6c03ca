package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/dig/digtest"
	"github.com/infra-flash/infra/internal/testfixture"
)

// digRepo is a two-layer repository whose layers build app and vault under
// var.base_domain, with a catalog of them and a README holding the table markers.
func digRepo(t *testing.T, catalog string) string {
	t.Helper()
	files := testfixture.Tree(testfixture.Chain("bootstrap", "platform")...)
	files["terraform/1.bootstrap/hosts.tf"] = "variable \"base_domain\" {\n  type = string\n}\n\nlocals {\n  app = \"https://app.${var.base_domain}\"\n}\n"
	files["terraform/2.platform/hosts.tf"] = "variable \"base_domain\" {\n  type = string\n}\n\nlocals {\n  vault = \"vault.${var.base_domain}\"\n}\n"
	files["services.hcl"] = catalog
	files["README.md"] = "# Demo\n\n<!-- services:begin -->\n<!-- services:end -->\n"
	return repo(t, files)
}

const digCatalog = `service "app" {
  layer     = "L1"
  name      = "App"
  subdomain = "app"
  path      = "/code/200"
}

service "vault" {
  layer     = "platform"
  name      = "Vault"
  subdomain = "vault"
  path      = "/code/401"
  expect    = [401, 403]
}
`

// digServer serves every name of example.test with a certificate of a private
// CA; it returns the --connect-to rule and the --cacert file.
func digServer(t *testing.T) (connectTo, cacert string) {
	t.Helper()
	ca := digtest.NewCA(t)
	p := digtest.StartTLS(t, ca.Leaf(t, []string{"*.example.test"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)), digtest.Codes())
	cacert = filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(cacert, ca.PEM, 0o600))
	return "::127.0.0.1:" + p, cacert
}

func TestDigHealthy(t *testing.T) {
	src := digRepo(t, digCatalog)
	connectTo, cacert := digServer(t)
	r := run(t, "dig", "--source", src, "--domain", "example.test", "--connect-to", connectTo, "--cacert", cacert)
	require.Equal(t, 0, r.code, r.stderr+r.stdout)
	assert.True(t, strings.HasPrefix(r.stdout, "Service Health Check 🟢 All systems operational\nResults: 2/2 healthy"), r.stdout)
	assert.Contains(t, r.stdout, "L1     App      app.example.test/code/200    ✅ 200 OK\n")
	assert.Contains(t, r.stdout, "L2     Vault    vault.example.test/code/401  🔒 401 Unauthorized\n")
	assert.Contains(t, r.stderr, "probing 2 service(s) under example.test, 10s each")

	r = run(t, "dig", "--source", src, "--domain", "example.test", "--connect-to", connectTo, "--cacert", cacert, "--layer", "L2", "--quiet", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	var doc struct {
		Total    int `json:"total"`
		Services []struct {
			ID string `json:"id"`
		} `json:"services"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	assert.Equal(t, 1, doc.Total)
	assert.Equal(t, "vault", doc.Services[0].ID)
}

func TestDigUnhealthy(t *testing.T) {
	src := digRepo(t, strings.Replace(digCatalog, "/code/401", "/code/502", 1))
	connectTo, cacert := digServer(t)
	r := run(t, "dig", "--source", src, "--domain", "example.test", "--connect-to", connectTo, "--cacert", cacert, "--format", "markdown")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stdout, "## Service Health Check 🟡 Partial outage\n")
	assert.Contains(t, r.stdout, "| L2 | Vault | `vault.${BASE_DOMAIN}/code/502` | ❌ 502 Bad Gateway (expected 401/403) |")
	assert.NotContains(t, r.stdout+r.stderr, "example.test", "markdown runs never publish the domain, progress included")

	// Without --cacert the private CA is not trusted: a TLS failure.
	r = run(t, "dig", "--source", src, "--domain", "example.test", "--connect-to", connectTo, "--show-domain", "--format", "markdown")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "🔴 All services down")
	assert.Contains(t, r.stdout, "| L1 | App | `app.example.test/code/200` | ⚠️ TLS: certificate signed by an unknown authority |")
}

func TestDigDomainFromEnvironment(t *testing.T) {
	src := digRepo(t, digCatalog)
	connectTo, cacert := digServer(t)
	t.Setenv("BASE_DOMAIN", "example.test")
	r := run(t, "dig", "--source", src, "--connect-to", connectTo, "--cacert", cacert, "--quiet")
	assert.Equal(t, 0, r.code, r.stderr)
}

// TestDigBadInput: nothing is probed and the message says what to fix.
func TestDigBadInput(t *testing.T) {
	src := digRepo(t, digCatalog)
	t.Setenv("BASE_DOMAIN", "")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no domain", nil, `invalid --domain "": it is empty`},
		{"url as domain", []string{"--domain", "https://example.com"}, `invalid --domain "https://example.com": a domain, not a URL (no scheme)`},
		{"ip as domain", []string{"--domain", "10.0.0.1"}, "a DNS name, not an IP address"},
		{"bad label", []string{"--domain", "exa_mple.com"}, `"exa_mple" is not a DNS label`},
		{"connect-to", []string{"--domain", "example.com", "--connect-to", "example.com:443:127.0.0.1"}, "want HOST:PORT:ADDR:PORT"},
		{"timeout", []string{"--domain", "example.com", "--timeout", "soon"}, `invalid --timeout "soon"`},
		{"zero timeout", []string{"--domain", "example.com", "--timeout", "0s"}, `invalid --timeout "0s"`},
		{"zero concurrency", []string{"--domain", "example.com", "--concurrency", "0"}, "invalid --concurrency 0: services probed at once, from 1 to 1024"},
		{"cacert missing", []string{"--domain", "example.com", "--cacert", "/nonexistent/ca.pem"}, "--cacert: open /nonexistent/ca.pem"},
		{"format", []string{"--domain", "example.com", "--format", "yaml"}, `unknown --format "yaml"`},
		{"unknown layer", []string{"--domain", "example.com", "--layer", "L7"}, `unknown layer "L7"`},
		{"changed", []string{"--domain", "example.com", "--layer", "changed"}, "dig probes running services, not changes"},
		{"layer without services", []string{"--domain", "example.com", "--layer", "L1", "--catalog", "only-l2.hcl"}, "no service of L1 is in only-l2.hcl"},
		{"missing catalog", []string{"--domain", "example.com", "--catalog", "nope.hcl"}, "no services catalog nope.hcl in the repository"},
		{"argument", []string{"example.com"}, `unexpected argument "example.com"`},
		{"catalog outside", []string{"--domain", "example.com", "--catalog", "/etc/passwd"}, `--catalog "/etc/passwd" is not a path inside the repository`},
		{"catalog above", []string{"--domain", "example.com", "--catalog", "../services.hcl"}, `--catalog "../services.hcl" is not a path inside the repository`},
	}
	require.NoError(t, os.WriteFile(filepath.Join(src, "only-l2.hcl"), []byte(digCatalog[strings.Index(digCatalog, `service "vault"`):]), 0o644))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, append([]string{"dig", "--source", src}, c.args...)...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, c.want)
			assert.NotContains(t, r.stderr, "probing")
		})
	}
}

func TestDigMalformedCatalog(t *testing.T) {
	src := digRepo(t, "service \"app\" {\n  layer = \"L1\"\n  name = \"App\"\n  subdomain = \"app\"\n  port = \"https\"\n}\n")
	r := run(t, "dig", "--source", src, "--domain", "example.com")
	assert.Equal(t, 2, r.code)
	assert.Equal(t, "infra: services.hcl:5: port must be a number\n", r.stderr)
}

func TestCatalogCheckAndWrite(t *testing.T) {
	src := digRepo(t, digCatalog)
	r := run(t, "catalog", "--source", src, "--check")
	assert.Equal(t, 1, r.code, "the README's table is still empty")
	assert.Contains(t, r.stdout, "services.hcl:1: service \"app\" is missing from README.md's services table")
	assert.Contains(t, r.stdout, "services.hcl: 2 finding(s) against README.md's services table and the 2 terraform hosts\n")

	r = run(t, "catalog", "--source", src, "--write")
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "wrote the services table of README.md from services.hcl")
	readme, err := os.ReadFile(filepath.Join(src, "README.md"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), "| L2 | Vault | `https://vault.${BASE_DOMAIN}/code/401` | 401/403 |\n<!-- services:end -->\n")

	r = run(t, "catalog", "--source", src, "--check", "--format", "json")
	assert.Equal(t, 0, r.code, r.stdout)
	assert.Contains(t, r.stdout, `"findings": []`)

	// A host added in terraform without a catalog entry.
	p := filepath.Join(src, "terraform/2.platform/hosts.tf")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, append(b, []byte("\nlocals {\n  grafana = \"grafana.${var.base_domain}\"\n}\n")...), 0o644))
	r = run(t, "catalog", "--source", src, "--check")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "terraform/2.platform/hosts.tf:10: host grafana.${BASE_DOMAIN} (layer 2.platform) has no entry in services.hcl (a name that serves no HTTP goes in its non_http list)\n")

	r = run(t, "catalog", "--source", src, "--format", "markdown")
	assert.Equal(t, 0, r.code, "listing does not check")
	assert.True(t, strings.HasPrefix(r.stdout, "| Layer | Service | Probe | Healthy answer |\n"))

	// The table deleted together with its markers is a finding too.
	require.NoError(t, os.WriteFile(p, b, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "README.md"), []byte("# Demo\n"), 0o644))
	r = run(t, "catalog", "--source", src, "--check")
	assert.Equal(t, 1, r.code, r.stdout)
	assert.Contains(t, r.stdout, "README.md: no services table: put <!-- services:begin --> and <!-- services:end --> on their own lines")

	require.NoError(t, os.WriteFile(filepath.Join(src, "services.hcl"), []byte("service \"x\" {\n  layer = \"L1\"\n}\n"), 0o644))
	r = run(t, "catalog", "--source", src, "--check")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `services.hcl:1: Missing required argument`)
}
