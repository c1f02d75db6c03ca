package flash_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/atlantis"
	"github.com/infra-flash/infra/internal/flash"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

const limit = 65536 - 1024 - 100 // what the client gives after its margin and the marker line

func layer(i int, name string, deps ...string) *layers.Layer {
	dir := fmt.Sprintf("%d.%s", i, name)
	return &layers.Layer{Dir: dir, Path: "terraform/" + dir, Index: i, Name: name, Title: strings.ToUpper(name[:1]) + name[1:], DependsOn: deps}
}

var (
	l1 = layer(1, "bootstrap")
	l2 = layer(2, "platform", "1.bootstrap")
	l3 = layer(3, "data", "2.platform")
	l4 = layer(4, "insight", "2.platform")
)

func ok() stage.Result { return stage.Result{Status: stage.Pass, Findings: []stage.Finding{}} }

func findings(n int, size int) stage.Result {
	fs := make([]stage.Finding, n)
	for i := range fs {
		fs[i] = stage.Finding{File: "terraform/2.platform/main.tf", Line: i + 1, Severity: "error", Rule: "terraform_naming_convention",
			Message: fmt.Sprintf("resource name %d does not match the convention %s", i, strings.Repeat("x", size))}
	}
	return stage.Result{Status: stage.Fail, Findings: fs}
}

func input(lint stage.Result) flash.Input {
	rep := &report.Report{Engine: "tofu", Stages: stage.Kinds, Duration: time.Second, Layers: []report.LayerResult{
		{Layer: l2, Results: map[stage.Kind]stage.Result{stage.Format: ok(), stage.Lint: lint, stage.Validate: ok()}},
		{Layer: l3, Results: map[stage.Kind]stage.Result{stage.Format: ok(), stage.Lint: ok(), stage.Validate: ok()}},
	}}
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	return flash.Input{
		Report: rep,
		Layers: []*layers.Layer{l1, l2, l3, l4},
		Commit: flash.Commit{SHA: strings.Repeat("abc1234", 6)[:40], Subject: "feat: add vault", Branch: "feature/vault"},
		Atlantis: atlantis.Status{
			Plan: map[string]atlantis.Run{
				"terraform/2.platform": {Outcome: atlantis.Success, Summary: "Plan: 1 to add, 0 to change, 0 to destroy.", At: t0, URL: "https://github.com/o/r/pull/7#issuecomment-1"},
				"terraform/4.insight":  {Outcome: atlantis.Errored, Summary: "Error: Unsupported argument", At: t0},
				"legacy/dns":           {Outcome: atlantis.Failed, Summary: "locked by #12", At: t0},
			},
			Apply: map[string]atlantis.Run{"terraform/2.platform": {Outcome: atlantis.Success, Summary: "Apply complete!", At: t0}},
		},
		RunURL:   "https://github.com/o/r/actions/runs/42",
		FullText: "the job summary",
	}
}

func TestComposeShowsTheSeedLayout(t *testing.T) {
	out := flash.Compose(input(findings(2, 0)), limit)
	for _, want := range []string{
		"## ⚡ infra-flash | `feature/vault`\n",
		"### 📍 Commit\n`abc1234` - feat: add vault\n",
		"### 🔍 CI Status (Syntax Only)\n\n| Layer | Format | Lint | Validate |\n",
		"| **L2** Platform | ✅ | ❌ | ✅ |\n",
		"| **L3** Data | ✅ | ✅ | ✅ |\n",
		"<details><summary>❌ <b>L2</b> Platform · Lint: 2 findings</summary>",
		"- `terraform/2.platform/main.tf:2` `terraform_naming_convention` resource name 1",
		"<details><summary>🗺️ Layer graph (apply order)</summary>\n\n```mermaid\nflowchart LR\n",
		"  n2[\"❌ L2 Platform<br/><small>2.platform</small>\"]\n",
		"  n1 --> n2\n",
		"### 🔮 Atlantis (Real Plan/Apply)\n",
		"**Atlantis is the only way to plan and apply.**",
		"| **L2** Platform | ✅ Plan: 1 to add, 0 to change, 0 to destroy. ([comment](https://github.com/o/r/pull/7#issuecomment-1)) | ✅ Apply complete! |\n",
		"| **L4** Insight | ⚠️ Error: Unsupported argument | — |\n",
		"| `legacy/dns` | ❌ locked by #12 | — |\n",
		"| `atlantis plan -d terraform/2.platform` | plan this directory |\n",
		"| `atlantis unlock` |",
		"---\n<sub>🏃 [The run](https://github.com/o/r/actions/runs/42) · the full report is in the job summary · updated in place on every push</sub>\n",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "| **L3** Data | ✅ Plan", "L3 has no Atlantis result, so no row")
	assert.NotContains(t, out, "| **L1**", "L1 is neither checked nor planned")
	assert.True(t, strings.HasSuffix(out, "</sub>\n"))
	wellFormed(t, out)
	// Sections in the seed's order.
	order := []string{"## ⚡", "### 📍", "### 🔍", "```mermaid", "### 🔮", "Atlantis commands", "---\n<sub>"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		require.Greater(t, i, last, s)
		last = i
	}
}

