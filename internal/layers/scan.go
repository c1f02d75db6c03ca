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
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"

	"github.com/infra-flash/infra/internal/repofs"
)

// Problem is an error in a layer's HCL (or in a local module it calls), located in
// the repository; the layer's Validate reports it.
type Problem struct {
	File    string `json:"file"` // repository-relative
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
	Detail  string `json:"detail,omitempty"`
}

// dirScan is what the pipeline needs to know about one Terraform directory.
type dirScan struct {
	state        stateRef // where the backend keeps this directory's state
	remoteStates []remoteState
	modules      []string // local module sources, resolved to repository-relative dirs
	initParts    []string // inputs that decide whether init must run again
	hasLock      bool
	hasConfig    bool // at least one .tf or .tf.json file
	hasLint      bool // a .tflint.hcl of its own
	terragrunt   bool // a terragrunt.hcl: a Terragrunt unit
	problems     []Problem
	broken       []string // files with errors, whose other blocks were still read
}

// stateRef identifies a state: the backend type, its bucket (or container) and the
// key (or path, or prefix) when they are literals. Key is "" when unknown.
type stateRef struct {
	backend, bucket, key string
}

func (s stateRef) String() string {
	if s.bucket != "" {
		return fmt.Sprintf("%s backend, bucket %q, key %q", s.backend, s.bucket, s.key)
	}
	return fmt.Sprintf("%s backend, key %q", s.backend, s.key)
}

// remoteState is a data "terraform_remote_state" block.
type remoteState struct {
	state stateRef // the key is "" when not a literal
	text  string   // the config expression's source, for matching when it is not literal
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

// scanned says which files of a directory discovery reads.
func scanned(name string) bool {
	return name == lockFile || strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
}

// dirFiles is what discovery reads of a directory: its files of interest, in name order.
type dirFiles struct {
	hasLint    bool
	terragrunt bool
	files      []dirFile
}

type dirFile struct {
	name string
	src  []byte
}

func readDirFiles(fsys fs.FS, dir string) (*dirFiles, error) {
	listing, err := repofs.ReadFiles(fsys, dir, scanned)
	if err != nil {
		return nil, err
	}
	d := &dirFiles{}
	for i, e := range listing.Entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		if name == tflintConfig {
			d.hasLint = true
			continue
		}
		if name == terragruntFile {
			d.terragrunt = true
			continue
		}
		if !scanned(name) {
			continue
		}
		src := listing.Data[i]
		if src == nil {
			filename := path.Join(dir, name)
			if e.Type()&fs.ModeSymlink != 0 {
				if _, out := leavesRepo(fsys, filename); out {
					continue // not in the workspace either; the executor reports it
				}
			}
			src, err = fs.ReadFile(fsys, filename)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // a dangling symlink or a file gone since listing: terraform does not see it either
				}
				return nil, err
			}
		}
		d.files = append(d.files, dirFile{name: name, src: src})
	}
	return d, nil
}

// scan reads the files of dir in name order; full skips the skimmer, so that every
// error the HCL parser finds is reported. Relative paths in them (module sources,
// local state) are resolved from base, the directory's real path: the engine runs
// in the directory a symlink points to, and counts "../" from there.
func (d *dirFiles) scan(dir, base string, full bool) *dirScan {
	s := &dirScan{hasLint: d.hasLint, terragrunt: d.terragrunt}
	for _, f := range d.files {
		if f.name == lockFile {
			s.hasLock = true
			s.initParts = append(s.initParts, "lock:"+string(f.src))
			continue
		}
		isJSON := strings.HasSuffix(f.name, ".tf.json")
		s.hasConfig = true
		if !full && !isJSON {
			if facts, ok := fastScan(f.src, base); ok {
				facts.addTo(s)
				continue
			}
		}
		s.parseFile(f.src, path.Join(dir, f.name), base, isJSON)
	}
	return s
}

func (d *dirFiles) size() int {
	n := 0
	for _, f := range d.files {
		n += len(f.src)
	}
	return n
}

// scanDir reads the top-level .tf and .tf.json files of dir (a repository-relative
// path). With full set every file is parsed with HCL and its errors are recorded as
// problems; otherwise the fast path reads the files it can (fastscan.go). Either
// way the blocks that parse are read, so a file with an error still yields the
// dependencies it shows. The error return is for a directory or file that cannot
// be read.
func scanDir(fsys fs.FS, dir, base string, full bool) (*dirScan, error) {
	d, err := readDirFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	return d.scan(dir, base, full), nil
}

