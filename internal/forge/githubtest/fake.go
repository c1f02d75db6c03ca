package githubtest

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/golang-jwt/jwt/v4"
)

// Limits GitHub enforces that the fake enforces too.
const (
	MaxCommentLength     = 65536 // characters in a comment or issue body
	MaxStatusDescription = 140   // characters in a commit status description
)

// User is who a token belongs to.
type User struct {
	Login string
	Type  string // "User" or "Bot"
	// Association is the author_association of the user's comments.
	Association string
	// NoChecks: the token cannot create check runs (a personal token or one
	// without the checks permission), as GitHub answers 403 for those.
	NoChecks bool
}

// Request is one request the fake received (the token is not kept).
type Request struct {
	Method string
	Path   string // without the API prefix: /repos/o/r/issues/1/comments
	Query  url.Values
	Body   string
	User   string // login of the token's user; "" for anonymous
}

func (r Request) String() string { return r.Method + " " + r.Path }

// Fault is an answer the fake gives instead of the normal one.
type Fault struct {
	Status int
	Header http.Header
	Body   string
	// Applied: the request is carried out, then the fault is answered (a
	// proxy's 502 after the write landed, an answer lost on the way).
	Applied bool
}

// Comment is an issue or PR comment held by the fake.
type Comment struct {
	ID      int64
	Issue   int
	Body    string
	User    User
	Created time.Time
	Updated time.Time
}

// Issue is an issue held by the fake (pull requests are issues too).
type Issue struct {
	Number int
	Title  string
	Body   string
	State  string
	Labels []string
	User   User
	IsPR   bool
}

// Status is a commit status held by the fake.
type Status struct {
	SHA, State, Context, Description, TargetURL string
	Created                                     time.Time
}

// CheckRun is a check run held by the fake.
type CheckRun struct {
	ID                                int64
	Name, HeadSHA, Status, Conclusion string
	Title, Summary, Text, DetailsURL  string
	Annotations                       int
}

type pull struct{ head, ref, base, title string }

// Review is a pull request review held by the fake.
type Review struct {
	PR       int
	User     User
	State    string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	CommitID string
}

type commit struct {
	message string
	date    time.Time
}

type repo struct {
	issues    map[int]*Issue
	comments  []*Comment
	pulls     map[int]pull
	commits   map[string]commit
	statuses  []Status
	checkRuns []CheckRun
	reviews   []Review
}

// GitHub is the fake.
type GitHub struct {
	t    testing.TB
	spec *spec

	mu         sync.Mutex
	tokens     map[string]User
	apps       map[int64]*rsa.PublicKey // app id -> key that signs its JWTs
	installs   map[int64]int64          // installation id -> app id
	repos      map[string]*repo
	requests   []Request
	violations []string
	faults     []faultRule
	nextID     int64
	clock      time.Time
	// MaxCommentLength lets a test lower the limit the fake enforces.
	MaxCommentLength int
}

type faultRule struct {
	match func(Request) bool
	times int
	fault Fault
}

// New starts an empty fake: no repositories, no tokens. It fails the test at
// cleanup if any request or answer broke GitHub's description.
func New(t testing.TB) *GitHub {
	t.Helper()
	g := &GitHub{
		t: t, spec: loadSpec(t),
		tokens: map[string]User{}, apps: map[int64]*rsa.PublicKey{}, installs: map[int64]int64{},
		repos: map[string]*repo{}, nextID: 1000, clock: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC),
		MaxCommentLength: MaxCommentLength,
	}
	t.Cleanup(func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, v := range g.violations {
			t.Errorf("GitHub's REST description was broken: %s", v)
		}
	})
	return g
}

// Token registers a token for a user.
func (g *GitHub) Token(token string, u User) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tokens[token] = u.normal()
}

func (u User) normal() User {
	if u.Type == "" {
		u.Type = "User"
	}
	if u.Association == "" {
		u.Association = "NONE"
	}
	return u
}

// App registers a GitHub App: its JWTs must be signed by key, and its
// installation tokens belong to "<slug>[bot]".
func (g *GitHub) App(appID, installationID int64, key *rsa.PublicKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.apps[appID] = key
	g.installs[installationID] = appID
}

