package layers

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// dirScan is what the pipeline needs to know about one Terraform directory.
type dirScan struct {
	stateKey     string // the s3-style backend key, when it is a literal
	remoteStates []remoteState
	modules      []string // local module sources, resolved to repository-relative dirs
	initParts    []string // inputs that decide whether init must run again
	hasLock      bool
}

// remoteState is a data "terraform_remote_state" block.
type remoteState struct {
	key  string // config.key or config.path when literal
	text string // the config expression's source, for matching when it is not literal
	rng  hcl.Range
}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "terraform"},
	{Type: "data", LabelNames: []string{"type", "name"}},
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "module", LabelNames: []string{"name"}},
	{Type: "provider", LabelNames: []string{"name"}},
}}

var terraformSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "backend", LabelNames: []string{"type"}},
	{Type: "required_providers"},
}}

const lockFile = ".terraform.lock.hcl"

// scanDir parses the top-level .tf and .tf.json files of dir (a repository-relative
// path). Parse errors come back as one error listing every diagnostic with its range.
func scanDir(fsys fs.FS, dir string) (*dirScan, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	s := &dirScan{}
	parser := hclparse.NewParser()
	var diags hcl.Diagnostics
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		if name == lockFile {
			src, err := fs.ReadFile(fsys, path.Join(dir, name))
			if err != nil {
				return nil, err
			}
			s.hasLock = true
			s.initParts = append(s.initParts, "lock:"+string(src))
			continue
		}
		isJSON := strings.HasSuffix(name, ".tf.json")
		if !isJSON && !strings.HasSuffix(name, ".tf") {
			continue
		}
		filename := path.Join(dir, name)
		src, err := fs.ReadFile(fsys, filename)
		if err != nil {
			return nil, err
		}
		var file *hcl.File
		var d hcl.Diagnostics
		if isJSON {
			file, d = parser.ParseJSON(src, filename)
		} else {
			file, d = parser.ParseHCL(src, filename)
		}
		diags = append(diags, d...)
		if file == nil || d.HasErrors() {
			continue
		}
		diags = append(diags, s.scanFile(file, src, dir)...)
	}
	if diags.HasErrors() {
		return nil, &InputError{Msg: "invalid HCL: " + errorsOnly(diags).Error()}
	}
	return s, nil
}

func errorsOnly(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

func (s *dirScan) scanFile(file *hcl.File, src []byte, dir string) hcl.Diagnostics {
	content, _, diags := file.Body.PartialContent(fileSchema)
	for _, b := range content.Blocks {
		switch b.Type {
		case "terraform":
			diags = append(diags, s.scanTerraform(b, src)...)
		case "module":
			diags = append(diags, s.scanModule(b, src, dir)...)
		case "provider":
			s.initParts = append(s.initParts, "provider:"+b.Labels[0])
		case "resource", "data":
			typ := b.Labels[0]
			s.initParts = append(s.initParts, "type:"+strings.SplitN(typ, "_", 2)[0])
			if b.Type == "data" && typ == "terraform_remote_state" {
				diags = append(diags, s.scanRemoteState(b, src)...)
			}
		}
	}
	return diags
}

func (s *dirScan) scanTerraform(b *hcl.Block, src []byte) hcl.Diagnostics {
	content, _, diags := b.Body.PartialContent(terraformSchema)
	for _, inner := range content.Blocks {
		attrs, d := inner.Body.JustAttributes()
		if inner.Type == "backend" {
			// Backend bodies may hold blocks (e.g. assume_role); only literal keys matter here.
			if a, ok := attrs["key"]; ok {
				s.stateKey = literalString(a.Expr)
			}
			continue
		}
		diags = append(diags, d...)
		for _, name := range sortedKeys(attrs) {
			s.initParts = append(s.initParts, "requires:"+name+"="+rangeText(src, attrs[name].Expr.Range()))
		}
	}
	return diags
}

func (s *dirScan) scanModule(b *hcl.Block, src []byte, dir string) hcl.Diagnostics {
	attrs, _ := b.Body.JustAttributes() // module bodies hold arbitrary inputs; blocks are errors for terraform to report
	srcAttr, ok := attrs["source"]
	if !ok {
		return nil
	}
	source := literalString(srcAttr.Expr)
	version := ""
	if v, ok := attrs["version"]; ok {
		version = rangeText(src, v.Expr.Range())
	}
	s.initParts = append(s.initParts, "module:"+b.Labels[0]+"="+rangeText(src, srcAttr.Expr.Range())+"@"+version)
	if strings.HasPrefix(source, "./") || strings.HasPrefix(source, "../") {
		s.modules = append(s.modules, path.Join(dir, source))
	}
	return nil
}

func (s *dirScan) scanRemoteState(b *hcl.Block, src []byte) hcl.Diagnostics {
	attrs, _ := b.Body.JustAttributes()
	rs := remoteState{rng: b.DefRange}
	cfg, ok := attrs["config"]
	if !ok {
		return nil
	}
	rs.text = rangeText(src, cfg.Expr.Range())
	if v, diags := cfg.Expr.Value(nil); !diags.HasErrors() && v.IsKnown() && !v.IsNull() && v.CanIterateElements() {
		for _, field := range []string{"key", "path"} {
			if v.Type().IsObjectType() && v.Type().HasAttribute(field) {
				if f := v.GetAttr(field); f.Type() == cty.String && f.IsKnown() && !f.IsNull() {
					rs.key = f.AsString()
				}
			}
		}
	}
	s.remoteStates = append(s.remoteStates, rs)
	return nil
}

func literalString(expr hcl.Expression) string {
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

func rangeText(src []byte, r hcl.Range) string {
	if r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
		return ""
	}
	return string(src[r.Start.Byte:r.End.Byte])
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// moduleClosure follows local module calls from a layer, scanning each module once.
// A module directory that does not exist is left for init/validate to report.
func moduleClosure(fsys fs.FS, start []string, cache map[string]*dirScan) ([]string, []string, error) {
	seen := map[string]bool{}
	var order []string
	var parts []string
	queue := append([]string(nil), start...)
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if seen[dir] || strings.HasPrefix(dir, "../") || dir == ".." {
			continue
		}
		seen[dir] = true
		scan, ok := cache[dir]
		if !ok {
			var err error
			scan, err = scanDir(fsys, dir)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			cache[dir] = scan
		}
		order = append(order, dir)
		parts = append(parts, "in:"+dir)
		parts = append(parts, scan.initParts...)
		queue = append(queue, scan.modules...)
	}
	sort.Strings(order)
	return order, parts, nil
}

func digest(parts []string) string {
	sorted := append([]string(nil), parts...)
	sort.Strings(sorted)
	h := sha256.New()
	for _, p := range sorted {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}
