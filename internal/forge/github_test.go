package forge_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/forge/githubtest"
)

const (
	repo  = "octo/infra"
	pr    = 7
	token = "ghs_test_token_for_actions"
)

var (
	shaA = strings.Repeat("a", 40)
	shaB = strings.Repeat("b", 40)
	t0   = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	bot  = githubtest.User{Login: "github-actions[bot]", Type: "Bot"}
	dev  = githubtest.User{Login: "dev", Association: "MEMBER"}
)

// waits records the backoff waits a client would have slept.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

type env struct {
	fake   *githubtest.GitHub
	api    string
	client *forge.Client
	waits  *waits
	log    *bytes.Buffer
	logf   func(string)
}

// setup serves a fake GitHub on loopback under /api/v3/ (as GitHub Enterprise
// Server does) with one PR, and a client for it.
func setup(t *testing.T, opts ...func(*forge.Options)) *env {
	t.Helper()
	fake := githubtest.New(t)
	fake.Repo(repo)
	fake.PR(repo, pr, shaA, "feature/x")
	fake.Commit(repo, shaA, "Add the vault layer\n\nlonger text", t0)
	fake.Token(token, bot)
	e := &env{fake: fake, api: fake.Start(), waits: &waits{}, log: &bytes.Buffer{}}
	var mu sync.Mutex
	e.logf = func(s string) { mu.Lock(); defer mu.Unlock(); e.log.WriteString(s + "\n") }
	o := forge.Options{APIURL: e.api, Token: token, Retry: forge.Retry{Sleep: e.waits.sleep}, Log: e.logf}
	for _, f := range opts {
		f(&o)
	}
	c, err := forge.New(context.Background(), repo, o)
	require.NoError(t, err)
	e.client = c
	return e
}

func (e *env) upsert(t *testing.T, stamp forge.Stamp, text string) forge.UpsertResult {
	t.Helper()
	res, err := e.client.Upsert(context.Background(), pr, nil, "pr", stamp, forge.Fit(text), e.head)
	require.NoError(t, err)
	return res
}

func (e *env) head(ctx context.Context) (string, error) {
	p, err := e.client.PullRequest(ctx, pr)
	return p.HeadSHA, err
}

func methods(reqs []githubtest.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Method+" "+r.Path+pageOf(r))
	}
	return out
}

func pageOf(r githubtest.Request) string {
	if p := r.Query.Get("page"); p != "" {
		return "?page=" + p
	}
	return ""
}

func TestUpsertCreatesOnceThenEditsInPlace(t *testing.T) {
	e := setup(t)
	stamp := forge.Stamp{SHA: shaA, Time: t0}

	first := e.upsert(t, stamp, "first run")
	assert.Equal(t, forge.Created, first.Action)
	second := e.upsert(t, stamp, "second run")
	assert.Equal(t, forge.Edited, second.Action)
	assert.Equal(t, first.Comment.ID, second.Comment.ID)
	third := e.upsert(t, stamp, "second run")
	assert.Equal(t, forge.Unchanged, third.Action)

	comments := e.fake.Comments(repo, pr)
	require.Len(t, comments, 1, "exactly one comment")
	assert.Equal(t, `<!-- infra-flash:pr {"sha":"`+shaA+`","time":"2026-11-01T12:00:00Z"} -->`+"\nsecond run", comments[0].Body)
	assert.Equal(t, "github-actions[bot]", comments[0].User.Login)
	assert.Equal(t, []string{
		"GET /repos/octo/infra/issues/7/comments?page=1", "POST /repos/octo/infra/issues/7/comments",
		"GET /repos/octo/infra/issues/7/comments?page=1",
		// Who we are is asked once, when a marked comment is first seen: an
		// Actions token has no user, so GraphQL's viewer answers.
		"GET /user", "POST /graphql",
		"PATCH /repos/octo/infra/issues/comments/" + fmt.Sprint(first.Comment.ID),
		"GET /repos/octo/infra/issues/7/comments?page=1",
	}, methods(e.fake.Requests()))
}

