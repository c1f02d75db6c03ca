// Package workflowcheck audits GitHub Actions workflow files for the rules this
// project's automation keeps: least-privilege permissions, actions pinned to a
// commit, no expression text in shell scripts or in the Dagger action's command
// line, secrets handed to Dagger as secrets, comment triggers that act only for
// trusted authors, one Dagger version, and applies that are never cancelled.
package workflowcheck

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Finding is one broken rule, located in the workflow file.
type Finding struct {
	File    string
	Line    int
	Rule    string
	Message string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
}

// Options carries what the rules compare against.
type Options struct {
	// EngineVersion is dagger.json's engineVersion ("v0.21.8"): the Dagger
	// action's version and any engine image named in the file must equal it.
	EngineVersion string
	// Module, when set, is the Dagger module the workflows call: every function
	// and flag a call uses must exist in it.
	Module *Module
}

// DaggerAction is the action that runs `dagger call`.
const DaggerAction = "dagger/dagger-for-github"

// Rules, as they appear in findings.
const (
	RuleParse             = "parse"
	RulePermissions       = "permissions"
	RuleTrigger           = "dangerous-trigger"
	RulePinned            = "pinned-action"
	RuleScriptExpression  = "expression-in-run"
	RuleInputExpression   = "expression-in-input"
	RuleDaggerVersion     = "dagger-version"
	RuleDaggerSecret      = "dagger-secret"
	RuleCommentAuthor     = "comment-author"
	RuleCheckoutCredsLeft = "checkout-credentials"
	RuleApplyCancel       = "apply-cancel"
	RuleDaggerFunction    = "dagger-function"
)

// commentEvents carry text from anyone who can comment.
var commentEvents = map[string]bool{
	"issue_comment": true, "pull_request_review_comment": true,
	"pull_request_review": true, "discussion_comment": true,
}

// trustedAssociations are the author associations that may trigger a job.
var trustedAssociations = map[string]bool{"OWNER": true, "MEMBER": true, "COLLABORATOR": true}

// secretFlags take a secret: in Dagger they must name an env:// (or env:) source.
var secretFlags = map[string]bool{"--token": true, "--app-key": true, "--backend-config": true, "--tf-vars": true, "--mask": true}

// numberFields are event fields GitHub assigns as integers: no author can put text
// in them, so other actions' inputs (a prompt naming the pull request) may use them.
var numberFields = map[string]bool{"github.event.issue.number": true, "github.event.pull_request.number": true}

var (
	shaRef        = regexp.MustCompile(`^[^@\s]+@[0-9a-f]{40}$`)
	versionNote   = regexp.MustCompile(`^#\s*v?[0-9]+(\.[0-9]+)*\b`)
	expression    = regexp.MustCompile(`\$\{\{(.*?)\}\}`)
	untrustedRef  = regexp.MustCompile(`\b(github\.event\.[A-Za-z0-9_.*\[\]'"-]+|github\.head_ref|steps\.[A-Za-z0-9_-]+\.outputs|needs\.[A-Za-z0-9_-]+\.outputs|inputs\.)`)
	engineImage   = regexp.MustCompile(`registry\.dagger\.io/engine:(v[0-9A-Za-z.+-]+)`)
	negatedAssoc  = regexp.MustCompile(`author_association\s*!=|!=\s*[A-Za-z0-9_.]*author_association`)
	assocLiteral  = regexp.MustCompile(`["']([A-Z_]+)["']`)
	secretSources = regexp.MustCompile(`^env:(//)?[A-Za-z_][A-Za-z0-9_]*$`)
)

// Check audits one workflow file. name is used in findings; the error is only for
// a file that is not YAML at all (a finding says so too).
func Check(name string, src []byte, opts Options) []Finding {
	c := &checker{file: name, opts: opts}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		c.add(1, RuleParse, "not valid YAML: %v", err)
		return c.findings
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		c.add(1, RuleParse, "a workflow is a YAML mapping")
		return c.findings
	}
	c.workflow(doc.Content[0])
	c.versions(src)
	sort.SliceStable(c.findings, func(i, j int) bool { return c.findings[i].Line < c.findings[j].Line })
	return c.findings
}

type checker struct {
	file     string
	opts     Options
	findings []Finding
}