// Repo creates a repository ("owner/name").
func (g *GitHub) Repo(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.repoLocked(name)
}

func (g *GitHub) repoLocked(name string) *repo {
	r := g.repos[name]
	if r == nil {
		r = &repo{issues: map[int]*Issue{}, pulls: map[int]pull{}, commits: map[string]commit{}}
		g.repos[name] = r
	}
	return r
}

// Commit adds a commit the API can describe.
func (g *GitHub) Commit(repoName, sha, message string, date time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.repoLocked(repoName).commits[sha] = commit{message, date}
}

// PR opens a pull request (an issue too) with its head commit and branch.
func (g *GitHub) PR(repoName string, number int, headSHA, headRef string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repoLocked(repoName)
	r.pulls[number] = pull{head: headSHA, ref: headRef, base: "main", title: "Change " + headRef}
	r.issues[number] = &Issue{Number: number, Title: "Change " + headRef, State: "open", IsPR: true,
		User: User{Login: "octocat", Type: "User", Association: "MEMBER"}}
}

// AddReview submits a review on a pull request as if a user had.
func (g *GitHub) AddReview(repoName string, rv Review) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rv.User = rv.User.normal()
	r := g.repoLocked(repoName)
	r.reviews = append(r.reviews, rv)
}

// AddComment puts a comment on an issue or PR as if a user had written it.
func (g *GitHub) AddComment(repoName string, issue int, u User, body string) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.addCommentLocked(g.repoLocked(repoName), issue, u.normal(), body).ID
}

func (g *GitHub) addCommentLocked(r *repo, issue int, u User, body string) *Comment {
	g.nextID++
	now := g.tick()
	c := &Comment{ID: g.nextID, Issue: issue, Body: body, User: u, Created: now, Updated: now}
	r.comments = append(r.comments, c)
	return c
}

// tick advances the fake's clock: every write happens a second after the last.
func (g *GitHub) tick() time.Time {
	g.clock = g.clock.Add(time.Second)
	return g.clock
}

// AddIssue opens an issue as if a user had written it, and returns its number.
func (g *GitHub) AddIssue(repoName string, u User, title, body string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.repoLocked(repoName)
	n := 1
	for k := range r.issues {
		n = max(n, k+1)
	}
	r.issues[n] = &Issue{Number: n, Title: title, Body: body, State: "open", User: u.normal()}
	g.tick()
	return n
}

// Comments returns an issue's comments, oldest first.
func (g *GitHub) Comments(repoName string, issue int) []Comment {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Comment
	for _, c := range g.repoLocked(repoName).comments {
		if c.Issue == issue {
			out = append(out, *c)
		}
	}
	return out
}

// Issues returns the repository's issues (not pull requests), by number.
func (g *GitHub) Issues(repoName string) []Issue {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Issue
	for _, is := range g.repoLocked(repoName).issues {
		if !is.IsPR {
			out = append(out, *is)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// Statuses returns the commit statuses set on a commit, oldest first.
func (g *GitHub) Statuses(repoName, sha string) []Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Status
	for _, s := range g.repoLocked(repoName).statuses {
		if s.SHA == sha {
			out = append(out, s)
		}
	}
	return out
}

// AddStatus sets a commit status as another system would.
func (g *GitHub) AddStatus(repoName string, s Status) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s.Created = g.tick()
	r := g.repoLocked(repoName)
	r.statuses = append(r.statuses, s)
}

// AddCheckRun records a check run as another system would.
func (g *GitHub) AddCheckRun(repoName string, cr CheckRun) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextID++
	cr.ID = g.nextID
	g.tick()
	r := g.repoLocked(repoName)
	r.checkRuns = append(r.checkRuns, cr)
}

// CheckRuns returns the check runs created, oldest first.
func (g *GitHub) CheckRuns(repoName string) []CheckRun {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]CheckRun(nil), g.repoLocked(repoName).checkRuns...)
}

// Requests returns every request received so far.
func (g *GitHub) Requests() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Request(nil), g.requests...)
}

// TakeViolations returns the violations of the description so far and forgets
// them, for tests that break the description on purpose.
func (g *GitHub) TakeViolations() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	v := g.violations
	g.violations = nil
	return v
}

// Reset forgets the recorded requests (the state stays).
func (g *GitHub) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = nil
}