// The marker comment sits on page 3 of 250 comments: it is found, and the
// steady-state update costs one paginated list and one edit.
func TestUpsertFindsTheMarkerOnPage3WithOneListAndOneEdit(t *testing.T) {
	e := setup(t)
	for i := 0; i < 230; i++ {
		e.fake.AddComment(repo, pr, dev, fmt.Sprintf("review note %d", i))
	}
	// A comment that merely quotes the marker later in its text is not ours.
	e.fake.AddComment(repo, pr, dev, "see\n<!-- infra-flash:pr {} -->")
	ours := e.fake.AddComment(repo, pr, bot, `<!-- infra-flash:pr {"sha":"`+shaA+`","time":"2026-11-01T12:00:00Z"} -->`+"\nold")
	for i := 0; i < 19; i++ {
		e.fake.AddComment(repo, pr, dev, "later")
	}
	e.fake.Reset()

	res := e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "new")
	assert.Equal(t, forge.Edited, res.Action)
	assert.Equal(t, ours, res.Comment.ID)
	assert.Equal(t, []string{
		"GET /repos/octo/infra/issues/7/comments?page=1",
		"GET /repos/octo/infra/issues/7/comments?page=2",
		"GET /repos/octo/infra/issues/7/comments?page=3",
		"GET /user", "POST /graphql",
		fmt.Sprintf("PATCH /repos/octo/infra/issues/comments/%d", ours),
	}, methods(e.fake.Requests()))
	assert.Len(t, e.fake.Comments(repo, pr), 251)
}

func TestUpsertReducesRaceDuplicatesToTheOldest(t *testing.T) {
	e := setup(t)
	line := `<!-- infra-flash:pr {"sha":"` + shaA + `","time":"2026-11-01T12:00:00Z"} -->`
	e.fake.AddComment(repo, pr, dev, "hello")
	oldest := e.fake.AddComment(repo, pr, bot, line+"\nrun 1")
	e.fake.AddComment(repo, pr, bot, line+"\nrun 2")
	e.fake.AddComment(repo, pr, bot, line+"\nrun 3")

	res := e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "run 4")
	assert.Equal(t, forge.Edited, res.Action)
	assert.Equal(t, oldest, res.Comment.ID)
	assert.Len(t, res.Deleted, 2)
	var marked []githubtest.Comment
	for _, c := range e.fake.Comments(repo, pr) {
		if strings.HasPrefix(c.Body, "<!-- infra-flash:pr ") {
			marked = append(marked, c)
		}
	}
	require.Len(t, marked, 1)
	assert.Equal(t, oldest, marked[0].ID)
	assert.True(t, strings.HasSuffix(marked[0].Body, "\nrun 4"))
}

func TestAnOlderCommitNeverOverwritesANewerOne(t *testing.T) {
	e := setup(t)
	e.fake.PR(repo, pr, shaB, "feature/x") // the PR has moved on to B
	newer := forge.Stamp{SHA: shaB, Time: t0.Add(time.Hour)}
	e.upsert(t, newer, "about B")
	e.fake.Reset()

	res := e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "about A, finishing late")
	assert.Equal(t, forge.Kept, res.Action)
	assert.Contains(t, res.Reason, "bbbbbbb")
	assert.True(t, strings.HasSuffix(e.fake.Comments(repo, pr)[0].Body, "\nabout B"))
	assert.Equal(t, []string{"GET /repos/octo/infra/issues/7/comments?page=1", "GET /user", "POST /graphql", "GET /repos/octo/infra/pulls/7"},
		methods(e.fake.Requests()), "the head is asked because the date says older; nothing is written")

	// The branch was reset to A: A is the head again, so its run writes.
	e.fake.PR(repo, pr, shaA, "feature/x")
	assert.Equal(t, forge.Edited, e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "about A again").Action)

	// A newer date writes without asking for the head.
	e.fake.Reset()
	assert.Equal(t, forge.Edited, e.upsert(t, forge.Stamp{SHA: shaB, Time: t0.Add(2 * time.Hour)}, "B").Action)
	assert.Equal(t, []string{"GET /repos/octo/infra/issues/7/comments?page=1", "PATCH /repos/octo/infra/issues/comments/" +
		fmt.Sprint(e.fake.Comments(repo, pr)[0].ID)}, methods(e.fake.Requests()))
}

