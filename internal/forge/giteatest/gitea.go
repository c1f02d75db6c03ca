// Package giteatest starts a real Gitea on 127.0.0.1 for tests: a fresh
// instance per test, with two accounts (the bot that runs our commands and an
// outsider), repositories with pull requests, and the webhook payloads Gitea
// sends, which are what Gitea Actions hands a job as its event.
//
// The binary comes from INFRA_GITEA_BIN (scripts/setup-gitea builds it, with
// Gitea's options and templates in the same directory).
// Without it the tests skip, unless INFRA_REQUIRE_GITEA=1 (scripts/test), which
// makes them fail instead.
package giteatest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Account is a Gitea user and its API token.
type Account struct {
	Login, Token string
}

// Gitea is a running instance.
type Gitea struct {
	URL      string // http://127.0.0.1:PORT/
	API      string // URL + api/v1/
	Bot      Account
	Outsider Account
}

// Binary returns the Gitea binary to test with, skipping (or failing, when
// INFRA_REQUIRE_GITEA=1) the test without one.
func Binary(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("INFRA_GITEA_BIN")
	if bin == "" {
		msg := "Gitea tests need INFRA_GITEA_BIN: run scripts/setup-gitea (it prints the binary's path)"
		if os.Getenv("INFRA_REQUIRE_GITEA") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("INFRA_GITEA_BIN: %v", err)
	}
	return bin
}

// Start runs a fresh Gitea until the test ends.
func Start(t testing.TB) *Gitea {
	t.Helper()
	bin := Binary(t)
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(dir, "app.ini")
	// CI runs as root, which Gitea refuses unless told otherwise. Webhooks may
	// go to loopback, where the test listens for them.
	ini := fmt.Sprintf(`APP_NAME = infra-test
RUN_MODE = prod
WORK_PATH = %[1]s
I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true
[server]
STATIC_ROOT_PATH = %[3]s
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[2]d
ROOT_URL = http://127.0.0.1:%[2]d/
OFFLINE_MODE = true
DISABLE_SSH = true
START_SSH_SERVER = false
[database]
DB_TYPE = sqlite3
PATH = %[1]s/gitea.db
[repository]
ROOT = %[1]s/repos
DEFAULT_BRANCH = main
[security]
INSTALL_LOCK = true
[service]
DISABLE_REGISTRATION = true
[webhook]
ALLOWED_HOST_LIST = loopback
[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false
[cron]
ENABLED = false
[log]
MODE = console
LEVEL = warn
`, dir, port, filepath.Dir(bin))
	if err := os.WriteFile(conf, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GITEA_WORK_DIR="+dir, "HOME="+dir, "USER=root")
	gitea := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--config", conf)...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gitea %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	gitea("migrate")
	token := func(login string, admin bool) Account {
		args := []string{"admin", "user", "create", "--username", login, "--password", "a-long-test-password-1",
			"--email", login + "@example.com", "--must-change-password=false"}
		if admin {
			args = append(args, "--admin")
		}
		gitea(args...)
		out := strings.Fields(gitea("admin", "user", "generate-access-token", "--username", login,
			"--token-name", "test", "--scopes", "all", "--raw"))
		if len(out) == 0 {
			t.Fatalf("gitea gave %s no token", login)
		}
		return Account{Login: login, Token: out[len(out)-1]}
	}
	g := &Gitea{URL: fmt.Sprintf("http://127.0.0.1:%d/", port)}
	g.API = g.URL + "api/v1/"
	g.Bot = token("infra-bot", true)
	g.Outsider = token("mallory", false)

	ctx, cancel := context.WithCancel(context.Background())
	web := exec.CommandContext(ctx, bin, "web", "--config", conf)
	web.Dir, web.Env = dir, env
	var logs bytes.Buffer
	web.Stdout, web.Stderr = &logs, &logs
	if err := web.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = web.Wait() })
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(g.API + "version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gitea did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	return g
}

