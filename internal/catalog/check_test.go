package catalog

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
)

// TestTerraformHostForms: the ways a layer builds a host from the domain
// variable are found, and the ways it uses the variable for other things are not.
func TestTerraformHostForms(t *testing.T) {
	fsys := fstest.MapFS{
		"terraform/1.a/main.tf": {Data: []byte(`locals {
  domain = var.base_domain
  zone   = "${var.base_domain}"
}

module "app" {
  source = "./m"
  host   = "app.${var.base_domain}"
}

resource "x" "y" {
  url    = "https://API.eu.${local.domain}/v1"
  host   = var.base_domain
  zone   = var.base_domain
  backup = "${var.base_domain}-backup"
  tag    = "prefix-${var.base_domain}"
  mail   = "ops@${var.base_domain}"
  env    = { TF_VAR_base_domain = var.base_domain, "hostname" = local.zone }
  other  = "x.${var.other_domain}"
  again  = "app.${local.zone}"
}
`)},
		"terraform/1.a/values/app.yaml.tftpl": {Data: []byte(`ingress:
  host: grafana.${base_domain}
  zone: ${base_domain}
  url: https://${base_domain}/x
%{ for h in hosts ~}
  - ${h}.${base_domain}
%{ endfor ~}
  other: y.${zone}
`)},
		"terraform/1.a/nested/extra.tf": {Data: []byte(`locals { h = "nested.${var.base_domain}" }`)},
		"terraform/2.b/main.tf":         {Data: []byte(`locals { h = "b.${var.dns}" }`)},
	}
	set, err := layers.Discover(fsys, repoconfig.Defaults())
	require.NoError(t, err)
	hosts, undetectable, err := TerraformHosts(fsys, set, "base_domain")
	require.NoError(t, err)
	assert.Equal(t, []Finding{{"terraform/1.a/values/app.yaml.tftpl:6", "a template builds a name from the domain variable out of values known only when terraform runs: it cannot be checked"}},
		undetectable, "${h}.${base_domain}")
	assert.Equal(t, []Host{
		{LayerDir: "1.a", Subdomain: "", Pos: "terraform/1.a/main.tf:13"},
		{LayerDir: "1.a", Subdomain: "api.eu", Pos: "terraform/1.a/main.tf:12"},
		{LayerDir: "1.a", Subdomain: "app", Pos: "terraform/1.a/main.tf:8"},
		{LayerDir: "1.a", Subdomain: "grafana", Pos: "terraform/1.a/values/app.yaml.tftpl:2"},
	}, hosts)

	hosts, _, err = TerraformHosts(fsys, set, "dns")
	require.NoError(t, err)
	assert.Equal(t, []Host{{LayerDir: "2.b", Subdomain: "b", Pos: "terraform/2.b/main.tf:1"}}, hosts, "domain_variable names the variable")

	fsys["terraform/1.a/broken.tf"] = &fstest.MapFile{Data: []byte("locals {\n")}
	_, _, err = TerraformHosts(fsys, set, "base_domain")
	assert.ErrorContains(t, err, "terraform/1.a/broken.tf:")
}

var blockOf = func(id string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)service "` + id + `" \{.*?\n\}\n\n?`)
}

func edit(t *testing.T, fsys fstest.MapFS, name string, f func(string) string) {
	t.Helper()
	before := string(fsys[name].Data)
	after := f(before)
	require.NotEqual(t, before, after, "the edit of %s changed nothing", name)
	fsys[name] = &fstest.MapFile{Data: []byte(after)}
}

func messages(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return out
}

// TestCheckCatchesARemovedService: a service dropped from the catalog leaves its
// terraform host and its README row behind, both reported.
func TestCheckCatchesARemovedService(t *testing.T) {
	fsys := repo(t)
	edit(t, fsys, "services.hcl", func(s string) string { return blockOf("vault").ReplaceAllString(s, "") })
	res, err := check(t, fsys)
	require.NoError(t, err)
	msgs := messages(res.Findings)
	require.Len(t, msgs, 2, msgs)
	assert.Regexp(t, `^README\.md:\d+: row not generated from services\.hcl: \| L2 \| Vault \| .* \(run `+"`infra catalog --write`"+`\)$`, msgs[0])
	assert.Equal(t, lineOf(t, fsys, "terraform/2.platform/main.tf", `host           = "i-secrets.`)+": host i-secrets.${BASE_DOMAIN} (layer 2.platform) has no entry in services.hcl (a name that serves no HTTP goes in its non_http list)", msgs[1])
}

