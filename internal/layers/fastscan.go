package layers

import (
	"path"
	"sort"
	"strings"
	"unsafe"
)

// A fast path for the native syntax: discovery needs only block headers and a few
// attributes of the terraform, module and terraform_remote_state blocks, and a full
// HCL parse costs several times as much as reading the file (discovering 10,000
// layers must take well under a second). fastScan skims the file with the lexical
// rules of HCL (strings, templates, heredocs, comments, brackets) and reads those
// attributes when they are simple; whenever it meets something it does not handle
// exactly as the HCL parser would, it gives up and the caller parses the file with
// HCL. FuzzFastScanMatchesHCL holds the two to the same result.

// fileFacts is what one file contributes to a dirScan.
type fileFacts struct {
	state        *stateRef
	remoteStates []remoteState
	modules      []string
	initParts    []string
}

func (f *fileFacts) addTo(s *dirScan) {
	if f.state != nil {
		s.state = *f.state
	}
	s.remoteStates = append(s.remoteStates, f.remoteStates...)
	s.modules = append(s.modules, f.modules...)
	s.initParts = append(s.initParts, f.initParts...)
}

type skimmer struct {
	src string
	i   int
	ok  bool
}

// fastScan returns the file's facts, or false when the file needs the HCL parser.
func fastScan(src []byte, dir string) (*fileFacts, bool) {
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		return nil, false
	}
	// The skimmer reads a string so that names and texts are slices of it, not
	// copies; src is never written after it is read, so it is not copied either.
	k := &skimmer{src: unsafe.String(unsafe.SliceData(src), len(src)), ok: true}
	f := &fileFacts{}
	for k.ok {
		k.skipSpace(true)
		if k.i >= len(src) {
			break
		}
		name := k.ident()
		if name == "" {
			return nil, false
		}
		k.skipSpace(false)
		if k.peek() == '=' {
			k.i++
			k.expr(exprTop)
			k.endOfItem()
			continue
		}
		labels := k.labels()
		if !k.ok || k.peek() != '{' {
			return nil, false
		}
		k.i++
		if !k.block(f, name, labels, dir) {
			return nil, false
		}
		k.endOfItem()
	}
	if !k.ok {
		return nil, false
	}
	return f, true
}

// block reads a top-level block's body, after its opening brace, through its
// closing brace.
func (k *skimmer) block(f *fileFacts, typ string, labels blockLabels, dir string) bool {
	if n := labelCount(typ); n >= 0 && n != labels.n {
		return false // HCL reports the labels; let it
	}
	switch {
	case typ == "terraform":
		return k.terraformBody(f, dir)
	case typ == "module":
		attrs, ok := k.attrs(true)
		if !ok {
			return false
		}
		src, ok := attrs.get("source")
		if !ok {
			return true
		}
		source, ok := literal(src)
		if !ok {
			return false
		}
		f.initParts = append(f.initParts, "module:"+labels.v[0]+"="+src+"@"+attrs.value("version"))
		if strings.HasPrefix(source, "./") || strings.HasPrefix(source, "../") {
			f.modules = append(f.modules, path.Join(dir, source))
		}
		return true
	case typ == "provider":
		f.initParts = append(f.initParts, "provider:"+labels.v[0])
	case typ == "resource" || typ == "data":
		prefix, _, _ := strings.Cut(labels.v[0], "_")
		f.initParts = addType(f.initParts, prefix)
		if typ == "data" && labels.v[0] == "terraform_remote_state" {
			attrs, ok := k.attrs(true)
			if !ok {
				return false
			}
			return remoteStateOf(f, attrs, dir)
		}
	}
	k.skipBody()
	return k.ok
}

// labelCount is the number of labels a block type read by discovery takes, -1 for others.
func labelCount(typ string) int {
	switch typ {
	case "terraform":
		return 0
	case "module", "provider":
		return 1
	case "resource", "data":
		return 2
	}
	return -1
}

func remoteStateOf(f *fileFacts, attrs textAttrs, dir string) bool {
	cfg, ok := attrs.get("config")
	if !ok {
		return true
	}
	backend := ""
	if b, ok := attrs.get("backend"); ok {
		if backend, ok = literal(b); !ok {
			return false
		}
	}
	fields, ok := objectFields(cfg)
	if !ok {
		return false
	}
	rs := remoteState{text: cfg, state: stateFrom(backend, fields, dir)}
	f.remoteStates = append(f.remoteStates, rs)
	return true
}

