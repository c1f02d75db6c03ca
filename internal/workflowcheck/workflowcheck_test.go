package workflowcheck_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/workflowcheck"
)

const (
	checkout = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
	dagger   = "dagger/dagger-for-github@27b130bf0f79a7f6fbbbe0fbca6760dc9bb40a77 # v8.4.1"
)

// clean is a workflow that keeps every rule; each case below breaks one.
const clean = `name: ok
on:
  issue_comment:
    types: [created]
permissions: {}
concurrency:
  group: deploy
  cancel-in-progress: false
jobs:
  gate:
    if: contains(fromJSON('["OWNER", "MEMBER", "COLLABORATOR"]'), github.event.comment.author_association)
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: ` + checkout + `
        with:
          persist-credentials: false
      - uses: ` + dagger + `
        env:
          PR: ${{ github.event.issue.number }}
          TOKEN: ${{ secrets.T }}
        with:
          version: v0.21.8
          cloud-token: ${{ secrets.DAGGER_CLOUD_TOKEN }}
          call: >-
            apply --layer all --pr "$PR" --token env://TOKEN
            --backend-config env:BACKEND
      - run: echo "$PR"
        env:
          PR: ${{ github.event.issue.number }}
  after:
    needs: gate
    runs-on: ubuntu-latest
    permissions:
      pull-requests: write
    steps:
      - uses: some/action@0123456789abcdef0123456789abcdef01234567 # v2
        with:
          prompt: "Review #${{ github.event.issue.number }}"
          token: ${{ secrets.X }}
`

func check(src string) []workflowcheck.Finding {
	return workflowcheck.Check("w.yml", []byte(src), workflowcheck.Options{EngineVersion: "v0.21.8"})
}

func rules(fs []workflowcheck.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

func TestCleanWorkflowHasNoFindings(t *testing.T) {
	assert.Empty(t, check(clean))
}

func TestEachRuleIsCaught(t *testing.T) {
	cases := []struct {
		name, old, new, rule, says string
	}{
		{"comment body in run", `echo "$PR"`, `echo "${{ github.event.comment.body }}"`, workflowcheck.RuleScriptExpression, "github.event.comment.body"},
		{"any expression in run", `echo "$PR"`, `echo ${{ runner.os }}`, workflowcheck.RuleScriptExpression, "runner.os"},
		{"comment body in dagger call", `--layer all --pr "$PR"`, `--layer all --pr ${{ github.event.comment.body }}`, workflowcheck.RuleInputExpression, "pastes it into a shell script"},
		{"secret in dagger call", `--token env://TOKEN`, `--token ${{ secrets.T }}`, workflowcheck.RuleInputExpression, "secrets.T"},
		{"plain secret value", `--token env://TOKEN`, `--token "$TOKEN"`, workflowcheck.RuleDaggerSecret, "env://NAME"},
		{"backend config as a path", `--backend-config env:BACKEND`, `--backend-config backend.hcl`, workflowcheck.RuleDaggerSecret, "--backend-config"},
		{"event text in another action", `Review #${{ github.event.issue.number }}`, `Review ${{ github.event.comment.body }}`, workflowcheck.RuleInputExpression, "github.event.comment.body"},
		{"step output in another action", `Review #${{ github.event.issue.number }}`, `Review ${{ steps.x.outputs.text }}`, workflowcheck.RuleInputExpression, "steps.x.outputs"},
		{"head ref in another action", `Review #${{ github.event.issue.number }}`, `Review ${{ github.head_ref }}`, workflowcheck.RuleInputExpression, "github.head_ref"},
		{"dagger version", "version: v0.21.8", "version: v0.21.7", workflowcheck.RuleDaggerVersion, "v0.21.7"},
		{"dagger version missing", "          version: v0.21.8\n", "", workflowcheck.RuleDaggerVersion, "without version"},
		{"engine image version", "TOKEN: ${{ secrets.T }}", "TOKEN: ${{ secrets.T }}\n          HOST: docker-image://registry.dagger.io/engine:v0.20.0", workflowcheck.RuleDaggerVersion, "engine:v0.20.0"},
		{"tag pin", dagger, "dagger/dagger-for-github@v8.4.1", workflowcheck.RulePinned, "full commit SHA"},
		{"branch pin", checkout, "actions/checkout@main", workflowcheck.RulePinned, "full commit SHA"},
		{"sha without version note", "0123456789abcdef0123456789abcdef01234567 # v2", "0123456789abcdef0123456789abcdef01234567", workflowcheck.RulePinned, "comment"},
		{"checkout keeps credentials", "persist-credentials: false", "fetch-depth: 0", workflowcheck.RuleCheckoutCredsLeft, "persist-credentials"},
		{"no top-level permissions", "permissions: {}\n", "", workflowcheck.RulePermissions, "no top-level permissions"},
		{"write at the top", "permissions: {}\n", "permissions:\n  contents: write\n", workflowcheck.RulePermissions, "grant write"},
		{"write-all", "permissions:\n      pull-requests: write", "permissions: write-all", workflowcheck.RulePermissions, "write-all"},
		{"comment job without author check", "if: contains(fromJSON('[\"OWNER\", \"MEMBER\", \"COLLABORATOR\"]'), github.event.comment.author_association)", "if: github.event.issue.pull_request", workflowcheck.RuleCommentAuthor, "author_association"},
		{"untrusted association", `"COLLABORATOR"]`, `"COLLABORATOR", 'CONTRIBUTOR']`, workflowcheck.RuleCommentAuthor, "CONTRIBUTOR"},
		{"negated association", "if: contains(fromJSON('[\"OWNER\", \"MEMBER\", \"COLLABORATOR\"]'), github.event.comment.author_association)", "if: github.event.comment.author_association != 'NONE' || 'OWNER'", workflowcheck.RuleCommentAuthor, "!="},
		{"pull_request_target", "  issue_comment:\n    types: [created]", "  pull_request_target:", workflowcheck.RuleTrigger, "pull_request_target"},
		{"apply may be cancelled", "cancel-in-progress: false", "cancel-in-progress: true", workflowcheck.RuleApplyCancel, "cancel-in-progress must be false"},
		{"apply group varies", "group: deploy", "group: deploy-${{ github.sha }}", workflowcheck.RuleApplyCancel, "one fixed name"},
		{"apply without concurrency", "concurrency:\n  group: deploy\n  cancel-in-progress: false\n", "", workflowcheck.RuleApplyCancel, "concurrency group"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, clean, tc.old)
			fs := check(strings.Replace(clean, tc.old, tc.new, 1))
			require.Contains(t, rules(fs), tc.rule, "%v", fs)
			var msgs []string
			for _, f := range fs {
				if f.Rule == tc.rule {
					msgs = append(msgs, f.String())
					assert.Positive(t, f.Line)
				}
			}
			assert.Contains(t, strings.Join(msgs, "\n"), tc.says)
		})
	}
}

