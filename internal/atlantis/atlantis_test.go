package atlantis_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/atlantis"
)

// Comments in the shapes Atlantis's markdown renderer produces (single project,
// several projects, errors, failures), with terraform's own output inside.
const (
	planOne = "Ran Plan for dir: `terraform/2.platform` workspace: `default`\n\n" +
		"<details><summary>Show Output</summary>\n\n```diff\n+ resource \"helm_release\" \"vault\" {\n```\n\n" +
		"* :arrow_forward: To **apply** this plan, comment:\n    * `atlantis apply -d terraform/2.platform`\n" +
		"* :repeat: To **plan** this project again, comment:\n    * `atlantis plan -d terraform/2.platform`\n</details>\n" +
		"Plan: 1 to add, 0 to change, 0 to destroy.\n\n---\n* :fast_forward: To **apply** all unapplied plans from this pull request, comment:\n    * `atlantis apply`\n"

	planNamed = "Ran Plan for project: `data` dir: `./terraform/3.data/` workspace: `prod`\n\n" +
		"```diff\n\nNo changes. Your infrastructure matches the configuration.\n```\n\n" +
		"* :arrow_forward: To **apply** this plan, comment:\n  ```shell\n  atlantis apply -p data\n  ```\n"

	planMany = "Ran Plan for 3 projects:\n\n" +
		"1. dir: `terraform/1.bootstrap` workspace: `default`\n" +
		"1. dir: `terraform/2.platform` workspace: `default`\n" +
		"1. dir: `terraform/4.insight` workspace: `default`\n\n" +
		"### 1. dir: `terraform/1.bootstrap` workspace: `default`\n" +
		"<details><summary>Show Output</summary>\n\n```diff\n~ update\n```\n</details>\nPlan: 0 to add, 1 to change, 0 to destroy.\n\n---\n" +
		"### 2. dir: `terraform/2.platform` workspace: `default`\n" +
		"**Plan Error**\n<details><summary>Show Output</summary>\n\n```\nrunning \"terraform plan\": exit status 1\nError: Unsupported argument\n```\n</details>\n\n---\n" +
		"### 3. dir: `terraform/4.insight` workspace: `default`\n" +
		"**Plan Failed**: This project is currently locked by an unapplied plan from pull #12. To continue, delete the lock from #12 or apply that plan and merge the pull request.\n\n---\n"

	applyOne = "Ran Apply for dir: `terraform/1.bootstrap` workspace: `default`\n\n" +
		"<details><summary>Show Output</summary>\n\n```diff\nhelm_release.x: Modifying...\n\nApply complete! Resources: 0 added, 1 changed, 0 destroyed.\n```\n</details>\n"

	applyError = "Ran Apply for dir: `terraform/2.platform` workspace: `default`\n\n" +
		"**Apply Error**\n<details><summary>Show Output</summary>\n\n```\nError: timeout while waiting for state\n```\n</details>\n"

	applyRefused = "**Apply Failed**: Pull request must be approved according to the project's approval rules before running apply."

	policy = "Ran Policy Check for dir: `terraform/2.platform` workspace: `default`\n\n```diff\n1 test, 1 passed\n```\n"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		command string
		want    []atlantis.Project
		failure string
		success bool
	}{
		{"one project planned", planOne, "plan", []atlantis.Project{{
			Dir: "terraform/2.platform", Workspace: "default", Outcome: atlantis.Success,
			Summary: "Plan: 1 to add, 0 to change, 0 to destroy.",
		}}, "", true},
		{"named project, no changes", planNamed, "plan", []atlantis.Project{{
			Name: "data", Dir: "terraform/3.data", Workspace: "prod", Outcome: atlantis.Success,
			Summary: "No changes. Your infrastructure matches the configuration.",
		}}, "", true},
		{"three projects, one error, one refused", planMany, "plan", []atlantis.Project{
			{Dir: "terraform/1.bootstrap", Workspace: "default", Outcome: atlantis.Success, Summary: "Plan: 0 to add, 1 to change, 0 to destroy."},
			{Dir: "terraform/2.platform", Workspace: "default", Outcome: atlantis.Errored, Summary: `running "terraform plan": exit status 1`},
			{Dir: "terraform/4.insight", Workspace: "default", Outcome: atlantis.Failed, Summary: "This project is currently locked by an unapplied plan from pull #12. To continue, delete the lock from #12 or apply that plan and merge the pull request."},
		}, "", false},
		{"applied", applyOne, "apply", []atlantis.Project{{
			Dir: "terraform/1.bootstrap", Workspace: "default", Outcome: atlantis.Success,
			Summary: "Apply complete! Resources: 0 added, 1 changed, 0 destroyed.",
		}}, "", true},
		{"apply error", applyError, "apply", []atlantis.Project{{
			Dir: "terraform/2.platform", Workspace: "default", Outcome: atlantis.Errored,
			Summary: "Error: timeout while waiting for state",
		}}, "", false},
		{"apply refused for the whole PR", applyRefused, "apply", nil,
			"Pull request must be approved according to the project's approval rules before running apply.", false},
		{"windows line ends", strings.ReplaceAll(planOne, "\n", "\r\n"), "plan", []atlantis.Project{{
			Dir: "terraform/2.platform", Workspace: "default", Outcome: atlantis.Success,
			Summary: "Plan: 1 to add, 0 to change, 0 to destroy.",
		}}, "", true},
		{"no projects", "Ran Plan for 0 projects:\n\n\n", "plan", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, ok := atlantis.Parse(tt.body)
			require.True(t, ok)
			assert.Equal(t, tt.command, res.Command)
			assert.Equal(t, tt.want, res.Projects)
			assert.Equal(t, tt.failure, res.Failure)
			assert.Equal(t, tt.success, res.Succeeded())
		})
	}
}