// terraformBody reads required_providers and backend blocks of a terraform block.
func (k *skimmer) terraformBody(f *fileFacts, dir string) bool {
	for {
		k.skipSpace(true)
		if k.peek() == '}' {
			k.i++
			return true
		}
		name := k.ident()
		if name == "" {
			return false
		}
		k.skipSpace(false)
		if k.peek() == '=' {
			k.i++
			k.expr(exprBody)
			k.endOfItem()
			if !k.ok {
				return false
			}
			continue
		}
		labels := k.labels()
		if !k.ok || k.peek() != '{' {
			return false
		}
		k.i++
		switch name {
		case "required_providers":
			if labels.n != 0 {
				return false
			}
			attrs, ok := k.attrs(false)
			if !ok {
				return false
			}
			sort.Slice(attrs, func(i, j int) bool { return attrs[i].name < attrs[j].name })
			for _, a := range attrs {
				f.initParts = append(f.initParts, "requires:"+a.name+"="+a.text)
			}
		case "backend":
			if labels.n != 1 {
				return false
			}
			attrs, ok := k.attrs(true)
			if !ok {
				return false
			}
			ref, ok := literalState(labels.v[0], attrs, dir)
			if !ok {
				return false
			}
			f.state = &ref
		default:
			k.skipBody()
		}
		k.endOfItem()
		if !k.ok {
			return false
		}
	}
}

func literalState(backend string, attrs textAttrs, dir string) (stateRef, bool) {
	fields := make(textAttrs, 0, len(attrs))
	for _, a := range attrs {
		v, ok := literal(a.text)
		if !ok && (a.name == "bucket" || a.name == "container_name" || a.name == "key" || a.name == "prefix" || a.name == "path") {
			return stateRef{}, false
		}
		fields = append(fields, textAttr{a.name, v})
	}
	return stateFrom(backend, fields, dir), true
}

// attrs reads a block body (after its brace, through its closing brace) and returns
// its attributes' expression texts. Nested blocks are skipped, or refused when
// blocks is false (HCL reports them).
func (k *skimmer) attrs(blocks bool) (textAttrs, bool) {
	out := make(textAttrs, 0, 4)
	for {
		k.skipSpace(true)
		if k.peek() == '}' {
			k.i++
			return out, k.ok
		}
		name := k.ident()
		if name == "" {
			return nil, false
		}
		k.skipSpace(false)
		if k.peek() == '=' {
			k.i++
			text := k.expr(exprBody)
			if _, dup := out.get(name); dup || !k.ok || strings.Contains(text, "<<") {
				return nil, false // a redefined attribute is HCL's to report; heredoc ranges are its own
			}
			out = append(out, textAttr{name, text})
			if k.peek() == '}' { // a one-line block: `module "m" { source = "x" }`
				k.i++
				return out, true
			}
			k.endOfItem()
			if !k.ok {
				return nil, false
			}
			continue
		}
		if !blocks {
			return nil, false
		}
		k.labels()
		if !k.ok || k.peek() != '{' {
			return nil, false
		}
		k.i++
		k.skipBody()
		k.endOfItem()
		if !k.ok {
			return nil, false
		}
	}
}

// literal returns the value of an expression text that is one plain quoted string.
// An expression with no quotes and no heredoc cannot evaluate to a string without
// variables, so it is not a literal; anything else is left to HCL.
func literal(text string) (string, bool) {
	if !strings.ContainsAny(text, `"`) && !strings.Contains(text, "<<") || isCollection(text) || isCall(text) {
		return "", true
	}
	if len(text) >= 2 && text[0] == '"' && text[len(text)-1] == '"' {
		inner := text[1 : len(text)-1]
		if !strings.ContainsAny(inner, "\"\\\n") && !strings.Contains(inner, "${") && !strings.Contains(inner, "%{") {
			return inner, true
		}
	}
	return "", false
}

// isCollection reports whether text is one object or tuple constructor, which
// never evaluates to a string.
func isCollection(text string) bool {
	if text == "" || text[0] != '{' && text[0] != '[' {
		return false
	}
	k := &skimmer{src: text, i: 1, ok: true}
	k.nested(closingOf(text[0]))
	return k.ok && k.i == len(text)
}

// isCall reports whether text is one function call, which cannot be evaluated
// without functions, so it is no literal and has no literal fields.
func isCall(text string) bool {
	if text == "" || !isIdentStart(text[0]) {
		return false
	}
	k := &skimmer{src: text, ok: true}
	if k.ident() == "" || k.peek() != '(' {
		return false
	}
	k.i++
	k.nested(')')
	return k.ok && k.i == len(text)
}

