package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

// layer builds a layer as Discover would for terraform/<index>.<name>.
func layer(index int, name, title string, deps ...string) *layers.Layer {
	dir := fmt.Sprintf("%d.%s", index, name)
	return &layers.Layer{Dir: dir, Path: "terraform/" + dir, Index: index, Name: name, Title: title, DependsOn: deps}
}

func pass() stage.Result { return stage.Result{Status: stage.Pass, Findings: []stage.Finding{}} }

func fail(fs ...stage.Finding) stage.Result { return stage.Result{Status: stage.Fail, Findings: fs} }

func toolError(fs ...stage.Finding) stage.Result {
	return stage.Result{Status: stage.Error, Findings: fs}
}

// row is one layer's results; kinds missing from results are reported as skipped.
func row(l *layers.Layer, results map[stage.Kind]stage.Result) report.LayerResult {
	return report.LayerResult{Layer: l, Results: results}
}

func allPass(l *layers.Layer) report.LayerResult {
	return row(l, map[stage.Kind]stage.Result{stage.Format: pass(), stage.Lint: pass(), stage.Validate: pass()})
}

func newReport(rows ...report.LayerResult) *report.Report {
	return &report.Report{Engine: "terraform", Stages: stage.Kinds, Layers: rows, Duration: 1500 * time.Millisecond}
}

func markdown(t *testing.T, r *report.Report, limit int) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.Markdown(&b, r, limit))
	return b.String()
}

func text(t *testing.T, r *report.Report) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, report.Text(&b, r))
	return b.String()
}

func lines(s string) []string { return strings.Split(s, "\n") }

func TestResultOfStageNotRunIsSkip(t *testing.T) {
	lr := row(layer(1, "network", "Network"), map[stage.Kind]stage.Result{stage.Format: pass()})
	got := lr.Result(stage.Lint)
	assert.Equal(t, stage.Skip, got.Status)
	assert.NotNil(t, got.Findings)
	assert.Empty(t, got.Findings)
	assert.Equal(t, stage.Pass, lr.Result(stage.Format).Status)
}

func TestStatusAndExitCodePrecedence(t *testing.T) {
	l1, l2 := layer(1, "network", "Network"), layer(2, "platform", "Platform")
	tests := []struct {
		name   string
		rows   []report.LayerResult
		status stage.Status
		exit   int
	}{
		{"no layers", nil, stage.Pass, report.ExitOK},
		{"all pass", []report.LayerResult{allPass(l1), allPass(l2)}, stage.Pass, report.ExitOK},
		{"nothing run counts as pass", []report.LayerResult{row(l1, nil)}, stage.Pass, report.ExitOK},
		{"skip counts as pass", []report.LayerResult{row(l1, map[stage.Kind]stage.Result{stage.Format: pass(), stage.Lint: {Status: stage.Skip}})}, stage.Pass, report.ExitOK},
		{"fail beats pass", []report.LayerResult{allPass(l1), row(l2, map[stage.Kind]stage.Result{stage.Lint: fail()})}, stage.Fail, report.ExitFailed},
		{"error beats fail in the same layer", []report.LayerResult{row(l1, map[stage.Kind]stage.Result{stage.Format: fail(), stage.Validate: toolError()})}, stage.Error, report.ExitToolError},
		{"error beats a later fail", []report.LayerResult{row(l1, map[stage.Kind]stage.Result{stage.Validate: toolError()}), row(l2, map[stage.Kind]stage.Result{stage.Format: fail()})}, stage.Error, report.ExitToolError},
		{"error beats an earlier fail", []report.LayerResult{row(l1, map[stage.Kind]stage.Result{stage.Format: fail()}), row(l2, map[stage.Kind]stage.Result{stage.Lint: toolError()})}, stage.Error, report.ExitToolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReport(tt.rows...)
			assert.Equal(t, tt.status, r.Status())
			assert.Equal(t, tt.exit, r.ExitCode())
		})
	}
}