// largeDir is the size of files from which a directory is scanned before the others.
const largeDir = 16 << 10

// scanDirs scans many directories on every core, each as scanDir would. Every
// directory is read first; then they are scanned, large ones first, so that a large
// one (a layer reading thousands of others) is not left to one core at the end.
// bases are the directories' real paths (nil: each is its own).
func scanDirs(fsys fs.FS, dirs, bases []string, full bool) ([]*dirScan, []error) {
	read := make([]*dirFiles, len(dirs))
	errs := make([]error, len(dirs))
	forEach(len(dirs), func(i int) {
		read[i], errs[i] = readDirFiles(fsys, dirs[i])
	})
	var large, small []int
	for i, d := range read {
		switch {
		case d == nil:
		case d.size() >= largeDir:
			large = append(large, i)
		default:
			small = append(small, i)
		}
	}
	sort.SliceStable(large, func(a, b int) bool { return read[large[a]].size() > read[large[b]].size() })
	order := append(large, small...)
	scans := make([]*dirScan, len(dirs))
	forEach(len(order), func(n int) {
		i := order[n]
		base := dirs[i]
		if bases != nil {
			base = bases[i]
		}
		scans[i] = read[i].scan(dirs[i], base, full)
		read[i] = nil // the sources are not needed any more
	})
	return scans, errs
}

// parseFile reads one file with the HCL parser.
func (s *dirScan) parseFile(src []byte, filename, dir string, isJSON bool) {
	var file *hcl.File
	var diags hcl.Diagnostics
	if isJSON {
		file, diags = json.Parse(src, filename)
	} else {
		file, diags = hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	}
	if diags.HasErrors() {
		s.broken = append(s.broken, filename)
	}
	if file != nil && file.Body != nil {
		diags = append(diags, s.scanFile(file, src, dir, diags)...)
	}
	s.addProblems(diags)
}

func (s *dirScan) addProblems(diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		p := Problem{Message: d.Summary, Detail: d.Detail}
		if d.Subject != nil {
			p.File, p.Line, p.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		s.problems = append(s.problems, p)
	}
}

// scanFile reads the blocks of a file. parseErrs are the file's syntax errors: a
// block that holds one is skipped, the others are read as if the file were whole.
func (s *dirScan) scanFile(file *hcl.File, src []byte, dir string, parseErrs hcl.Diagnostics) hcl.Diagnostics {
	content, _, diags := file.Body.PartialContent(fileSchema)
	if parseErrs.HasErrors() {
		diags = nil // the schema errors of a broken file repeat the syntax errors
	}
	for _, b := range content.Blocks {
		if holdsError(b, parseErrs) {
			continue
		}
		switch b.Type {
		case "terraform":
			diags = append(diags, s.scanTerraform(b, src, dir)...)
		case "module":
			s.scanModule(b, src, dir)
		case "provider":
			s.initParts = append(s.initParts, "provider:"+b.Labels[0])
		case "resource", "data":
			typ := b.Labels[0]
			prefix, _, _ := strings.Cut(typ, "_")
			s.initParts = addType(s.initParts, prefix)
			if b.Type == "data" && typ == "terraform_remote_state" {
				s.scanRemoteState(b, src, dir)
			}
		}
	}
	return diags
}

// holdsError reports whether a syntax error lies inside the block.
func holdsError(b *hcl.Block, diags hcl.Diagnostics) bool {
	if len(diags) == 0 {
		return false
	}
	rng := b.DefRange
	if sb, ok := b.Body.(*hclsyntax.Body); ok {
		rng = hcl.RangeBetween(b.DefRange, sb.SrcRange)
	}
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject != nil && rng.ContainsOffset(d.Subject.Start.Byte) {
			return true
		}
	}
	return false
}

func (s *dirScan) scanTerraform(b *hcl.Block, src []byte, dir string) hcl.Diagnostics {
	content, _, diags := b.Body.PartialContent(terraformSchema)
	for _, inner := range content.Blocks {
		attrs, d := inner.Body.JustAttributes()
		if inner.Type == "backend" {
			// Backend bodies may hold blocks (e.g. assume_role); only literal settings matter here.
			s.state = stateOf(inner.Labels[0], attrs, dir)
			continue
		}
		diags = append(diags, d...)
		for _, name := range sortedKeys(attrs) {
			s.initParts = append(s.initParts, "requires:"+name+"="+rangeText(src, attrs[name].Expr.Range()))
		}
	}
	return diags
}

