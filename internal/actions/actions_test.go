package actions_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/forge/githubtest"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

func payload(t *testing.T, m map[string]any) []byte {
	t.Helper()
	data, err := json.Marshal(m)
	require.NoError(t, err)
	return data
}

// Every real example of the events the PR loop reads parses, with the facts the
// examples carry.
func TestParseRealPayloads(t *testing.T) {
	for _, name := range []string{"pull_request", "issue_comment", "push", "pull_request_review", "pull_request_review_comment"} {
		for i, raw := range githubtest.Webhooks(t, name) {
			ev, err := actions.ParseEvent(name, raw)
			require.NoError(t, err, "%s example %d", name, i)
			assert.Equal(t, "Codertocat/Hello-World", ev.Repo, "%s example %d", name, i)
			assert.NotEmpty(t, ev.Sender)
			switch name {
			case "pull_request", "pull_request_review", "pull_request_review_comment":
				assert.Equal(t, 2, ev.PR)
				assert.Equal(t, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", ev.HeadSHA)
				assert.Equal(t, "changes", ev.HeadRef)
				assert.Equal(t, "master", ev.BaseRef)
			case "issue_comment":
				assert.Zero(t, ev.PR, "the examples comment on an issue, not a PR")
				require.NotNil(t, ev.Comment)
				assert.Equal(t, "Codertocat", ev.Comment.Author)
				assert.Equal(t, "OWNER", ev.Comment.Association)
				assert.Equal(t, "User", ev.Comment.AuthorType)
			}
		}
	}
	ev, err := actions.ParseEvent("pull_request_review_comment", githubtest.Webhooks(t, "pull_request_review_comment")[0])
	require.NoError(t, err)
	assert.Equal(t, "Maybe you should use more emoji on this line.", ev.Comment.Body)

	push, err := actions.ParseEvent("push", payload(t, githubtest.Webhook(t, "push", "")))
	require.NoError(t, err)
	require.NotNil(t, push.Commit)
	assert.Equal(t, "6113728f27ae82c7b1a177c8d03f9e96e0adf246", push.HeadSHA)
	assert.Equal(t, time.Date(2019, 5, 15, 15, 20, 41, 0, time.UTC), push.Commit.Time.UTC())

	// A comment on a PR: the issue carries a pull_request link.
	onPR := githubtest.Webhook(t, "issue_comment", "created")
	onPR["issue"].(map[string]any)["pull_request"] = map[string]any{"url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"}
	ev, err = actions.ParseEvent("issue_comment", payload(t, onPR))
	require.NoError(t, err)
	assert.Equal(t, 1, ev.PR)
}

func TestParseRejectsWhatNoRealPayloadCarries(t *testing.T) {
	pr := func(edit func(m map[string]any)) []byte {
		m := githubtest.Webhook(t, "pull_request", "opened")
		edit(m)
		return payload(t, m)
	}
	for name, c := range map[string]struct {
		event string
		data  []byte
		want  string
	}{
		"not JSON":         {"pull_request", []byte("<html>"), "not a JSON object"},
		"array":            {"push", []byte("[1]"), "the push event is not a JSON object: the payload is an array where an object is expected"},
		"repository array": {"issue_comment", []byte(`{"repository":[]}`), `field "repository" is an array where an object is expected`},
		"bad event name":   {"pull request; rm", []byte("{}"), "not a GitHub event name"},
		"wrong field type": {"pull_request", []byte(`{"pull_request":{"number":"seven"}}`), `reading the pull_request event: field "pull_request.number" is a string where a number is expected`},
		"bad sha": {"pull_request", pr(func(m map[string]any) {
			m["pull_request"].(map[string]any)["head"].(map[string]any)["sha"] = "$(id)"
		}), "not a full SHA"},
		"bad repo": {"pull_request", pr(func(m map[string]any) {
			m["repository"].(map[string]any)["full_name"] = "a/b/../c"
		}), "not OWNER/NAME"},
		"bad branch": {"pull_request", pr(func(m map[string]any) {
			m["pull_request"].(map[string]any)["head"].(map[string]any)["ref"] = "x\n::set-output name=run::true"
		}), "not a valid ref"},
		"too big": {"push", append([]byte(`{"x":"`), append(bytes.Repeat([]byte("a"), actions.MaxEventSize), '"', '}')...), "larger than"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := actions.ParseEvent(c.event, c.data)
			var ee *actions.EventError
			require.ErrorAs(t, err, &ee)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "Go ", "in JSON's words, not Go's")
		})
	}
	_, err := actions.ReadEvent("push", filepath.Join(t.TempDir(), "missing.json"))
	var ee *actions.EventError
	assert.ErrorAs(t, err, &ee)
}

func TestUnknownEventsParseToTheirCommonFields(t *testing.T) {
	ev, err := actions.ParseEvent("workflow_dispatch", githubtest.Webhooks(t, "workflow_dispatch")[0])
	require.NoError(t, err)
	assert.Equal(t, "workflow_dispatch", ev.Name)
	assert.Zero(t, ev.PR)
	assert.Nil(t, ev.Comment)
}

// env is a runner's environment with the files it hands a step.
func env(t *testing.T) (map[string]string, func(string) string) {
	dir := t.TempDir()
	vars := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_REPOSITORY":   "octo/infra",
		"GITHUB_EVENT_NAME":   "pull_request",
		"GITHUB_EVENT_PATH":   filepath.Join(dir, "event.json"),
		"GITHUB_SHA":          strings.Repeat("c", 40),
		"GITHUB_SERVER_URL":   "https://github.example.com",
		"GITHUB_API_URL":      "https://github.example.com/api/v3",
		"GITHUB_RUN_ID":       "123456",
		"GITHUB_RUN_ATTEMPT":  "2",
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
	}
	return vars, func(k string) string { return vars[k] }
}