// objectFields returns the literal string fields of an object constructor
// expression; an expression that is plainly not one has none.
func objectFields(text string) (textAttrs, bool) {
	out := make(textAttrs, 0, 4)
	if !strings.HasPrefix(text, "{") {
		if !strings.ContainsAny(text, `"{`) && !strings.Contains(text, "<<") || isCall(text) {
			return out, true
		}
		return nil, false
	}
	k := &skimmer{src: text, i: 1, ok: true}
	for {
		k.skipSpace(true)
		if k.peek() == '}' {
			k.i++
			k.skipSpace(true)
			return out, k.i == len(k.src)
		}
		var key string
		if k.peek() == '"' {
			start := k.i
			k.str()
			var ok bool
			if key, ok = literal(text[start:k.i]); !ok || !k.ok {
				return nil, false
			}
		} else if key = k.ident(); key == "" {
			return nil, false
		}
		k.skipSpace(false)
		if c := k.peek(); c != '=' && c != ':' {
			return nil, false
		}
		k.i++
		value := k.expr(exprObject)
		if !k.ok {
			return nil, false
		}
		v, ok := literal(value)
		if !ok {
			return nil, false
		}
		if v != "" {
			out = out.set(key, v)
		}
		k.skipSpace(false)
		if k.peek() == ',' {
			k.i++
		}
	}
}

// textAttr is a name with an expression's text or a literal's value. A block has
// few attributes, so a slice searched in order costs less than a map.
type textAttr struct{ name, text string }

type textAttrs []textAttr

func (a textAttrs) get(name string) (string, bool) {
	for _, x := range a {
		if x.name == name {
			return x.text, true
		}
	}
	return "", false
}

func (a textAttrs) value(name string) string {
	v, _ := a.get(name)
	return v
}

// set replaces or adds: a later key of an object constructor wins, as in a map.
func (a textAttrs) set(name, text string) textAttrs {
	for i := range a {
		if a[i].name == name {
			a[i].text = text
			return a
		}
	}
	return append(a, textAttr{name, text})
}

func (k *skimmer) peek() byte {
	if k.i < len(k.src) {
		return k.src[k.i]
	}
	return 0
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '-'
}

func (k *skimmer) ident() string {
	start := k.i
	if !isIdentStart(k.peek()) {
		k.ok = false
		return ""
	}
	for k.i < len(k.src) && isIdentPart(k.src[k.i]) {
		k.i++
	}
	if k.i < len(k.src) && k.src[k.i] >= 0x80 {
		k.ok = false // a non-ASCII identifier: HCL's rules are Unicode's
		return ""
	}
	return k.src[start:k.i]
}

// blockLabels are a block's labels: no block discovery reads has more than two, and
// a value, unlike a slice, costs no allocation per block.
type blockLabels struct {
	v [2]string
	n int
}

// labels reads block labels up to the opening brace; a block with more than two is
// left to the HCL parser.
func (k *skimmer) labels() blockLabels {
	var out blockLabels
	add := func(v string) {
		if out.n == len(out.v) {
			k.ok = false
			return
		}
		out.v[out.n] = v
		out.n++
	}
	for k.ok {
		k.skipSpace(false)
		switch c := k.peek(); {
		case c == '{':
			return out
		case c == '"':
			start := k.i
			k.str()
			v, ok := literal(k.src[start:k.i])
			if !ok || !strings.HasPrefix(k.src[start:k.i], `"`) {
				k.ok = false
				return blockLabels{}
			}
			add(v)
		case isIdentStart(c):
			add(k.ident())
		default:
			k.ok = false
		}
	}
	return blockLabels{}
}

// skipSpace skips blanks and comments, and newlines when newlines is set. A
// line comment ends at its newline, which is left in place unless newlines is set.
func (k *skimmer) skipSpace(newlines bool) {
	for k.i < len(k.src) {
		switch c := k.src[k.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			k.i++
		case c == '\n':
			if !newlines {
				return
			}
			k.i++
		case c == '#' || c == '/' && k.at("//"):
			for k.i < len(k.src) && k.src[k.i] != '\n' {
				k.i++
			}
		case c == '/' && k.at("/*"):
			end := strings.Index(k.src[k.i+2:], "*/")
			if end < 0 {
				k.ok = false
				k.i = len(k.src)
				return
			}
			k.i += end + 4
		default:
			return
		}
	}
}

func (k *skimmer) at(s string) bool {
	return k.i+len(s) <= len(k.src) && k.src[k.i:k.i+len(s)] == s
}

// endOfItem requires the end of a line (or of the file) after an attribute or a block.
func (k *skimmer) endOfItem() {
	k.skipSpace(false)
	switch k.peek() {
	case '\n':
		k.i++
	case 0:
		if k.i < len(k.src) {
			k.ok = false
		}
	default:
		k.ok = false
	}
}

// skipBody skips to the brace that closes the current block.
func (k *skimmer) skipBody() {
	k.nested('}')
}

type exprContext int

const (
	exprTop    exprContext = iota // ends at a newline
	exprBody                      // ends at a newline or the block's closing brace
	exprObject                    // ends at a newline, a comma or the object's closing brace
)