func TestJSONFields(t *testing.T) {
	l1 := layer(1, "network", "Network")
	l2 := layer(2, "platform", "Platform", "1.network")
	finding := stage.Finding{File: "terraform/2.platform/main.tf", Line: 3, Column: 5, Severity: "warning", Rule: "terraform_unused_declarations", Message: `variable "x" is declared but not used`}
	r := newReport(
		allPass(l1),
		row(l2, map[stage.Kind]stage.Result{
			stage.Format: {Status: stage.Pass, Duration: 250 * time.Millisecond}, // nil findings
			stage.Lint:   {Status: stage.Fail, Findings: []stage.Finding{finding}, Duration: 2 * time.Second},
			// validate was not run
		}),
	)
	var b bytes.Buffer
	require.NoError(t, report.JSON(&b, r))

	var got map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, "fail", got["status"])
	assert.Equal(t, float64(report.ExitFailed), got["exit_code"])
	assert.Equal(t, "terraform", got["engine"])
	assert.Equal(t, float64(1500), got["duration_ms"])

	ls, ok := got["layers"].([]any)
	require.True(t, ok, "layers is a list")
	require.Len(t, ls, 2)

	first := ls[0].(map[string]any)
	assert.Equal(t, "1.network", first["name"])
	assert.Equal(t, "L1", first["id"])
	assert.Equal(t, "Network", first["title"])
	assert.Equal(t, "terraform/1.network", first["path"])
	assert.Equal(t, []any{}, first["depends_on"], "no dependencies is an empty list, not null")

	second := ls[1].(map[string]any)
	assert.Equal(t, "2.platform", second["name"])
	assert.Equal(t, "L2", second["id"])
	assert.Equal(t, "Platform", second["title"])
	assert.Equal(t, "terraform/2.platform", second["path"])
	assert.Equal(t, []any{"1.network"}, second["depends_on"])

	format := second["format"].(map[string]any)
	assert.Equal(t, "pass", format["status"])
	assert.Equal(t, float64(250), format["duration_ms"])
	assert.Equal(t, []any{}, format["findings"], "nil findings are written as []")

	lint := second["lint"].(map[string]any)
	assert.Equal(t, "fail", lint["status"])
	assert.Equal(t, float64(2000), lint["duration_ms"])
	require.Len(t, lint["findings"], 1)
	f := lint["findings"].([]any)[0].(map[string]any)
	assert.Equal(t, "terraform/2.platform/main.tf", f["file"])
	assert.Equal(t, float64(3), f["line"])
	assert.Equal(t, float64(5), f["column"])
	assert.Equal(t, "warning", f["severity"])
	assert.Equal(t, "terraform_unused_declarations", f["rule"])
	assert.Equal(t, `variable "x" is declared but not used`, f["message"])

	validate, ok := second["validate"].(map[string]any)
	require.True(t, ok, "a stage that was not run is still present")
	assert.Equal(t, "skip", validate["status"])
	assert.Equal(t, []any{}, validate["findings"])
}

func TestJSONNeverWritesNull(t *testing.T) {
	l := &layers.Layer{Dir: "1.a", Path: "1.a", Index: 1, Name: "a", Title: "A"} // nil DependsOn
	for name, r := range map[string]*report.Report{
		"no layers":      {Engine: "tofu"},
		"nil everything": {Engine: "tofu", Layers: []report.LayerResult{{Layer: l}, row(l, map[stage.Kind]stage.Result{stage.Format: {Status: stage.Fail}})}},
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, report.JSON(&b, r))
			assert.NotContains(t, b.String(), "null")
			var got struct {
				Status   string           `json:"status"`
				ExitCode int              `json:"exit_code"`
				Layers   []map[string]any `json:"layers"`
			}
			require.NoError(t, json.Unmarshal(b.Bytes(), &got))
			assert.NotNil(t, got.Layers)
		})
	}
}

func TestJSONReportsToolErrorExitCode(t *testing.T) {
	r := newReport(row(layer(1, "a", "A"), map[stage.Kind]stage.Result{
		stage.Format:   fail(stage.Finding{File: "terraform/1.a/main.tf", Line: 1, Message: "not formatted"}),
		stage.Validate: toolError(stage.Finding{File: "terraform/1.a", Message: "terraform init failed"}),
	}))
	var b bytes.Buffer
	require.NoError(t, report.JSON(&b, r))
	var got struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, "error", got.Status)
	assert.Equal(t, report.ExitToolError, got.ExitCode)
}

func TestMarkdownTable(t *testing.T) {
	r := newReport(
		allPass(layer(1, "network", "Network")),
		row(layer(2, "platform", "Platform"), map[stage.Kind]stage.Result{
			stage.Format:   fail(stage.Finding{File: "terraform/2.platform/main.tf", Line: 1, Message: "not formatted"}),
			stage.Validate: toolError(),
		}),
	)
	got := lines(markdown(t, r, 0))
	require.GreaterOrEqual(t, len(got), 6)
	assert.Equal(t, []string{
		"| Layer | Format | Lint | Validate |",
		"|:------|:------:|:----:|:--------:|",
		"| **L1** Network | ✅ | ✅ | ✅ |",
		"| **L2** Platform | ❌ | ➖ | ⚠️ |",
		"",
		"<sub>✅ passed · ❌ failed · ⚠️ could not run · ➖ skipped</sub>",
	}, got[:6])
}

