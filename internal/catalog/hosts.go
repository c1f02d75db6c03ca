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
// "https://i-secrets." or "host: api.eu." (underscores too: "_acme-challenge.", a
// DNS-only name). A label right after % is a format verb's, not a host's.
var hostLabels = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.%-])((?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?\.)+)$`)

// hostAttributes are argument names whose value, when it is the bare domain
// variable, is a host (the base domain itself) rather than, say, a DNS zone.
var hostAttributes = map[string]bool{"host": true, "hostname": true}

// TerraformHosts finds the hosts each layer builds from the domain variable:
//   - in the layer's .tf files, every string template "<labels>.${var.<domainVar>}"
//     (also inside URLs), through locals that alias the variable, and "host"/"hostname"
//     arguments set to the variable itself (the base domain as a host);
//   - in the same files, calls of terraform's string and collection functions
//     (format, join, formatlist, lower, …) whose other arguments are static: they
//     are evaluated and their result read the same way;
//   - in the layer's .tftpl templates (values files, at any depth), "<labels>.${<domainVar>}".
//
// A name built from the variable out of values known only when terraform runs
// ("${var.env}.${var.base_domain}", format("%s.%s", each.key, var.base_domain))
// cannot be checked: it comes back among the undetectable, with its file:line.
// Modules are not followed: a layer's hosts are named where the layer passes them.
func TerraformHosts(fsys fs.FS, set *layers.Set, domainVar string) (hosts []Host, undetectable []Finding, err error) {
	for _, l := range set.Layers {
		found, notes, err := layerHosts(fsys, l, domainVar)
		if err != nil {
			return nil, nil, err
		}
		hosts = append(hosts, found...)
		undetectable = append(undetectable, notes...)
	}
	return hosts, undetectable, nil
}

// scan is what the scanners report to: a host at a place, or a place whose name
// cannot be told.
type scan struct {
	host         func(sub string, r hcl.Range)
	undetectable func(r hcl.Range, how string)
}

func layerHosts(fsys fs.FS, l *layers.Layer, domainVar string) ([]Host, []Finding, error) {
	// The first mention by file and line: HCL bodies are maps, so visiting order
	// is not the file's.
	first := map[string]hcl.Range{}
	type place struct {
		file string
		at   int
	}
	notes := map[place]Finding{}
	var noteAt []hcl.Range
	sc := scan{
		host: func(sub string, r hcl.Range) {
			sub = strings.ToLower(sub)
			if f, ok := first[sub]; !ok || before(r, f) {
				first[sub] = r
			}
		},
		undetectable: func(r hcl.Range, how string) {
			at := place{r.Filename, r.Start.Byte}
			if _, dup := notes[at]; !dup {
				noteAt = append(noteAt, r)
			}
			notes[at] = Finding{pos(r), how + " builds a name from the domain variable out of values known only when terraform runs: it cannot be checked"}
		},
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
				scanConfig(file.Body.(*hclsyntax.Body), domainVar, sc)
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
				scanTemplates(expr, isDomain, sc)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", l.Path, err)
	}
	if diags.HasErrors() {
		return nil, nil, diagError(diags)
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
	sort.Slice(noteAt, func(i, j int) bool { return before(noteAt[i], noteAt[j]) })
	var undetectable []Finding
	for _, r := range noteAt {
		undetectable = append(undetectable, notes[place{r.Filename, r.Start.Byte}])
	}
	return out, undetectable, nil
}

// before orders places by file, then offset.
func before(a, b hcl.Range) bool {
	return a.Filename < b.Filename || a.Filename == b.Filename && a.Start.Byte < b.Start.Byte
}

// scanConfig finds hosts in a .tf file's body.
func scanConfig(body *hclsyntax.Body, domainVar string, sc scan) {
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
	evaluated := scanCalls(body, isDomain, evalContext(domainVar, aliases), sc)
	// A template inside an evaluated call was read whole with it: "%s.${var.x}"
	// in format() is not undetectable.
	inTemplates := sc
	inTemplates.undetectable = func(r hcl.Range, how string) {
		if !within(evaluated, r) {
			sc.undetectable(r, how)
		}
	}
	scanTemplates(body, isDomain, inTemplates)
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n := n.(type) {
		case *hclsyntax.Attribute:
			if hostAttributes[n.Name] && isDomain(n.Expr) {
				sc.host("", n.Expr.Range())
			}
		case *hclsyntax.ObjectConsExpr:
			for _, item := range n.Items {
				if key, ok := literalKey(item.KeyExpr); ok && hostAttributes[key] && isDomain(item.ValueExpr) {
					sc.host("", item.ValueExpr.Range())
				}
			}
		}
		return nil
	})
}

// scanTemplates records "<labels>.${domain}" and "://${domain}" in every template
// under n, and reports "${x}.${domain}" as undetectable.
func scanTemplates(n hclsyntax.Node, isDomain func(hclsyntax.Expression) bool, sc scan) {
	_ = hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
		t, ok := n.(*hclsyntax.TemplateExpr)
		if !ok {
			return nil
		}
		for i, part := range t.Parts {
			if !isDomain(part) || i == 0 {
				continue
			}
			after := ""
			if i+1 < len(t.Parts) {
				after, _ = literalString(t.Parts[i+1])
			}
			if startsHost(after) {
				continue // "${domain}-x": another name
			}
			before, literal := literalString(t.Parts[i-1])
			switch sub, host := hostBefore(before, after); {
			case !literal:
				sc.undetectable(part.Range(), "a template") // "${local.prefix}${var.base_domain}"
			case host:
				sc.host(sub, part.Range())
			case strings.HasSuffix(before, ".") && i >= 2:
				sc.undetectable(part.Range(), "a template") // "${var.env}.${var.base_domain}"
			}
		}
		return nil
	})
}

// hostBefore reads the host a name ends with when the domain follows before (and
// after follows the domain): "app." gives app, "https://" the domain itself;
// "${domain}-x" is another name.
func hostBefore(before, after string) (sub string, ok bool) {
	if startsHost(after) {
		return "", false
	}
	if m := hostLabels.FindStringSubmatch(before); m != nil {
		return strings.TrimSuffix(m[1], "."), true
	}
	return "", strings.HasSuffix(before, "://")
}

func startsHost(s string) bool { return s != "" && isHostChar(s[0]) }

func isHostChar(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
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
