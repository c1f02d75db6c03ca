// Package catalog reads the services catalog, services.hcl: the one list of the
// platform's documented services (layer, name, host under the base domain, what a
// healthy answer is). dig probes it, the README's services table is generated from
// it, and it is checked against the ingress hosts the terraform layers define.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/infra-flash/infra/internal/layers"
)

// FileName is the catalog's default path, relative to the repository root.
const FileName = "services.hcl"

// DefaultDomainVariable is the terraform variable the layers build hosts from.
const DefaultDomainVariable = "base_domain"

// Apex is how an entry names the base domain itself, as in DNS zone files.
const Apex = "@"

// Catalog is a parsed services.hcl.
type Catalog struct {
	File string // repository-relative path, for messages
	// DomainVariable is the terraform variable holding the base domain ("base_domain"):
	// hosts built from var.<it> are the ones checked against the catalog.
	DomainVariable string
	Services       []Service
	// NonHTTP are hosts the layers build that serve no HTTP (mail, DNS-only
	// records): not probed, and not asked for an entry. Names with an underscore
	// label (_acme-challenge) are DNS-only without being listed.
	NonHTTP    []string
	NonHTTPPos string // file:line of the list
}

// Service is one documented service.
type Service struct {
	ID        string `json:"id"`        // the block label: "vault"
	Name      string `json:"name"`      // display name: "Vault"
	Layer     string `json:"layer"`     // as written: "L2", "platform" or "2.platform"
	Subdomain string `json:"subdomain"` // "i-secrets"; "" for the base domain itself
	Port      int    `json:"port"`      // 443 unless the entry says otherwise
	Path      string `json:"path"`      // what is requested: "/v1/sys/health"
	Expect    []int  `json:"expect"`    // status codes that mean healthy

	// Set by Resolve from the layer model.
	LayerDir   string `json:"layer_dir,omitempty"` // "2.platform"
	LayerID    string `json:"layer_id,omitempty"`  // "L2"
	LayerIndex int    `json:"-"`

	Pos string `json:"-"` // "services.hcl:12" of the block
}

// InputError is a malformed or inconsistent catalog: the caller's "bad input" exit.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Load reads and parses the catalog at name (repository-relative) in fsys.
func Load(fsys fs.FS, name string) (*Catalog, error) {
	if !fs.ValidPath(name) {
		return nil, inputErrorf("--catalog %q is not a path inside the repository: give it relative to --source, without ..", name)
	}
	src, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, inputErrorf("no services catalog %s in the repository: create it (see the README's service health check section) or pass --catalog", name)
	}
	if err != nil {
		return nil, inputErrorf("reading %s: %v", name, err)
	}
	return Parse(src, name)
}