// stateOf reads the literal settings that identify a backend's state.
func stateOf(backend string, attrs hcl.Attributes, dir string) stateRef {
	fields := fieldMap{}
	for name, a := range attrs {
		fields[name] = literalString(a.Expr)
	}
	return stateFrom(backend, fields, dir)
}

// fieldMap is literal settings by name, as the HCL path reads them.
type fieldMap map[string]string

func (m fieldMap) value(name string) string { return m[name] }

// stateFrom identifies a state from the literal settings of a backend block or of
// a terraform_remote_state config. A local path is relative to the directory, so
// it is resolved against it.
func stateFrom(backend string, fields interface{ value(string) string }, dir string) stateRef {
	field := func(names ...string) string {
		for _, n := range names {
			if v := fields.value(n); v != "" {
				return v
			}
		}
		return ""
	}
	ref := stateRef{backend: backend, bucket: field("bucket", "container_name"), key: field("key", "prefix", "path")}
	if backend == "local" && ref.key != "" && !path.IsAbs(ref.key) {
		ref.key = path.Join(dir, ref.key)
	}
	return ref
}

func (s *dirScan) scanModule(b *hcl.Block, src []byte, dir string) {
	attrs, _ := b.Body.JustAttributes() // module bodies hold arbitrary inputs; blocks are errors for terraform to report
	srcAttr, ok := attrs["source"]
	if !ok {
		return
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
}

func (s *dirScan) scanRemoteState(b *hcl.Block, src []byte, dir string) {
	attrs, _ := b.Body.JustAttributes()
	cfg, ok := attrs["config"]
	if !ok {
		return
	}
	backend := ""
	if a, ok := attrs["backend"]; ok {
		backend = literalString(a.Expr)
	}
	rs := remoteState{text: rangeText(src, cfg.Expr.Range()), state: stateFrom(backend, fieldMap(literalFields(cfg.Expr)), dir)}
	s.remoteStates = append(s.remoteStates, rs)
}

// literalFields returns the string attributes of an object expression that are
// literals, even when other attributes are not (bucket = var.bucket).
func literalFields(expr hcl.Expression) map[string]string {
	out := map[string]string{}
	if obj, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range obj.Items {
			if k := literalString(item.KeyExpr); k != "" {
				if v := literalString(item.ValueExpr); v != "" {
					out[k] = v
				}
			}
		}
		return out
	}
	// JSON bodies carry objects as values.
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() {
		return out
	}
	for name := range v.Type().AttributeTypes() {
		if f := v.GetAttr(name); f.Type() == cty.String && f.IsKnown() && !f.IsNull() {
			out[name] = f.AsString()
		}
	}
	return out
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

// closure is what a layer inherits from the local modules it calls.
type closure struct {
	modules []string // sorted
	parts   []string
	outside []string // local module sources that leave the repository, as cleaned paths
	// linkedOut are module directories reached through a symlink that leads out
	// of the repository.
	linkedOut []LinkedOut
}

// moduleScan is a local module's scan, or why it could not be read; a module
// directory that does not exist has neither (the engine reports the call). real
// is the module's directory with symlinks resolved, the name the layers list it
// by; outside, when set, is the target of a symlink on the way that leads out of
// the repository.
type moduleScan struct {
	scan    *dirScan
	err     error
	real    string
	outside string
}

// scanModules scans the local modules in calls and every local module they call,
// directly or not, once each and on every core.
func scanModules(fsys fs.FS, calls []string) map[string]moduleScan {
	out := map[string]moduleScan{}
	queued := map[string]bool{}
	var level []string
	want := func(dirs []string) {
		for _, d := range dirs {
			if !queued[d] && d != ".." && !strings.HasPrefix(d, "../") {
				queued[d] = true
				level = append(level, d)
			}
		}
	}
	want(calls)
	for len(level) > 0 {
		sort.Strings(level)
		var dirs, bases []string
		for _, d := range level {
			real, target, ok := realPath(fsys, d)
			if !ok {
				out[d] = moduleScan{outside: target}
				continue
			}
			dirs, bases = append(dirs, d), append(bases, real)
		}
		got, errs := scanDirs(fsys, dirs, bases, false)
		level = nil
		for i, d := range dirs {
			switch {
			case errors.Is(errs[i], fs.ErrNotExist):
				out[d] = moduleScan{}
			case errs[i] != nil:
				out[d] = moduleScan{err: inputErrorf("reading module %s: %v", d, errs[i])}
			default:
				out[d] = moduleScan{scan: got[i], real: bases[i]}
			}
		}
		for _, d := range dirs {
			if m := out[d]; m.scan != nil {
				want(m.scan.modules)
			}
		}
	}
	return out
}

// moduleClosure follows local module calls from a layer through the scanned modules.
func moduleClosure(start []string, scans map[string]moduleScan) (closure, error) {
	var c closure
	var seen []string // a layer calls few modules: a slice costs less than a map
	queue := append([]string(nil), start...)
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if contains(seen, dir) {
			continue
		}
		seen = append(seen, dir)
		if strings.HasPrefix(dir, "../") || dir == ".." {
			c.outside = append(c.outside, dir)
			continue
		}
		m := scans[dir]
		if m.err != nil {
			return c, m.err
		}
		if m.outside != "" {
			c.linkedOut = append(c.linkedOut, LinkedOut{Module: dir, Target: m.outside})
			continue
		}
		if m.scan == nil {
			continue
		}
		if contains(c.modules, m.real) {
			continue // the same directory by another path
		}
		c.modules = append(c.modules, m.real)
		c.parts = append(c.parts, "in:"+m.real)
		c.parts = append(c.parts, m.scan.initParts...)
		queue = append(queue, m.scan.modules...)
	}
	sort.Strings(c.modules)
	return c, nil
}