func wellFormed(t *testing.T, out string) {
	t.Helper()
	assert.Equal(t, strings.Count(out, "<details>"), strings.Count(out, "</details>"), "details balanced")
	assert.Equal(t, 0, strings.Count(out, "```mermaid")-strings.Count(out, "```\n\n</details>"), "mermaid fence closed")
}

func TestComposeWithoutAtlantisOrCommit(t *testing.T) {
	in := input(ok())
	in.Atlantis = atlantis.Status{LastFailure: &atlantis.Failure{Command: "apply", Run: atlantis.Run{Summary: "Pull request must be approved", URL: "https://x/1"}}}
	in.Commit = flash.Commit{}
	in.RunURL = ""
	out := flash.Compose(in, limit)
	assert.True(t, strings.HasPrefix(out, "## ⚡ infra-flash\n\n### 🔍"))
	assert.Contains(t, out, "_No Atlantis plan on this PR yet._")
	assert.Contains(t, out, "> ❌ The latest `atlantis apply` failed: Pull request must be approved ([comment](https://x/1))")
	assert.NotContains(t, out, "[The run]")
}

// In comment mode the Atlantis section becomes a Plans section: the commands
// to comment, and what /plan and /apply recorded on the commit; in Atlantis
// mode (the default) nothing of it shows.
func TestComposeInCommentModeShowsPlansNotAtlantis(t *testing.T) {
	atl := flash.Compose(input(ok()), limit)
	assert.Contains(t, atl, "### 🔮 Atlantis (Real Plan/Apply)")
	assert.NotContains(t, atl, "Plans (from comments)")
	assert.NotContains(t, atl, "`/plan")

	in := input(ok())
	in.Comments = &flash.CommentPlans{}
	out := flash.Compose(in, limit)
	for _, want := range []string{
		"### 🔮 Plans (from comments)\n",
		"**Plans and applies run from comments on this pull request**, not Atlantis: comment `/plan`, then `/apply` once the pull request is approved.",
		"_No `/plan` on `abc1234` yet._",
		"<details><summary>Comment commands</summary>",
		"| `/plan [--env NAME] [layer ...] [-- engine args]` | plan the layers against the real backend and keep the plans |",
		"| `/apply [--env NAME] [layer ...]` |",
		"| `/unlock [--env NAME] [layer]` |",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "Atlantis (Real", "Atlantis's results are not shown in comment mode")
	assert.NotContains(t, out, "atlantis plan")
	wellFormed(t, out)

	in.Comments = &flash.CommentPlans{
		Plan:  flash.Step{State: "success", Description: "planned 2.platform (1 to add), 3.data (no changes) | <b>", URL: "https://github.com/o/r/actions/runs/43"},
		Apply: flash.Step{State: "failure", Description: "3.data failed"},
	}
	out = flash.Compose(in, limit)
	assert.Contains(t, out, "| Command | On `abc1234` |\n|:--|:--|\n")
	assert.Contains(t, out, "| `/plan` | ✅ planned 2.platform (1 to add), 3.data (no changes) \\| &lt;b&gt; ([run](https://github.com/o/r/actions/runs/43)) |\n")
	assert.Contains(t, out, "| `/apply` | ❌ 3.data failed |\n")
	assert.NotContains(t, out, "_No `/plan`")

	// Squeezed, the status stays and the command list goes.
	in = input(findings(50, 100))
	in.Comments = &flash.CommentPlans{Plan: flash.Step{State: "success", Description: "planned 2.platform"}}
	var sawNoHints bool
	for l := 3500; l > 1000; l -= 50 {
		out := flash.Compose(in, l)
		require.LessOrEqual(t, len(out), l)
		wellFormed(t, out)
		assert.Contains(t, out, "| `/plan` | ✅ planned 2.platform |", "the status stays at %d", l)
		sawNoHints = sawNoHints || !strings.Contains(out, "Comment commands")
	}
	assert.True(t, sawNoHints, "the command list was dropped somewhere")
}

// Text from the PR (branch, subject, Atlantis output) cannot break out of its place.
func TestComposeEscapesUntrustedText(t *testing.T) {
	in := input(ok())
	in.Commit = flash.Commit{SHA: "abc", Subject: "fix <script>alert(1)</script> | `x` ![img](http://evil)\n## Injected", Branch: "we`ird|branch"}
	in.Atlantis.Plan["terraform/2.platform"] = atlantis.Run{Outcome: atlantis.Failed, Summary: "a | b <img src=x> [link](javascript:alert(1))"}
	in.RunURL = "javascript:alert(1)"
	out := flash.Compose(in, limit)
	assert.Contains(t, out, "## ⚡ infra-flash | ``we`ird|branch``")
	assert.Contains(t, out, "`abc` - fix &lt;script&gt;alert(1)&lt;/script&gt; | `x` ![img](http://evil) ## Injected\n")
	assert.NotContains(t, out, "\n## Injected")
	assert.Contains(t, out, `❌ a \| b &lt;img src=x&gt;`)
	assert.NotContains(t, out, "javascript:alert(1))·")
	assert.NotContains(t, out, "[The run](javascript")
}