func TestParseIgnoresOtherComments(t *testing.T) {
	for _, body := range []string{
		"",
		"LGTM",
		"atlantis plan -d terraform/2.platform",
		"Please look: Ran Plan for dir: `x` workspace: `default`", // not the first line's start
		"> Ran Plan for dir: `x` workspace: `default`",            // a quote of one
		"Ran Plan for 2 projects:\n\nno sections follow",
		"<!-- infra-flash:comment -->\n## ⚡ infra-flash | `main`\nRan Plan for dir: `x` workspace: `default`",
		strings.Repeat("x", 1<<19),
	} {
		_, ok := atlantis.Parse(body)
		assert.False(t, ok, "%.80q", body)
	}
}

func TestLatestKeepsTheNewestOutcomePerDirectory(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	comments := []atlantis.Comment{ // deliberately out of order: Latest sorts by time
		{Body: planOne, Created: at(5), URL: "u5"},
		{Body: planMany, Created: at(1), URL: "u1"},
		{Body: "LGTM", Created: at(6)},
		{Body: applyOne, Created: at(3), URL: "u3"},
		{Body: policy, Created: at(7)},
	}
	st := atlantis.Latest(comments)
	require.Len(t, st.Plan, 3)
	assert.Equal(t, atlantis.Run{Outcome: atlantis.Success, Summary: "Plan: 1 to add, 0 to change, 0 to destroy.", At: at(5), URL: "u5"},
		st.Plan["terraform/2.platform"], "the later success replaces the earlier error")
	assert.Equal(t, atlantis.Failed, st.Plan["terraform/4.insight"].Outcome)
	assert.Equal(t, at(1), st.Plan["terraform/1.bootstrap"].At)
	assert.Equal(t, map[string]atlantis.Run{"terraform/1.bootstrap": {Outcome: atlantis.Success,
		Summary: "Apply complete! Resources: 0 added, 1 changed, 0 destroyed.", At: at(3), URL: "u3"}}, st.Apply)
	assert.Nil(t, st.LastFailure)

	st = atlantis.Latest(append(comments, atlantis.Comment{Body: applyRefused, Created: at(9), URL: "u9"}))
	require.NotNil(t, st.LastFailure)
	assert.Equal(t, "apply", st.LastFailure.Command)
	assert.Equal(t, "u9", st.LastFailure.URL)

	st = atlantis.Latest(append(comments,
		atlantis.Comment{Body: applyRefused, Created: at(9)},
		atlantis.Comment{Body: applyError, Created: at(10)}))
	assert.Nil(t, st.LastFailure, "a later project result supersedes a command-level failure")
	assert.Equal(t, atlantis.Errored, st.Apply["terraform/2.platform"].Outcome)
}

func TestPlanCommand(t *testing.T) {
	for dir, want := range map[string]string{
		"terraform/2.platform":  "atlantis plan -d terraform/2.platform",
		"./terraform/3.data/":   "atlantis plan -d terraform/3.data",
		".":                     "atlantis plan -d .",
		"layers/1.net_core-x.y": "atlantis plan -d layers/1.net_core-x.y",
	} {
		got, err := atlantis.PlanCommand(dir)
		require.NoError(t, err, dir)
		assert.Equal(t, want, got)
	}
	for _, dir := range []string{"a b", "x;rm -rf /", "../outside", "a/../../b", "-d", "x\natlantis apply", "`x`", "$(id)"} {
		_, err := atlantis.PlanCommand(dir)
		assert.Error(t, err, dir)
	}
}

func TestHintsNameTheDirectories(t *testing.T) {
	h := atlantis.Hints([]string{"terraform/2.platform", "bad dir"})
	var cmds []string
	for _, x := range h {
		cmds = append(cmds, x.Command)
		assert.NotEmpty(t, x.What)
	}
	assert.Contains(t, cmds, "atlantis plan -d terraform/2.platform")
	assert.Contains(t, cmds, "atlantis apply -d terraform/2.platform")
	assert.Contains(t, cmds, "atlantis unlock")
	for _, c := range cmds {
		assert.NotContains(t, c, "bad dir")
	}

	many := atlantis.Hints([]string{"a", "b", "c", "d", "e", "f", "g"})
	assert.Len(t, many, 6, "past six directories the commands are shown once, generically")
	assert.Equal(t, "atlantis plan -d <dir>", many[1].Command)
}
