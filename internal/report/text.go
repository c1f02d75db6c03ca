package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/stage"
)

var words = map[stage.Status]string{stage.Pass: "pass", stage.Fail: "FAIL", stage.Skip: "-", stage.Error: "ERROR"}

// Text writes the terminal report: the matrix, then every finding with its location.
func Text(w io.Writer, r *Report) error {
	if len(r.Layers) == 0 {
		_, err := io.WriteString(w, "No layer is selected: nothing to check.\n")
		return err
	}
	var b strings.Builder
	width := len("Layer")
	for _, l := range r.Layers {
		width = max(width, len(l.Layer.Label()))
	}
	envs, envWidth := r.hasEnvironments(), len("Environment")
	for _, l := range r.Layers {
		envWidth = max(envWidth, len(envOf(l.Layer)))
	}
	fmt.Fprintf(&b, "%-*s", width+2, "Layer")
	if envs {
		fmt.Fprintf(&b, "%-*s", envWidth+2, "Environment")
	}
	for _, k := range stage.Kinds {
		fmt.Fprintf(&b, "%-10s", k.Title())
	}
	b.WriteString("\n")
	for _, l := range r.Layers {
		fmt.Fprintf(&b, "%-*s", width+2, l.Layer.Label())
		if envs {
			fmt.Fprintf(&b, "%-*s", envWidth+2, envOf(l.Layer))
		}
		for _, k := range stage.Kinds {
			fmt.Fprintf(&b, "%-10s", words[l.Result(k).Status]+cachedMark(l.Result(k), "*"))
		}
		b.WriteString("\n")
	}
	if n, _ := r.Cached(); n > 0 {
		b.WriteString("* cached: reused from an earlier run, nothing it reads has changed\n")
	}
	for _, l := range r.Layers {
		for _, k := range stage.Kinds {
			res := l.Result(k)
			if res.Status != stage.Fail && res.Status != stage.Error {
				continue
			}
			fmt.Fprintf(&b, "\n%s %s (%s):\n", l.Layer.Label(), strings.ToLower(k.Title()), words[res.Status])
			for _, f := range res.Findings {
				loc := f.File
				if f.Line > 0 {
					loc = fmt.Sprintf("%s:%d", f.File, f.Line)
				}
				if loc != "" {
					loc += ": "
				}
				rule := ""
				if f.Rule != "" {
					rule = " [" + f.Rule + "]"
				}
				fmt.Fprintf(&b, "  %s%s%s\n", loc, f.Message, rule)
				if f.Detail != "" {
					for _, line := range strings.Split(strings.TrimRight(f.Detail, "\n"), "\n") {
						b.WriteString(strings.TrimRight("      "+line, " ") + "\n")
					}
				}
			}
		}
	}
	fmt.Fprintf(&b, "\n%s\n", Summary(r))
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is the one-line outcome.
func Summary(r *Report) string {
	failed := 0
	for _, l := range r.Layers {
		for _, k := range stage.Kinds {
			if s := l.Result(k).Status; s == stage.Fail || s == stage.Error {
				failed++
				break
			}
		}
	}
	verdict := map[stage.Status]string{stage.Pass: "all checks passed", stage.Fail: "checks failed", stage.Error: "a tool could not run"}[r.Status()]
	if r.Status() == stage.Error && r.anyFailed() {
		// The exit code says 3; the findings must not go unmentioned.
		verdict = "checks failed and a tool could not run"
	}
	noun := "layers"
	if len(r.Layers) == 1 {
		noun = "layer"
	}
	cached := ""
	if n, of := r.Cached(); n > 0 {
		cached = fmt.Sprintf(", %d of %d results cached", n, of)
	}
	return fmt.Sprintf("%d %s, %d with problems: %s (%s, %.1fs%s)", len(r.Layers), noun, failed, verdict, r.Engine, r.Duration.Seconds(), cached)
}

// Progress is the line printed as one stage of one layer finishes.
func Progress(l *layers.Layer, k stage.Kind, res stage.Result) string {
	icon := map[stage.Status]string{stage.Pass: "✓", stage.Fail: "✗", stage.Error: "!", stage.Skip: "-"}[res.Status]
	extra := ""
	if n := len(res.Findings); n > 0 && res.Status != stage.Pass {
		extra = fmt.Sprintf("  %d finding(s)", n)
	}
	return fmt.Sprintf("%s %-18s %-9s %5.2fs%s%s", icon, l.Label(), strings.ToLower(k.Title()), res.Duration.Seconds(), cachedMark(res, " (cached)"), extra)
}

// LayerList writes the layers in apply order with their dependencies.
func LayerList(w io.Writer, ls []*layers.Layer) error {
	var b strings.Builder
	for i, l := range ls {
		deps := "-"
		if len(l.DependsOn) > 0 {
			deps = strings.Join(l.DependsOn, ", ")
		}
		extra := ""
		switch {
		case l.Env != "":
			extra = "; environment: " + l.Env
		case len(l.PerEnv) > 0:
			extra = "; per environment: " + strings.Join(l.PerEnv, ", ")
		}
		if l.Terragrunt {
			extra += "; a Terragrunt unit"
		}
		id := l.ID()
		if l.Unnumbered {
			id = "-"
		}
		fmt.Fprintf(&b, "%d. %-4s %-16s %-28s depends on: %s%s\n", i+1, id, l.Dir, l.Path, deps, extra)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cachedMark is mark when the result was reused rather than computed in this run.
func cachedMark(res stage.Result, mark string) string {
	if res.Cached {
		return mark
	}
	return ""
}