func TestDecide(t *testing.T) {
	a := forge.Stamp{SHA: shaA, Time: t0}
	b := forge.Stamp{SHA: shaB, Time: t0.Add(time.Minute)}
	assert.Equal(t, forge.Write, forge.Decide(a, forge.Stamp{}), "an unreadable stamp is overwritten")
	assert.Equal(t, forge.Write, forge.Decide(a, a), "a rerun of the same commit")
	assert.Equal(t, forge.Write, forge.Decide(b, a), "a later commit")
	assert.Equal(t, forge.AskHead, forge.Decide(a, b), "an earlier date")
	assert.Equal(t, forge.AskHead, forge.Decide(forge.Stamp{SHA: shaA, Time: b.Time}, b), "the same date, another commit")
	assert.Equal(t, forge.AskHead, forge.Decide(forge.Stamp{SHA: shaA}, b), "no date")
}

func TestMarkerLineCannotBeClosedByItsStamp(t *testing.T) {
	m := forge.Marker("pr")
	line := m.Line(forge.Stamp{SHA: "--><script>"})
	assert.Equal(t, 1, strings.Count(line, "-->"), line)
	s, ok := m.Read(line + "\nbody")
	require.True(t, ok)
	assert.Equal(t, "--><script>", s.SHA)
	_, ok = forge.Marker("dig").Read(line)
	assert.False(t, ok, "another marker's comment is not ours")
}

// A 422 "too long" answer makes the body render again smaller; a 200,000-character
// result ends in a posted comment under GitHub's limit either way.
func TestTooLongBodiesEndUnderTheLimit(t *testing.T) {
	huge := strings.Repeat("| a row of findings that goes on |\n", 6000) // ~200,000 characters
	require.Greater(t, len(huge), 200000)

	e := setup(t)
	res := e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, huge)
	assert.Equal(t, forge.Created, res.Action)
	body := e.fake.Comments(repo, pr)[0].Body
	assert.LessOrEqual(t, utf8.RuneCountInString(body), forge.CommentLimit)
	assert.True(t, strings.HasSuffix(body, "Cut to fit GitHub's comment size limit.\n"))

	e = setup(t)
	e.fake.MaxCommentLength = 30000 // a server stricter than the margin assumes
	var limits []int
	res, err := e.client.Upsert(context.Background(), pr, nil, "pr", forge.Stamp{SHA: shaA, Time: t0},
		func(limit int) string { limits = append(limits, limit); return huge[:min(limit, len(huge))] }, nil)
	require.NoError(t, err)
	assert.Equal(t, forge.Created, res.Action)
	require.Len(t, limits, 3, "rendered at the budget, then at half, then at a quarter")
	assert.Equal(t, limits[0]/2, limits[1])
	assert.Equal(t, limits[1]/2, limits[2])
	assert.LessOrEqual(t, utf8.RuneCountInString(e.fake.Comments(repo, pr)[0].Body), 30000)
	assert.Contains(t, e.log.String(), "too long")
	var posts int
	for _, r := range e.fake.Requests() {
		if r.Method == "POST" {
			posts++
		}
	}
	assert.Equal(t, 3, posts, "two refused, one accepted")
	assert.Len(t, e.fake.Comments(repo, pr), 1, "no half-posted comment")
}

func isPatch(r githubtest.Request) bool { return r.Method == "PATCH" }

func TestServerErrorsAreRetriedWithBackoffThenReported(t *testing.T) {
	e := setup(t)
	first := e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "v1")
	e.fake.Fail(isPatch, 2, githubtest.ServerError())
	assert.Equal(t, forge.Edited, e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "v2").Action)
	w := e.waits.all()
	require.Len(t, w, 2)
	assert.Greater(t, w[1], w[0], "the wait grows")
	assert.InDelta(t, float64(time.Second), float64(w[0]), float64(time.Second)/4+1)
	assert.Contains(t, e.log.String(), "server error 502; retrying")

	e.fake.Fail(isPatch, 10, githubtest.ServerError())
	_, err := e.client.Upsert(context.Background(), pr, nil, "pr", forge.Stamp{SHA: shaA, Time: t0}, forge.Fit("v3"), nil)
	require.Error(t, err)
	assert.Equal(t, 502, forge.StatusOf(err))
	assert.Contains(t, err.Error(), fmt.Sprintf("PATCH /repos/octo/infra/issues/comments/%d: 502", first.Comment.ID))
	assert.Contains(t, err.Error(), "after 4 attempts")
	assert.True(t, strings.HasSuffix(e.fake.Comments(repo, pr)[0].Body, "\nv2"), "the comment keeps the last good text")
}