func TestMarkdownEscapesTitleInTable(t *testing.T) {
	r := newReport(allPass(&layers.Layer{Dir: "1.a", Path: "terraform/1.a", Index: 1, Name: "a", Title: "A | <b>B</b>"}))
	got := lines(markdown(t, r, 0))
	assert.Equal(t, `| **L1** A \| &lt;b&gt;B&lt;/b&gt; | ✅ | ✅ | ✅ |`, got[2])
}

func TestMarkdownLegendListsOnlyStatusesPresent(t *testing.T) {
	l := layer(1, "a", "A")
	tests := []struct {
		name    string
		results map[stage.Kind]stage.Result
		want    string
	}{
		{"all pass", map[stage.Kind]stage.Result{stage.Format: pass(), stage.Lint: pass(), stage.Validate: pass()}, "<sub>✅ passed</sub>"},
		{"pass and skip", map[stage.Kind]stage.Result{stage.Format: pass()}, "<sub>✅ passed · ➖ skipped</sub>"},
		{"fail and error", map[stage.Kind]stage.Result{stage.Format: fail(), stage.Lint: toolError(), stage.Validate: fail()}, "<sub>❌ failed · ⚠️ could not run</sub>"},
		{"only skip", nil, "<sub>➖ skipped</sub>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := markdown(t, newReport(row(l, tt.results)), 0)
			legend := regexp.MustCompile(`<sub>.*</sub>`).FindAllString(out, -1)
			assert.Equal(t, []string{tt.want}, legend)
		})
	}
}

func TestMarkdownPassingReportHasNoDetails(t *testing.T) {
	out := markdown(t, newReport(allPass(layer(1, "a", "A")), row(layer(2, "b", "B"), nil)), 0)
	assert.NotContains(t, out, "<details>")
	assert.NotContains(t, out, "more findings")
}

func TestMarkdownFindingsSection(t *testing.T) {
	r := newReport(row(layer(2, "platform", "Platform"), map[stage.Kind]stage.Result{
		stage.Format: pass(),
		stage.Lint: fail(
			stage.Finding{File: "terraform/2.platform/main.tf", Line: 7, Rule: "terraform_naming_convention", Message: "bad name"},
			stage.Finding{File: "terraform/2.platform/vars.tf", Message: "no line"},
		),
		stage.Validate: toolError(),
	}))
	out := markdown(t, r, 0)
	assert.Contains(t, out, "\n<details><summary>❌ <b>L2</b> Platform · Lint: 2 findings</summary>\n\n"+
		"- `terraform/2.platform/main.tf:7` `terraform_naming_convention` bad name\n"+
		"- `terraform/2.platform/vars.tf` no line\n"+
		"\n</details>\n")
	assert.Contains(t, out, "\n<details><summary>⚠️ <b>L2</b> Platform · Validate: could not run</summary>\n\n\n</details>\n")
	assert.NotContains(t, out, "Format:", "passing stages get no section")
}

func TestMarkdownSingleFindingCount(t *testing.T) {
	out := markdown(t, newReport(row(layer(1, "a", "A"), map[stage.Kind]stage.Result{
		stage.Lint: fail(stage.Finding{File: "terraform/1.a/main.tf", Line: 1, Message: "m"}),
	})), 0)
	assert.Contains(t, out, "Lint: 1 finding</summary>")
}

func TestMarkdownFoldsUnsafeMessageToOneLine(t *testing.T) {
	msg := "first | second <script>alert(1)</script>\n\n  third line with `code` and ``more``\r\n| --- |"
	r := newReport(row(layer(1, "a", "A"), map[stage.Kind]stage.Result{
		stage.Lint: fail(stage.Finding{File: "terraform/1.a/main.tf", Line: 2, Rule: "rule`x", Message: msg}),
	}))
	out := markdown(t, r, 0)
	assert.NotContains(t, out, "<script>")
	assert.NotContains(t, out, "</script>")

	var item []string
	for _, l := range lines(out) {
		if strings.HasPrefix(l, "- ") {
			item = append(item, l)
		}
	}
	require.Len(t, item, 1, "the message stays on one line")
	assert.Equal(t,
		"- `terraform/1.a/main.tf:2` `rule'x` first | second &lt;script&gt;alert(1)&lt;/script&gt; third line with `code` and ``more`` | --- |",
		item[0])
	assert.NotContains(t, out, "third line with `code` and ``more``\r", "carriage returns are folded too")
}