// Fail answers the next `times` requests that match with the fault instead.
// Faults are answers GitHub gives that its description does not always list
// (5xx, rate limits), so they are sent without response validation; the requests
// are still validated.
func (g *GitHub) Fail(match func(Request) bool, times int, f Fault) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = append(g.faults, faultRule{match, times, f})
}

// ServerError is a 502 as GitHub's front end sends it.
func ServerError() Fault {
	return Fault{Status: http.StatusBadGateway, Body: `{"message":"Server Error"}`}
}

// SecondaryRateLimit is GitHub's answer to too many writes in a short time.
func SecondaryRateLimit(retryAfter int) Fault {
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	return Fault{Status: http.StatusForbidden, Header: h, Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",` +
		`"documentation_url":"https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`}
}

// Start serves the fake on 127.0.0.1 under /api/v3/ (as GitHub Enterprise Server
// does) and returns that API URL; the server stops at the end of the test.
func (g *GitHub) Start() string {
	srv := httptest.NewServer(g)
	g.t.Cleanup(srv.Close)
	return srv.URL + "/api/v3/"
}

// Client returns an HTTP client whose requests the fake answers in-process.
func (g *GitHub) Client() *http.Client {
	return &http.Client{Transport: roundTripper{g}}
}

type roundTripper struct{ g *GitHub }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	rt.g.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// ServeHTTP validates the request, answers it and validates the answer.
func (g *GitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	if r.URL.Path == "/api/graphql" {
		g.graphQL(w, r, body)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/v3")
	vr := r.Clone(context.Background())
	vr.URL.Path = path
	vr.URL.RawPath = ""
	vr.Body = io.NopCloser(bytes.NewReader(body))

	route, params, err := g.spec.find(vr)
	if err != nil {
		g.violate("%s %s: no such operation in the description: %v", r.Method, path, err)
		writeJSON(w, http.StatusNotFound, nil, map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	input := &openapi3filter.RequestValidationInput{
		Request: vr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), input); err != nil {
		g.violate("%s %s: request does not match the description: %v", r.Method, path, err)
		writeJSON(w, http.StatusUnprocessableEntity, nil, validationFailed("the request does not match the description"))
		return
	}

	g.mu.Lock()
	user, known := g.tokens[bearer(r)]
	req := Request{Method: r.Method, Path: path, Query: r.URL.Query(), Body: string(body)}
	if known {
		req.User = user.Login
	}
	g.requests = append(g.requests, req)
	var fault *Fault
	for i := range g.faults {
		if g.faults[i].times > 0 && g.faults[i].match(req) {
			g.faults[i].times--
			f := g.faults[i].fault
			fault = &f
			break
		}
	}
	g.mu.Unlock()
	if fault != nil {
		if fault.Applied {
			g.answer(route, params, req, r, user, known)
		}
		writeRaw(w, fault.Status, fault.Header, []byte(fault.Body))
		return
	}

	a := g.answer(route, params, req, r, user, known)
	data, _ := json.Marshal(a.body)
	if a.body == nil {
		data = nil
	}
	if !a.undocumented {
		rin := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: input, Status: a.status, Header: a.header(), Body: io.NopCloser(bytes.NewReader(data)),
			Options: &openapi3filter.Options{MultiError: true, IncludeResponseStatus: true,
				SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()}},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
			g.violate("%s %s: the fake's %d answer does not match the description: %v", r.Method, path, a.status, err)
		}
	}
	writeRaw(w, a.status, a.header(), data)
}

func (g *GitHub) violate(format string, args ...any) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v := fmt.Sprintf(format, args...)
	if len(v) > 2000 { // schema errors quote whole schemas
		v = v[:2000] + " …"
	}
	g.violations = append(g.violations, v)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if strings.HasPrefix(h, p) {
			return strings.TrimPrefix(h, p)
		}
	}
	return ""
}

type answer struct {
	status       int
	body         any
	extra        http.Header
	undocumented bool // an answer GitHub gives that the description does not list
}

func (a answer) header() http.Header {
	h := http.Header{}
	if a.body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	for k, v := range a.extra {
		h[k] = v
	}
	return h
}

func writeJSON(w http.ResponseWriter, status int, h http.Header, body any) {
	data, _ := json.Marshal(body)
	writeRaw(w, status, h, data)
}