var (
	fileSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "domain_variable"}, {Name: "non_http"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "service", LabelNames: []string{"id"}}},
	}
	serviceSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "layer", Required: true},
		{Name: "name", Required: true},
		{Name: "subdomain", Required: true},
		{Name: "port"},
		{Name: "path"},
		{Name: "expect"},
	}}
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	labelPattern    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	dnsLabelPattern = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$`) // DNS names, not host names, may hold _
	variablePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
)

// Parse decodes a catalog. Every error names the file and line of the problem;
// on error no catalog comes back, never a half-read one.
func Parse(src []byte, filename string) (*Catalog, error) {
	file, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	content, diags := file.Body.Content(fileSchema)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	c := &Catalog{File: filename, DomainVariable: DefaultDomainVariable}
	var err error
	if a, ok := content.Attributes["domain_variable"]; ok {
		v, err := stringValue(a)
		if err != nil {
			return nil, err
		}
		if !variablePattern.MatchString(v) {
			return nil, inputErrorf("%s: domain_variable must name a terraform variable, such as %q, not %q", pos(a.Expr.Range()), DefaultDomainVariable, v)
		}
		c.DomainVariable = v
	}
	if a, ok := content.Attributes["non_http"]; ok {
		if c.NonHTTP, err = nonHTTPValue(a); err != nil {
			return nil, err
		}
		c.NonHTTPPos = pos(a.Expr.Range())
	}
	seen := map[string]string{}
	probes := map[string]string{}
	for _, b := range content.Blocks {
		s, err := parseService(b)
		if err != nil {
			return nil, err
		}
		if at, dup := seen[s.ID]; dup {
			return nil, inputErrorf("%s: service %q is declared twice (first at %s)", s.Pos, s.ID, at)
		}
		seen[s.ID] = s.Pos
		probe := fmt.Sprintf("%s:%d%s", s.Subdomain, s.Port, s.Path)
		if other, dup := probes[probe]; dup {
			return nil, inputErrorf("%s: service %q probes the same host, port and path as service %q", s.Pos, s.ID, other)
		}
		probes[probe] = s.ID
		if slices.Contains(c.NonHTTP, s.Subdomain) {
			return nil, inputErrorf("%s: service %q probes %s, which non_http (%s) says serves no HTTP", s.Pos, s.ID, s.Host(DomainPlaceholder), c.NonHTTPPos)
		}
		c.Services = append(c.Services, s)
	}
	if len(c.Services) == 0 {
		return nil, inputErrorf("%s: no service blocks: the catalog lists the services to check, e.g.\n\n%s", filename, example)
	}
	return c, nil
}

const example = `service "vault" {
  layer     = "L2"
  name      = "Vault"
  subdomain = "i-secrets"      # "@" for the base domain itself
  path      = "/v1/sys/health" # default "/"
  expect    = [200]            # default [200]; [401, 403] for auth-protected services
}`

func parseService(b *hcl.Block) (Service, error) {
	s := Service{ID: b.Labels[0], Pos: pos(b.DefRange), Port: 443, Path: "/", Expect: []int{200}}
	if !idPattern.MatchString(s.ID) {
		return s, inputErrorf("%s: service id %q: use lower-case letters, digits, - and _", s.Pos, s.ID)
	}
	content, diags := b.Body.Content(serviceSchema)
	if diags.HasErrors() {
		return s, diagError(diags)
	}
	var err error
	if s.Layer, err = stringValue(content.Attributes["layer"]); err != nil {
		return s, err
	}
	if s.Layer == "" || strings.ContainsAny(s.Layer, ", \t\n") {
		return s, inputErrorf("%s: layer must name one layer (\"L2\", \"platform\" or \"2.platform\"), not %q", attrPos(content, "layer"), s.Layer)
	}
	if s.Name, err = stringValue(content.Attributes["name"]); err != nil {
		return s, err
	}
	if strings.TrimSpace(s.Name) == "" || strings.ContainsAny(s.Name, "\n\r|`<>") {
		return s, inputErrorf("%s: name must be a non-empty single line without |, `, < or >, not %q", attrPos(content, "name"), s.Name)
	}
	if s.Subdomain, err = stringValue(content.Attributes["subdomain"]); err != nil {
		return s, err
	}
	if err := checkSubdomain(s.Subdomain); err != nil {
		return s, inputErrorf("%s: %v", attrPos(content, "subdomain"), err)
	}
	if s.Subdomain == Apex {
		s.Subdomain = ""
	}
	if a, ok := content.Attributes["port"]; ok {
		if s.Port, err = intValue(a); err != nil {
			return s, err
		}
		if s.Port < 1 || s.Port > 65535 {
			return s, inputErrorf("%s: port must be between 1 and 65535, not %d", pos(a.Expr.Range()), s.Port)
		}
	}
	if a, ok := content.Attributes["path"]; ok {
		if s.Path, err = stringValue(a); err != nil {
			return s, err
		}
		if !strings.HasPrefix(s.Path, "/") || strings.ContainsAny(s.Path, " \t\r\n#`|") {
			return s, inputErrorf("%s: path must start with / and hold no spaces, #, ` or |, not %q", pos(a.Expr.Range()), s.Path)
		}
	}
	if a, ok := content.Attributes["expect"]; ok {
		if s.Expect, err = intListValue(a); err != nil {
			return s, err
		}
		if len(s.Expect) == 0 {
			return s, inputErrorf("%s: expect lists the status codes that mean healthy; it cannot be empty", pos(a.Expr.Range()))
		}
		for _, code := range s.Expect {
			if code < 100 || code > 599 {
				return s, inputErrorf("%s: expect holds HTTP status codes (100-599), not %d", pos(a.Expr.Range()), code)
			}
		}
		slices.Sort(s.Expect)
		s.Expect = slices.Compact(s.Expect)
	}
	return s, nil
}