// A 200,000-character result fits GitHub's limit, keeping the matrix, the
// Atlantis section and the end, and saying where the full text is.
func TestComposeFitsHugeResults(t *testing.T) {
	in := input(findings(1500, 100))
	var full bytes.Buffer
	require.NoError(t, report.Markdown(&full, in.Report, 1<<30))
	require.Greater(t, full.Len(), 200000)

	out := flash.Compose(in, limit)
	assert.LessOrEqual(t, len(out), limit)
	assert.Contains(t, out, "| **L2** Platform | ✅ | ❌ | ✅ |")
	assert.Contains(t, out, "### 🔮 Atlantis (Real Plan/Apply)")
	assert.Contains(t, out, "| **L4** Insight | ⚠️")
	assert.Contains(t, out, "more findings are not shown here")
	assert.Contains(t, out, "the full report is in the job summary")
	assert.True(t, strings.HasSuffix(out, "</sub>\n"))
	assert.Contains(t, out, "```mermaid", "the graph fits when only findings are dropped")
	wellFormed(t, out)
}

func TestComposeDropsTheGraphThenTheHintsBeforeTheMatrix(t *testing.T) {
	in := input(findings(50, 100))
	full := flash.Compose(in, 1<<20)
	noFindings := flash.Compose(in, 3500)
	assert.LessOrEqual(t, len(noFindings), 3500)
	assert.Contains(t, noFindings, "| **L2** Platform | ✅ | ❌ | ✅ |")
	assert.Contains(t, noFindings, "### 🔮 Atlantis")
	assert.True(t, strings.HasSuffix(noFindings, "</sub>\n"))

	sizes := []int{len(full)}
	var sawNoGraph, sawNoHints bool
	for l := 3500; l > 1200; l -= 50 {
		out := flash.Compose(in, l)
		require.LessOrEqual(t, len(out), l)
		wellFormed(t, out)
		if !strings.Contains(out, "```mermaid") {
			sawNoGraph = true
			if !strings.Contains(out, "Atlantis commands") {
				sawNoHints = true
			} else {
				assert.False(t, sawNoHints, "hints come back once dropped at %d", l)
			}
			assert.Contains(t, out, "| **L2** Platform | ✅ | ❌ | ✅ |", "the matrix stays at %d", l)
			assert.Contains(t, out, "### 🔮 Atlantis", "the Atlantis status stays at %d", l)
			assert.True(t, strings.HasSuffix(out, "</sub>\n"), "the end stays at %d", l)
		} else {
			assert.Contains(t, out, "Atlantis commands", "hints go after the graph")
		}
		sizes = append(sizes, len(out))
	}
	assert.True(t, sawNoGraph && sawNoHints, "both optional parts were dropped somewhere")
}

func TestComposeNeverExceedsTheLimit(t *testing.T) {
	in := input(findings(300, 40))
	many := make([]*layers.Layer, 0, 3000)
	var rows []report.LayerResult
	for i := 1; i <= 3000; i++ {
		l := layer(i, fmt.Sprintf("layer%d", i))
		many = append(many, l)
		rows = append(rows, report.LayerResult{Layer: l, Results: map[stage.Kind]stage.Result{stage.Lint: findings(3, 10)}})
	}
	wide := flash.Input{Report: &report.Report{Layers: rows}, Layers: many, FullText: "the job summary"}
	for _, l := range []int{0, 10, 100, 700, 2000, 9000, 30000, limit} {
		assert.LessOrEqual(t, len(flash.Compose(in, l)), max(l, 0))
		out := flash.Compose(wide, l)
		assert.LessOrEqual(t, len(out), max(l, 0))
	}
	out := flash.Compose(wide, limit)
	assert.Contains(t, out, "The matrix is cut here")
	assert.True(t, strings.HasSuffix(out, "</sub>\n"))
}

// BenchmarkCompose renders a result with 10,000 findings for the comment; the
// baseline in the same run encodes the same report as JSON.
func BenchmarkCompose(b *testing.B) {
	in := input(findings(10000, 30))
	var js bytes.Buffer
	start := time.Now()
	for i := 0; i < 20; i++ {
		js.Reset()
		_ = report.JSON(&js, in.Report)
	}
	baseline := time.Since(start) / 20
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if len(flash.Compose(in, limit)) > limit {
			b.Fatal("over the limit")
		}
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/render")
	b.ReportMetric(float64(per)/float64(baseline), "x-json-baseline")
	b.ReportMetric(50, "target-ms")
}

// When the text the footer points to was cut as well, the footer does not
// call it the full report.
func TestFooterIsTruthfulWhenTheSummaryWasCut(t *testing.T) {
	in := input(findings(1500, 100))
	in.FullCut = true
	out := flash.Compose(in, limit)
	assert.NotContains(t, out, "the full report is in")
	assert.Contains(t, out, "more findings are in the job summary, cut to GitHub's size limit too: `infra validate` lists them all")
	wellFormed(t, out)
}