func writeRaw(w http.ResponseWriter, status int, h http.Header, data []byte) {
	for k, v := range h {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" && len(data) > 0 {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func validationFailed(msg string, errs ...map[string]any) map[string]any {
	out := map[string]any{"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest"}
	if len(errs) > 0 {
		list := make([]any, len(errs))
		for i, e := range errs {
			list[i] = e
		}
		out["errors"] = list
	} else {
		out["errors"] = []any{map[string]any{"code": "invalid", "message": msg}}
	}
	return out
}

func notFound() answer {
	return answer{status: http.StatusNotFound, body: map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}}
}

// answer dispatches on the operation.
func (g *GitHub) answer(route *routers.Route, params map[string]string, req Request, r *http.Request, user User, known bool) answer {
	op := route.Operation.OperationID
	if op == "apps/create-installation-access-token" {
		return g.installationToken(route, params, r)
	}
	if op == "apps/get-repo-installation" {
		return g.repoInstallation(route, r)
	}
	if op == "apps/get-authenticated" {
		return g.authenticatedApp(route, r)
	}
	if !known && (req.Method != http.MethodGet || bearer(r) != "") {
		// Anonymous reads of a public repository work; writes and unknown tokens do not.
		return answer{status: http.StatusUnauthorized, undocumented: true,
			body: map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}}
	}
	if op == "users/get-authenticated" {
		if user.Type == "Bot" {
			// Installation tokens (GITHUB_TOKEN, an App's) have no user.
			return answer{status: http.StatusForbidden, undocumented: true, body: map[string]any{
				"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"}}
		}
		m, _ := g.spec.example(route, 200).(map[string]any)
		out := userJSON(m, user).(map[string]any)
		// The description's examples predate the field its schema requires.
		out["user_view_type"] = "public"
		if _, private := out["collaborators"]; private {
			out["user_view_type"] = "private"
		}
		return answer{status: 200, body: out}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	full := params["owner"] + "/" + params["repo"]
	rp, ok := g.repos[full]
	if !ok {
		return notFound()
	}
	var in map[string]any
	_ = json.Unmarshal([]byte(req.Body), &in)
	ex := func(status int) map[string]any {
		v := g.spec.example(route, status)
		if list, ok := v.([]any); ok && len(list) > 0 {
			v = list[0]
		}
		m, _ := v.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		return m
	}
	base := "https://api.github.com/repos/" + full
	switch op {
	case "issues/list-comments":
		n, _ := strconv.Atoi(params["issue_number"])
		if rp.issues[n] == nil {
			return notFound()
		}
		var all []*Comment
		for _, c := range rp.comments {
			if c.Issue == n {
				all = append(all, c)
			}
		}
		return listPage(all, req.Query, r, func(c *Comment) any { return commentJSON(ex(200), c, full) })
	case "issues/create-comment":
		n, _ := strconv.Atoi(params["issue_number"])
		if rp.issues[n] == nil {
			return notFound()
		}
		body, _ := in["body"].(string)
		if a, bad := g.tooLong(body, "IssueComment"); bad {
			return a
		}
		c := g.addCommentLocked(rp, n, user, body)
		return answer{status: 201, body: commentJSON(ex(201), c, full),
			extra: http.Header{"Location": {base + "/issues/comments/" + strconv.FormatInt(c.ID, 10)}}}
	case "issues/get-comment", "issues/update-comment", "issues/delete-comment":
		id, _ := strconv.ParseInt(params["comment_id"], 10, 64)
		idx := -1
		for i, c := range rp.comments {
			if c.ID == id {
				idx = i
			}
		}
		if idx < 0 {
			return notFound()
		}
		c := rp.comments[idx]
		switch op {
		case "issues/get-comment":
			return answer{status: 200, body: commentJSON(ex(200), c, full)}
		case "issues/delete-comment":
			rp.comments = append(rp.comments[:idx], rp.comments[idx+1:]...)
			return answer{status: 204}
		}
		body, _ := in["body"].(string)
		if a, bad := g.tooLong(body, "IssueComment"); bad {
			return a
		}
		c.Body, c.Updated = body, g.tick()
		return answer{status: 200, body: commentJSON(ex(200), c, full)}
	case "issues/list-for-repo":
		state := req.Query.Get("state")
		if state == "" {
			state = "open"
		}
		var want []string
		if l := req.Query.Get("labels"); l != "" {
			want = strings.Split(l, ",")
		}
		var all []*Issue
		for _, is := range rp.issues {
			if (state == "all" || is.State == state) && hasLabels(is.Labels, want) {
				all = append(all, is)
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Number > all[j].Number }) // newest first, as GitHub
		return listPage(all, req.Query, r, func(is *Issue) any { return issueJSON(ex(200), is, full) })
	case "issues/create":
		title := fmt.Sprint(in["title"])
		body, _ := in["body"].(string)
		if a, bad := g.tooLong(body, "Issue"); bad {
			return a
		}
		n := 1
		for k := range rp.issues {
			n = max(n, k+1)
		}
		is := &Issue{Number: n, Title: title, Body: body, State: "open", Labels: labelsOf(in["labels"]), User: user}
		rp.issues[n] = is
		g.tick()
		return answer{status: 201, body: issueJSON(ex(201), is, full),
			extra: http.Header{"Location": {base + "/issues/" + strconv.Itoa(n)}}}
	case "issues/get", "issues/update":
		n, _ := strconv.Atoi(params["issue_number"])
		is := rp.issues[n]
		if is == nil {
			return notFound()
		}
		if op == "issues/update" {
			if v, ok := in["title"]; ok && v != nil {
				is.Title = fmt.Sprint(v)
			}
			if v, ok := in["body"].(string); ok {
				if a, bad := g.tooLong(v, "Issue"); bad {
					return a
				}
				is.Body = v
			}
			if v, ok := in["state"].(string); ok {
				is.State = v
			}
			if v, ok := in["labels"]; ok {
				is.Labels = labelsOf(v)
			}
			g.tick()
		}
		return answer{status: 200, body: issueJSON(ex(200), is, full)}
	case "pulls/get":
		n, _ := strconv.Atoi(params["pull_number"])
		p, ok := rp.pulls[n]
		if !ok {
			return notFound()
		}
		m := ex(200)
		m["requested_teams"] = []any{} // the example's team lacks a required field
		m["number"] = n
		m["state"] = "open"
		m["title"] = p.title
		m["url"] = base + "/pulls/" + strconv.Itoa(n)
		if head, ok := m["head"].(map[string]any); ok {
			head["sha"], head["ref"] = p.head, p.ref
			head["label"] = params["owner"] + ":" + p.ref
		}
		if b, ok := m["base"].(map[string]any); ok {
			b["ref"] = p.base
		}
		return answer{status: 200, body: m}
	case "pulls/list-reviews":
		n, _ := strconv.Atoi(params["pull_number"])
		var all []Review
		for _, rv := range rp.reviews { // oldest first, as GitHub
			if rv.PR == n {
				all = append(all, rv)
			}
		}
		tmpl := ex(200)
		return listPage(all, req.Query, r, func(rv Review) any {
			m := maps.Clone(tmpl)
			m["state"], m["commit_id"] = rv.State, rv.CommitID
			m["user"] = userJSON(m["user"], rv.User)
			m["author_association"] = rv.User.Association
			return m
		})
	case "repos/get-commit":
		c, ok := rp.commits[params["ref"]]
		if !ok {
			return answer{status: 422, body: validationFailed("No commit found for SHA: " + params["ref"])}
		}
		m := ex(200)
		m["files"] = []any{} // the example's files lack required fields
		m["sha"] = params["ref"]
		if cm, ok := m["commit"].(map[string]any); ok {
			cm["message"] = c.message
			for _, who := range []string{"author", "committer"} {
				if p, ok := cm[who].(map[string]any); ok {
					p["date"] = c.date.UTC().Format(time.RFC3339)
				}
			}
		}
		return answer{status: 200, body: m}
	case "repos/create-commit-status":
		desc, _ := in["description"].(string)
		if utf8.RuneCountInString(desc) > MaxStatusDescription {
			return answer{status: 422, undocumented: true, body: validationFailed("",
				map[string]any{"resource": "Status", "code": "custom", "field": "description",
					"message": "description is too long (maximum is 140 characters)"})}
		}
		s := Status{SHA: params["sha"], State: fmt.Sprint(in["state"]), Context: "default", Description: desc, Created: g.tick()}
		if c, ok := in["context"].(string); ok {
			s.Context = c
		}
		if u, ok := in["target_url"].(string); ok {
			s.TargetURL = u
		}
		rp.statuses = append(rp.statuses, s)
		return answer{status: 201, body: statusJSON(ex(201), s, len(rp.statuses))}
	case "repos/list-commit-statuses-for-ref":
		var all []Status
		for i := len(rp.statuses) - 1; i >= 0; i-- { // newest first, as GitHub
			if rp.statuses[i].SHA == params["ref"] {
				all = append(all, rp.statuses[i])
			}
		}
		return listPage(all, req.Query, r, func(s Status) any { return statusJSON(ex(200), s, 1) })
	case "checks/list-for-ref":
		var all []CheckRun
		for i := len(rp.checkRuns) - 1; i >= 0; i-- { // newest first
			cr := rp.checkRuns[i]
			if cr.HeadSHA == params["ref"] && (req.Query.Get("check_name") == "" || req.Query.Get("check_name") == cr.Name) {
				all = append(all, cr)
			}
		}
		page, link := paginate(len(all), req.Query, r)
		tmpl := g.spec.example(route, 200).(map[string]any)["check_runs"].([]any)[0].(map[string]any)
		items := []any{}
		for _, cr := range all[page[0]:page[1]] {
			items = append(items, checkRunJSON(tmpl, cr))
		}
		return answer{status: 200, body: map[string]any{"total_count": len(all), "check_runs": items}, extra: link}
	case "checks/create":
		if user.NoChecks {
			return answer{status: http.StatusForbidden, undocumented: true,
				body: map[string]any{"message": "Resource not accessible by personal access token", "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run"}}
		}
		g.nextID++
		cr := CheckRun{ID: g.nextID, Name: fmt.Sprint(in["name"]), HeadSHA: fmt.Sprint(in["head_sha"])}
		cr.Status, _ = in["status"].(string)
		cr.Conclusion, _ = in["conclusion"].(string)
		cr.DetailsURL, _ = in["details_url"].(string)
		if out, ok := in["output"].(map[string]any); ok {
			cr.Title, _ = out["title"].(string)
			cr.Summary, _ = out["summary"].(string)
			cr.Text, _ = out["text"].(string)
			if a, ok := out["annotations"].([]any); ok {
				cr.Annotations = len(a)
			}
		}
		rp.checkRuns = append(rp.checkRuns, cr)
		g.tick()
		return answer{status: 201, body: checkRunJSON(ex(201), cr)}
	}
	return answer{status: http.StatusNotImplemented, undocumented: true, body: map[string]any{"message": "not implemented by the fake: " + op}}
}