// realPath resolves the symlinks in p (a clean repository-relative path) as the
// operating system would. ok is false when a link on the way leads out of the
// repository; target is then that link's target, as it says.
func realPath(fsys fs.FS, p string) (real, target string, ok bool) {
	segs := strings.Split(p, "/")
	cur := "."
	for hops := 0; len(segs) > 0; {
		seg := segs[0]
		segs = segs[1:]
		switch seg {
		case "", ".":
			continue
		case "..":
			if cur == "." {
				return "", "..", false
			}
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, seg)
		t, err := fs.ReadLink(fsys, next)
		if err != nil {
			cur = next // not a link, or not there: the engine reports a missing directory
			continue
		}
		if hops++; hops > 40 {
			return p, "", true // a loop: left for the engine to report
		}
		if path.IsAbs(t) || strings.HasPrefix(t, "/") {
			return "", t, false
		}
		if path.Clean(path.Join(cur, t)) == ".." || strings.HasPrefix(path.Clean(path.Join(cur, t)), "../") {
			return "", t, false
		}
		segs = append(strings.Split(t, "/"), segs...)
	}
	return cur, "", true
}

// addType records that a provider's resource types are used, once: init needs the
// provider, not a count of its resources.
func addType(parts []string, prefix string) []string {
	for _, p := range parts {
		if len(p) == len("type:")+len(prefix) && strings.HasPrefix(p, "type:") && p[len("type:"):] == prefix {
			return parts
		}
	}
	return append(parts, "type:"+prefix)
}

// digest hashes a set of parts: order and repeats do not count.
func digest(parts []string) string {
	sorted := append([]string(nil), parts...)
	sort.Strings(sorted)
	h := sha256.New()
	for i, p := range sorted {
		if i > 0 && p == sorted[i-1] {
			continue
		}
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// leavesRepo reports whether the symlink at p (a repository-relative path) points
// outside the repository, and where. An absolute target counts as outside: it is
// not part of the repository on another machine.
func leavesRepo(fsys fs.FS, p string) (string, bool) {
	cur := p
	for range 40 {
		target, err := fs.ReadLink(fsys, cur)
		if err != nil {
			return "", false // not a link (any more), or the file system cannot say
		}
		if path.IsAbs(target) || strings.HasPrefix(target, "/") {
			return target, true
		}
		next := path.Join(path.Dir(cur), target)
		if next == ".." || strings.HasPrefix(next, "../") {
			return target, true
		}
		cur = next
	}
	return "", false
}
