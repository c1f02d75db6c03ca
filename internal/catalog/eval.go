package catalog

import (
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// sentinel stands for the base domain when a call is evaluated: where it lands in
// the result is where the domain is. Lower-case, as results are read lower-cased.
const sentinel = "base-domain.infra-catalog.invalid"

// functions are the terraform functions that build names, as HCL's standard
// library implements them: pure, so evaluating them reads the configuration
// without running anything.
var functions = map[string]function.Function{
	"chomp":      stdlib.ChompFunc,
	"coalesce":   stdlib.CoalesceFunc,
	"compact":    stdlib.CompactFunc,
	"concat":     stdlib.ConcatFunc,
	"distinct":   stdlib.DistinctFunc,
	"element":    stdlib.ElementFunc,
	"flatten":    stdlib.FlattenFunc,
	"format":     stdlib.FormatFunc,
	"formatlist": stdlib.FormatListFunc,
	"join":       stdlib.JoinFunc,
	"jsonencode": stdlib.JSONEncodeFunc,
	"lower":      stdlib.LowerFunc,
	"merge":      stdlib.MergeFunc,
	"replace":    stdlib.ReplaceFunc,
	"reverse":    stdlib.ReverseListFunc,
	"sort":       stdlib.SortFunc,
	"split":      stdlib.SplitFunc,
	"substr":     stdlib.SubstrFunc,
	"title":      stdlib.TitleFunc,
	"tolist":     stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"toset":      stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
	"tostring":   stdlib.MakeToFunc(cty.String),
	"trim":       stdlib.TrimFunc,
	"trimprefix": stdlib.TrimPrefixFunc,
	"trimspace":  stdlib.TrimSpaceFunc,
	"trimsuffix": stdlib.TrimSuffixFunc,
	"upper":      stdlib.UpperFunc,
}

// evalContext knows the domain variable and the locals aliasing it, as the
// sentinel, and nothing else: a call that needs anything else is not static.
func evalContext(domainVar string, aliases map[string]bool) *hcl.EvalContext {
	vars := map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{domainVar: cty.StringVal(sentinel)})}
	if len(aliases) > 0 {
		locals := map[string]cty.Value{}
		for name := range aliases {
			locals[name] = cty.StringVal(sentinel)
		}
		vars["local"] = cty.ObjectVal(locals)
	}
	return &hcl.EvalContext{Variables: vars, Functions: functions}
}

// scanCalls evaluates the outermost calls of known functions that take the
// domain, reads the hosts in their results, and reports those that need values
// known only when terraform runs. It returns where the evaluated calls are.
func scanCalls(body hclsyntax.Node, isDomain func(hclsyntax.Expression) bool, ctx *hcl.EvalContext, sc scan) []hcl.Range {
	var calls []*hclsyntax.FunctionCallExpr
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		if c, ok := n.(*hclsyntax.FunctionCallExpr); ok && refersTo(c, isDomain) {
			if _, known := functions[c.Name]; known { // templatefile's are read in the .tftpl
				calls = append(calls, c)
			}
		}
		return nil
	})
	// Outermost first: a call inside an evaluated one was read with it.
	sort.SliceStable(calls, func(i, j int) bool {
		a, b := calls[i].Range(), calls[j].Range()
		if a.Filename != b.Filename || a.Start.Byte != b.Start.Byte {
			return before(a, b)
		}
		return a.End.Byte > b.End.Byte
	})
	var evaluated []hcl.Range
	for _, c := range calls {
		r := c.Range()
		if within(evaluated, r) {
			continue
		}
		v, diags := c.Value(ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			if takesDomain(c, isDomain) {
				sc.undetectable(r, c.Name+"()")
			}
			continue
		}
		evaluated = append(evaluated, r)
		for _, s := range stringsIn(v, nil) {
			s = strings.ToLower(s)
			for off := 0; ; {
				i := strings.Index(s[off:], sentinel)
				if i < 0 {
					break
				}
				at := off + i
				if sub, ok := hostBefore(s[:at], s[at+len(sentinel):]); ok {
					sc.host(sub, r)
				}
				off = at + len(sentinel)
			}
		}
	}
	return evaluated
}

func refersTo(n hclsyntax.Node, isDomain func(hclsyntax.Expression) bool) bool {
	found := false
	_ = hclsyntax.VisitAll(n, func(n hclsyntax.Node) hcl.Diagnostics {
		if e, ok := n.(hclsyntax.Expression); ok && isDomain(e) {
			found = true
		}
		return nil
	})
	return found
}

// takesDomain says whether call c builds something from the domain itself: the
// domain is among its arguments other than inside a template (read on its own)
// or another call (judged on its own).
func takesDomain(c *hclsyntax.FunctionCallExpr, isDomain func(hclsyntax.Expression) bool) bool {
	var covered, refs []hcl.Range
	for _, arg := range c.Args {
		_ = hclsyntax.VisitAll(arg, func(n hclsyntax.Node) hcl.Diagnostics {
			switch n := n.(type) {
			case *hclsyntax.FunctionCallExpr, *hclsyntax.TemplateExpr:
				covered = append(covered, n.Range())
			case hclsyntax.Expression:
				if isDomain(n) {
					refs = append(refs, n.Range())
				}
			}
			return nil
		})
	}
	for _, r := range refs {
		if !within(covered, r) {
			return true
		}
	}
	return false
}

// within says whether r lies inside one of outer.
func within(outer []hcl.Range, r hcl.Range) bool {
	for _, o := range outer {
		if o.Filename == r.Filename && o.Start.Byte <= r.Start.Byte && r.End.Byte <= o.End.Byte {
			return true
		}
	}
	return false
}

// stringsIn appends the strings of v, at any depth of lists, maps and objects.
func stringsIn(v cty.Value, out []string) []string {
	switch {
	case v.IsNull() || !v.IsKnown():
	case v.Type() == cty.String:
		out = append(out, v.AsString())
	case v.CanIterateElements():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = stringsIn(e, out)
		}
	}
	return out
}
