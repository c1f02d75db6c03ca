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
// flags and, per object, each function's flags in the CLI's kebab-case and the
// object it returns (for chained calls). Functions are the main object's.
type Module struct {
	Global    map[string]bool
	Functions map[string]map[string]bool
	Objects   map[string]map[string]Function
	Main      string
	bools     map[string]bool
}

// Function is one function of an object.
type Function struct {
	Flags   map[string]bool
	Returns string // the module object it returns, "" for anything else
	Params  int
}

// ReadModule reads the Go source of a Dagger module (its main package in dir): the
// New constructor and the exported methods of every object, object being the main one.
func ReadModule(dir, object string) (*Module, error) {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	m := &Module{Global: map[string]bool{}, Objects: map[string]map[string]Function{}, Main: object, bools: map[string]bool{}}
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
					m.Global["--"+Kebab(p.name)] = true
				}
			case fn.Recv != nil:
				recv := receiver(fn)
				if recv == "" {
					continue
				}
				fun := Function{Flags: map[string]bool{}, Returns: returns(fn)}
				for _, p := range params(fn) {
					fun.Flags["--"+Kebab(p.name)] = true
					fun.Params++
					if p.boolean {
						m.bools["--"+Kebab(p.name)] = true
					}
				}
				if m.Objects[recv] == nil {
					m.Objects[recv] = map[string]Function{}
				}
				m.Objects[recv][Kebab(fn.Name.Name)] = fun
			}
		}
	}
	m.Functions = map[string]map[string]bool{}
	for name, fun := range m.Objects[object] {
		m.Functions[name] = fun.Flags
	}
	if len(m.Functions) == 0 {
		return nil, fmt.Errorf("no functions of %s in %s", object, dir)
	}
	return m, nil
}

// IsBool tells whether a flag is a boolean in some function (it takes no value).
func (m *Module) IsBool(flag string) bool { return m.bools[flag] }

// returns is the module object a method returns (*Github -> Github), if any.
func returns(fn *ast.FuncDecl) string {
	if fn.Type.Results == nil || len(fn.Type.Results.List) == 0 {
		return ""
	}
	t := fn.Type.Results.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok && id.IsExported() {
		return id.Name
	}
	return ""
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

type param struct {
	name    string
	boolean bool
}

func params(fn *ast.FuncDecl) []param {
	var out []param
	for _, field := range fn.Type.Params.List {
		if sel, ok := field.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
			continue
		}
		id, isIdent := field.Type.(*ast.Ident)
		for _, n := range field.Names {
			out = append(out, param{name: n.Name, boolean: isIdent && id.Name == "bool"})
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

// Missing lists the functions and flags a call uses that the module lacks,
// following the chain from the main object.
func (m *Module) Missing(c Call) []string {
	var out []string
	for _, f := range c.Global {
		if !m.Global[f.Name] {
			out = append(out, "constructor flag "+f.Name)
		}
	}
	chain := c.Chain
	if len(chain) == 0 && c.Function != "" {
		chain = []Step{{Function: c.Function, Flags: c.Flags}}
	}
	object := m.Main
	for i, st := range chain {
		fun, ok := m.Objects[object][st.Function]
		if !ok {
			return append(out, "function "+st.Function)
		}
		for _, f := range st.Flags {
			if !fun.Flags[f.Name] {
				out = append(out, st.Function+" flag "+f.Name)
			}
		}
		if i < len(chain)-1 {
			if fun.Returns == "" || m.Objects[fun.Returns] == nil {
				// Core types (a container, a directory) chain into the engine's own API.
				return out
			}
			object = fun.Returns
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
