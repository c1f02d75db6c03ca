package workflowcheck

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Eval evaluates a GitHub Actions expression (an `if:` without its ${{ }})
// against contexts such as {"github": {"event": …}}, as the runner does for
// what the workflows use: property access, string, number, boolean and null
// literals, parentheses, !, ==, !=, && and ||, and the functions startsWith,
// endsWith, contains and fromJSON. Strings compare without letter case, as on
// GitHub. It lets a test run a workflow's condition on the same cases as the
// code it guards.
func Eval(expr string, contexts map[string]any) (any, error) {
	p := &exprParser{src: expr}
	n, err := p.or()
	if p.skip(); err == nil && p.pos < len(p.src) {
		err = fmt.Errorf("unexpected %q at %d", p.src[p.pos:], p.pos)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %q: %w", expr, err)
	}
	return n(contexts)
}

type exprFn func(ctx map[string]any) (any, error)

type exprParser struct {
	src string
	pos int
}

func (p *exprParser) skip() {
	for p.pos < len(p.src) && strings.ContainsRune(" \t\r\n", rune(p.src[p.pos])) {
		p.pos++
	}
}

func (p *exprParser) eat(tok string) bool {
	p.skip()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *exprParser) or() (exprFn, error)  { return p.logical("||", p.and, false) }
func (p *exprParser) and() (exprFn, error) { return p.logical("&&", p.compare, true) }

// logical chains operands; && stops at a falsy value, || at a truthy one, and
// the value itself is the result.
func (p *exprParser) logical(op string, next func() (exprFn, error), and bool) (exprFn, error) {
	l, err := next()
	for err == nil && p.eat(op) {
		var r exprFn
		if r, err = next(); err == nil {
			left := l
			l = func(ctx map[string]any) (any, error) {
				v, err := left(ctx)
				if err != nil || Truthy(v) != and {
					return v, err
				}
				return r(ctx)
			}
		}
	}
	return l, err
}

func (p *exprParser) compare() (exprFn, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for _, op := range []string{"==", "!="} {
		if p.eat(op) {
			r, err := p.unary()
			if err != nil {
				return nil, err
			}
			eq := op == "=="
			return func(ctx map[string]any) (any, error) {
				a, err := l(ctx)
				if err != nil {
					return nil, err
				}
				b, err := r(ctx)
				if err != nil {
					return nil, err
				}
				return equal(a, b) == eq, nil
			}, nil
		}
	}
	return l, nil
}

func (p *exprParser) unary() (exprFn, error) {
	if p.eat("!") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(ctx map[string]any) (any, error) {
			v, err := x(ctx)
			if err != nil {
				return nil, err
			}
			return !Truthy(v), nil
		}, nil
	}
	return p.primary()
}

func (p *exprParser) primary() (exprFn, error) {
	p.skip()
	switch {
	case p.eat("("):
		x, err := p.or()
		if err == nil && !p.eat(")") {
			err = fmt.Errorf("missing ) at %d", p.pos)
		}
		return x, err
	case p.pos < len(p.src) && p.src[p.pos] == '\'':
		var b strings.Builder
		for p.pos++; ; p.pos++ {
			if p.pos >= len(p.src) {
				return nil, fmt.Errorf("unterminated string")
			}
			if p.src[p.pos] == '\'' {
				if p.pos+1 < len(p.src) && p.src[p.pos+1] == '\'' { // '' is a quote
					b.WriteByte('\'')
					p.pos++
					continue
				}
				p.pos++
				break
			}
			b.WriteByte(p.src[p.pos])
		}
		s := b.String()
		return func(map[string]any) (any, error) { return s, nil }, nil
	}
	start := p.pos
	for p.pos < len(p.src) && (isWord(p.src[p.pos]) || p.src[p.pos] == '.') {
		p.pos++
	}
	word := p.src[start:p.pos]
	switch {
	case word == "":
		return nil, fmt.Errorf("unexpected %q at %d", p.src[p.pos:], p.pos)
	case word == "true" || word == "false":
		v := word == "true"
		return func(map[string]any) (any, error) { return v, nil }, nil
	case word == "null":
		return func(map[string]any) (any, error) { return nil, nil }, nil
	case word[0] >= '0' && word[0] <= '9':
		var f float64
		if _, err := fmt.Sscan(word, &f); err != nil {
			return nil, fmt.Errorf("number %q: %v", word, err)
		}
		return func(map[string]any) (any, error) { return f, nil }, nil
	case p.eat("("):
		var args []exprFn
		for !p.eat(")") {
			if len(args) > 0 && !p.eat(",") {
				return nil, fmt.Errorf("missing , or ) at %d", p.pos)
			}
			a, err := p.or()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
		}
		name := strings.ToLower(word)
		return func(ctx map[string]any) (any, error) {
			var vals []any
			for _, a := range args {
				v, err := a(ctx)
				if err != nil {
					return nil, err
				}
				vals = append(vals, v)
			}
			return call(name, vals)
		}, nil
	}
	path := strings.Split(word, ".")
	return func(ctx map[string]any) (any, error) {
		var v any = ctx
		for _, k := range path {
			v = property(v, k)
		}
		return v, nil
	}, nil
}

func isWord(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Truthy is an expression value's truth, as `if:` reads it.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	}
	return true
}

func property(recv any, name string) any {
	m, ok := recv.(map[string]any)
	if !ok {
		return nil
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool, float64:
		return fmt.Sprint(x)
	}
	data, _ := json.Marshal(v)
	return string(data)
}

func equal(a, b any) bool {
	as, aok := a.(string)
	bs, bok := b.(string)
	if aok && bok {
		return strings.EqualFold(as, bs)
	}
	return fmt.Sprint(a) == fmt.Sprint(b) && (a == nil) == (b == nil)
}

func call(name string, args []any) (any, error) {
	want := map[string]int{"startswith": 2, "endswith": 2, "contains": 2, "fromjson": 1}[name]
	if want == 0 {
		return nil, fmt.Errorf("function %s is not supported", name)
	}
	if len(args) != want {
		return nil, fmt.Errorf("%s takes %d arguments", name, want)
	}
	switch name {
	case "startswith":
		return strings.HasPrefix(strings.ToLower(str(args[0])), strings.ToLower(str(args[1]))), nil
	case "endswith":
		return strings.HasSuffix(strings.ToLower(str(args[0])), strings.ToLower(str(args[1]))), nil
	case "contains":
		if list, ok := args[0].([]any); ok {
			for _, x := range list {
				if equal(x, args[1]) {
					return true, nil
				}
			}
			return false, nil
		}
		return strings.Contains(strings.ToLower(str(args[0])), strings.ToLower(str(args[1]))), nil
	}
	var v any
	if err := json.Unmarshal([]byte(str(args[0])), &v); err != nil {
		return nil, fmt.Errorf("fromJSON: %v", err)
	}
	return v, nil
}
