package actions

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

// Annotation is one finding shown on a file's line in the PR.
type Annotation struct {
	Level   string // error, warning or notice
	File    string // repository-relative
	Line    int
	Col     int
	Title   string
	Message string
}

// PerStep is how many annotations of each level GitHub shows for one step.
const PerStep = 10

// Annotations lists one annotation per finding of the failing stages, in report
// order: the layer, stage and rule in the title, the tool's message as the text.
func Annotations(r *report.Report) []Annotation {
	var out []Annotation
	for _, l := range r.Layers {
		for _, k := range stage.Kinds {
			res := l.Result(k)
			if res.Status != stage.Fail && res.Status != stage.Error {
				continue
			}
			for _, f := range res.Findings {
				title := l.Layer.Label() + " · " + strings.ToLower(k.Title())
				if f.Rule != "" {
					title += " · " + f.Rule
				}
				out = append(out, Annotation{Level: level(f.Severity), File: f.File, Line: f.Line, Col: f.Column,
					Title: OneLine(title), Message: f.Message})
			}
		}
	}
	return out
}

func level(severity string) string {
	switch strings.ToLower(severity) {
	case "warning":
		return "warning"
	case "notice", "info":
		return "notice"
	}
	return "error"
}

// Plan picks what GitHub will show: at most PerStep of each level, in order, and
// says how many were left out. When some are, one notice slot is kept for the
// line that says so.
func Plan(all []Annotation) (shown []Annotation, omitted int) {
	count := map[string]int{}
	for _, a := range all {
		count[a.Level]++
	}
	noticeCap := PerStep
	if count["error"] > PerStep || count["warning"] > PerStep || count["notice"] > PerStep {
		noticeCap = PerStep - 1
	}
	used := map[string]int{}
	for _, a := range all {
		limit := PerStep
		if a.Level == "notice" {
			limit = noticeCap
		}
		if used[a.Level] < limit {
			used[a.Level]++
			shown = append(shown, a)
		} else {
			omitted++
		}
	}
	return shown, omitted
}

// OmittedNote is the notice that says how many findings have no annotation.
func OmittedNote(n int) Annotation {
	noun := "findings are"
	if n == 1 {
		noun = "finding is"
	}
	return Annotation{Level: "notice", Title: "infra-flash",
		Message: fmt.Sprintf("%d more %s not annotated (GitHub shows %d per kind per step); the job summary lists them all.", n, noun, PerStep)}
}

// Annotate writes the planned annotations as workflow commands, then the note on
// what was left out; it returns how many findings were left out.
func (r *Runtime) Annotate(all []Annotation) (int, error) {
	shown, omitted := Plan(all)
	if omitted > 0 {
		shown = append(shown, OmittedNote(omitted))
	}
	return omitted, safely(func() {
		for _, a := range shown {
			fields := map[string]string{}
			if a.File != "" {
				fields["file"] = a.File
				if a.Line > 0 {
					fields["line"] = strconv.Itoa(a.Line)
				}
				if a.Col > 0 {
					fields["col"] = strconv.Itoa(a.Col)
				}
			}
			if a.Title != "" {
				fields["title"] = a.Title
			}
			act := r.a.WithFieldsMap(fields)
			switch a.Level {
			case "warning":
				act.Warningf("%s", a.Message)
			case "notice":
				act.Noticef("%s", a.Message)
			default:
				act.Errorf("%s", a.Message)
			}
		}
	})
}

// Commands renders annotations as the workflow-command lines Annotate writes, for
// an output a runner prints (the Dagger function's result).
func Commands(all []Annotation) (string, int) {
	var b strings.Builder
	omitted, _ := New(func(string) string { return "" }, &b).Annotate(all)
	return b.String(), omitted
}
