// Package atlantis reads Atlantis's own PR comments into the latest plan and apply
// outcome per project directory, and writes the comments that ask Atlantis to plan.
// It is pure: comments in, values out.
package atlantis

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Outcome of one project's command.
type Outcome string

const (
	Success Outcome = "success"
	Failed  Outcome = "failed" // Atlantis refused or the command failed ("**Plan Failed**")
	Errored Outcome = "error"  // terraform returned an error ("**Plan Error**")
)

// Project is one project's part of an Atlantis result comment.
type Project struct {
	Dir       string // repository-relative, as Atlantis prints it ("terraform/2.platform")
	Workspace string
	Name      string // the atlantis.yaml project name, when it has one
	Outcome   Outcome
	// Summary is the line that sums the outcome up: "Plan: 1 to add, 0 to change,
	// 0 to destroy.", "No changes. …", "Apply complete! …", or the failure reason.
	Summary string
}

// Result is one Atlantis comment read back.
type Result struct {
	Command  string    // "plan", "apply", "policy check", … (lower case)
	Projects []Project // empty for a command-level failure
	// Failure is set when the whole command failed before any project ran
	// ("**Apply Failed**: Pull request must be approved …").
	Failure string
}

// Succeeded is true when the command ran for at least one project and every
// project succeeded.
func (r Result) Succeeded() bool {
	if r.Failure != "" || len(r.Projects) == 0 {
		return false
	}
	for _, p := range r.Projects {
		if p.Outcome != Success {
			return false
		}
	}
	return true
}

// maxComment bounds the text read: GitHub's comments are at most 65,536 characters;
// anything longer is not an Atlantis comment.
const maxComment = 1 << 18

var (
	ranLine      = regexp.MustCompile("^Ran ([A-Za-z][A-Za-z ]{0,40}?) for (?:(\\d{1,6}) projects:|" + projectRef + ")\\s*$")
	sectionLine  = regexp.MustCompile("^### \\d{1,6}\\. " + projectRef + "\\s*$")
	failureLine  = regexp.MustCompile(`^\*\*([A-Za-z][A-Za-z ]{0,40}?) (Failed|Error)\*\*:?[ \t]*(.*)$`)
	summaryLine  = regexp.MustCompile(`^(?:Plan: \d+ to |No changes\.|Apply complete!|Changes to Outputs)`)
	errorMarkers = regexp.MustCompile(`(?m)^\*\*[A-Za-z][A-Za-z ]{0,40}? (Failed|Error)\*\*:?[ \t]*(.*)$`)
)

// projectRef matches Atlantis's "project: `p` dir: `d` workspace: `w`" (project optional).
const projectRef = "(?:project: `([^`\\n]{1,200})` )?dir: `([^`\\n]{1,400})` workspace: `([^`\\n]{1,200})`"

// Parse reads one comment. ok is false when the comment is not an Atlantis result.
func Parse(body string) (Result, bool) {
	if len(body) > maxComment {
		return Result{}, false
	}
	body = strings.ReplaceAll(strings.TrimSpace(body), "\r\n", "\n")
	first, rest, _ := strings.Cut(body, "\n")
	if m := failureLine.FindStringSubmatch(first); m != nil {
		// A command-level failure names no project.
		return Result{Command: strings.ToLower(m[1]), Failure: firstText(m[3], rest)}, true
	}
	m := ranLine.FindStringSubmatch(first)
	if m == nil {
		return Result{}, false
	}
	res := Result{Command: strings.ToLower(m[1])}
	if m[2] == "" { // one project: the rest of the comment is its output
		res.Projects = []Project{project(m[3], m[4], m[5], rest)}
		return res, true
	}
	want, _ := strconv.Atoi(m[2])
	var cur *Project
	var text strings.Builder
	flush := func() {
		if cur != nil {
			res.Projects = append(res.Projects, project(cur.Name, cur.Dir, cur.Workspace, text.String()))
		}
		text.Reset()
	}
	for _, line := range strings.Split(rest, "\n") {
		if s := sectionLine.FindStringSubmatch(line); s != nil {
			flush()
			cur = &Project{Name: s[1], Dir: s[2], Workspace: s[3]}
			continue
		}
		text.WriteString(line + "\n")
	}
	flush()
	if want == 0 && len(res.Projects) == 0 {
		return res, true
	}
	if len(res.Projects) == 0 {
		return Result{}, false // a header without any section: not a comment we understand
	}
	return res, true
}

func project(name, dir, workspace, out string) Project {
	p := Project{Name: name, Dir: cleanDir(dir), Workspace: workspace, Outcome: Success}
	if m := errorMarkers.FindStringSubmatch(out); m != nil {
		p.Outcome = Failed
		if m[1] == "Error" {
			p.Outcome = Errored
		}
		p.Summary = firstText(m[2], out[strings.Index(out, m[0])+len(m[0]):])
		return p
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if summaryLine.MatchString(line) {
			p.Summary = clip(line)
			break
		}
	}
	return p
}

// firstText is the reason on the marker line, else the first meaningful line after it.
func firstText(inline, after string) string {
	if s := strings.TrimSpace(inline); s != "" {
		return clip(s)
	}
	for _, line := range strings.Split(after, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "<") || strings.HasPrefix(line, "```") {
			continue
		}
		return clip(line)
	}
	return ""
}

func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !validStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// validStart reports whether b can begin a UTF-8 sequence.
func validStart(b byte) bool { return b&0xC0 != 0x80 }

func cleanDir(d string) string {
	d = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(d), "./"), "/")
	if d == "" {
		return "."
	}
	return d
}

// Comment is a PR comment as the GitHub API returns it.
type Comment struct {
	Author  string
	Body    string
	Created time.Time
	URL     string
}

// Run is the latest outcome of one command for one directory.
type Run struct {
	Outcome Outcome
	Summary string
	At      time.Time
	URL     string // the comment that reported it
}

// Status is what Atlantis last reported on a PR.
type Status struct {
	Plan  map[string]Run // by directory
	Apply map[string]Run
	// LastFailure is the most recent command-level failure, when it is newer than
	// every project result (it names no directory).
	LastFailure *Failure
}

// Failure is a command-level failure: the command and how it ended.
type Failure struct {
	Command string
	Run
}

// Latest folds Atlantis's comments into the latest plan and apply per directory.
// Comments are taken in creation order; comments that are not Atlantis results
// are ignored. Only pass comments written by the Atlantis account.
func Latest(comments []Comment) Status {
	sorted := append([]Comment(nil), comments...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Created.Before(sorted[j].Created) })
	st := Status{Plan: map[string]Run{}, Apply: map[string]Run{}}
	for _, c := range sorted {
		res, ok := Parse(c.Body)
		if !ok {
			continue
		}
		if res.Failure != "" {
			st.LastFailure = &Failure{res.Command, Run{Outcome: Failed, Summary: res.Failure, At: c.Created, URL: c.URL}}
			continue
		}
		var into map[string]Run
		switch res.Command {
		case "plan":
			into = st.Plan
		case "apply":
			into = st.Apply
		default:
			continue
		}
		for _, p := range res.Projects {
			into[p.Dir] = Run{Outcome: p.Outcome, Summary: p.Summary, At: c.Created, URL: c.URL}
		}
		st.LastFailure = nil
	}
	return st
}