// checkSubdomain accepts "@" or one or more DNS labels ("i-secrets", "api.eu").
func checkSubdomain(sub string) error {
	if sub == "" {
		return errors.New(`subdomain is the part before the base domain ("i-secrets"); use "@" for the base domain itself`)
	}
	switch ok, tooLong := labels(sub, labelPattern); {
	case !ok:
		return fmt.Errorf("subdomain %q is not a host name under the base domain: use lower-case DNS labels (letters, digits, inner hyphens) separated by dots, or \"@\"", sub)
	case tooLong:
		return fmt.Errorf("subdomain %q is too long for a host name", sub)
	}
	return nil
}

// labels says whether name is "@" or labels matching pattern separated by dots,
// and whether it is too long to go before a base domain.
func labels(name string, pattern *regexp.Regexp) (ok, tooLong bool) {
	if name == Apex {
		return true, false
	}
	for _, label := range strings.Split(name, ".") {
		if !pattern.MatchString(label) {
			return false, false
		}
	}
	return true, len(name) > 190
}

// nonHTTPValue reads non_http: names under the base domain ("@" for itself), as
// the layers build them.
func nonHTTPValue(a *hcl.Attribute) ([]string, error) {
	names, err := listValue(a, cty.String, func(e cty.Value) (string, error) {
		name := e.AsString()
		switch ok, tooLong := labels(name, dnsLabelPattern); {
		case !ok:
			return "", inputErrorf("%s: non_http: %q is not a name under the base domain: use lower-case DNS labels (letters, digits, inner hyphens, underscores) separated by dots, or \"@\"", pos(a.Expr.Range()), name)
		case tooLong:
			return "", inputErrorf("%s: non_http: %q is too long for a DNS name", pos(a.Expr.Range()), name)
		case name == Apex:
			return "", nil
		}
		return name, nil
	})
	slices.Sort(names)
	return slices.Compact(names), err
}

// IsNonHTTP says whether the host sub (under the base domain) serves no HTTP: a
// DNS-only name (an underscore label, as _acme-challenge) or one non_http lists.
func (c *Catalog) IsNonHTTP(sub string) bool {
	return strings.Contains(sub, "_") || slices.Contains(c.NonHTTP, sub)
}

func stringValue(a *hcl.Attribute) (string, error) {
	v, err := constValue(a, cty.String)
	if err != nil {
		return "", err
	}
	return v.AsString(), nil
}

func intValue(a *hcl.Attribute) (int, error) {
	v, err := constValue(a, cty.Number)
	if err != nil {
		return 0, err
	}
	return wholeNumber(a, v)
}

func intListValue(a *hcl.Attribute) ([]int, error) {
	return listValue(a, cty.Number, func(e cty.Value) (int, error) { return wholeNumber(a, e) })
}

// listValue reads a list attribute element by element.
func listValue[T any](a *hcl.Attribute, elem cty.Type, read func(cty.Value) (T, error)) ([]T, error) {
	v, err := constValue(a, cty.List(elem))
	if err != nil {
		return nil, err
	}
	var out []T
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			return nil, inputErrorf("%s: %s holds a null", pos(a.Expr.Range()), a.Name)
		}
		x, err := read(e)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// constValue evaluates an attribute without variables or functions: the catalog
// is data, not configuration code.
func constValue(a *hcl.Attribute, want cty.Type) (cty.Value, error) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, diagError(diags)
	}
	if !v.IsWhollyKnown() || v.IsNull() {
		return cty.NilVal, inputErrorf("%s: %s must be a literal value", pos(a.Expr.Range()), a.Name)
	}
	v, err := convert.Convert(v, want)
	if err != nil {
		return cty.NilVal, inputErrorf("%s: %s must be %s", pos(a.Expr.Range()), a.Name, typeName(want))
	}
	if v.IsNull() {
		return cty.NilVal, inputErrorf("%s: %s must be %s", pos(a.Expr.Range()), a.Name, typeName(want))
	}
	return v, nil
}