func TestSecondaryRateLimitsWaitAsToldThenReport(t *testing.T) {
	e := setup(t)
	e.fake.Fail(func(r githubtest.Request) bool { return r.Method == "POST" }, 1, githubtest.SecondaryRateLimit(3))
	assert.Equal(t, forge.Created, e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "x").Action)
	assert.Equal(t, []time.Duration{3 * time.Second}, e.waits.all(), "Retry-After is honoured")
	assert.Contains(t, e.log.String(), "secondary rate limit; retrying in 3s")

	// Waiting longer than a CI job should is not done: the limit is reported.
	e.fake.Fail(isPatch, 1, githubtest.SecondaryRateLimit(3600))
	_, err := e.client.Upsert(context.Background(), pr, nil, "pr", forge.Stamp{SHA: shaA, Time: t0}, forge.Fit("y"), nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, forge.StatusOf(err))
	assert.Contains(t, err.Error(), "secondary rate limit")
	assert.Len(t, e.waits.all(), 1)
}

// A real wait, tiny: the default sleeper stops at the context's end too.
func TestRetriesSleepForReal(t *testing.T) {
	e := setup(t, func(o *forge.Options) { o.Retry = forge.Retry{Base: time.Millisecond, Max: 2 * time.Millisecond} })
	e.fake.Fail(func(r githubtest.Request) bool { return r.Method == "GET" }, 3, githubtest.ServerError())
	start := time.Now()
	_, err := e.client.ListComments(context.Background(), pr)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = e.client.ListComments(ctx, pr)
	require.Error(t, err)
}

func TestDryRunPrintsTheRequestsARealRunSends(t *testing.T) {
	var out bytes.Buffer
	e := setup(t, func(o *forge.Options) { o.DryRun = &out })
	text := "## ⚡ infra-flash | `feature/x`\n\nsome <b>markup</b> & \"quotes\""
	res := e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, text)
	assert.Equal(t, forge.Created, res.Action)
	_, err := e.client.SetChecks(context.Background(), shaA, []forge.Check{{Name: "infra-flash/2.platform", State: "success", Description: "ok"}})
	require.NoError(t, err)

	for _, r := range e.fake.Requests() {
		assert.Equal(t, "GET", r.Method, "a dry run only reads: %s", r)
	}
	assert.Empty(t, e.fake.Comments(repo, pr))
	printed := out.String()
	require.True(t, strings.HasPrefix(printed, "POST /repos/octo/infra/issues/7/comments\n{\n"), printed)
	assert.Contains(t, printed, "POST /repos/octo/infra/check-runs\n")

	// The same run for real sends exactly the printed body.
	real := setup(t)
	real.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, text)
	var sent string
	for _, r := range real.fake.Requests() {
		if r.Method == "POST" {
			sent = r.Body
		}
	}
	var a, b any
	require.NoError(t, json.Unmarshal([]byte(sent), &a))
	dryBody := strings.SplitN(printed, "\n", 2)[1]
	dryBody = dryBody[:strings.Index(dryBody, "\n}\n")+2]
	require.NoError(t, json.Unmarshal([]byte(dryBody), &b))
	assert.Equal(t, a, b)
}

func TestDryRunWithoutCredentialsStillReadsAndPrints(t *testing.T) {
	var out bytes.Buffer
	e := setup(t, func(o *forge.Options) { o.Token = ""; o.DryRun = &out })
	e.fake.AddComment(repo, pr, bot, `<!-- infra-flash:pr {"sha":"`+shaA+`"} -->`+"\nold")
	res := e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "new")
	assert.Equal(t, forge.Edited, res.Action)
	assert.Contains(t, out.String(), "PATCH /repos/octo/infra/issues/comments/")

	// Without --dry-run and without credentials nothing is sent.
	e = setup(t, func(o *forge.Options) { o.Token = "" })
	_, err := e.client.CreateComment(context.Background(), pr, "x")
	var in *forge.InputError
	require.ErrorAs(t, err, &in)
	assert.Contains(t, err.Error(), "GITHUB_TOKEN")
}