func (g *GitHub) tooLong(body, resource string) (answer, bool) {
	if utf8.RuneCountInString(body) <= g.MaxCommentLength {
		return answer{}, false
	}
	return answer{status: 422, body: validationFailed("", map[string]any{
		"resource": resource, "code": "custom", "field": "body",
		"message": fmt.Sprintf("body is too long (maximum is %d characters)", g.MaxCommentLength)})}, true
}

// installationToken checks the App's JWT and issues a token for its bot user.
func (g *GitHub) installationToken(route *routers.Route, params map[string]string, r *http.Request) answer {
	inst, _ := strconv.ParseInt(params["installation_id"], 10, 64)
	g.mu.Lock()
	defer g.mu.Unlock()
	appID, ok := g.installs[inst]
	if !ok {
		return notFound()
	}
	if got, ok := g.appOf(r); !ok || got != appID {
		return badJWT()
	}
	g.nextID++
	token := fmt.Sprintf("ghs_fakeinstallation%d", g.nextID)
	g.tokens[token] = User{Login: AppSlug + "[bot]", Type: "Bot", Association: "NONE"}
	m, _ := g.spec.example(route, 201).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m["token"] = token
	m["expires_at"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	return answer{status: 201, body: m}
}

// appOf checks the request's JWT and returns the App that signed it.
func (g *GitHub) appOf(r *http.Request) (int64, bool) {
	claims := jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(bearer(r), &claims, func(tok *jwt.Token) (any, error) {
		if _, ok := tok.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("signed with %v, not RS256", tok.Header["alg"])
		}
		id, err := strconv.ParseInt(claims.Issuer, 10, 64)
		if err != nil || g.apps[id] == nil {
			return nil, fmt.Errorf("unknown app %q", claims.Issuer)
		}
		return g.apps[id], nil
	})
	if err != nil {
		return 0, false
	}
	id, _ := strconv.ParseInt(claims.Issuer, 10, 64)
	return id, true
}