func TestMarkdownLeavesCodeSpansAsTheToolWroteThem(t *testing.T) {
	r := newReport(row(layer(1, "a", "A"), map[stage.Kind]stage.Result{
		stage.Lint: fail(
			stage.Finding{File: "f.tf", Line: 1, Message: "expected `a|b` or `<x>`, not <b>"},
			stage.Finding{File: "f.tf", Line: 2, Message: "unbalanced ` and <i>"},
		),
	}))
	out := markdown(t, r, 0)
	assert.Contains(t, out, "- `f.tf:1` expected `a|b` or `<x>`, not &lt;b&gt;\n")
	assert.Contains(t, out, "- `f.tf:2` unbalanced ` and &lt;i&gt;\n")
}

// longestRun returns the length of the longest run of c in s.
func longestRun(s string, c rune) int {
	best, cur := 0, 0
	for _, r := range s {
		if r == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

func TestMarkdownFencesFormatDiff(t *testing.T) {
	diff := "@@ -1,3 +1,3 @@\n-a = \"```\"\n+a    = \"```\"\n-# `````\n+#   `````\n"
	r := newReport(row(layer(1, "a", "A"), map[stage.Kind]stage.Result{
		stage.Format: fail(stage.Finding{File: "terraform/1.a/main.tf", Line: 1, Message: "not formatted", Detail: diff}),
	}))
	out := markdown(t, r, 0)

	fence := strings.Repeat("`", longestRun(diff, '`')+1)
	assert.Contains(t, out, "- `terraform/1.a/main.tf:1` not formatted\n\n"+
		"  "+fence+"diff\n"+
		"  @@ -1,3 +1,3 @@\n"+
		"  -a = \"```\"\n"+
		"  +a    = \"```\"\n"+
		"  -# `````\n"+
		"  +#   `````\n"+
		"  "+fence+"\n")
}

func TestMarkdownFencesLintDetailWithoutLanguage(t *testing.T) {
	r := newReport(row(layer(1, "a", "A"), map[stage.Kind]stage.Result{
		stage.Lint: fail(stage.Finding{File: "terraform/1.a/main.tf", Line: 1, Message: "m", Detail: "x = 1"}),
	}))
	out := markdown(t, r, 0)
	assert.Contains(t, out, "\n  ```\n  x = 1\n  ```\n")
}

// bigReport has layers whose lint stage failed with many findings each.
func bigReport(layerCount, findingsPerLayer int) *report.Report {
	var rows []report.LayerResult
	for i := 1; i <= layerCount; i++ {
		l := layer(i, fmt.Sprintf("layer%d", i), fmt.Sprintf("Layer %d", i))
		var fs []stage.Finding
		for j := 1; j <= findingsPerLayer; j++ {
			fs = append(fs, stage.Finding{
				File: l.Path + "/main.tf", Line: j, Rule: "terraform_documented_variables",
				Message: fmt.Sprintf("variable \"v%d\" has no description; every variable needs one", j),
				Detail:  "some detail\nover two lines",
			})
		}
		rows = append(rows, row(l, map[stage.Kind]stage.Result{stage.Format: pass(), stage.Lint: fail(fs...), stage.Validate: pass()}))
	}
	return newReport(rows...)
}

func TestMarkdownLimitSummarisesFindingsPastIt(t *testing.T) {
	const layerCount, perLayer, limit = 12, 15, 5000
	out := markdown(t, bigReport(layerCount, perLayer), limit)

	assert.LessOrEqual(t, len(out), limit)
	assert.Equal(t, strings.Count(out, "<details>"), strings.Count(out, "</details>"), "no section is cut in half")
	assert.Positive(t, strings.Count(out, "<details>"), "the sections that fit are shown")

	shown := strings.Count(out, "\n- `")
	omitted := layerCount*perLayer - shown
	require.Positive(t, omitted)
	assert.True(t, strings.HasSuffix(out, fmt.Sprintf(
		"\n> %d more findings are not shown here: the run's log and `--format json` have them all.\n", omitted)),
		"ends with the note, got %q", out[max(0, len(out)-200):])
	assert.Contains(t, out, "| **L12** Layer 12 | ✅ | ❌ | ✅ |", "the matrix is always complete")
}

func TestMarkdownDefaultLimit(t *testing.T) {
	out := markdown(t, bigReport(40, 40), 0)
	assert.LessOrEqual(t, len(out), report.DefaultMarkdownLimit)
	assert.Contains(t, out, "more findings are not shown here")
	assert.Equal(t, strings.Count(out, "<details>"), strings.Count(out, "</details>"))
}

func TestMarkdownWithinLimitShowsEverything(t *testing.T) {
	out := markdown(t, bigReport(2, 3), 0)
	assert.Equal(t, 2, strings.Count(out, "<details>"))
	assert.Equal(t, 6, strings.Count(out, "\n- `"))
	assert.NotContains(t, out, "more findings")
}

func TestMarkdownCountsAnOmittedToolErrorAsOneFinding(t *testing.T) {
	r := newReport(row(layer(1, "a", "A"), map[stage.Kind]stage.Result{stage.Validate: toolError()}))
	out := markdown(t, r, 250) // room for the matrix but not for the section
	assert.NotContains(t, out, "<details>")
	assert.Contains(t, out, "\n> 1 more finding is not shown here")
}

func TestTextMatrix(t *testing.T) {
	r := newReport(
		allPass(layer(1, "network", "Network")),
		row(layer(2, "platform", "Platform"), map[stage.Kind]stage.Result{
			stage.Format:   fail(stage.Finding{File: "terraform/2.platform/main.tf", Line: 3, Message: "not formatted"}),
			stage.Validate: toolError(stage.Finding{File: "terraform/2.platform", Message: "init failed"}),
		}),
	)
	got := lines(text(t, r))
	require.GreaterOrEqual(t, len(got), 3)
	assert.Equal(t, []string{
		"Layer        Format    Lint      Validate  ",
		"L1 Network   pass      pass      pass      ",
		"L2 Platform  FAIL      -         ERROR     ",
	}, got[:3])
}

func TestTextFindings(t *testing.T) {
	r := newReport(
		allPass(layer(1, "network", "Network")),
		row(layer(2, "platform", "Platform"), map[stage.Kind]stage.Result{
			stage.Format: fail(stage.Finding{File: "terraform/2.platform/main.tf", Line: 3, Message: "not formatted", Detail: "-a=1\n+a = 1"}),
			stage.Lint: fail(
				stage.Finding{File: "terraform/2.platform/vars.tf", Line: 12, Rule: "terraform_typed_variables", Message: `variable "x" has no type`},
			),
			stage.Validate: toolError(stage.Finding{File: "terraform/2.platform", Message: "init failed"}),
		}),
	)
	out := text(t, r)
	assert.Contains(t, out, "\nL2 Platform format (FAIL):\n"+
		"  terraform/2.platform/main.tf:3: not formatted\n"+
		"      -a=1\n"+
		"      +a = 1\n")
	assert.Contains(t, out, "\nL2 Platform lint (FAIL):\n"+
		"  terraform/2.platform/vars.tf:12: variable \"x\" has no type [terraform_typed_variables]\n")
	assert.Contains(t, out, "\nL2 Platform validate (ERROR):\n"+
		"  terraform/2.platform: init failed\n")
	assert.NotContains(t, out, "L1 Network format", "passing layers list no findings")
	assert.True(t, strings.HasSuffix(out, "\n"+report.Summary(r)+"\n"), "ends with the summary")
}

func TestSummary(t *testing.T) {
	l1, l2, l3 := layer(1, "a", "A"), layer(2, "b", "B"), layer(3, "c", "C")
	tests := []struct {
		name string
		r    *report.Report
		want string
	}{
		{"pass", newReport(allPass(l1), allPass(l2)), "2 layers, 0 with problems: all checks passed (terraform, 1.5s)"},
		{
			"fail counts layers, not stages",
			newReport(allPass(l1), row(l2, map[stage.Kind]stage.Result{stage.Format: fail(), stage.Lint: fail()}), row(l3, map[stage.Kind]stage.Result{stage.Validate: fail()})),
			"3 layers, 2 with problems: checks failed (terraform, 1.5s)",
		},
		{
			"error",
			&report.Report{Engine: "tofu", Duration: 12340 * time.Millisecond, Layers: []report.LayerResult{row(l1, map[stage.Kind]stage.Result{stage.Format: fail(), stage.Validate: toolError()})}},
			"1 layer, 1 with problems: checks failed and a tool could not run (tofu, 12.3s)",
		},
		{
			"error alone",
			&report.Report{Engine: "tofu", Duration: 12340 * time.Millisecond, Layers: []report.LayerResult{allPass(l1), row(l2, map[stage.Kind]stage.Result{stage.Validate: toolError()})}},
			"2 layers, 1 with problems: a tool could not run (tofu, 12.3s)",
		},
		{"empty", &report.Report{Engine: "terraform"}, "0 layers, 0 with problems: all checks passed (terraform, 0.0s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, report.Summary(tt.r))
		})
	}
}

func TestProgress(t *testing.T) {
	l := layer(2, "platform", "Platform")
	tests := []struct {
		name string
		kind stage.Kind
		res  stage.Result
		want string
	}{
		{"pass", stage.Format, stage.Result{Status: stage.Pass, Duration: 250 * time.Millisecond}, "✓ L2 Platform        format     0.25s"},
		{"pass hides warnings", stage.Lint, stage.Result{Status: stage.Pass, Findings: []stage.Finding{{Message: "w"}}, Duration: time.Second}, "✓ L2 Platform        lint       1.00s"},
		{"fail", stage.Lint, stage.Result{Status: stage.Fail, Findings: make([]stage.Finding, 3), Duration: 1500 * time.Millisecond}, "✗ L2 Platform        lint       1.50s  3 finding(s)"},
		{"error", stage.Validate, stage.Result{Status: stage.Error, Findings: make([]stage.Finding, 1), Duration: 12345 * time.Millisecond}, "! L2 Platform        validate  12.35s  1 finding(s)"},
		{"skip", stage.Validate, stage.Result{Status: stage.Skip}, "- L2 Platform        validate   0.00s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, report.Progress(l, tt.kind, tt.res))
		})
	}
}