func TestChecksFallBackToCommitStatuses(t *testing.T) {
	long := strings.Repeat("description that is far too long for a status ", 5)
	checks := []forge.Check{
		{Name: "infra-flash/1.bootstrap", State: "success", Description: "Format ✅ Lint ✅ Validate ✅", TargetURL: "https://ci/run/1", Summary: "all good"},
		{Name: "infra-flash/2.platform", State: "failure", Description: long, TargetURL: "https://ci/run/1", Summary: "## findings"},
	}
	e := setup(t)
	kind, err := e.client.SetChecks(context.Background(), shaA, checks)
	require.NoError(t, err)
	assert.Equal(t, "check runs", kind)
	runs := e.fake.CheckRuns(repo)
	require.Len(t, runs, 2)
	assert.Equal(t, "failure", runs[1].Conclusion)
	assert.Equal(t, "https://ci/run/1", runs[1].DetailsURL)

	e = setup(t)
	e.fake.Token("ghp_personal", githubtest.User{Login: "someone", NoChecks: true})
	c, err := forge.New(context.Background(), repo, forge.Options{APIURL: e.api, Token: "ghp_personal"})
	require.NoError(t, err)
	kind, err = c.SetChecks(context.Background(), shaA, checks)
	require.NoError(t, err)
	assert.Equal(t, "commit statuses", kind)
	st := e.fake.Statuses(repo, shaA)
	require.Len(t, st, 2)
	assert.Equal(t, "infra-flash/2.platform", st[1].Context)
	assert.Equal(t, 140, utf8.RuneCountInString(st[1].Description))
	assert.True(t, strings.HasSuffix(st[1].Description, "…"))
	var posts []string
	for _, r := range e.fake.Requests() {
		posts = append(posts, r.Method+" "+r.Path)
	}
	assert.Equal(t, []string{"POST /repos/octo/infra/check-runs", "POST /repos/octo/infra/statuses/" + shaA, "POST /repos/octo/infra/statuses/" + shaA},
		posts, "check runs are tried once, then statuses only")

	got, err := c.Statuses(context.Background(), shaA)
	require.NoError(t, err)
	assert.Equal(t, "failure", got["infra-flash/2.platform"].State)

	_, err = c.SetChecks(context.Background(), "not-a-sha", checks)
	var in *forge.InputError
	assert.ErrorAs(t, err, &in)
}

func TestPlaceholderThenUpdate(t *testing.T) {
	e := setup(t)
	p, err := e.client.Placeholder(context.Background(), pr, "dig", forge.Stamp{}, "⏳ Testing connectivity…")
	require.NoError(t, err)
	require.NoError(t, p.Update(context.Background(), forge.Fit("## Service Health Check\n| a | b |")))
	c := e.fake.Comments(repo, pr)
	require.Len(t, c, 1)
	assert.Equal(t, "<!-- infra-flash:dig {} -->\n## Service Health Check\n| a | b |", c[0].Body)
	// A second request gets its own comment.
	_, err = e.client.Placeholder(context.Background(), pr, "dig", forge.Stamp{}, "⏳")
	require.NoError(t, err)
	assert.Len(t, e.fake.Comments(repo, pr), 2)
}

func TestIssueUpsertOpensUpdatesAndCloses(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	spec := forge.IssueSpec{Marker: "drift/2.platform", Title: "Drift in L2 Platform", Body: "3 resources drifted", Labels: []string{"drift"}}
	is, err := e.client.UpsertIssue(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, forge.Created, is.Action)
	is2, err := e.client.UpsertIssue(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, forge.Unchanged, is2.Action)
	spec.Body = "4 resources drifted"
	is3, err := e.client.UpsertIssue(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, forge.Edited, is3.Action)
	assert.Equal(t, is.Number, is3.Number)
	other, err := e.client.UpsertIssue(ctx, forge.IssueSpec{Marker: "drift/3.data", Title: "Drift in L3", Body: "x", Labels: []string{"drift"}})
	require.NoError(t, err)
	assert.NotEqual(t, is.Number, other.Number)

	issues := e.fake.Issues(repo)
	require.Len(t, issues, 2)
	assert.Equal(t, []string{"drift"}, issues[0].Labels)
	assert.True(t, strings.HasPrefix(issues[0].Body, "<!-- infra-flash:drift/2.platform "))

	closed, ok, err := e.client.CloseIssue(ctx, "drift/2.platform", []string{"drift"}, "No drift any more.")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, is.Number, closed.Number)
	assert.Equal(t, "closed", e.fake.Issues(repo)[0].State)
	assert.Equal(t, "No drift any more.", e.fake.Comments(repo, is.Number)[0].Body)
	_, ok, err = e.client.CloseIssue(ctx, "drift/2.platform", []string{"drift"}, "")
	require.NoError(t, err)
	assert.False(t, ok, "nothing open any more")
	reopened, err := e.client.UpsertIssue(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, forge.Created, reopened.Action, "a closed issue stays closed; new drift opens a new one")
}