// authenticatedApp answers GET /app for the App whose JWT signs the request.
func (g *GitHub) authenticatedApp(route *routers.Route, r *http.Request) answer {
	return g.asApp(r, func(app int64) answer {
		m, _ := g.spec.example(route, 200).(map[string]any)
		m["id"] = app
		m["slug"] = AppSlug
		m["name"] = AppSlug
		return answer{status: 200, body: m}
	})
}

// asApp answers for the App whose JWT signs the request, or refuses the JWT.
func (g *GitHub) asApp(r *http.Request, f func(app int64) answer) answer {
	g.mu.Lock()
	defer g.mu.Unlock()
	app, ok := g.appOf(r)
	if !ok {
		return badJWT()
	}
	return f(app)
}

// AppSlug is the slug of every App the fake knows: its bot is "<slug>[bot]".
const AppSlug = "infra-flash"

// graphQL answers the one GraphQL query the project sends, the viewer's
// login (which installation tokens may read, unlike GET /user). GraphQL is
// not in the REST description, so the request is checked here.
func (g *GitHub) graphQL(w http.ResponseWriter, r *http.Request, body []byte) {
	g.mu.Lock()
	user, known := g.tokens[bearer(r)]
	req := Request{Method: r.Method, Path: "/graphql", Body: string(body), User: user.Login}
	g.requests = append(g.requests, req)
	g.mu.Unlock()
	var in struct {
		Query string `json:"query"`
	}
	switch {
	case r.Method != http.MethodPost:
		writeJSON(w, http.StatusNotFound, nil, map[string]any{"message": "Not Found"})
	case !known:
		writeJSON(w, http.StatusUnauthorized, nil, map[string]any{"message": "Bad credentials"})
	case json.Unmarshal(body, &in) != nil || strings.Join(strings.Fields(in.Query), " ") != "query { viewer { login } }":
		g.violate("POST /graphql: unexpected query %q", string(body))
		writeJSON(w, http.StatusOK, nil, map[string]any{"errors": []any{map[string]any{"message": "unexpected query"}}})
	default:
		writeJSON(w, http.StatusOK, nil, map[string]any{"data": map[string]any{"viewer": map[string]any{"login": user.Login}}})
	}
}