func TestFindingsAreLocated(t *testing.T) {
	src := strings.Replace(clean, `echo "$PR"`, `echo "${{ github.event.comment.body }}"`, 1)
	fs := check(src)
	require.Len(t, fs, 1)
	lines := strings.Split(src, "\n")
	assert.Contains(t, lines[fs[0].Line-1], "run:")
	assert.Equal(t, "w.yml", fs[0].File)
}

func TestNotAWorkflow(t *testing.T) {
	for _, src := range []string{"", "- a list", "key: [unclosed", "\t- tab"} {
		fs := check(src)
		require.NotEmpty(t, fs, "%q", src)
		assert.Equal(t, workflowcheck.RuleParse, fs[0].Rule)
	}
}

func TestParseCall(t *testing.T) {
	c, err := workflowcheck.ParseCall(`--source . flash --layer changed --base "origin/$GITHUB_BASE_REF" --dry-run --token=env://T --run-url "a b" -- -target=x 'y z'`)
	require.NoError(t, err)
	assert.Equal(t, "flash", c.Function)
	assert.Equal(t, []workflowcheck.Flag{{Name: "--source", Value: "."}}, c.Global)
	assert.Equal(t, []workflowcheck.Flag{
		{Name: "--layer", Value: "changed"}, {Name: "--base", Value: "origin/$GITHUB_BASE_REF"},
		{Name: "--dry-run"}, {Name: "--token", Value: "env://T"}, {Name: "--run-url", Value: "a b"},
	}, c.Flags)
	assert.Equal(t, []string{"-target=x", "y z"}, c.Rest)

	chained, err := workflowcheck.ParseCallFor(`github --dry-run --token env://T flash --layer changed`, func(f string) bool { return f == "--dry-run" })
	require.NoError(t, err)
	assert.Equal(t, []workflowcheck.Step{
		{Function: "github", Flags: []workflowcheck.Flag{{Name: "--dry-run"}, {Name: "--token", Value: "env://T"}}},
		{Function: "flash", Flags: []workflowcheck.Flag{{Name: "--layer", Value: "changed"}}},
	}, chained.Chain)
	assert.Equal(t, "flash", chained.Function)

	for _, bad := range []string{"", "--only-flags", `flash --x "open`, "-- x"} {
		_, err := workflowcheck.ParseCall(bad)
		assert.Error(t, err, bad)
	}
}

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{
		"KickAtlantis": "kick-atlantis", "runURL": "run-url", "appID": "app-id", "eventName": "event-name",
		"layer": "layer", "TFVars": "tf-vars", "dryRun": "dry-run", "AtlantisConfig": "atlantis-config",
	} {
		assert.Equal(t, want, workflowcheck.Kebab(in), in)
	}
}

func FuzzCheck(f *testing.F) {
	f.Add(clean)
	f.Add("on: push\njobs:\n  a:\n    steps:\n      - run: x\n")
	f.Fuzz(func(t *testing.T, src string) {
		for _, fd := range workflowcheck.Check("f.yml", []byte(src), workflowcheck.Options{EngineVersion: "v1"}) {
			if fd.Line < 0 || fd.Rule == "" || fd.Message == "" {
				t.Fatalf("malformed finding %+v", fd)
			}
		}
	})
}

func FuzzParseCall(f *testing.F) {
	f.Add(`flash --layer changed --base "origin/$X" -- -y`)
	f.Add(`a 'b' "c\"d" e\ f`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := workflowcheck.ParseCall(s)
		if err == nil && c.Function == "" {
			t.Fatalf("no function and no error for %q", s)
		}
	})
}

// A job that runs only on another event (a pull request closing) of a
// workflow also triggered by comments needs no author guard; one whose
// condition could still admit a comment does.
func TestJobOnAnotherEventNeedsNoAuthorGuard(t *testing.T) {
	wf := strings.Replace(clean, "    types: [created]\n", "    types: [created]\n  pull_request:\n    types: [closed]\n", 1)
	other := strings.Replace(wf, "  after:\n    needs: gate\n", "  after:\n    if: github.event_name == 'pull_request'\n", 1)
	assert.Empty(t, check(other))
	for _, cond := range []string{"github.event_name == 'issue_comment'", "github.event_name == 'pull_request' || always()", "always()"} {
		loose := strings.Replace(wf, "  after:\n    needs: gate\n", "  after:\n    if: "+cond+"\n", 1)
		assert.Contains(t, rules(check(loose)), workflowcheck.RuleCommentAuthor, cond)
	}
}