// expr skips an expression and returns its source text as HCL's range would give it:
// without the surrounding blanks and comments.
func (k *skimmer) expr(ctx exprContext) string {
	k.skipSpace(false)
	start, end := k.i, k.i
	for k.ok && k.i < len(k.src) {
		c := k.src[k.i]
		switch {
		case c == '\n':
			if start == end {
				k.ok = false // an attribute without a value
			}
			return k.src[start:end]
		case c == '}' && ctx != exprTop, c == ',' && ctx == exprObject:
			return k.src[start:end]
		case c == ' ' || c == '\t' || c == '\r' || c == '#' || c == '/' && (k.at("//") || k.at("/*")):
			k.skipSpace(false)
			continue
		default:
			k.token()
		}
		end = k.i
	}
	if start == end {
		k.ok = false
	}
	return k.src[start:end]
}

// nested skips to the closing byte, through strings, heredocs, comments and
// nested brackets; newlines inside brackets are not significant.
func (k *skimmer) nested(closing byte) {
	for k.ok {
		// Most bytes of a skipped body are plain: step over them without a call.
		for k.i < len(k.src) && !special[k.src[k.i]] {
			k.i++
		}
		if k.i >= len(k.src) {
			k.ok = false
			return
		}
		switch c := k.src[k.i]; {
		case c == closing:
			k.i++
			return
		case c == '#' || c == '/' && (k.at("//") || k.at("/*")):
			k.skipSpace(false)
		default:
			k.token()
		}
	}
}

// special are the bytes at which nested must look closer: brackets, quotes,
// heredoc and comment starts.
var special = func() (t [256]bool) {
	for _, c := range []byte("\"{}[]()<#/") {
		t[c] = true
	}
	return t
}()

// inString are the bytes at which a quoted string's skimming must look closer.
var inString = func() (t [256]bool) {
	for _, c := range []byte("\"\\$%\n") {
		t[c] = true
	}
	return t
}()

func closingOf(open byte) byte {
	switch open {
	case '{':
		return '}'
	case '[':
		return ']'
	}
	return ')'
}

// token skips a string, a heredoc or a bracketed group starting at the current
// byte, or else that byte; a closing bracket here is out of place.
func (k *skimmer) token() {
	switch c := k.src[k.i]; {
	case c == '"':
		k.str()
	case c == '<' && k.at("<<"):
		k.heredoc()
	case c == '{' || c == '[' || c == '(':
		k.i++
		k.nested(closingOf(c))
	case c == '}' || c == ']' || c == ')':
		k.ok = false
	default:
		k.i++
	}
}

// str skips a quoted template string, with its escapes and interpolations.
func (k *skimmer) str() {
	k.i++ // the opening quote
	for k.ok {
		for k.i < len(k.src) && !inString[k.src[k.i]] {
			k.i++
		}
		if k.i >= len(k.src) || k.src[k.i] == '\n' {
			k.ok = false
			return
		}
		switch c := k.src[k.i]; {
		case c == '"':
			k.i++
			return
		case c == '\\':
			if k.i+1 >= len(k.src) {
				k.ok = false // an escape cut off by the end of the file
				k.i = len(k.src)
				return
			}
			k.i += 2
		case (c == '$' || c == '%') && k.i+2 < len(k.src) && k.src[k.i+1] == c && k.src[k.i+2] == '{':
			k.i += 3 // $${ and %%{ are literal
		case (c == '$' || c == '%') && k.i+1 < len(k.src) && k.src[k.i+1] == '{':
			k.i += 2
			k.nested('}')
		default:
			k.i++
		}
	}
}

// heredoc skips <<ID or <<-ID through the line that closes it.
func (k *skimmer) heredoc() {
	k.i += 2
	if k.peek() == '-' {
		k.i++
	}
	id := k.ident()
	if id == "" || k.peek() != '\n' {
		k.ok = false
		return
	}
	k.i++
	for k.ok {
		if k.i >= len(k.src) {
			k.ok = false
			return
		}
		lineEnd := k.i
		for lineEnd < len(k.src) && k.src[lineEnd] != '\n' {
			lineEnd++
		}
		if strings.TrimSpace(k.src[k.i:lineEnd]) == id {
			k.i = lineEnd
			return
		}
		// Interpolations may span lines; skip them as in a string.
		for k.ok && k.i < len(k.src) && k.src[k.i] != '\n' {
			c := k.src[k.i]
			switch {
			case (c == '$' || c == '%') && k.i+2 < len(k.src) && k.src[k.i+1] == c && k.src[k.i+2] == '{':
				k.i += 3
			case (c == '$' || c == '%') && k.i+1 < len(k.src) && k.src[k.i+1] == '{':
				k.i += 2
				k.nested('}')
			default:
				k.i++
			}
		}
		if k.i < len(k.src) {
			k.i++
		}
	}
}