func badJWT() answer {
	return answer{status: http.StatusUnauthorized, undocumented: true, body: map[string]any{
		"message": "A JSON web token could not be decoded", "documentation_url": "https://docs.github.com/rest"}}
}

// repoInstallation answers which installation of the calling App covers a repository.
func (g *GitHub) repoInstallation(route *routers.Route, r *http.Request) answer {
	return g.asApp(r, func(app int64) answer {
		for inst, a := range g.installs {
			if a == app {
				m, _ := g.spec.example(route, 200).(map[string]any)
				m["id"] = inst
				m["app_id"] = app
				return answer{status: 200, body: m}
			}
		}
		return notFound()
	})
}

// listPage answers one page of a list, with GitHub's Link header.
func listPage[T any](all []T, q url.Values, r *http.Request, render func(T) any) answer {
	page, link := paginate(len(all), q, r)
	items := []any{}
	for _, x := range all[page[0]:page[1]] {
		items = append(items, render(x))
	}
	return answer{status: 200, body: items, extra: link}
}

// paginate cuts a list as GitHub does (per_page up to 100, default 30) and
// returns the slice bounds and the Link header.
func paginate(n int, q url.Values, r *http.Request) ([2]int, http.Header) {
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	last := max((n+per-1)/per, 1)
	lo := min((page-1)*per, n)
	hi := min(lo+per, n)
	h := http.Header{}
	link := func(p int, rel string) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		if r.TLS != nil {
			u.Scheme = "https"
		}
		v := u.Query()
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(per))
		u.RawQuery = v.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		h.Set("Link", strings.Join(links, ", "))
	}
	return [2]int{lo, hi}, h
}