func TestEnvAndRunURL(t *testing.T) {
	vars, getenv := env(t)
	rt := actions.New(getenv, &bytes.Buffer{})
	assert.True(t, rt.Active())
	e := rt.Env()
	assert.Equal(t, "octo/infra", e.Repository)
	assert.Equal(t, "pull_request", e.EventName)
	assert.Equal(t, vars["GITHUB_EVENT_PATH"], e.EventPath)
	assert.Equal(t, "https://github.example.com/api/v3", e.APIURL)
	assert.Equal(t, "https://github.example.com/octo/infra/actions/runs/123456/attempts/2", e.RunURL())

	outside := actions.New(func(string) string { return "" }, &bytes.Buffer{})
	assert.False(t, outside.Active())
	assert.Empty(t, outside.Env().RunURL())
	assert.Empty(t, outside.Env().APIURL, "github.com's URL is not assumed: the caller decides")
}

// readOutputs parses the GITHUB_OUTPUT file as the runner does: name=value lines
// and name<<DELIMITER heredocs.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" {
			continue
		}
		if name, delim, ok := strings.Cut(l, "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, _ := strings.Cut(l, "=")
		out[name] = val
	}
	return out
}

func TestOutputsCannotBeInjected(t *testing.T) {
	vars, getenv := env(t)
	rt := actions.New(getenv, &bytes.Buffer{})
	evil := "false\n_GitHubActionsFileCommandDelimeter_\nrun<<_GitHubActionsFileCommandDelimeter_\ntrue\r\nreason=x"
	ok, err := rt.Output("reason", evil)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = rt.Output("run", "false")
	require.NoError(t, err)
	require.True(t, ok)
	_, err = rt.Output("bad\nname", "x")
	require.Error(t, err)

	out := readOutputs(t, vars["GITHUB_OUTPUT"])
	assert.Equal(t, map[string]string{"reason": "false  run<< true  reason=x", "run": "false"}, out)

	// Outside Actions nothing is written.
	ok, err = actions.New(func(string) string { return "" }, &bytes.Buffer{}).Output("run", "true")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestSummaryIsAppendedAndKeptUnder1MiB(t *testing.T) {
	vars, getenv := env(t)
	rt := actions.New(getenv, &bytes.Buffer{})
	ok, err := rt.Summary("## first\n")
	require.NoError(t, err)
	require.True(t, ok)
	_, err = rt.Summary(strings.Repeat("| é row |\n", 200000)) // 2.2 MB
	require.NoError(t, err)
	data, err := os.ReadFile(vars["GITHUB_STEP_SUMMARY"])
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(data), "## first\n"))
	assert.Less(t, len(data), actions.SummaryLimit)
	assert.Contains(t, string(data), "Cut: GitHub keeps at most 1 MiB")
	assert.True(t, utf8Valid(data))
	_, err = rt.Summary("more")
	assert.Error(t, err, "a full summary is reported, not overrun")
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

var command = regexp.MustCompile(`^::(error|warning|notice)(?: ([^:]*))?::(.*)$`)

func rep(n int, severity string) *report.Report {
	l := &layers.Layer{Dir: "2.platform", Path: "terraform/2.platform", Index: 2, Name: "platform", Title: "Platform"}
	var fs []stage.Finding
	for i := 0; i < n; i++ {
		fs = append(fs, stage.Finding{File: "terraform/2.platform/main.tf", Line: i + 1, Severity: severity, Rule: "terraform_naming",
			Message: fmt.Sprintf("finding %d: 100%% wrong,\nsee ::stop-commands::", i)})
	}
	return &report.Report{Layers: []report.LayerResult{{Layer: l, Results: map[stage.Kind]stage.Result{
		stage.Format: {Status: stage.Pass}, stage.Lint: {Status: stage.Fail, Findings: fs}, stage.Validate: {Status: stage.Pass}}}}}
}

func TestAnnotationsOnePerFindingWithinGitHubsLimits(t *testing.T) {
	var out bytes.Buffer
	_, getenv := env(t)
	rt := actions.New(getenv, &out)
	all := append(actions.Annotations(rep(14, "error")), actions.Annotations(rep(3, "warning"))...)
	omitted, err := rt.Annotate(all)
	require.NoError(t, err)
	assert.Equal(t, 4, omitted)

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	count := map[string]int{}
	for _, l := range lines {
		m := command.FindStringSubmatch(l)
		require.NotNil(t, m, "not a workflow command: %q", l)
		count[m[1]]++
	}
	assert.Equal(t, map[string]int{"error": 10, "warning": 3, "notice": 1}, count)
	assert.Equal(t, "::error file=terraform/2.platform/main.tf,line=1,title=L2 Platform · lint · terraform_naming::finding 0: 100%25 wrong,%0Asee ::stop-commands::", lines[0])
	assert.Equal(t, "::notice title=infra-flash::4 more findings are not annotated (GitHub shows 10 per kind per step); the job summary lists them all.", lines[len(lines)-1])

	// The same lines for an output a runner prints (Dagger).
	cmds, n := actions.Commands(all)
	assert.Equal(t, 4, n)
	assert.Equal(t, out.String(), cmds)
}

func TestPlanKeepsANoticeSlotForTheNote(t *testing.T) {
	notices := actions.Annotations(rep(12, "notice"))
	shown, omitted := actions.Plan(notices)
	assert.Len(t, shown, 9)
	assert.Equal(t, 3, omitted)
	shown, omitted = actions.Plan(notices[:10])
	assert.Len(t, shown, 10)
	assert.Zero(t, omitted)
}