func appKey(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return key, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

func TestGitHubAppCommentsAsItsBot(t *testing.T) {
	key, pemKey := appKey(t)
	for _, inst := range []int64{4242, 0} { // given, or looked up from the repository
		e := setup(t)
		e.fake.App(99, 4242, &key.PublicKey)
		c, err := forge.New(context.Background(), repo, forge.Options{APIURL: e.api, App: &forge.App{ID: 99, InstallationID: inst, PrivateKey: pemKey}})
		require.NoError(t, err)
		_, err = c.CreateComment(context.Background(), pr, "hello")
		require.NoError(t, err)
		assert.Equal(t, "infra-flash[bot]", e.fake.Comments(repo, pr)[0].User.Login)
	}

	e := setup(t)
	other, _ := appKey(t)
	e.fake.App(99, 4242, &other.PublicKey) // the key does not match
	c, err := forge.New(context.Background(), repo, forge.Options{APIURL: e.api, App: &forge.App{ID: 99, InstallationID: 4242, PrivateKey: pemKey}})
	require.NoError(t, err)
	_, err = c.CreateComment(context.Background(), pr, "hello")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "installation token")
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	for _, o := range []struct {
		repo string
		opts forge.Options
		want string
	}{
		{"octo", forge.Options{}, "OWNER/NAME"},
		{"octo/in fra", forge.Options{}, "OWNER/NAME"},
		{"octo/..", forge.Options{}, "OWNER/NAME"},
		{repo, forge.Options{APIURL: "ftp://x"}, "http(s)"},
		{repo, forge.Options{APIURL: "https://user:secret@host/api"}, "carries credentials: give the URL alone"},
		{repo, forge.Options{Token: "a b"}, "whitespace"},
		{repo, forge.Options{App: &forge.App{ID: 1, PrivateKey: []byte("not a key")}}, "not a PEM"},
		{repo, forge.Options{App: &forge.App{ID: 0, PrivateKey: []byte("x")}}, "--app-id"},
	} {
		_, err := forge.New(ctx, o.repo, o.opts)
		var in *forge.InputError
		require.ErrorAs(t, err, &in, o.repo)
		assert.Contains(t, err.Error(), o.want)
		assert.NotContains(t, err.Error(), "secret")
	}
}

// A canary token and App key never appear in any output: dry-run printouts, log
// lines, errors, or anything sent in a body.
func TestSecretsNeverReachOutput(t *testing.T) {
	const canary = "ghp_CANARY0123456789abcdefCANARY"
	var out bytes.Buffer
	seen := func(e *env, errs ...error) {
		t.Helper()
		texts := []string{out.String(), e.log.String()}
		for _, err := range errs {
			if err != nil {
				texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
			}
		}
		for _, r := range e.fake.Requests() {
			texts = append(texts, r.Body, r.Path, r.Query.Encode())
		}
		for _, c := range e.fake.Comments(repo, pr) {
			texts = append(texts, c.Body)
		}
		for _, s := range texts {
			assert.NotContains(t, s, canary)
			assert.NotContains(t, s, "CANARY")
		}
	}

	e := setup(t, func(o *forge.Options) { o.Token = canary; o.DryRun = &out })
	e.fake.Token(canary, bot)
	e.upsert(t, forge.Stamp{SHA: shaA, Time: t0}, "dry")
	seen(e)

	// A token GitHub rejects, failures and retries: errors and logs stay clean.
	e = setup(t, func(o *forge.Options) { o.Token = canary })
	_, err1 := e.client.CreateComment(context.Background(), pr, "x")
	require.Error(t, err1)
	e.fake.Token(canary, bot)
	e.fake.Fail(func(githubtest.Request) bool { return true }, 10, githubtest.ServerError())
	_, err2 := e.client.ListComments(context.Background(), pr)
	require.Error(t, err2)
	seen(e, err1, err2)

	// A private key that is not a key: the error does not quote it.
	_, err3 := forge.New(context.Background(), repo, forge.Options{App: &forge.App{ID: 1, PrivateKey: []byte("-----BEGIN RSA PRIVATE KEY-----\n" + canary + "\n-----END RSA PRIVATE KEY-----\n")}})
	require.Error(t, err3)
	assert.NotContains(t, err3.Error(), "CANARY")
	// An API URL with credentials in it is not echoed.
	_, err4 := forge.New(context.Background(), repo, forge.Options{APIURL: "ftp://x:" + canary + "@host/"})
	require.Error(t, err4)
	assert.NotContains(t, err4.Error(), "CANARY")
}

