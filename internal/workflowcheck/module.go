package workflowcheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// Module is what `dagger call` can reach in a Go Dagger module: the constructor's
// flags and each function's flags, in the CLI's kebab-case.
type Module struct {
	Global    map[string]bool
	Functions map[string]map[string]bool
}

// ReadModule reads the Go source of a Dagger module (its main package in dir): the
// New constructor and the exported methods of the module's object.
func ReadModule(dir, object string) (*Module, error) {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	m := &Module{Global: map[string]bool{}, Functions: map[string]map[string]bool{}}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".gen.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() {
				continue
			}
			switch {
			case fn.Recv == nil && fn.Name.Name == "New":
				for _, p := range params(fn) {
					m.Global["--"+Kebab(p)] = true
				}
			case fn.Recv != nil && receiver(fn) == object:
				flags := map[string]bool{}
				for _, p := range params(fn) {
					flags["--"+Kebab(p)] = true
				}
				m.Functions[Kebab(fn.Name.Name)] = flags
			}
		}
	}
	if len(m.Functions) == 0 {
		return nil, fmt.Errorf("no functions of %s in %s", object, dir)
	}
	return m, nil
}

func receiver(fn *ast.FuncDecl) string {
	t := fn.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func params(fn *ast.FuncDecl) []string {
	var out []string
	for _, field := range fn.Type.Params.List {
		if sel, ok := field.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
			continue
		}
		for _, n := range field.Names {
			out = append(out, n.Name)
		}
	}
	return out
}

// Kebab turns a Go identifier into the CLI's spelling: KickAtlantis -> kick-atlantis,
// runURL -> run-url, appID -> app-id.
func Kebab(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('-')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// callFlags are `dagger call`'s own flags, which it takes anywhere on the line:
// --output saves the result to a file, --json prints it as JSON.
var callFlags = map[string]bool{"--output": true, "--json": true}

// Missing lists the functions and flags a call uses that the module lacks.
func (m *Module) Missing(c Call) []string {
	var out []string
	for _, f := range c.Global {
		if !m.Global[f.Name] && !callFlags[f.Name] {
			out = append(out, "constructor flag "+f.Name)
		}
	}
	flags, ok := m.Functions[c.Function]
	if !ok {
		return append(out, "function "+c.Function)
	}
	for _, f := range c.Flags {
		if !flags[f.Name] && !callFlags[f.Name] {
			out = append(out, c.Function+" flag "+f.Name)
		}
	}
	return out
}

// FunctionNames lists the module's functions, sorted.
func (m *Module) FunctionNames() []string {
	var out []string
	for n := range m.Functions {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