func userJSON(tmpl any, u User) any {
	m, _ := tmpl.(map[string]any)
	out := maps.Clone(m)
	if out == nil {
		out = map[string]any{}
	}
	out["login"], out["type"] = u.Login, u.Type
	out["url"] = "https://api.github.com/users/" + url.PathEscape(u.Login)
	out["html_url"] = "https://github.com/" + url.PathEscape(u.Login)
	return out
}

func commentJSON(tmpl map[string]any, c *Comment, full string) map[string]any {
	m := maps.Clone(tmpl)
	id := strconv.FormatInt(c.ID, 10)
	m["id"] = c.ID
	m["node_id"] = "IC_" + id
	m["body"] = c.Body
	m["url"] = "https://api.github.com/repos/" + full + "/issues/comments/" + id
	m["html_url"] = "https://github.com/" + full + "/pull/" + strconv.Itoa(c.Issue) + "#issuecomment-" + id
	m["issue_url"] = "https://api.github.com/repos/" + full + "/issues/" + strconv.Itoa(c.Issue)
	m["created_at"] = c.Created.UTC().Format(time.RFC3339)
	m["updated_at"] = c.Updated.UTC().Format(time.RFC3339)
	m["author_association"] = c.User.Association
	m["user"] = userJSON(tmpl["user"], c.User)
	return m
}

func issueJSON(tmpl map[string]any, is *Issue, full string) map[string]any {
	m := maps.Clone(tmpl)
	m["number"] = is.Number
	m["id"] = int64(900000 + is.Number)
	m["title"] = is.Title
	m["body"] = is.Body
	m["state"] = is.State
	m["url"] = "https://api.github.com/repos/" + full + "/issues/" + strconv.Itoa(is.Number)
	m["html_url"] = "https://github.com/" + full + "/issues/" + strconv.Itoa(is.Number)
	m["user"] = userJSON(tmpl["user"], is.User)
	labels := []any{}
	for i, l := range is.Labels {
		labels = append(labels, map[string]any{"id": i + 1, "node_id": "LA_" + l, "url": "https://api.github.com/repos/" + full + "/labels/" + url.PathEscape(l),
			"name": l, "description": nil, "color": "ededed", "default": false})
	}
	m["labels"] = labels
	if is.State == "closed" {
		m["closed_at"] = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).Format(time.RFC3339)
	} else {
		m["closed_at"] = nil
	}
	if is.IsPR {
		m["pull_request"] = map[string]any{"url": "https://api.github.com/repos/" + full + "/pulls/" + strconv.Itoa(is.Number),
			"html_url":  "https://github.com/" + full + "/pull/" + strconv.Itoa(is.Number),
			"diff_url":  "https://github.com/" + full + "/pull/" + strconv.Itoa(is.Number) + ".diff",
			"patch_url": "https://github.com/" + full + "/pull/" + strconv.Itoa(is.Number) + ".patch"}
	} else {
		delete(m, "pull_request")
	}
	return m
}

func checkRunJSON(tmpl map[string]any, cr CheckRun) map[string]any {
	m := maps.Clone(tmpl)
	m["id"], m["name"], m["head_sha"] = cr.ID, cr.Name, cr.HeadSHA
	m["status"] = "completed"
	if cr.Status != "" {
		m["status"] = cr.Status
	}
	if cr.Conclusion != "" {
		m["conclusion"] = cr.Conclusion
	}
	return m
}

func statusJSON(tmpl map[string]any, s Status, id int) map[string]any {
	m := maps.Clone(tmpl)
	m["id"] = id
	m["state"], m["context"] = s.State, s.Context
	m["description"] = s.Description
	m["target_url"] = s.TargetURL
	m["created_at"] = s.Created.UTC().Format(time.RFC3339)
	m["updated_at"] = s.Created.UTC().Format(time.RFC3339)
	return m
}

func labelsOf(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, l := range list {
		switch x := l.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			out = append(out, fmt.Sprint(x["name"]))
		}
	}
	return out
}

func hasLabels(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if strings.EqualFold(h, strings.TrimSpace(w)) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