// An approval counts for the commit it was given on: a push after it leaves
// the pull request unapproved until someone approves the new head; a request
// for changes blocks on any commit; reviewers outside the trusted
// associations count neither way.
func TestApprovalIsForTheHeadCommit(t *testing.T) {
	alice := githubtest.User{Login: "alice", Association: "MEMBER"}
	bob := githubtest.User{Login: "bob", Association: "COLLABORATOR"}
	mallory := githubtest.User{Login: "mallory", Association: "CONTRIBUTOR"}
	trusted := []string{"OWNER", "MEMBER", "COLLABORATOR"}
	for _, tc := range []struct {
		name    string
		reviews []githubtest.Review
		ok      bool
		reason  string
	}{
		{"none", nil, false, "the pull request is not approved"},
		{"approved at the head", []githubtest.Review{{User: alice, State: "APPROVED", CommitID: shaB}}, true, "approved by @alice at bbbbbbb"},
		{"approved before a push", []githubtest.Review{{User: alice, State: "APPROVED", CommitID: shaA}}, false,
			"the pull request is not approved at its head bbbbbbb: @alice approved aaaaaaa, before the last push"},
		{"approved again after the push", []githubtest.Review{{User: alice, State: "APPROVED", CommitID: shaA}, {User: alice, State: "APPROVED", CommitID: shaB}}, true, "approved by @alice"},
		{"one stale, one fresh", []githubtest.Review{{User: alice, State: "APPROVED", CommitID: shaA}, {User: bob, State: "APPROVED", CommitID: shaB}}, true, "approved by @bob at bbbbbbb"},
		{"approval without a commit", []githubtest.Review{{User: alice, State: "APPROVED"}}, false, "not approved at its head"},
		{"comment after approval keeps it", []githubtest.Review{{User: alice, State: "APPROVED", CommitID: shaB}, {User: alice, State: "COMMENTED", CommitID: shaB}}, true, "approved by @alice"},
		{"dismissed", []githubtest.Review{{User: alice, State: "APPROVED", CommitID: shaB}, {User: alice, State: "DISMISSED", CommitID: shaB}}, false, "the pull request is not approved"},
		{"an outsider's approval does not count", []githubtest.Review{{User: mallory, State: "APPROVED", CommitID: shaB}}, false,
			"the pull request is not approved by OWNER, MEMBER, COLLABORATOR: the approval of @mallory (CONTRIBUTOR) does not count"},
		{"an outsider's approval beside a member's", []githubtest.Review{{User: mallory, State: "APPROVED", CommitID: shaB}, {User: alice, State: "APPROVED", CommitID: shaB}}, true, "approved by @alice at"},
		{"an outsider's request for changes does not block", []githubtest.Review{{User: mallory, State: "CHANGES_REQUESTED", CommitID: shaB}, {User: alice, State: "APPROVED", CommitID: shaB}}, true, "approved by @alice"},
		{"changes requested before the push still block", []githubtest.Review{{User: bob, State: "CHANGES_REQUESTED", CommitID: shaA}, {User: alice, State: "APPROVED", CommitID: shaB}}, false, "changes are requested by @bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			e.fake.PR(repo, pr, shaB, "feature/x")
			for _, rv := range tc.reviews {
				rv.PR = pr
				e.fake.AddReview(repo, rv)
			}
			ok, reason, err := e.client.Approval(context.Background(), pr, shaB, trusted)
			require.NoError(t, err)
			assert.Equal(t, tc.ok, ok, reason)
			assert.Contains(t, reason, tc.reason)
			assert.Empty(t, e.fake.TakeViolations())
		})
	}
	e := setup(t)
	_, _, err := e.client.Approval(context.Background(), pr, "", trusted)
	var in *forge.InputError
	assert.ErrorAs(t, err, &in, "no head, no judgement")
	_, _, err = e.client.Approval(context.Background(), pr, shaB, nil)
	assert.ErrorAs(t, err, &in, "no trusted reviewers, no judgement")
}
