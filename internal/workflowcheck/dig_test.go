package workflowcheck_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/infra-flash/infra/internal/actions"
	usecase "github.com/infra-flash/infra/internal/app"
	"github.com/infra-flash/infra/internal/dig"
	"github.com/infra-flash/infra/internal/slash"
	"github.com/infra-flash/infra/internal/workflowcheck"
)

// dig.yml starts a runner exactly for the comments the CLI answers: its `if:`,
// evaluated as GitHub does, and dig.Decide agree on the command's examples
// and on every author association.
func TestDigWorkflowStartsExactlyWhenTheCLIAnswers(t *testing.T) {
	cond := jobIf(t, "dig.yml", "dig")

	for body := range dig.CommandExamples {
		for _, assoc := range []string{"OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE", ""} {
			for _, onPR := range []bool{true, false} {
				v, err := workflowcheck.Eval(cond, map[string]any{"github": map[string]any{"event": commentEvent(body, assoc, onPR)}})
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

// jobIf is a job's `if:` in one of the repository's workflows.
func jobIf(t *testing.T, file, job string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(workflowsDir, file))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			If string `yaml:"if"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(src, &wf))
	cond := wf.Jobs[job].If
	require.NotEmpty(t, cond, "%s job %s", file, job)
	return cond
}

// commentEvent is an issue_comment payload, on a pull request or an issue.
func commentEvent(body, assoc string, onPR bool) map[string]any {
	issue := map[string]any{"number": 7.0}
	if onPR {
		issue["pull_request"] = map[string]any{"url": "https://api.github.com/repos/o/r/pulls/7"}
	}
	return map[string]any{"action": "created", "issue": issue, "comment": map[string]any{"body": body, "author_association": assoc}}
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

// comment.yml starts a runner for every comment internal/slash would run as
// a command (but /dig, dig.yml's) from a trusted author on a pull request,
// and exactly for the comments slash.Wakes names: the same table of cases.
func TestCommentWorkflowWakesForTheCommandsTheCLIRuns(t *testing.T) {
	cond := jobIf(t, "comment.yml", "command")
	policy := usecase.DefaultCommentPolicy()

	for _, ex := range slash.Examples {
		for _, assoc := range []string{"OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE", ""} {
			for _, onPR := range []bool{true, false} {
				v, err := workflowcheck.Eval(cond, map[string]any{"github": map[string]any{"event_name": "issue_comment",
					"event": commentEvent(ex.Body, assoc, onPR)}, "vars": map[string]any{}})
				require.NoError(t, err)
				ev := &actions.Event{Name: "issue_comment", Action: "created", Comment: &actions.Comment{Body: ex.Body, Association: assoc, Author: "someone", AuthorType: "User"}}
				if onPR {
					ev.PR = 7
				}
				cmd, reason, _ := usecase.Decide(ev, policy)
				wakes := workflowcheck.Truthy(v)
				trustedOnPR := onPR && slices.Contains(policy.Trusted, assoc)
				assert.Equal(t, ex.Wakes && trustedOnPR, wakes, "body %q, %s, on a PR %v", ex.Body, assoc, onPR)
				if cmd != nil && cmd.Name != slash.Dig {
					assert.True(t, wakes, "body %q, %s: the CLI runs %s but no runner starts", ex.Body, assoc, cmd)
				}
				if !wakes {
					assert.True(t, cmd == nil || cmd.Name == slash.Dig, "body %q, %s: %s", ex.Body, assoc, reason)
				}
			}
		}
	}

	// A repository that trusts other associations says so in a variable.
	event := map[string]any{"issue": map[string]any{"pull_request": map[string]any{"url": "u"}},
		"comment": map[string]any{"body": "/plan", "author_association": "CONTRIBUTOR"}}
	v, err := workflowcheck.Eval(cond, map[string]any{"github": map[string]any{"event_name": "issue_comment", "event": event},
		"vars": map[string]any{"INFRA_COMMENT_ASSOCIATIONS": `["CONTRIBUTOR"]`}})
	require.NoError(t, err)
	assert.True(t, workflowcheck.Truthy(v))
	closed := map[string]any{"github": map[string]any{"event_name": "pull_request", "event": map[string]any{"action": "closed"}}, "vars": map[string]any{}}
	v, err = workflowcheck.Eval(cond, closed)
	require.NoError(t, err)
	assert.False(t, workflowcheck.Truthy(v), "a closing pull request is the release job's")
	v, err = workflowcheck.Eval(jobIf(t, "comment.yml", "release"), closed)
	require.NoError(t, err)
	assert.True(t, workflowcheck.Truthy(v))
}

// comment.yml's queues: every command that takes or frees a pull request's
// locks and plans (and the release when it closes) shares that pull request's
// one queue, which keeps every waiting run (queue: max) and cancels none;
// /check and /help get a group per comment, so no comment waits behind
// another or replaces it.
func TestCommentWorkflowQueuesLockingCommandsPerPullRequest(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(workflowsDir, "comment.yml"))
	require.NoError(t, err)
	var wf struct {
		Concurrency *yaml.Node `yaml:"concurrency"`
		Jobs        map[string]struct {
			Concurrency struct {
				Group            string `yaml:"group"`
				CancelInProgress string `yaml:"cancel-in-progress"`
				Queue            string `yaml:"queue"`
			} `yaml:"concurrency"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(src, &wf))
	assert.Nil(t, wf.Concurrency, "no workflow-wide group: read-only commands must not queue behind an apply")
	for _, job := range []string{"command", "release"} {
		c := wf.Jobs[job].Concurrency
		assert.Equal(t, "false", c.CancelInProgress, job)
		assert.Equal(t, "max", c.Queue, "%s: a waiting run is queued, never replaced", job)
	}
	group := func(job string, event map[string]any) string {
		ctx := map[string]any{"github": map[string]any{"event": event}}
		out := interpolation.ReplaceAllStringFunc(wf.Jobs[job].Concurrency.Group, func(m string) string {
			v, err := workflowcheck.Eval(interpolation.FindStringSubmatch(m)[1], ctx)
			require.NoError(t, err, m)
			return fmt.Sprint(v)
		})
		return out
	}
	serial := group("release", map[string]any{"action": "closed", "pull_request": map[string]any{"number": 7.0}})
	assert.Equal(t, "comment-7-serial", serial)
	for i, ex := range slash.Examples {
		if !ex.Wakes {
			continue
		}
		ev := commentEvent(ex.Body, "OWNER", true)
		ev["comment"].(map[string]any)["id"] = float64(100 + i)
		got := group("command", ev)
		cmd, _ := slash.Parse(ex.Body)
		switch {
		case cmd != nil && (cmd.Name == slash.Plan || cmd.Name == slash.Apply || cmd.Name == slash.Unlock):
			assert.Equal(t, serial, got, "%q queues with the pull request's other lock commands", ex.Body)
		case cmd != nil:
			assert.Equal(t, fmt.Sprintf("comment-7-%d", 100+i), got, "%q runs in a group of its own", ex.Body)
		}
	}
}

var interpolation = regexp.MustCompile(`(?s)\$\{\{(.*?)\}\}`)

// The list comment.yml hands the module (--workflow-trusted) is exactly the
// set its `if:` admits, with the repository variable unset or set: so the
// module's check that it equals infra.hcl's comments.trusted covers the filter.
func TestCommentWorkflowPassesTheListItsFilterAdmits(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(workflowsDir, "comment.yml"))
	require.NoError(t, err)
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Env  map[string]string `yaml:"env"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	require.NoError(t, yaml.Unmarshal(src, &wf))
	var envExpr string
	for _, st := range wf.Jobs["command"].Steps {
		if strings.Contains(st.With["call"], "comment") {
			assert.Contains(t, st.With["call"], `comment --workflow-trusted "$INFRA_COMMENT_ASSOCIATIONS"`)
			envExpr = interpolation.FindStringSubmatch(st.Env["INFRA_COMMENT_ASSOCIATIONS"])[1]
		}
	}
	require.NotEmpty(t, envExpr)
	cond := jobIf(t, "comment.yml", "command")
	all := []string{"OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"}
	for _, vars := range []map[string]any{{}, {"INFRA_COMMENT_ASSOCIATIONS": `["OWNER"]`}, {"INFRA_COMMENT_ASSOCIATIONS": `["OWNER", "CONTRIBUTOR"]`}} {
		v, err := workflowcheck.Eval(envExpr, map[string]any{"vars": vars})
		require.NoError(t, err)
		passed, err := usecase.WorkflowTrusted(fmt.Sprint(v))
		require.NoError(t, err, v)
		var admitted []string
		for _, assoc := range all {
			ev := commentEvent("/plan", assoc, true)
			ok, err := workflowcheck.Eval(cond, map[string]any{"github": map[string]any{"event_name": "issue_comment", "event": ev}, "vars": vars})
			require.NoError(t, err)
			if workflowcheck.Truthy(ok) {
				admitted = append(admitted, assoc)
			}
		}
		assert.ElementsMatch(t, admitted, passed, "vars %v", vars)
	}
}