func wholeNumber(a *hcl.Attribute, v cty.Value) (int, error) {
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || n > 1<<20 || n < -1<<20 {
		return 0, inputErrorf("%s: %s must be a whole number, not %s", pos(a.Expr.Range()), a.Name, bf.Text('g', 10))
	}
	return int(n), nil
}

func typeName(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a string"
	case t == cty.Number:
		return "a number"
	case t.Equals(cty.List(cty.String)):
		return "a list of strings"
	default:
		return "a list of numbers"
	}
}

func attrPos(c *hcl.BodyContent, name string) string {
	return pos(c.Attributes[name].Expr.Range())
}

func pos(r hcl.Range) string {
	return r.Filename + ":" + strconv.Itoa(r.Start.Line)
}

// diagError keeps the first error with its file:line, the form every other
// message of the catalog uses.
func diagError(diags hcl.Diagnostics) error {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			return inputErrorf("%s: %s", pos(*d.Subject), msg)
		}
		return inputErrorf("%s", msg)
	}
	return inputErrorf("%s", diags.Error())
}

// Resolve ties every entry to a layer of the repository and orders the services by
// apply order, keeping the file's order within a layer. An unknown layer is bad input.
func (c *Catalog) Resolve(set *layers.Set) error {
	for i := range c.Services {
		s := &c.Services[i]
		matched, err := set.Select([]string{s.Layer}, noChanges)
		if err != nil || len(matched) != 1 || strings.EqualFold(s.Layer, layers.All) {
			return inputErrorf("%s: service %q names layer %q, which is not one layer of the repository (layers: %s)", s.Pos, s.ID, s.Layer, layerList(set))
		}
		l := matched[0]
		s.LayerDir, s.LayerID, s.LayerIndex = l.Dir, l.ID(), order(set, l.Dir)
	}
	slices.SortStableFunc(c.Services, func(a, b Service) int { return a.LayerIndex - b.LayerIndex })
	return nil
}

func noChanges() ([]string, error) {
	return nil, errors.New("a catalog entry names one layer, not changed")
}

func order(set *layers.Set, dir string) int {
	for i, l := range set.Layers {
		if l.Dir == dir {
			return i
		}
	}
	return len(set.Layers)
}

func layerList(set *layers.Set) string {
	var names []string
	for _, l := range set.Layers {
		names = append(names, l.ID()+" "+l.Dir)
	}
	return strings.Join(names, ", ")
}

// Select keeps the services of the selected layers (--layer, as for the checks:
// "all" or layers by directory, name or ID).
func (c *Catalog) Select(set *layers.Set, specs []string) ([]Service, error) {
	selected, err := set.Select(specs, func() ([]string, error) {
		return nil, &layers.InputError{Msg: `dig probes running services, not changes: pass --layer all or layer names`}
	})
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, l := range selected {
		want[l.Dir] = true
	}
	var out []Service
	for _, s := range c.Services {
		if want[s.LayerDir] {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, inputErrorf("no service of %s is in %s", strings.Join(specs, ","), c.File)
	}
	return out, nil
}

// Host is the service's host name under domain.
func (s Service) Host(domain string) string {
	if s.Subdomain == "" {
		return domain
	}
	return s.Subdomain + "." + domain
}

// Address is the host with the port when it is not HTTPS's default.
func (s Service) Address(domain string) string {
	if s.Port == 443 {
		return s.Host(domain)
	}
	return s.Host(domain) + ":" + strconv.Itoa(s.Port)
}

// URL is what dig requests.
func (s Service) URL(domain string) string {
	return "https://" + s.Address(domain) + s.Path
}

// Healthy reports whether an answer with this status code is the expected one.
func (s Service) Healthy(code int) bool { return slices.Contains(s.Expect, code) }

// ExpectText is "200" or "401/403".
func (s Service) ExpectText() string {
	parts := make([]string, len(s.Expect))
	for i, c := range s.Expect {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, "/")
}

// Open loads the catalog at name and resolves it against the layer model.
func Open(fsys fs.FS, name string, set *layers.Set) (*Catalog, error) {
	c, err := Load(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := c.Resolve(set); err != nil {
		return nil, err
	}
	return c, nil
}
