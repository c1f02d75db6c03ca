package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge/giteatest"
	"github.com/infra-flash/infra/internal/forge/githubtest"
	"github.com/infra-flash/infra/internal/testfixture"
)

// commentRepo is GitHub (the fake) with two open pull requests on a
// repository whose layers keep their state on a real S3 server, and a way to
// run `infra comment` on a comment event.
type commentRepo struct {
	fake   *githubtest.GitHub
	api    string
	src    string
	plans  string
	s3     *testfixture.S3
	common []string
}

const otherPR = 8

var otherHead = strings.Repeat("8", 40)

// reviewer is a member whose approvals count.
var reviewer = githubtest.User{Login: "reviewer", Association: "MEMBER"}

func newCommentRepo(t *testing.T, inBucket bool) *commentRepo {
	t.Helper()
	// The test data first: the tool setup moves INFRA_CACHE_DIR.
	t.Setenv("INFRA_TESTDATA_DIR", githubtest.Dir())
	src, backend, vars, s3 := stateRepo(t)
	return commentRepoAt(t, src, backend, vars, s3, inBucket)
}

// commentRepoAt is the GitHub fake with two pull requests on a repository whose
// state is on s3.
func commentRepoAt(t *testing.T, src, backend, vars string, s3 *testfixture.S3, inBucket bool) *commentRepo {
	t.Helper()
	fake := githubtest.New(t)
	fake.Repo(ghRepo)
	fake.PR(ghRepo, ghPR, headSHA, "feature/vault")
	fake.PR(ghRepo, otherPR, otherHead, "feature/other")
	fake.Token(ghToken, githubtest.User{Login: "github-actions[bot]", Type: "Bot"})
	for _, k := range []string{"GITHUB_ACTIONS", "GITHUB_EVENT_PATH", "GITHUB_EVENT_NAME", "GITHUB_SHA"} {
		t.Setenv(k, "")
	}
	t.Setenv("GITHUB_TOKEN", ghToken)
	c := &commentRepo{fake: fake, api: fake.Start(), src: src, plans: t.TempDir(), s3: s3}
	c.common = []string{"--source", src, "--backend-config", backend, "--var-file", vars,
		"--repo", ghRepo, "--api-url", c.api, "--event-name", "issue_comment"}
	if !inBucket {
		c.common = append(c.common, "--plans-dir", c.plans)
	}
	return c
}

// say runs `infra comment` on a new comment by login (with association) on pr.
func (c *commentRepo) say(t *testing.T, pr int, login, association, body string, extra ...string) result {
	t.Helper()
	ev := githubtest.Webhook(t, "issue_comment", "created")
	ev["repository"].(map[string]any)["full_name"] = ghRepo
	issue := ev["issue"].(map[string]any)
	issue["number"] = pr
	issue["pull_request"] = map[string]any{"url": "https://api.github.com/repos/" + ghRepo + "/pulls/" + string(rune('0'+pr))}
	cm := ev["comment"].(map[string]any)
	cm["body"], cm["author_association"] = body, association
	cm["user"].(map[string]any)["login"] = login
	cm["user"].(map[string]any)["type"] = "User"
	data, err := json.Marshal(ev)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "event.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return run(t, append(append([]string{"comment", "--event", path}, c.common...), extra...)...)
}

func (c *commentRepo) comments(pr int) []githubtest.Comment { return c.fake.Comments(ghRepo, pr) }

