package apply_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/apply"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/forge/githubtest"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/plan"
)

func driftReport(statuses map[string]apply.Status) *apply.Report {
	rep := &apply.Report{Op: apply.OpDrift, Engine: "tofu", Commit: "0123456789abcdef0123456789abcdef01234567"}
	for i, dir := range []string{"1.base", "2.platform", "3.data"} {
		l := &layers.Layer{Dir: dir, Path: "terraform/" + dir, Index: i + 1, Name: dir[2:], Title: strings.ToUpper(dir[2:3]) + dir[3:]}
		r := apply.LayerResult{Layer: l, Status: statuses[dir]}
		if r.Status == apply.Drifted {
			r.Reason = "1 resource(s) changed outside the engine"
			r.Refresh = &plan.Summary{Drift: []plan.Resource{{Address: "local_file.page", Action: "delete"}}}
		}
		rep.Layers = append(rep.Layers, r)
	}
	return rep
}

func TestDriftIssuesOpenUpdateAndCloseOnePerLayer(t *testing.T) {
	const repo, token = "octo/infra", "ghs_drift_token"
	fake := githubtest.New(t)
	fake.Repo(repo)
	fake.Token(token, githubtest.User{Login: "github-actions[bot]", Type: "Bot"})
	client, err := forge.New(context.Background(), repo, forge.Options{APIURL: fake.Start(), Token: token})
	require.NoError(t, err)
	ctx := context.Background()
	const run = "https://github.com/octo/infra/actions/runs/1"

	// Layer 1 drifted, layer 2 is in sync, layer 3 could not be checked.
	rep := driftReport(map[string]apply.Status{"1.base": apply.Drifted, "2.platform": apply.InSync, "3.data": apply.Error})
	actions := apply.DriftIssues(rep, run)
	require.Len(t, actions, 2, "a layer that could not be checked neither opens nor closes its issue")
	lines, err := forge.SyncIssues(ctx, client, actions, run)
	require.NoError(t, err)
	issues := fake.Issues(repo)
	require.Len(t, issues, 1)
	assert.Equal(t, "Drift in L1 Base (1.base)", issues[0].Title)
	assert.Contains(t, issues[0].Body, "local_file.page")
	assert.Contains(t, issues[0].Body, run)
	assert.Contains(t, lines[0], "drift issue of 1.base: created")

	// Still drifted: the same issue, edited only when something changed.
	lines, err = forge.SyncIssues(ctx, client, apply.DriftIssues(rep, run), run)
	require.NoError(t, err)
	assert.Contains(t, lines[0], "unchanged")
	rep.Layers[0].Reason = "the code differs from the live state: 1 to add, 0 to change, 0 to destroy"
	_, err = forge.SyncIssues(ctx, client, apply.DriftIssues(rep, run), run)
	require.NoError(t, err)
	issues = fake.Issues(repo)
	require.Len(t, issues, 1)
	assert.Contains(t, issues[0].Body, "1 to add")

	// In sync again: closed, saying so.
	rep = driftReport(map[string]apply.Status{"1.base": apply.InSync, "2.platform": apply.InSync, "3.data": apply.InSync})
	lines, err = forge.SyncIssues(ctx, client, apply.DriftIssues(rep, run), run)
	require.NoError(t, err)
	assert.Equal(t, []string{"drift issue of 1.base: closed #" + strconv.Itoa(issues[0].Number)}, lines)
	assert.Equal(t, "closed", fake.Issues(repo)[0].State)
	comments := fake.Comments(repo, issues[0].Number)
	require.Len(t, comments, 1)
	assert.Contains(t, comments[0].Body, "in sync again")
}

func TestDriftIssueBodyFitsAnIssue(t *testing.T) {
	rep := driftReport(map[string]apply.Status{"1.base": apply.Drifted})
	var many []plan.Resource
	for i := 0; i < 5000; i++ {
		many = append(many, plan.Resource{Address: "null_resource.r[" + strconv.Itoa(i) + "]" + strings.Repeat("x", 40), Action: "delete"})
	}
	rep.Layers[0].Refresh.Drift = many
	actions := apply.DriftIssues(rep, "")
	require.Len(t, actions, 1)
	assert.Less(t, len(actions[0].Body), 65536)
	assert.Contains(t, actions[0].Body, "more")
}
