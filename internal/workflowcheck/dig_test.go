package workflowcheck_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/dig"
	"github.com/infra-flash/infra/internal/workflowcheck"
)

// dig.yml starts a runner exactly for the comments the CLI answers: its `if:`,
// evaluated as GitHub does, and dig.Decide agree on the command's examples
// and on every author association.
func TestDigWorkflowStartsExactlyWhenTheCLIAnswers(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(workflowsDir, "dig.yml"))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			If string `yaml:"if"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(src, &wf))
	cond := wf.Jobs["dig"].If
	require.NotEmpty(t, cond)

	for body := range dig.CommandExamples {
		for _, assoc := range []string{"OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE", ""} {
			for _, onPR := range []bool{true, false} {
				issue := map[string]any{"number": 7.0}
				if onPR {
					issue["pull_request"] = map[string]any{"url": "https://api.github.com/repos/o/r/pulls/7"}
				}
				event := map[string]any{"action": "created", "issue": issue,
					"comment": map[string]any{"body": body, "author_association": assoc}}
				v, err := workflowcheck.Eval(cond, map[string]any{"github": map[string]any{"event": event}})
				require.NoError(t, err)
				ev := &actions.Event{Name: "issue_comment", Action: "created", Comment: &actions.Comment{Body: body, Association: assoc, Author: "someone"}}
				if onPR {
					ev.PR = 7
				}
				run, reason := dig.Decide(ev)
				assert.Equal(t, run, workflowcheck.Truthy(v), "body %q, %s, on a PR %v: the CLI says %s", body, assoc, onPR, reason)
			}
		}
	}
}

func TestEval(t *testing.T) {
	ctx := map[string]any{"github": map[string]any{"event": map[string]any{"n": 3.0, "s": "Hello", "list": []any{"A", "b"}}}}
	for expr, want := range map[string]any{
		"github.event.s == 'hello'":                  true,
		"github.event.s != 'HELLO'":                  false,
		"startsWith(github.event.s, 'he')":           true,
		"endsWith(github.event.s, 'LO')":             true,
		"contains(github.event.list, 'a')":           true,
		"contains(fromJSON('[\"x\"]'), 'y')":         false,
		"!github.event.missing":                      true,
		"github.event.missing || 'fallback'":         "fallback",
		"github.event.s && github.event.n":           3.0,
		"(github.event.n == 3) && !(false || null)":  true,
		"'it''s' == 'IT''S'":                         true,
		"github.event.n == 4 || github.event.s == 1": false,
	} {
		got, err := workflowcheck.Eval(expr, ctx)
		require.NoError(t, err, expr)
		assert.Equal(t, want, got, expr)
	}
	for _, bad := range []string{"a ==", "f(", "'open", "a b", "toJSON(a)"} {
		_, err := workflowcheck.Eval(bad, ctx)
		assert.Error(t, err, bad)
	}
}

// Eval never panics, whatever the expression, and answers or errs.
func FuzzEval(f *testing.F) {
	for _, seed := range []string{"a == 'b'", "!x && (y || 'z')", "contains(fromJSON('[1]'), 1)", "f(", "'", "((((", "a.b.c != null", ""} {
		f.Add(seed)
	}
	ctx := map[string]any{"a": "b", "x": map[string]any{"y": []any{"z"}}}
	f.Fuzz(func(t *testing.T, expr string) {
		v, err := workflowcheck.Eval(expr, ctx)
		if err != nil {
			assert.Nil(t, v)
		}
	})
}
