package catalog

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/infra-flash/infra/internal/layers"
)

// Host is a public host a layer builds from the base domain variable.
type Host struct {
	LayerDir  string `json:"layer_dir"`
	Subdomain string `json:"subdomain"` // "" for the base domain itself
	Pos       string `json:"pos"`       // file:line of its first mention in the layer
}

// hostLabels matches the host labels a literal ends with, right before the domain:
// "https://i-secrets." or "host: api.eu.".
var hostLabels = regexp.MustCompile(`(?:^|[^A-Za-z0-9.-])((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+)$`)

// hostAttributes are argument names whose value, when it is the bare domain
// variable, is a host (the base domain itself) rather than, say, a DNS zone.
var hostAttributes = map[string]bool{"host": true, "hostname": true}

// TerraformHosts finds the hosts each layer builds from the domain variable:
//   - in the layer's .tf files, every string template "<labels>.${var.<domainVar>}"
//     (also inside URLs), through locals that alias the variable, and "host"/"hostname"
//     arguments set to the variable itself (the base domain as a host);
//   - in the layer's .tftpl templates (values files, at any depth), "<labels>.${<domainVar>}".
//
// Modules are not followed: a layer's hosts are named where the layer passes them.
func TerraformHosts(fsys fs.FS, set *layers.Set, domainVar string) ([]Host, error) {
	var hosts []Host
	for _, l := range set.Layers {
		found, err := layerHosts(fsys, l, domainVar)
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, found...)
	}
	return hosts, nil
}

func layerHosts(fsys fs.FS, l *layers.Layer, domainVar string) ([]Host, error) {
	// The first mention by file and line: HCL bodies are maps, so visiting order
	// is not the file's.
	first := map[string]hcl.Range{}
	record := func(sub string, r hcl.Range) {
		sub = strings.ToLower(sub)
		if f, ok := first[sub]; !ok || r.Filename < f.Filename || r.Filename == f.Filename && r.Start.Byte < f.Start.Byte {
			first[sub] = r
		}
	}
	var diags hcl.Diagnostics
	err := fs.WalkDir(fsys, l.Path, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name != l.Path && (d.Name() == ".terraform" || strings.HasPrefix(d.Name(), ".")) {
				return fs.SkipDir
			}
			return nil
		}
		top := path.Dir(name) == l.Path
		switch {
		case top && strings.HasSuffix(name, ".tf"):
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			file, d := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
			diags = append(diags, d...)
			if !d.HasErrors() {
				scanConfig(file.Body.(*hclsyntax.Body), domainVar, record)
			}
		case strings.HasSuffix(name, ".tftpl"):
			src, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			expr, d := hclsyntax.ParseTemplate(src, name, hcl.InitialPos)
			diags = append(diags, d...)
			if !d.HasErrors() {
				isDomain := func(e hclsyntax.Expression) bool {
					t, ok := e.(*hclsyntax.ScopeTraversalExpr)
					return ok && len(t.Traversal) == 1 && t.Traversal.RootName() == domainVar
				}
				scanTemplates(expr, isDomain, record)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", l.Path, err)
	}
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	subs := make([]string, 0, len(first))
	for sub := range first {
		subs = append(subs, sub)
	}
	sort.Strings(subs)
	out := make([]Host, len(subs))
	for i, sub := range subs {
		out[i] = Host{LayerDir: l.Dir, Subdomain: sub, Pos: pos(first[sub])}
	}
	return out, nil
}

// scanConfig finds hosts in a .tf file's body.
func scanConfig(body *hclsyntax.Body, domainVar string, record func(string, hcl.Range)) {
	aliases := map[string]bool{}
	for _, b := range body.Blocks {
		if b.Type != "locals" {
			continue
		}
		for name, a := range b.Body.Attributes {
			if isVar(unwrap(a.Expr), domainVar) {
				aliases[name] = true
			}
		}
	}
	isDomain := func(e hclsyntax.Expression) bool {
		e = unwrap(e)
		if isVar(e, domainVar) {
			return true
		}
		t, ok := e.(*hclsyntax.ScopeTraversalExpr)
		if !ok || len(t.Traversal) != 2 || t.Traversal.RootName() != "local" {
			return false
		}
		attr, ok := t.Traversal[1].(hcl.TraverseAttr)
		return ok && aliases[attr.Name]
	}
	scanTemplates(body, isDomain, record)
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.Attribute:
			if hostAttributes[n.Name] && isDomain(n.Expr) {
				record("", n.Expr.Range())
			}
		case *hclsyntax.ObjectConsExpr:
			for _, item := range n.Items {
				if key, ok := literalKey(item.KeyExpr); ok && hostAttributes[key] && isDomain(item.ValueExpr) {
					record("", item.ValueExpr.Range())
				}
			}
		}
		return nil
	})
}

// scanTemplates records "<labels>.${domain}" and "://${domain}" in every template
// under n.
func scanTemplates(n hclsyntax.Node, isDomain func(hclsyntax.Expression) bool, record func(string, hcl.Range)) {
	_ = hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
		t, ok := n.(*hclsyntax.TemplateExpr)
		if !ok {
			return nil
		}
		for i, part := range t.Parts {
			if !isDomain(part) || i == 0 {
				continue
			}
			before, ok := literalString(t.Parts[i-1])
			if !ok {
				continue
			}
			if i+1 < len(t.Parts) {
				if after, ok := literalString(t.Parts[i+1]); ok && after != "" && isHostChar(after[0]) {
					continue // "${domain}-x" or "${domain}x": another name
				}
			}
			if m := hostLabels.FindStringSubmatch(before); m != nil {
				record(strings.TrimSuffix(m[1], "."), part.Range())
			} else if strings.HasSuffix(before, "://") {
				record("", part.Range())
			}
		}
		return nil
	})
}

func isHostChar(c byte) bool {
	return c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isVar(e hclsyntax.Expression, name string) bool {
	t, ok := e.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) != 2 || t.Traversal.RootName() != "var" {
		return false
	}
	attr, ok := t.Traversal[1].(hcl.TraverseAttr)
	return ok && attr.Name == name
}

// unwrap turns "${x}" into x.
func unwrap(e hclsyntax.Expression) hclsyntax.Expression {
	if w, ok := e.(*hclsyntax.TemplateWrapExpr); ok {
		return w.Wrapped
	}
	return e
}

func literalString(e hclsyntax.Expression) (string, bool) {
	lit, ok := e.(*hclsyntax.LiteralValueExpr)
	if !ok || !lit.Val.Type().Equals(cty.String) || lit.Val.IsNull() {
		return "", false
	}
	return lit.Val.AsString(), true
}

func literalKey(e hclsyntax.Expression) (string, bool) {
	if k, ok := e.(*hclsyntax.ObjectConsKeyExpr); ok {
		if name := hcl.ExprAsKeyword(k.Wrapped); name != "" {
			return name, true
		}
		e = k.Wrapped
	}
	if t, ok := e.(*hclsyntax.TemplateExpr); ok && len(t.Parts) == 1 {
		return literalString(t.Parts[0])
	}
	return literalString(e)
}