func TestMark(t *testing.T) {
	assert.Equal(t, "✅", report.Mark(stage.Pass))
	assert.Equal(t, "❌", report.Mark(stage.Fail))
	assert.Equal(t, "➖", report.Mark(stage.Skip))
	assert.Equal(t, "⚠️", report.Mark(stage.Error))
}

func TestEmptySelectionSaysSo(t *testing.T) {
	r := newReport()
	assert.Equal(t, "_No layer is selected: nothing to check._\n", markdown(t, r, 0))
	assert.Equal(t, "No layer is selected: nothing to check.\n", text(t, r))
	assert.Equal(t, 0, r.ExitCode())
}

func TestTheMatrixShowsEachLayersEnvironment(t *testing.T) {
	shared := &layers.Layer{Dir: "platform", Path: "platform", Title: "Platform", Unnumbered: true}
	staging := &layers.Layer{Dir: "staging-data", Path: "envs/staging/data", Title: "Staging Data", Unnumbered: true, Env: "staging"}
	app := &layers.Layer{Dir: "app", Path: "app", Title: "App", Unnumbered: true, PerEnv: []string{"staging", "prod"}}
	pass := map[stage.Kind]stage.Result{stage.Format: {Status: stage.Pass}, stage.Lint: {Status: stage.Pass}, stage.Validate: {Status: stage.Pass}}
	r := &report.Report{Engine: "terraform", Stages: stage.Kinds, Layers: []report.LayerResult{{Layer: shared, Results: pass}, {Layer: staging, Results: pass}, {Layer: app, Results: pass}}}
	var md, text, js bytes.Buffer
	require.NoError(t, report.Markdown(&md, r, 0))
	assert.Contains(t, md.String(), "| Layer | Environment | Format | Lint | Validate |")
	assert.Contains(t, md.String(), "| **platform** | shared | ✅ | ✅ | ✅ |")
	assert.Contains(t, md.String(), "| **staging-data** | staging | ✅ | ✅ | ✅ |")
	assert.Contains(t, md.String(), "| **app** | staging, prod | ✅ | ✅ | ✅ |")
	require.NoError(t, report.Text(&text, r))
	assert.Contains(t, text.String(), "staging-data  staging        pass")
	require.NoError(t, report.JSON(&js, r))
	assert.Contains(t, js.String(), `"environment": "staging"`)

	r.Layers = r.Layers[:1]
	md.Reset()
	require.NoError(t, report.Markdown(&md, r, 0))
	assert.NotContains(t, md.String(), "Environment", "no column without environments")
}