func (c *checker) add(line int, rule, format string, args ...any) {
	c.findings = append(c.findings, Finding{File: c.file, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// get returns the value node under key in a mapping node, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// pairs lists a mapping's keys and values in file order.
func pairs(m *yaml.Node) [][2]*yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		out = append(out, [2]*yaml.Node{m.Content[i], m.Content[i+1]})
	}
	return out
}

// Triggers returns the event names a workflow's "on" names.
func Triggers(on *yaml.Node) []string {
	if on == nil {
		return nil
	}
	switch on.Kind {
	case yaml.ScalarNode:
		return []string{on.Value}
	case yaml.SequenceNode:
		var out []string
		for _, n := range on.Content {
			out = append(out, n.Value)
		}
		return out
	case yaml.MappingNode:
		var out []string
		for _, p := range pairs(on) {
			out = append(out, p[0].Value)
		}
		return out
	}
	return nil
}

func (c *checker) workflow(root *yaml.Node) {
	on := get(root, "on")
	triggers := Triggers(on)
	commentTriggered := false
	for _, t := range triggers {
		switch {
		case t == "pull_request_target" || t == "workflow_run":
			c.add(on.Line, RuleTrigger, "%s runs with write access and secrets on behalf of untrusted code: use pull_request", t)
		case commentEvents[t]:
			commentTriggered = true
		}
	}

	perms := get(root, "permissions")
	if perms == nil {
		c.add(root.Line, RulePermissions, "no top-level permissions: set `permissions: {}` and grant each job what it needs")
	} else if grantsWrite(perms) {
		c.add(perms.Line, RulePermissions, "top-level permissions grant write access: grant it in the jobs that need it")
	}

	jobs := get(root, "jobs")
	guarded := map[string]bool{}
	needs := map[string][]string{}
	var order []string
	jobLines := map[string]int{}
	callsApply := false
	for _, p := range pairs(jobs) {
		id, job := p[0].Value, p[1]
		order = append(order, id)
		jobLines[id] = p[0].Line
		if jp := get(job, "permissions"); jp != nil && jp.Kind == yaml.ScalarNode && strings.Contains(jp.Value, "write-all") {
			c.add(jp.Line, RulePermissions, "job %q: write-all: grant only the scopes the job needs", id)
		}
		if cond := get(job, "if"); cond != nil {
			guarded[id] = notOnComments(cond.Value) || c.authorGuard(cond)
		}
		needs[id] = names(get(job, "needs"))
		for _, step := range seq(get(job, "steps")) {
			if c.step(id, step) {
				callsApply = true
			}
		}
	}

	if commentTriggered {
		for _, id := range order {
			if !guardedVia(id, guarded, needs, map[string]bool{}) {
				c.add(jobLines[id], RuleCommentAuthor, "job %q runs on comments but its `if:` does not limit author_association to OWNER, MEMBER or COLLABORATOR (nor does a job it needs)", id)
			}
		}
	}

	if callsApply {
		conc := get(root, "concurrency")
		switch {
		case conc == nil:
			c.add(root.Line, RuleApplyCancel, "a workflow that applies needs a concurrency group with cancel-in-progress: false")
		case conc.Kind == yaml.ScalarNode:
			c.add(conc.Line, RuleApplyCancel, "concurrency must set cancel-in-progress: false explicitly")
		default:
			cancel := get(conc, "cancel-in-progress")
			if cancel == nil || cancel.Value != "false" {
				c.add(conc.Line, RuleApplyCancel, "cancel-in-progress must be false: a cancelled apply leaves a layer half-applied")
			}
			if g := get(conc, "group"); g == nil || strings.Contains(g.Value, "${{") {
				c.add(conc.Line, RuleApplyCancel, "the concurrency group must be one fixed name so applies never overlap")
			}
		}
	}
}

func guardedVia(id string, guarded map[string]bool, needs map[string][]string, seen map[string]bool) bool {
	if guarded[id] {
		return true
	}
	if seen[id] {
		return false
	}
	seen[id] = true
	for _, n := range needs[id] {
		if guardedVia(n, guarded, needs, seen) {
			return true
		}
	}
	return false
}

// eventOnly matches an `if:` that starts by requiring one event.
var eventOnly = regexp.MustCompile(`^\s*github\.event_name\s*==\s*'([a-z_]+)'\s*(&&|$)`)

// notOnComments: the condition requires an event that is not a comment (and
// has no || that could admit one anyway), so the job never runs on comments.
func notOnComments(cond string) bool {
	m := eventOnly.FindStringSubmatch(cond)
	return m != nil && !commentEvents[m[1]] && !strings.Contains(cond, "||")
}

// authorGuard reports whether an `if:` admits only trusted author associations.
func (c *checker) authorGuard(cond *yaml.Node) bool {
	text := cond.Value
	if !strings.Contains(text, "author_association") {
		return false
	}
	if negatedAssoc.MatchString(text) {
		c.add(cond.Line, RuleCommentAuthor, "author_association compared with != admits everyone else: list the trusted ones")
		return false
	}
	found := false
	for _, m := range assocLiteral.FindAllStringSubmatch(text, -1) {
		if trustedAssociations[m[1]] {
			found = true
			continue
		}
		switch m[1] {
		case "CONTRIBUTOR", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN", "NONE":
			c.add(cond.Line, RuleCommentAuthor, "author_association %s is not trusted: anyone can become one", m[1])
			return false
		}
	}
	return found
}

func grantsWrite(perms *yaml.Node) bool {
	if perms.Kind == yaml.ScalarNode {
		return perms.Value == "write-all"
	}
	for _, p := range pairs(perms) {
		if p[1].Value == "write" {
			return true
		}
	}
	return false
}

func names(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, x := range n.Content {
		out = append(out, x.Value)
	}
	return out
}

func seq(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// step checks one step and reports whether it runs `dagger call apply`.
func (c *checker) step(job string, step *yaml.Node) (applies bool) {
	if run := get(step, "run"); run != nil {
		for _, m := range expression.FindAllStringSubmatch(run.Value, -1) {
			c.add(run.Line, RuleScriptExpression, "job %q: run: contains ${{%s}}: pass the value through env: and use \"$VAR\"", job, m[1])
		}
	}
	uses := get(step, "uses")
	if uses == nil {
		return false
	}
	ref := uses.Value
	action, _, _ := strings.Cut(ref, "@")
	switch {
	case strings.HasPrefix(ref, "./"):
	case strings.HasPrefix(ref, "docker://"):
		if !strings.Contains(ref, "@sha256:") {
			c.add(uses.Line, RulePinned, "%s: pin the image by digest (@sha256:...)", ref)
		}
	case !shaRef.MatchString(ref):
		c.add(uses.Line, RulePinned, "%s: pin the action to a full commit SHA (a tag can be moved)", ref)
	case !versionNote.MatchString(uses.LineComment):
		c.add(uses.Line, RulePinned, "%s: name the version the SHA is in a comment (# v1.2.3)", ref)
	}
	if action == "actions/checkout" {
		pc := get(get(step, "with"), "persist-credentials")
		if pc == nil || pc.Value != "false" {
			c.add(uses.Line, RuleCheckoutCredsLeft, "actions/checkout: set persist-credentials: false so later steps cannot reuse the token")
		}
	}
	dagger := action == DaggerAction
	for _, p := range pairs(get(step, "with")) {
		key, val := p[0].Value, p[1]
		for _, m := range expression.FindAllStringSubmatch(val.Value, -1) {
			inner := strings.TrimSpace(m[1])
			switch {
			case dagger && key != "cloud-token":
				c.add(val.Line, RuleInputExpression, "job %q: %s input %q contains ${{ %s }}: the action pastes it into a shell script; pass values through env: and use \"$VAR\"", job, DaggerAction, key, inner)
			case dagger:
				if !strings.HasPrefix(inner, "secrets.") {
					c.add(val.Line, RuleInputExpression, "job %q: cloud-token must be a secret, not ${{ %s }}", job, inner)
				}
			default:
				for _, r := range untrustedRef.FindAllString(inner, -1) {
					if !numberFields[r] {
						c.add(val.Line, RuleInputExpression, "job %q: input %q interpolates %s: event text must reach an action through env:, never its inputs", job, key, r)
					}
				}
			}
		}
	}
	if !dagger {
		return false
	}
	with := get(step, "with")
	if v := get(with, "version"); v == nil {
		c.add(uses.Line, RuleDaggerVersion, "%s without version: pin it to %s", DaggerAction, c.opts.EngineVersion)
	} else if c.opts.EngineVersion != "" && v.Value != c.opts.EngineVersion {
		c.add(v.Line, RuleDaggerVersion, "%s version %s differs from dagger.json's engineVersion %s", DaggerAction, v.Value, c.opts.EngineVersion)
	}
	for _, key := range []string{"call", "args"} {
		in := get(with, key)
		if in == nil {
			continue
		}
		var isBool func(string) bool
		if c.opts.Module != nil {
			isBool = c.opts.Module.IsBool
		}
		cl, err := ParseCallFor(in.Value, isBool)
		if err != nil {
			c.add(in.Line, RuleDaggerSecret, "job %q: cannot read the %s input: %v", job, key, err)
			continue
		}
		for _, f := range append(cl.AllFlags(), cl.Global...) {
			if secretFlags[f.Name] && !secretSources.MatchString(f.Value) {
				c.add(in.Line, RuleDaggerSecret, "job %q: %s %q: pass secrets as env://NAME so Dagger keeps them secret", job, f.Name, f.Value)
			}
		}
		if c.opts.Module != nil {
			for _, miss := range c.opts.Module.Missing(cl) {
				c.add(in.Line, RuleDaggerFunction, "job %q: the Dagger module has no %s", job, miss)
			}
		}
		if cl.Function == "apply" {
			applies = true
		}
	}
	return applies
}

// versions checks every Dagger engine image the file names against engineVersion.
func (c *checker) versions(src []byte) {
	if c.opts.EngineVersion == "" {
		return
	}
	for i, line := range strings.Split(string(src), "\n") {
		for _, m := range engineImage.FindAllStringSubmatch(line, -1) {
			if m[1] != c.opts.EngineVersion {
				c.add(i+1, RuleDaggerVersion, "engine image %s differs from dagger.json's engineVersion %s", m[0], c.opts.EngineVersion)
			}
		}
	}
}