func (c *commentRepo) writes() []string {
	var out []string
	for _, r := range c.fake.Requests() {
		if r.Method != "GET" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	c.fake.Reset()
	return out
}

// The comment loop through GitHub: /plan answers in one comment edited with
// the plan and locks the layer; another PR is refused naming the holder; an
// outsider is refused without a word; /apply waits for approval and green
// checks, applies exactly the plan and frees the layer; a push makes the plan
// stale; /unlock frees the layer.
func TestCommentCommandsThroughGitHub(t *testing.T) {
	for name, inBucket := range map[string]bool{"plans in a directory": false, "plans in the state bucket": true} {
		t.Run(name, func(t *testing.T) { commentLoop(t, newCommentRepo(t, inBucket), inBucket) })
	}
}

func commentLoop(t *testing.T, c *commentRepo, inBucket bool) {
	r := c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	got := c.comments(ghPR)
	require.Len(t, got, 1, "one comment")
	body := got[0].Body
	assert.Contains(t, body, "1.one")
	assert.Contains(t, body, "null_resource.this")
	assert.Contains(t, body, "🔒 locked for #7")
	w := c.writes()
	require.GreaterOrEqual(t, len(w), 3)
	assert.True(t, strings.HasPrefix(w[0], "POST /repos/"+ghRepo+"/issues/7/comments"), w)
	assert.Equal(t, "POST /repos/"+ghRepo+"/statuses/"+headSHA, w[1], "the run recorded on the head as under way")
	assert.Equal(t, "POST /repos/"+ghRepo+"/statuses/"+headSHA, w[len(w)-2], "the outcome recorded on the head")
	for _, x := range append(w[2:len(w)-2:len(w)-2], w[len(w)-1]) {
		assert.True(t, strings.HasPrefix(x, "PATCH "), "then only edits: %v", w)
	}
	st := c.fake.Statuses(ghRepo, headSHA)
	require.Len(t, st, 2)
	states := map[string]string{}
	for _, s := range st {
		assert.Equal(t, "infra-comment/plan", s.Context)
		states[s.State] = s.Description
	}
	assert.Equal(t, map[string]string{"pending": "planning 1.one", "success": "1.one planned (+1 ~0 -0)"}, states)
	var planHash string
	if inBucket {
		meta := filepath.Join(c.s3.Dir, c.s3.Bucket, "infra-plans", ghRepo, "pr-7", headSHA, "1.one.tfplan.json")
		planHash = planHashIn(t, meta)
	} else {
		assert.FileExists(t, filepath.Join(c.plans, "pr-7", headSHA, "1.one.tfplan"))
		planHash = planHashIn(t, filepath.Join(c.plans, "pr-7", headSHA, "1.one.tfplan.json"))
	}

	r = c.say(t, otherPR, "octocat", "MEMBER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "1.one is locked by pull request #7 (by @octocat)")
	require.Len(t, c.comments(otherPR), 1)
	assert.Contains(t, c.comments(otherPR)[0].Body, "1.one is locked by pull request #7")

	c.fake.Reset()
	r = c.say(t, ghPR, "stranger", "CONTRIBUTOR", "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "@stranger is CONTRIBUTOR; comment commands run for OWNER, MEMBER, COLLABORATOR")
	assert.Empty(t, c.writes(), "no comment for an outsider")
	assert.Len(t, c.comments(ghPR), 1)

	r = c.say(t, ghPR, "octocat", "OWNER", "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "the pull request is not approved")
	c.fake.AddReview(ghRepo, githubtest.Review{PR: ghPR, User: githubtest.User{Login: "stranger", Association: "CONTRIBUTOR"}, State: "APPROVED", CommitID: headSHA})
	r = c.say(t, ghPR, "octocat", "OWNER", "/apply")
	assert.Contains(t, r.stdout, "the approval of @stranger (CONTRIBUTOR) does not count")
	c.fake.AddReview(ghRepo, githubtest.Review{PR: ghPR, User: reviewer, State: "APPROVED", CommitID: headSHA})
	c.fake.AddStatus(ghRepo, githubtest.Status{SHA: headSHA, State: "failure", Context: "ci/lint", Created: time.Now()})
	r = c.say(t, ghPR, "octocat", "OWNER", "/apply")
	assert.Contains(t, r.stdout, "ci/lint is failure")
	c.fake.AddStatus(ghRepo, githubtest.Status{SHA: headSHA, State: "success", Context: "ci/lint", Created: time.Now().Add(time.Second)})
	c.writes()

	r = c.say(t, ghPR, "octocat", "OWNER", "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	last := c.comments(ghPR)[len(c.comments(ghPR))-1].Body
	assert.Contains(t, last, "applied")
	assert.Contains(t, last, planHash[:12], "exactly the plan /plan made")
	assert.Contains(t, last, "🔓 released: 1.one")

	r = c.say(t, otherPR, "octocat", "MEMBER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, c.comments(otherPR)[len(c.comments(otherPR))-1].Body, "🔒 locked for #8")

	// PR 8 pushes: its plan is stale.
	newHead := strings.Repeat("9", 40)
	c.fake.PR(ghRepo, otherPR, newHead, "feature/other")
	c.fake.AddReview(ghRepo, githubtest.Review{PR: otherPR, User: reviewer, State: "APPROVED", CommitID: newHead})
	r = c.say(t, otherPR, "octocat", "MEMBER", "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "the plans are of 8888888, before the last push")

	r = c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one")
	assert.Contains(t, r.stdout, "locked by pull request #8")
	r = c.say(t, otherPR, "octocat", "MEMBER", "/unlock")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, c.comments(otherPR)[len(c.comments(otherPR))-1].Body, "🔓 released: 1.one")
	r = c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "refused")

	// PR 7 pushes after its approval and plans the new head: the approval was
	// of the old head and does not cover the push.
	pushed := strings.Repeat("e", 40)
	c.fake.PR(ghRepo, ghPR, pushed, "feature/vault")
	r = c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "refused")
	c.fake.AddStatus(ghRepo, githubtest.Status{SHA: pushed, State: "success", Context: "ci/lint", Created: time.Now()})
	r = c.say(t, ghPR, "octocat", "OWNER", "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "refused: the pull request is not approved at its head eeeeeee: @reviewer approved ddddddd, before the last push")
	assert.NotContains(t, c.comments(ghPR)[len(c.comments(ghPR))-1].Body, "applied")

	// PR 7 closes unapplied: its locks go, and PR 8 may plan the layer.
	closed := githubtest.Webhook(t, "pull_request", "closed")
	closed["number"] = ghPR
	closed["repository"].(map[string]any)["full_name"] = ghRepo
	closed["pull_request"].(map[string]any)["number"] = ghPR
	data, err := json.Marshal(closed)
	require.NoError(t, err)
	evPath := filepath.Join(t.TempDir(), "closed.json")
	require.NoError(t, os.WriteFile(evPath, data, 0o600))
	args := append([]string{"comment", "--release", "--event", evPath}, c.common...)
	for i, a := range args {
		if a == "issue_comment" {
			args[i] = "pull_request"
		}
	}
	r = run(t, args...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "#7 closed: released 1 lock(s) 1.one")
	r = c.say(t, otherPR, "octocat", "MEMBER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "refused")
	assert.Empty(t, c.fake.TakeViolations())
}

func planHashIn(t *testing.T, metaPath string) string {
	t.Helper()
	data, err := os.ReadFile(metaPath)
	require.NoError(t, err)
	var meta struct {
		PlanHash string `json:"plan_sha256"`
	}
	require.NoError(t, json.Unmarshal(data, &meta))
	require.Len(t, meta.PlanHash, 64)
	return meta.PlanHash
}

// The comment loop on a real Gitea, whose comment events carry no author
// association: the commenter's permission on the repository stands in. The
// owner's /plan answers in one comment edited with the plan; a second pull
// request's /plan of the layer is refused naming the first; an outsider's
// /apply is refused without a comment; /apply waits for a collaborator's
// approval of the head, which a push makes stale, as it makes the plan stale;
// then it applies the plan and frees the layer; /unlock frees it too.
func TestCommentCommandsAgainstGitea(t *testing.T) {
	g, repoName := giteaJob(t)
	src, backend, vars, _ := stateRepo(t)
	hook := g.Hook(t, repoName)
	reviewer := g.Collaborator(t, repoName, "reviewer")
	pr := g.OpenPR(t, repoName, "feature/db", "db.tf", "# db\n")
	other := g.OpenPR(t, repoName, "feature/other", "other.tf", "# other\n")
	common := []string{"--source", src, "--backend-config", backend, "--var-file", vars, "--plans-dir", t.TempDir(),
		"--repo", repoName, "--api-url", g.API, "--event-name", "issue_comment"}
	say := func(as giteatest.Account, number int, body string) result {
		id := g.Comment(t, as, repoName, number, body)
		ev := hook.Wait(t, func(p giteatest.Payload) bool {
			var got struct {
				Comment struct {
					ID int64 `json:"id"`
				} `json:"comment"`
			}
			return p.Event == "issue_comment" && json.Unmarshal(p.Body, &got) == nil && got.Comment.ID == id
		})
		return run(t, append([]string{"comment", "--event", writeEvent(t, ev.Body)}, common...)...)
	}
	ours := func(number int) []giteatest.IssueComment {
		var out []giteatest.IssueComment
		for _, c := range g.Comments(t, repoName, number) {
			if strings.HasPrefix(c.Body, "<!-- infra-flash:comment ") {
				out = append(out, c)
			}
		}
		return out
	}
	last := func(number int) string {
		got := ours(number)
		require.NotEmpty(t, got)
		return got[len(got)-1].Body
	}
	num := "#" + strconv.Itoa(pr.Number)

	r := say(g.Bot, pr.Number, "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	got := ours(pr.Number)
	require.Len(t, got, 1)
	assert.Contains(t, got[0].Body, "null_resource.this")
	assert.Contains(t, got[0].Body, "🔒 locked for "+num)
	assert.NotEqual(t, got[0].Created, got[0].Updated, "posted, then edited")
	recorded := map[string]string{}
	for name, st := range g.LatestStatuses(t, repoName, pr.HeadSHA) {
		recorded[name] = st.Status + ": " + st.Description
	}
	assert.Equal(t, "success: 1.one planned (+1 ~0 -0)", recorded["infra-comment/plan"], "for the infra-flash comment's Plans section")

	r = say(g.Bot, other.Number, "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "1.one is locked by pull request "+num)
	assert.Contains(t, last(other.Number), "1.one is locked by pull request "+num)

	r = say(g.Outsider, pr.Number, "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "@mallory is NONE")
	assert.Len(t, ours(pr.Number), 1, "no answer to an outsider")

	r = say(g.Bot, pr.Number, "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "refused: the pull request is not approved")

	// An outsider's approval does not count (their permission stands in for
	// the association Gitea's reviews lack).
	g.Approve(t, g.Outsider, repoName, pr.Number, pr.HeadSHA)
	r = say(g.Bot, pr.Number, "/apply")
	assert.Contains(t, r.stdout, "the approval of @mallory (NONE) does not count")

	// Approved, then pushed: neither the approval nor the plan covers the new head.
	g.Approve(t, reviewer, repoName, pr.Number, pr.HeadSHA)
	head := g.Push(t, repoName, pr, "db2.tf", "# more\n")
	r = say(g.Bot, pr.Number, "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "refused: the pull request is not approved at its head "+head[:7]+": @reviewer approved "+pr.HeadSHA[:7]+", before the last push")
	g.Approve(t, reviewer, repoName, pr.Number, head)
	r = say(g.Bot, pr.Number, "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "the plans are of "+pr.HeadSHA[:7]+", before the last push")
	assert.NotContains(t, last(pr.Number), "applied")

	r = say(g.Bot, pr.Number, "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "refused")
	// A dismissed approval (Gitea keeps its state, and says "dismissed") is withdrawn.
	g.Dismiss(t, repoName, pr.Number, g.Approve(t, reviewer, repoName, pr.Number, head))
	r = say(g.Bot, pr.Number, "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "refused: the pull request is not approved")
	g.Approve(t, reviewer, repoName, pr.Number, head)
	r = say(g.Bot, pr.Number, "/apply")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, last(pr.Number), "applied")
	assert.Contains(t, last(pr.Number), "🔓 released: 1.one")

	// The other pull request plans the freed layer, then unlocks it.
	r = say(g.Bot, other.Number, "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, last(other.Number), "🔒 locked for #"+strconv.Itoa(other.Number))
	r = say(g.Bot, pr.Number, "/plan 1.one")
	assert.Contains(t, r.stdout, "locked by pull request #"+strconv.Itoa(other.Number))
	r = say(g.Bot, other.Number, "/unlock")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, last(other.Number), "🔓 released: 1.one")
	r = say(g.Bot, pr.Number, "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "refused")
}

// A /plan that keeps no plan of a layer releases the lock it took there, so
// that a failed plan holds no layer for nothing; a lock the pull request held
// before, from a plan that succeeded, stays.
func TestAFailedPlanReleasesTheLocksItTook(t *testing.T) {
	c := newCommentRepo(t, false)
	r := c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, c.comments(ghPR)[0].Body, "🔒 locked for #7")

	broken := testfixture.Files{"terraform/1.one/broken.tf": "resource \"null_resource\" \"broken\" {\n  triggers = { x = file(\"missing.txt\") }\n}\n"}
	testfixture.Write(t, c.src, broken)
	r = c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one")
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	last := c.comments(ghPR)[len(c.comments(ghPR))-1].Body
	assert.Contains(t, last, "failed")
	assert.Contains(t, last, "🔒 locked for #7", "held from the earlier plan")
	assert.NotContains(t, last, "released")
	r = c.say(t, otherPR, "octocat", "MEMBER", "/plan 1.one")
	assert.Contains(t, r.stdout, "1.one is locked by pull request #7", "the lock of the earlier plan stays")

	r = c.say(t, ghPR, "octocat", "OWNER", "/unlock")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	r = c.say(t, otherPR, "octocat", "MEMBER", "/plan 1.one")
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	last = c.comments(otherPR)[len(c.comments(otherPR))-1].Body
	assert.Contains(t, last, "🔓 no plan kept of 1.one: released")
	assert.NotContains(t, last, "🔒")
	r = c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one")
	assert.NotContains(t, r.stdout, "locked by pull request #8", "the failed plan of #8 holds nothing")

	require.NoError(t, os.Remove(filepath.Join(c.src, "terraform/1.one/broken.tf")))
	r = c.say(t, otherPR, "octocat", "MEMBER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, c.comments(otherPR)[len(c.comments(otherPR))-1].Body, "🔒 locked for #8")
	assert.Empty(t, c.fake.TakeViolations())
}

// /plan and /apply run the pull request's head only: a checkout of another
// commit (a push between the comment and the job's checkout) is refused with
// the reason, and nothing is planned, locked or applied.
func TestPlanAndApplyRefuseACheckoutThatIsNotTheHead(t *testing.T) {
	c := newCommentRepo(t, false)
	git(t, c.src, "init", "-q", "-b", "main")
	git(t, c.src, "add", "-A")
	git(t, c.src, "commit", "-qm", "base")
	out, err := exec.Command("git", "-C", c.src, "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	checkout := strings.TrimSpace(string(out))
	c.fake.AddReview(ghRepo, githubtest.Review{PR: ghPR, User: reviewer, State: "APPROVED", CommitID: headSHA})

	for _, cmd := range []string{"/plan 1.one", "/apply"} {
		r := c.say(t, ghPR, "octocat", "OWNER", cmd)
		require.Equal(t, 0, r.code, r.stdout+r.stderr)
		want := "the checkout is " + checkout[:7] + " but the pull request's head is ddddddd"
		assert.Contains(t, r.stdout, "refused: "+want, cmd)
		all := c.comments(ghPR)
		assert.Equal(t, "🚫 `"+cmd+"` refused: "+want, strings.TrimSpace(all[len(all)-1].Body[strings.Index(all[len(all)-1].Body, "\n")+1:]))
		assert.NotContains(t, r.stderr, "1.one: started", "nothing ran")
	}
	assert.NoDirExists(t, filepath.Join(c.plans, "pr-7"), "no plan kept")

	// The other pull request, whose head is the checkout, plans: no lock was left.
	c.fake.PR(ghRepo, otherPR, checkout, "feature/other")
	r := c.say(t, otherPR, "octocat", "MEMBER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "refused")
	assert.Contains(t, c.comments(otherPR)[0].Body, "🔒 locked for #8")
}

// infra.hcl's comments.trusted decides who commands; the workflow's filter
// (--workflow-trusted) must name the same associations, in any order, or the
// run fails (exit 2), says why on the pull request and runs nothing.
func TestTheWorkflowFilterMustAgreeWithInfraHCL(t *testing.T) {
	c := newCommentRepo(t, false)
	for _, agree := range []string{"default", `["COLLABORATOR", "OWNER", "MEMBER"]`} {
		r := c.say(t, ghPR, "octocat", "OWNER", "/help", "--workflow-trusted", agree)
		require.Equal(t, 0, r.code, agree+": "+r.stdout+r.stderr)
	}
	n := len(c.comments(ghPR))

	r := c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one", "--workflow-trusted", `["OWNER", "MEMBER", "COLLABORATOR", "CONTRIBUTOR"]`)
	assert.Equal(t, 2, r.code, r.stdout+r.stderr)
	msg := `the workflow starts for OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR but infra.hcl's comments.trusted is OWNER, MEMBER, COLLABORATOR: ` +
		`set the repository variable INFRA_COMMENT_ASSOCIATIONS to ["OWNER","MEMBER","COLLABORATOR"] (or change infra.hcl); nothing ran`
	assert.Contains(t, r.stderr, msg)
	assert.NotContains(t, r.stderr, "1.one: started")
	got := c.comments(ghPR)
	require.Len(t, got, n+1)
	assert.Contains(t, got[n].Body, "🚫 comment commands are misconfigured: "+msg)

	testfixture.Write(t, c.src, testfixture.Files{"infra.hcl": "engine = \"tofu\"\ncomments {\n  trusted = [\"OWNER\"]\n}\n"})
	r = c.say(t, ghPR, "octocat", "OWNER", "/help", "--workflow-trusted", "default")
	assert.Equal(t, 2, r.code, "a narrower infra.hcl than the workflow's default is a mismatch too")
	r = c.say(t, ghPR, "octocat", "OWNER", "/help", "--workflow-trusted", `["OWNER"]`)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)

	for _, bad := range []string{"", "OWNER", "[]", `["owner"]`, `["OWNER", "a b"]`} {
		r = c.say(t, ghPR, "octocat", "OWNER", "/help", "--workflow-trusted", bad)
		assert.Equal(t, 2, r.code, bad)
		assert.Contains(t, r.stderr, "--workflow-trusted", bad)
	}
	assert.Empty(t, c.fake.TakeViolations())
}

// A /plan whose run fails after planning (here the plans cannot be kept in the
// bucket: the S3 server refuses the key) releases the locks it took, and says so.
func TestAPlanThatCannotKeepItsPlansReleasesItsLocks(t *testing.T) {
	c := newCommentRepo(t, true)
	// On the S3 server's disk a file where the pull request's plans would need a
	// directory: every plan key under it is refused.
	blocker := filepath.Join(c.s3.Dir, c.s3.Bucket, "infra-plans", ghRepo, "pr-7")
	require.NoError(t, os.MkdirAll(filepath.Dir(blocker), 0o755))
	require.NoError(t, os.WriteFile(blocker, []byte("in the way"), 0o644))

	r := c.say(t, ghPR, "octocat", "OWNER", "/plan 1.one")
	assert.Equal(t, 3, r.code, r.stdout+r.stderr)
	last := c.comments(ghPR)[len(c.comments(ghPR))-1].Body
	assert.Contains(t, last, "❌ `/plan 1.one` failed: keeping the plans for /apply")
	assert.Contains(t, last, "🔓 no plan kept; released: 1.one")

	r = c.say(t, otherPR, "octocat", "MEMBER", "/plan 1.one")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "locked by pull request #7")
	assert.Contains(t, c.comments(otherPR)[0].Body, "🔒 locked for #8")
}