// TestCheckCatchesAnAddedService: a new ingress host in terraform without an
// entry, and a new entry with no host and no README row.
func TestCheckCatchesAnAddedService(t *testing.T) {
	fsys := repo(t)
	edit(t, fsys, "terraform/4.insight/main.tf", func(s string) string {
		return s + "\nmodule \"grafana\" {\n  source = \"../../modules/helm-service\"\n  name = \"grafana\"\n  namespace = \"grafana\"\n  chart = \"grafana\"\n  host = \"i-grafana.${var.base_domain}\"\n}\n"
	})
	res, err := check(t, fsys)
	require.NoError(t, err)
	lines := strings.Count(string(fsys["terraform/4.insight/main.tf"].Data), "\n")
	assert.Equal(t, []string{
		"terraform/4.insight/main.tf:" + itoa(lines-1) + ": host i-grafana.${BASE_DOMAIN} (layer 4.insight) has no entry in services.hcl (a name that serves no HTTP goes in its non_http list)",
	}, messages(res.Findings))

	fsys = repo(t)
	edit(t, fsys, "services.hcl", func(s string) string {
		return s + "\nservice \"grafana\" {\n  layer     = \"L4\"\n  name      = \"Grafana\"\n  subdomain = \"i-grafana\"\n}\n"
	})
	at := "services.hcl:" + itoa(strings.Count(string(fsys["services.hcl"].Data), "\n")-4)
	res, err = check(t, fsys)
	require.NoError(t, err)
	assert.Equal(t, []string{
		at + ": service \"grafana\" is missing from README.md's services table, or its row differs (run `infra catalog --write`)",
		at + ": service \"grafana\" (L4): no terraform file of 4.insight builds the host i-grafana.${BASE_DOMAIN} from var.base_domain",
	}, messages(res.Findings))
}

// TestCheckCatchesTheWrongLayer: an entry under another layer than the one that
// defines its host is one finding, not two.
func TestCheckCatchesTheWrongLayer(t *testing.T) {
	fsys := repo(t)
	edit(t, fsys, "services.hcl", func(s string) string {
		return strings.Replace(s, "layer     = \"L4\"\n  name      = \"SigNoz\"", "layer     = \"L2\"\n  name      = \"SigNoz\"", 1)
	})
	res, err := check(t, fsys)
	require.NoError(t, err)
	msgs := messages(res.Findings)
	assert.Contains(t, msgs, lineOf(t, fsys, "services.hcl", `service "signoz"`)+`: service "signoz" is in layer L2 (2.platform), but i-signoz.${BASE_DOMAIN} is defined by layer 4.insight (`+
		lineOf(t, fsys, "terraform/4.insight/main.tf", `host           = "i-signoz.`)+`)`)
	for _, m := range msgs {
		assert.NotContains(t, m, "has no entry")
	}
}

