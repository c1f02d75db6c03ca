package report_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

var (
	nodeLine  = regexp.MustCompile(`^  (n[0-9]+)\["([^"\n]*)"\]$`)
	edgeLine  = regexp.MustCompile(`^  (n[0-9]+) --> (n[0-9]+)$`)
	classDef  = regexp.MustCompile(`^  classDef (pass|fail|error|skip|unchecked) [a-z-]+:[^\n]+$`)
	classLine = regexp.MustCompile(`^  class (n[0-9]+(?:,n[0-9]+)*) (pass|fail|error|skip|unchecked)$`)
)

// graph is a mermaid flowchart read back line by line; any line outside the small
// grammar Mermaid writes fails the test.
type graph struct {
	nodes  []string          // ids in order of appearance
	labels map[string]string // id -> label
	edges  [][2]string
	class  map[string]string // id -> class
}

func parseMermaid(t *testing.T, out string) graph {
	t.Helper()
	g := graph{labels: map[string]string{}, class: map[string]string{}}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Equal(t, "flowchart LR", lines[0])
	defined := map[string]bool{}
	for _, l := range lines[1:] {
		switch {
		case nodeLine.MatchString(l):
			m := nodeLine.FindStringSubmatch(l)
			require.False(t, defined[m[1]], "node %s defined twice", m[1])
			defined[m[1]] = true
			g.nodes = append(g.nodes, m[1])
			g.labels[m[1]] = m[2]
		case edgeLine.MatchString(l):
			m := edgeLine.FindStringSubmatch(l)
			require.True(t, defined[m[1]] && defined[m[2]], "edge %q names an undefined node", l)
			g.edges = append(g.edges, [2]string{m[1], m[2]})
		case classDef.MatchString(l):
		case classLine.MatchString(l):
			m := classLine.FindStringSubmatch(l)
			for _, id := range strings.Split(m[1], ",") {
				require.True(t, defined[id], "class names undefined node %s", id)
				require.Empty(t, g.class[id], "node %s has two classes", id)
				g.class[id] = m[2]
			}
		default:
			t.Fatalf("line outside the mermaid grammar: %q", l)
		}
	}
	return g
}

func mermaid(t *testing.T, ls []*layers.Layer, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.Mermaid(&b, ls, r))
	return b.String()
}

func TestMermaidNodesInApplyOrderWithDependencyEdges(t *testing.T) {
	l1 := layer(1, "bootstrap", "Bootstrap")
	l2 := layer(2, "platform", "Platform", "1.bootstrap")
	l3 := layer(3, "data", "Data", "1.bootstrap", "2.platform")
	l4 := layer(4, "insight", "Insight", "2.platform", "9.outside")
	g := parseMermaid(t, mermaid(t, []*layers.Layer{l1, l2, l3, l4}, nil))

	assert.Equal(t, []string{"n1", "n2", "n3", "n4"}, g.nodes)
	assert.Equal(t, "L1 Bootstrap<br/><small>1.bootstrap</small>", g.labels["n1"])
	assert.Contains(t, g.labels["n4"], "L4 Insight")
	// dependency -> dependent; a dependency outside the graph draws no edge
	assert.Equal(t, [][2]string{{"n1", "n2"}, {"n1", "n3"}, {"n2", "n3"}, {"n2", "n4"}}, g.edges)
	assert.Empty(t, g.class, "no report, no colours")
}

func TestMermaidMarksWorstStatusPerLayer(t *testing.T) {
	l1 := layer(1, "bootstrap", "Bootstrap")
	l2 := layer(2, "platform", "Platform", "1.bootstrap")
	l3 := layer(3, "data", "Data", "2.platform")
	l4 := layer(4, "insight", "Insight", "2.platform")
	l5 := layer(5, "edge", "Edge", "4.insight")
	r := newReport(
		allPass(l1),
		row(l2, map[stage.Kind]stage.Result{stage.Format: pass(), stage.Lint: fail(stage.Finding{Message: "x"}), stage.Validate: pass()}),
		row(l3, map[stage.Kind]stage.Result{stage.Format: fail(), stage.Lint: toolError(), stage.Validate: pass()}),
		row(l4, map[stage.Kind]stage.Result{stage.Format: pass()}), // fmt only: the rest skipped
	)
	g := parseMermaid(t, mermaid(t, []*layers.Layer{l1, l2, l3, l4, l5}, r))

	assert.Equal(t, map[string]string{"n1": "pass", "n2": "fail", "n3": "error", "n4": "pass", "n5": "unchecked"}, g.class)
	assert.True(t, strings.HasPrefix(g.labels["n1"], "✅ "), g.labels["n1"])
	assert.True(t, strings.HasPrefix(g.labels["n2"], "❌ "), g.labels["n2"])
	assert.True(t, strings.HasPrefix(g.labels["n3"], "⚠️ "), g.labels["n3"])
	assert.True(t, strings.HasPrefix(g.labels["n5"], "L5 Edge"), "an unchecked layer has no mark: %s", g.labels["n5"])

	skipped := newReport(row(l1, nil))
	assert.Equal(t, map[string]string{"n1": "skip"}, parseMermaid(t, mermaid(t, []*layers.Layer{l1}, skipped)).class)
}

func TestMermaidEscapesLabels(t *testing.T) {
	l := layer(1, "x", `Say "hi" <b>&`)
	g := parseMermaid(t, mermaid(t, []*layers.Layer{l}, nil))
	assert.Equal(t, "L1 Say #quot;hi#quot; #lt;b#gt;#amp;<br/><small>1.x</small>", g.labels["n1"])
}

// The README shows the reference tree's graph; it must be what the command prints.
func TestReadmeShowsTheReferenceGraph(t *testing.T) {
	root := "../.."
	cfg, err := repoconfig.Load(os.DirFS(root))
	require.NoError(t, err)
	set, err := layers.Discover(os.DirFS(root), cfg)
	require.NoError(t, err)
	out := mermaid(t, set.Layers, nil)
	parseMermaid(t, out)
	readme, err := os.ReadFile(root + "/README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```mermaid\n"+out+"```\n",
		"README.md's layer graph is stale: paste `infra layers --format mermaid` into it")
}
