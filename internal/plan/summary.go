package plan

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// Summary is what a plan shows people: counts, the resources it touches and how,
// the outputs it changes and what changed outside the engine (drift). Every string
// in it has been redacted and masked.
type Summary struct {
	Add     int        `json:"add"`
	Change  int        `json:"change"`
	Destroy int        `json:"destroy"`
	Replace int        `json:"replace"` // also counted in Add and Destroy, as the engine does
	Import  int        `json:"import"`
	Changes []Resource `json:"resources"`
	Outputs []Output   `json:"outputs"`
	Drift   []Resource `json:"drift"` // resources that changed outside the engine since the last apply
}

// Resource is one planned resource change.
type Resource struct {
	Address    string      `json:"address"`
	Action     string      `json:"action"` // create, update, delete, replace, import, forget
	Attributes []Attribute `json:"attributes,omitempty"`
}

// Attribute is a top-level attribute an update changes.
type Attribute struct {
	Name   string `json:"name"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Output is a changed root output.
type Output struct {
	Name   string `json:"name"`
	Action string `json:"action"`
	Value  string `json:"value,omitempty"`
}

// Empty is a Summary of nothing, its lists empty rather than absent, so JSON
// reports show [] and not null.
func Empty() Summary {
	return Summary{Changes: []Resource{}, Outputs: []Output{}, Drift: []Resource{}}
}

const (
	sensitiveText = "(sensitive value)"
	unknownText   = "(known after apply)"
	maxValueLen   = 120
)

// HasChanges says whether applying the plan would change anything.
func (s Summary) HasChanges() bool {
	return len(s.Changes) > 0 || len(s.Outputs) > 0
}

// Tally counts one resource change as the engine does: a replacement is one to
// add and one to destroy.
func (s *Summary) Tally(action string) {
	switch action {
	case "create":
		s.Add++
	case "update":
		s.Change++
	case "delete":
		s.Destroy++
	case "replace":
		s.Add++
		s.Destroy++
		s.Replace++
	}
}

// Counts is the engine's one-line summary: "2 to add, 1 to change, 0 to destroy".
func (s Summary) Counts() string {
	out := fmt.Sprintf("%d to add, %d to change, %d to destroy", s.Add, s.Change, s.Destroy)
	if s.Import > 0 {
		out = fmt.Sprintf("%d to import, ", s.Import) + out
	}
	return out
}

// Parse decodes `show -json` output.
func Parse(data []byte) (*tfjson.Plan, error) {
	var p tfjson.Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("reading the plan JSON: %w", err)
	}
	return &p, nil
}

// SensitiveValues returns every value the plan marks sensitive, so it can be
// masked wherever it surfaces, even where the engine does not mark it (a
// resource that copies a sensitive input into a plain attribute): the values of
// the variables the configuration marks sensitive, and the values at every path
// marked sensitive before and after each change, in the prior state and in the
// planned values. The previous value of a sensitive variable is found this way,
// through the prior state that holds it.
func SensitiveValues(p *tfjson.Plan) []string {
	var out []string
	if p.Config != nil && p.Config.RootModule != nil {
		for name, v := range p.Config.RootModule.Variables {
			if v == nil || !v.Sensitive {
				continue
			}
			if pv, ok := p.Variables[name]; ok && pv != nil {
				collect(pv.Value, &out)
			}
		}
	}
	changes := append(append([]*tfjson.ResourceChange{}, p.ResourceChanges...), p.ResourceDrift...)
	for _, rc := range changes {
		if rc != nil && rc.Change != nil {
			changeSensitive(rc.Change, &out)
		}
	}
	for _, c := range p.OutputChanges {
		if c != nil {
			changeSensitive(c, &out)
		}
	}
	stateSensitive(p.PlannedValues, &out)
	if p.PriorState != nil {
		stateSensitive(p.PriorState.Values, &out)
	}
	return out
}

func changeSensitive(c *tfjson.Change, out *[]string) {
	sensitiveAt(c.Before, c.BeforeSensitive, out)
	sensitiveAt(c.After, c.AfterSensitive, out)
}

func stateSensitive(v *tfjson.StateValues, out *[]string) {
	if v == nil {
		return
	}
	for _, o := range v.Outputs {
		if o != nil && o.Sensitive {
			collect(o.Value, out)
		}
	}
	mods := []*tfjson.StateModule{v.RootModule}
	for len(mods) > 0 {
		m := mods[0]
		mods = mods[1:]
		if m == nil {
			continue
		}
		mods = append(mods, m.ChildModules...)
		for _, r := range m.Resources {
			if r == nil || len(r.SensitiveValues) == 0 {
				continue
			}
			var marks any
			if json.Unmarshal(r.SensitiveValues, &marks) == nil {
				sensitiveAt(map[string]any(r.AttributeValues), marks, out)
			}
		}
	}
}

// sensitiveAt collects the parts of v that marks (the engine's sensitivity
// markers: true, or objects and lists of them) flags.
func sensitiveAt(v, marks any, out *[]string) {
	switch m := marks.(type) {
	case bool:
		if m {
			collect(v, out)
		}
	case map[string]any:
		obj, _ := v.(map[string]any)
		for k, mk := range m {
			sensitiveAt(obj[k], mk, out)
		}
	case []any:
		list, _ := v.([]any)
		for i, mk := range m {
			if i < len(list) {
				sensitiveAt(list[i], mk, out)
			}
		}
	}
}

// collect gathers the strings and numbers in v; booleans are left out, as
// masking "true" everywhere would hide nothing and garble every report.
func collect(v any, out *[]string) {
	switch t := v.(type) {
	case string:
		*out = append(*out, t)
	case map[string]any:
		for _, e := range t {
			collect(e, out)
		}
	case []any:
		for _, e := range t {
			collect(e, out)
		}
	case nil, bool:
	default:
		*out = append(*out, fmt.Sprint(t))
	}
}

// Summarize turns a plan into a Summary, redacting what the plan marks sensitive
// and masking every string with m (nil masks nothing).
func Summarize(p *tfjson.Plan, m *Masker) Summary {
	s := Empty()
	for _, rc := range p.ResourceChanges {
		if rc == nil || rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		action := actionName(rc.Change)
		if rc.Change.Importing != nil {
			s.Import++
		}
		if action == "" {
			continue
		}
		s.Tally(action)
		r := Resource{Address: m.Mask(rc.Address), Action: action}
		if action == "update" || action == "replace" {
			r.Attributes = attributeChanges(rc.Change, m)
		}
		s.Changes = append(s.Changes, r)
	}
	for _, rc := range p.ResourceDrift {
		if rc == nil || rc.Change == nil || rc.Mode == tfjson.DataResourceMode {
			continue
		}
		action := actionName(rc.Change)
		if action == "" {
			continue
		}
		r := Resource{Address: m.Mask(rc.Address), Action: action}
		if action == "update" {
			r.Attributes = attributeChanges(rc.Change, m)
		}
		s.Drift = append(s.Drift, r)
	}
	names := make([]string, 0, len(p.OutputChanges))
	for n := range p.OutputChanges {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c := p.OutputChanges[n]
		if c == nil {
			continue
		}
		action := actionName(c)
		if action == "" {
			continue
		}
		o := Output{Name: m.Mask(n), Action: action}
		if action != "delete" {
			o.Value = m.Mask(value(c.After, c.AfterSensitive, c.AfterUnknown))
		}
		s.Outputs = append(s.Outputs, o)
	}
	return s
}

// actionName folds the engine's action lists; "" for no-op and read.
func actionName(c *tfjson.Change) string {
	a := c.Actions
	switch {
	case a.Replace():
		return "replace"
	case a.Create():
		return "create"
	case a.Update():
		return "update"
	case a.Delete():
		return "delete"
	case a.Forget():
		return "forget"
	case c.Importing != nil:
		return "import"
	}
	return ""
}

// attributeChanges lists the top-level attributes whose values differ.
func attributeChanges(c *tfjson.Change, m *Masker) []Attribute {
	before, _ := c.Before.(map[string]any)
	after, _ := c.After.(map[string]any)
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	afterUnknown, _ := c.AfterUnknown.(map[string]any)
	var out []Attribute
	for _, k := range sortedKeys(keys) {
		bs, as := sub(c.BeforeSensitive, k), sub(c.AfterSensitive, k)
		au := afterUnknown[k]
		if equal(before[k], after[k]) && !hasTrue(au) {
			continue
		}
		b := value(before[k], bs, nil)
		a := value(after[k], as, au)
		out = append(out, Attribute{Name: m.Mask(k), Before: m.Mask(b), After: m.Mask(a)})
	}
	return out
}

// sub is the sensitivity or unknown marker of attribute k: the whole object's
// marker when it is a plain bool.
func sub(marks any, k string) any {
	switch t := marks.(type) {
	case bool:
		return t
	case map[string]any:
		return t[k]
	}
	return nil
}

func isTrue(v any) bool { b, ok := v.(bool); return ok && b }

// hasTrue reports a true marker anywhere inside, so a value with any sensitive part
// is redacted whole.
func hasTrue(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case map[string]any:
		for _, e := range t {
			if hasTrue(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasTrue(e) {
				return true
			}
		}
	}
	return false
}

func equal(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// value renders one value for people, redacted when marked sensitive.
func value(v, sensitive, unknown any) string {
	switch {
	case hasTrue(sensitive):
		return sensitiveText
	case isTrue(unknown):
		return unknownText
	case v == nil && hasTrue(unknown):
		return unknownText
	case v == nil:
		return "null"
	}
	var s string
	if str, ok := v.(string); ok {
		s = fmt.Sprintf("%q", str)
	} else {
		js, err := json.Marshal(v)
		if err != nil {
			return "(unreadable)"
		}
		s = string(js)
	}
	if hasTrue(unknown) {
		s += " (partly known after apply)"
	}
	if len(s) > maxValueLen {
		s = truncate(s, maxValueLen)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 1
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// symbol is the engine's marker for an action.
func symbol(action string) string {
	switch action {
	case "create":
		return "+"
	case "update":
		return "~"
	case "delete":
		return "-"
	case "replace":
		return "-/+"
	case "import":
		return "<="
	case "forget":
		return "."
	}
	return "?"
}

// Lines renders the changes for a terminal, indented.
func (s Summary) Lines(indent string) []string {
	var out []string
	for _, r := range s.Changes {
		out = append(out, fmt.Sprintf("%s%-3s %s", indent, symbol(r.Action), r.Address))
		for _, a := range r.Attributes {
			out = append(out, fmt.Sprintf("%s      %s: %s -> %s", indent, a.Name, a.Before, a.After))
		}
	}
	for _, o := range s.Outputs {
		line := fmt.Sprintf("%s%-3s output.%s", indent, symbol(o.Action), o.Name)
		if o.Value != "" {
			line += " = " + o.Value
		}
		out = append(out, line)
	}
	for _, r := range s.Drift {
		out = append(out, fmt.Sprintf("%s%-3s %s (changed outside: %s)", indent, "!", r.Address, driftVerb(r.Action)))
		for _, a := range r.Attributes {
			out = append(out, fmt.Sprintf("%s      %s: %s -> %s", indent, a.Name, a.Before, a.After))
		}
	}
	return out
}

func driftVerb(action string) string {
	switch action {
	case "delete":
		return "deleted"
	case "update":
		return "modified"
	case "create":
		return "created"
	}
	return action
}

// Markdown renders the changes as a list, at most maxItems entries and without
// attribute details when brief.
func (s Summary) Markdown(maxItems int, brief bool) string {
	var b strings.Builder
	n := 0
	emit := func(line string) bool {
		if maxItems > 0 && n >= maxItems {
			return false
		}
		b.WriteString(line + "\n")
		n++
		return true
	}
	total := len(s.Changes) + len(s.Outputs) + len(s.Drift)
	for _, r := range s.Changes {
		if !emit(fmt.Sprintf("- `%s` %s", symbol(r.Action), code(r.Address))) {
			break
		}
		if !brief {
			for _, a := range r.Attributes {
				b.WriteString(fmt.Sprintf("  - %s: %s → %s\n", code(a.Name), code(a.Before), code(a.After)))
			}
		}
	}
	for _, o := range s.Outputs {
		line := fmt.Sprintf("- `%s` output %s", symbol(o.Action), code(o.Name))
		if o.Value != "" && !brief {
			line += " = " + code(o.Value)
		}
		if !emit(line) {
			break
		}
	}
	for _, r := range s.Drift {
		if !emit(fmt.Sprintf("- `!` %s changed outside (%s)", code(r.Address), driftVerb(r.Action))) {
			break
		}
	}
	if maxItems > 0 && total > maxItems {
		b.WriteString(fmt.Sprintf("- … and %d more\n", total-maxItems))
	}
	return b.String()
}

// code wraps text in an inline code span that its own backticks cannot break.
func code(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "\r", " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || len(fence) > 1 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