func TestReadmeRegion(t *testing.T) {
	c, err := Parse([]byte(sample), "services.hcl")
	require.NoError(t, err)
	for i := range c.Services {
		c.Services[i].LayerID = "L" + itoa(i+1)
	}
	readme := "# Title\n\nProse naming `" + BeginMarker + "` inline is fine.\n\n" + BeginMarker + "\nold\n" + EndMarker + "\n\nAfter.\n"
	findings, present, err := CheckReadme("README.md", []byte(readme), c)
	require.NoError(t, err)
	assert.True(t, present)
	assert.Equal(t, []string{
		"services.hcl:3: service \"api\" is missing from README.md's services table, or its row differs (run `infra catalog --write`)",
		"services.hcl:12: service \"web\" is missing from README.md's services table, or its row differs (run `infra catalog --write`)",
		"README.md:6: row not generated from services.hcl: old (run `infra catalog --write`)",
	}, messages(findings))

	out, changed, err := WriteReadme("README.md", []byte(readme), c)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.Equal(t, "# Title\n\nProse naming `"+BeginMarker+"` inline is fine.\n\n"+BeginMarker+"\n"+
		"| Layer | Service | Probe | Healthy answer |\n|---|---|---|---|\n"+
		"| L1 | Kubernetes API | `https://${BASE_DOMAIN}:6443/livez` | 401/403 |\n"+
		"| L2 | Web | `https://www.eu.${BASE_DOMAIN}/` | 200 |\n"+
		EndMarker+"\n\nAfter.\n", string(out))
	findings, _, err = CheckReadme("README.md", out, c)
	require.NoError(t, err)
	assert.Empty(t, findings)
	_, changed, err = WriteReadme("README.md", out, c)
	require.NoError(t, err)
	assert.False(t, changed)

	reordered := strings.Replace(string(out), "| L1 | Kubernetes API | `https://${BASE_DOMAIN}:6443/livez` | 401/403 |\n| L2 | Web | `https://www.eu.${BASE_DOMAIN}/` | 200 |\n",
		"| L2 | Web | `https://www.eu.${BASE_DOMAIN}/` | 200 |\n| L1 | Kubernetes API | `https://${BASE_DOMAIN}:6443/livez` | 401/403 |\n", 1)
	findings, _, err = CheckReadme("README.md", []byte(reordered), c)
	require.NoError(t, err)
	assert.Equal(t, []string{"README.md:5: the services table differs from services.hcl (run `infra catalog --write`)"}, messages(findings))

	_, present, err = CheckReadme("README.md", []byte("# no table\n"), c)
	require.NoError(t, err)
	assert.False(t, present)
	_, _, err = WriteReadme("README.md", []byte("# no table\n"), c)
	assert.ErrorContains(t, err, "README.md has no services table: put <!-- services:begin --> and <!-- services:end --> on their own lines")

	for _, bad := range []string{
		BeginMarker + "\n",
		EndMarker + "\n" + BeginMarker + "\n",
		BeginMarker + "\n" + EndMarker + "\n" + BeginMarker + "\n" + EndMarker + "\n",
	} {
		_, _, err = CheckReadme("README.md", []byte(bad), c)
		assert.ErrorContains(t, err, "README.md: <!-- services:")
	}
}

func TestRender(t *testing.T) {
	res, err := check(t, repo(t))
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, Render(&b, res, true, "text"))
	assert.Contains(t, b.String(), "L2     Vault          https://i-secrets.${BASE_DOMAIN}/v1/sys/health  200\n")
	assert.True(t, strings.HasSuffix(b.String(), "services.hcl: 6 services; README.md's services table and the 6 terraform hosts agree\n"), b.String())
	b.Reset()
	require.NoError(t, Render(&b, res, true, "markdown"))
	assert.Equal(t, Table(res.Catalog), b.String())
	b.Reset()
	require.NoError(t, Render(&b, res, true, "json"))
	assert.Contains(t, b.String(), `"findings": []`)
	assert.Contains(t, b.String(), `"subdomain": "i-secrets"`)
	assert.Error(t, Render(&b, res, true, "yaml"))
}