// Do sends one API request as an account and decodes the answer into out; it
// fails the test unless the status is one of want (default: any 2xx).
func (g *Gitea) Do(t testing.TB, as Account, method, path string, body, out any, want ...int) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, g.API+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "token "+as.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	ok := resp.StatusCode/100 == 2
	if len(want) > 0 {
		ok = false
		for _, w := range want {
			ok = ok || resp.StatusCode == w
		}
	}
	if !ok {
		t.Fatalf("gitea %s %s as %s: %d %s", method, path, as.Login, resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("gitea %s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// Repo creates the bot's repository and returns "owner/name".
func (g *Gitea) Repo(t testing.TB, name string) string {
	t.Helper()
	g.Do(t, g.Bot, http.MethodPost, "user/repos", map[string]any{"name": name, "auto_init": true, "default_branch": "main"}, nil)
	return g.Bot.Login + "/" + name
}

// PR is a pull request Gitea opened.
type PR struct {
	Number  int
	HeadSHA string
	Branch  string
}

// OpenPR commits a file on a new branch and opens a pull request from it.
func (g *Gitea) OpenPR(t testing.TB, repo, branch, file, content string) PR {
	t.Helper()
	sha := g.commitFile(t, repo, map[string]any{"branch": "main", "new_branch": branch}, file, content)
	var pr struct {
		Number int `json:"number"`
		Head   struct {
			SHA string `json:"sha"`
		} `json:"head"`
	}
	g.Do(t, g.Bot, http.MethodPost, "repos/"+repo+"/pulls", map[string]any{"head": branch, "base": "main", "title": "Change " + branch}, &pr)
	if pr.Head.SHA != sha {
		t.Fatalf("the PR's head %s is not the commit %s", pr.Head.SHA, sha)
	}
	return PR{Number: pr.Number, HeadSHA: pr.Head.SHA, Branch: branch}
}

// commitFile commits a file as the bot where branching says ("branch", and
// "new_branch" to start one) and returns the commit.
func (g *Gitea) commitFile(t testing.TB, repo string, branching map[string]any, file, content string) string {
	t.Helper()
	var created struct {
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	body := map[string]any{"content": base64.StdEncoding.EncodeToString([]byte(content)), "message": "feat: " + file + "\n\nadded by the test"}
	for k, v := range branching {
		body[k] = v
	}
	g.Do(t, g.Bot, http.MethodPost, "repos/"+repo+"/contents/"+file, body, &created)
	return created.Commit.SHA
}

// Collaborator creates an account with write access to the repository (one
// whose review is an official approval) and returns it.
func (g *Gitea) Collaborator(t testing.TB, repo, login string) Account {
	t.Helper()
	const password = "a-long-test-password-2"
	g.Do(t, g.Bot, http.MethodPost, "admin/users", map[string]any{"username": login, "email": login + "@example.com",
		"password": password, "must_change_password": false}, nil)
	req, err := http.NewRequest(http.MethodPost, g.API+"users/"+login+"/tokens", strings.NewReader(`{"name":"test","scopes":["all"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(login, password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		SHA1 string `json:"sha1"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.SHA1 == "" {
		t.Fatalf("gitea gave %s no token (%d): %v", login, resp.StatusCode, err)
	}
	g.Do(t, g.Bot, http.MethodPut, "repos/"+repo+"/collaborators/"+login, map[string]any{"permission": "write"}, nil)
	return Account{Login: login, Token: tok.SHA1}
}

// Approve submits an approving review of the pull request's commit sha and
// returns its ID.
func (g *Gitea) Approve(t testing.TB, as Account, repo string, pr int, sha string) int64 {
	t.Helper()
	var rv struct {
		ID int64 `json:"id"`
	}
	g.Do(t, as, http.MethodPost, fmt.Sprintf("repos/%s/pulls/%d/reviews", repo, pr),
		map[string]any{"event": "APPROVED", "body": "lgtm", "commit_id": sha}, &rv)
	return rv.ID
}

// Dismiss dismisses a review as the bot (the repository's owner).
func (g *Gitea) Dismiss(t testing.TB, repo string, pr int, review int64) {
	t.Helper()
	g.Do(t, g.Bot, http.MethodPost, fmt.Sprintf("repos/%s/pulls/%d/reviews/%d/dismissals", repo, pr, review),
		map[string]any{"message": "dismissed by the test"}, nil)
}

// Push commits a file on the pull request's branch and waits until Gitea
// reports the commit as the pull request's head (it updates it
// asynchronously); it returns the new head.
func (g *Gitea) Push(t testing.TB, repo string, pr PR, file, content string) string {
	t.Helper()
	sha := g.commitFile(t, repo, map[string]any{"branch": pr.Branch}, file, content)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got struct {
			Head struct {
				SHA string `json:"sha"`
			} `json:"head"`
		}
		g.Do(t, g.Bot, http.MethodGet, fmt.Sprintf("repos/%s/pulls/%d", repo, pr.Number), nil, &got)
		if got.Head.SHA == sha {
			return sha
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pull request's head is %s, not the pushed %s", got.Head.SHA, sha)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Comment posts a comment as an account and returns its ID.
func (g *Gitea) Comment(t testing.TB, as Account, repo string, issue int, body string) int64 {
	t.Helper()
	var c struct {
		ID int64 `json:"id"`
	}
	g.Do(t, as, http.MethodPost, fmt.Sprintf("repos/%s/issues/%d/comments", repo, issue), map[string]any{"body": body}, &c)
	return c.ID
}

// IssueComment is a comment as Gitea lists it.
type IssueComment struct {
	ID      int64  `json:"id"`
	Body    string `json:"body"`
	User    struct{ Login string }
	Created time.Time `json:"created_at"`
	Updated time.Time `json:"updated_at"`
}

// Comments lists an issue's comments, oldest first.
func (g *Gitea) Comments(t testing.TB, repo string, issue int) []IssueComment {
	t.Helper()
	var out []IssueComment
	g.Do(t, g.Bot, http.MethodGet, fmt.Sprintf("repos/%s/issues/%d/comments", repo, issue), nil, &out)
	return out
}

// Issue is an issue as Gitea lists it.
type Issue struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	State  string `json:"state"`
	User   struct{ Login string }
}

// Issues lists the repository's issues (not pull requests), open and closed.
func (g *Gitea) Issues(t testing.TB, repo string) []Issue {
	t.Helper()
	var out []Issue
	g.Do(t, g.Bot, http.MethodGet, "repos/"+repo+"/issues?state=all&type=issues", nil, &out)
	return out
}

// Status is a commit status as Gitea lists it: its state under "status".
type Status struct {
	ID          int64  `json:"id"` // increasing: statuses made in one second are ordered by it
	Context     string `json:"context"`
	Status      string `json:"status"`
	Description string `json:"description"`
}

// Statuses lists a commit's statuses.
func (g *Gitea) Statuses(t testing.TB, repo, sha string) []Status {
	t.Helper()
	var out []Status
	g.Do(t, g.Bot, http.MethodGet, "repos/"+repo+"/commits/"+sha+"/statuses", nil, &out)
	return out
}

// LatestStatuses is each context's newest status: by ID, since a pending status
// and its outcome may be made in the same second.
func (g *Gitea) LatestStatuses(t testing.TB, repo, sha string) map[string]Status {
	t.Helper()
	out := map[string]Status{}
	for _, s := range g.Statuses(t, repo, sha) {
		if prev, ok := out[s.Context]; !ok || s.ID > prev.ID {
			out[s.Context] = s
		}
	}
	return out
}

// Hook is a webhook receiver on 127.0.0.1: the payloads Gitea delivers.
type Hook struct {
	mu       sync.Mutex
	payloads []Payload
	arrived  chan struct{}
}

// Payload is one delivery: the event's name as Gitea names it and its body.
type Payload struct {
	Event string // X-Gitea-Event: pull_request, issue_comment, pull_request_comment, …
	Body  []byte
}

// Hook registers a webhook for the repository's pull request and comment
// events; the receiver stops at the end of the test.
func (g *Gitea) Hook(t testing.TB, repo string) *Hook {
	t.Helper()
	h := &Hook{arrived: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.payloads = append(h.payloads, Payload{Event: r.Header.Get("X-Gitea-Event"), Body: body})
		h.mu.Unlock()
		h.arrived <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	g.Do(t, g.Bot, http.MethodPost, "repos/"+repo+"/hooks", map[string]any{
		"type": "gitea", "active": true, "events": []string{"pull_request", "issue_comment", "pull_request_comment"},
		"config": map[string]string{"url": srv.URL, "content_type": "json"}}, nil)
	return h
}

// Wait returns the first payload that satisfies match, waiting up to 30
// seconds for Gitea to deliver it.
func (h *Hook) Wait(t testing.TB, match func(Payload) bool) Payload {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		h.mu.Lock()
		for _, p := range h.payloads {
			if match(p) {
				h.mu.Unlock()
				return p
			}
		}
		var seen []string
		for _, p := range h.payloads {
			seen = append(seen, p.Event)
		}
		h.mu.Unlock()
		select {
		case <-h.arrived:
		case <-deadline:
			t.Fatalf("gitea delivered no such webhook (got %v)", seen)
		}
	}
}
