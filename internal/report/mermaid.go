package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/stage"
)

// Mermaid classes, one per node state; "unchecked" is a layer the report does not
// cover (not selected).
var mermaidClasses = []struct{ name, style string }{
	{"pass", "fill:#dafbe1,stroke:#1a7f37,color:#1f2328"},
	{"fail", "fill:#ffebe9,stroke:#cf222e,color:#1f2328"},
	{"error", "fill:#fff8c5,stroke:#9a6700,color:#1f2328"},
	{"skip", "fill:#f6f8fa,stroke:#8c959f,color:#1f2328"},
	{"unchecked", "fill:#ffffff,stroke:#8c959f,color:#57606a,stroke-dasharray:4 3"},
}

// Worst folds a layer's stage results: error beats fail beats pass beats skip.
func (l LayerResult) Worst() stage.Status {
	rank := map[stage.Status]int{stage.Skip: 0, stage.Pass: 1, stage.Fail: 2, stage.Error: 3}
	worst := stage.Skip
	for _, k := range stage.Kinds {
		if s := l.Result(k).Status; rank[s] > rank[worst] {
			worst = s
		}
	}
	return worst
}

// Mermaid writes the layer graph as a mermaid flowchart (without the code fence):
// the layers as nodes in apply order, an edge from each dependency to the layer
// that reads it, and, when r is not nil, every node marked and coloured by its
// worst stage status. Layers r does not cover are drawn dashed as not checked.
func Mermaid(w io.Writer, ls []*layers.Layer, r *Report) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	ids := make(map[string]string, len(ls))
	for i, l := range ls {
		ids[l.Dir] = fmt.Sprintf("n%d", i+1)
	}
	var results map[string]LayerResult
	if r != nil {
		results = make(map[string]LayerResult, len(r.Layers))
		for _, lr := range r.Layers {
			results[lr.Layer.Dir] = lr
		}
	}
	classOf := map[string][]string{}
	for _, l := range ls {
		small := l.Dir
		if l.Unnumbered { // the label is the key already: show where it is
			small = l.Path
		}
		label := mermaidText(l.Label()) + "<br/><small>" + mermaidText(small) + "</small>"
		if r != nil {
			class := "unchecked"
			if lr, ok := results[l.Dir]; ok {
				s := lr.Worst()
				class = string(s)
				label = Mark(s) + " " + label
			}
			classOf[class] = append(classOf[class], ids[l.Dir])
		}
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", ids[l.Dir], label)
	}
	for _, l := range ls {
		for _, d := range l.DependsOn {
			if from, ok := ids[d]; ok {
				fmt.Fprintf(&b, "  %s --> %s\n", from, ids[l.Dir])
			}
		}
	}
	if r != nil {
		for _, c := range mermaidClasses {
			if len(classOf[c.name]) == 0 {
				continue
			}
			fmt.Fprintf(&b, "  classDef %s %s\n", c.name, c.style)
			fmt.Fprintf(&b, "  class %s %s\n", strings.Join(classOf[c.name], ","), c.name)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidText makes text safe inside a quoted mermaid label: quotes and markup
// characters become mermaid's entity codes.
func mermaidText(s string) string { return mermaidEscaper.Replace(s) }

var mermaidEscaper = strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "&", "#amp;", "\n", " ")