// lineOf is "name:N" of the first line of name containing text.
func lineOf(t *testing.T, fsys fstest.MapFS, name, text string) string {
	t.Helper()
	for i, line := range strings.Split(string(fsys[name].Data), "\n") {
		if strings.Contains(line, text) {
			return name + ":" + itoa(i+1)
		}
	}
	t.Fatalf("%s has no line with %q", name, text)
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestTerraformHostsFromFunctions: hosts built with format(), join() and the
// other name-building functions are evaluated where their arguments are static;
// where they are not, the place is reported as undetectable, never guessed.
func TestTerraformHostsFromFunctions(t *testing.T) {
	fsys := fstest.MapFS{
		"terraform/1.a/main.tf": {Data: []byte(`locals {
  domain  = var.base_domain
  grafana = format("%s.%s", "grafana", var.base_domain)
  loki    = join(".", ["loki", "eu", var.base_domain])
  tempo   = format("https://%s.${var.base_domain}/x", "tempo")
  mixed   = lower(format("%s.%s", "MiXed", local.domain))
  many    = formatlist("%s.%s", ["a1", "a2"], var.base_domain)
  json    = jsonencode({ host = "j.${var.base_domain}" })
  dynamic = format("%s.%s", var.name, var.base_domain)
  joined  = join(".", [each.key, var.base_domain])
  tmpl    = "${var.env}.${var.base_domain}"
  prefix  = "${local.sub}${var.base_domain}"
  values  = templatefile("${path.module}/v.tftpl", { base_domain = var.base_domain })
  yaml    = yamlencode({ domain = var.base_domain })
  dashed  = replace(var.base_domain, ".", "-")
  zone    = trimsuffix(var.base_domain, ".")
  inner   = coalesce(var.override, format("%s.%s", "inner", var.base_domain))
  other   = format("%s.%s", "x", var.other_domain)
}
`)},
	}
	set, err := layers.Discover(fsys, repoconfig.Defaults())
	require.NoError(t, err)
	hosts, undetectable, err := TerraformHosts(fsys, set, "base_domain")
	require.NoError(t, err)
	var subs []string
	for _, h := range hosts {
		subs = append(subs, h.Subdomain+" "+h.Pos)
	}
	assert.Equal(t, []string{
		"a1 terraform/1.a/main.tf:7", "a2 terraform/1.a/main.tf:7", "grafana terraform/1.a/main.tf:3",
		"inner terraform/1.a/main.tf:17", "j terraform/1.a/main.tf:8", "loki.eu terraform/1.a/main.tf:4",
		"mixed terraform/1.a/main.tf:6", "tempo terraform/1.a/main.tf:5",
	}, subs)
	cannot := ": builds a name from the domain variable out of values known only when terraform runs: it cannot be checked"
	var notes []string
	for _, f := range undetectable {
		notes = append(notes, f.String())
	}
	assert.Equal(t, []string{
		"terraform/1.a/main.tf:9: format()" + cannot[1:],
		"terraform/1.a/main.tf:10: join()" + cannot[1:],
		"terraform/1.a/main.tf:11: a template" + cannot[1:],
		"terraform/1.a/main.tf:12: a template" + cannot[1:],
	}, notes, "templatefile's variables are read in the .tftpl; yamlencode is not evaluated; replace and trimsuffix build no host")
}

// TestDNSOnlyAndNonHTTPHosts: a name with an underscore label is DNS-only and
// kept whole (not "acme-challenge"); it needs no entry, and neither does a name the
// catalog's non_http lists; a non_http name no layer builds is stale.
func TestDNSOnlyAndNonHTTPHosts(t *testing.T) {
	fsys := repo(t)
	edit(t, fsys, "terraform/2.platform/main.tf", func(s string) string {
		return s + "\nlocals {\n  acme = \"_acme-challenge.${var.base_domain}\"\n  mx   = \"mail.${var.base_domain}\"\n}\n"
	})
	set, err := layers.Discover(fsys, repoconfig.Defaults())
	require.NoError(t, err)
	hosts, _, err := TerraformHosts(fsys, set, "base_domain")
	require.NoError(t, err)
	var subs []string
	for _, h := range hosts {
		subs = append(subs, h.Subdomain)
	}
	assert.Contains(t, subs, "_acme-challenge")
	assert.NotContains(t, subs, "acme-challenge")

	res, err := check(t, fsys)
	require.NoError(t, err)
	assert.Equal(t, []string{lineOf(t, fsys, "terraform/2.platform/main.tf", `mx   = "mail.`) +
		": host mail.${BASE_DOMAIN} (layer 2.platform) has no entry in services.hcl (a name that serves no HTTP goes in its non_http list)"},
		messages(res.Findings), "_acme-challenge needs no entry")

	edit(t, fsys, "services.hcl", func(s string) string { return "non_http = [\"mail\", \"@\"]\n" + s })
	res, err = check(t, fsys)
	require.NoError(t, err)
	assert.Equal(t, []string{"services.hcl:1: non_http lists ${BASE_DOMAIN}, which no layer builds from var.base_domain"}, messages(res.Findings))
	assert.Equal(t, []string{"", "mail"}, res.Catalog.NonHTTP)
}

// TestCheckFailsWithoutTheReadmeTable: deleting the table with its markers is a
// finding, not a way out of the check; so is a missing README.
func TestCheckFailsWithoutTheReadmeTable(t *testing.T) {
	fsys := repo(t)
	edit(t, fsys, "README.md", func(s string) string {
		return regexp.MustCompile(`(?s)`+regexp.QuoteMeta(BeginMarker)+`.*?`+regexp.QuoteMeta(EndMarker)+`\n`).ReplaceAllString(s, "")
	})
	res, err := check(t, fsys)
	require.NoError(t, err)
	assert.False(t, res.ReadmeTable)
	assert.Equal(t, []string{"README.md: no services table: put <!-- services:begin --> and <!-- services:end --> on their own lines where it goes, then run `infra catalog --write`"},
		messages(res.Findings))
	assert.Contains(t, res.Summary(), "1 finding(s) against README.md (no services table)")

	delete(fsys, "README.md")
	res, err = check(t, fsys)
	require.NoError(t, err)
	assert.Equal(t, []string{"README.md: no README.md at the repository root to hold the services table"}, messages(res.Findings))
}

// FuzzTerraformHosts: any .tf file is read into hosts and undetectable places, or
// is a parse error with its position; never a panic.
func FuzzTerraformHosts(f *testing.F) {
	f.Add(`locals { a = format("%s.%s", "a", var.base_domain) }`)
	f.Add(`locals { a = join(".", [var.x, var.base_domain]), b = "_x.${var.base_domain}" }`)
	f.Add(`locals { a = substr(var.base_domain, 0, -5), b = element([var.base_domain], 7) }`)
	f.Add(`locals { d = var.base_domain
  e = "${local.d}.${local.d}" }`)
	f.Fuzz(func(t *testing.T, src string) {
		fsys := fstest.MapFS{"terraform/1.a/main.tf": {Data: []byte(src)}}
		set, err := layers.Discover(fsys, repoconfig.Defaults())
		require.NoError(t, err)
		hosts, undetectable, err := TerraformHosts(fsys, set, "base_domain")
		if err != nil {
			assert.Contains(t, err.Error(), "terraform/1.a/main.tf")
			return
		}
		for _, h := range hosts {
			assert.True(t, strings.HasPrefix(h.Pos, "terraform/1.a/main.tf:"), h.Pos)
		}
		for _, u := range undetectable {
			assert.True(t, strings.HasPrefix(u.Pos, "terraform/1.a/main.tf:"), u.Pos)
		}
	})
}

// TestRenderNotChecked: names only known at run time are listed in every format,
// apart from the findings, and do not count as findings.
func TestRenderNotChecked(t *testing.T) {
	res, err := check(t, repo(t))
	require.NoError(t, err)
	res.Undetectable = []Finding{{"terraform/2.platform/main.tf:9", "format() builds a name …"}}
	var b strings.Builder
	require.NoError(t, Render(&b, res, true, "text"))
	assert.Contains(t, b.String(), "not checked: terraform/2.platform/main.tf:9: format() builds a name …\n")
	assert.True(t, strings.HasSuffix(b.String(), "the 6 terraform hosts agree; 1 name(s) built at run time not checked\n"), b.String())
	b.Reset()
	require.NoError(t, Render(&b, res, true, "markdown"))
	assert.True(t, strings.HasSuffix(b.String(), "\n**Not checked**\n\n- `terraform/2.platform/main.tf:9`: format() builds a name …\n"), b.String())
	assert.NotContains(t, b.String(), "**Findings**")
	b.Reset()
	require.NoError(t, Render(&b, res, true, "json"))
	assert.Contains(t, b.String(), `"findings": []`)
	assert.Contains(t, b.String(), `"undetectable": [`)
	assert.Contains(t, b.String(), `"pos": "terraform/2.platform/main.tf:9"`)
}
