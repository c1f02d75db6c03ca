package github_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/github"
)

// TestCommentCycleAgainstGitea runs the comment cycle against a real
// GitHub-compatible server. Gitea is heavy to build, so the test runs only when
// INFRA_GITEA_BIN names a binary.
func TestCommentCycleAgainstGitea(t *testing.T) {
	bin := os.Getenv("INFRA_GITEA_BIN")
	if bin == "" {
		t.Skip("Gitea integration test skipped: set INFRA_GITEA_BIN to a Gitea 1.26 binary " +
			"(go build -tags 'sqlite sqlite_unlock_notify' of code.gitea.io/gitea) to run the comment cycle against it")
	}
	api, token := startGitea(t, bin)
	ctx := context.Background()

	issue := giteaIssue(t, api, token)
	c, err := github.New(ctx, "infra/infra", github.Options{APIURL: api, Token: token})
	require.NoError(t, err)
	stamp := github.Stamp{SHA: strings.Repeat("a", 40), Time: time.Now().UTC().Truncate(time.Second)}
	first, err := c.Upsert(ctx, issue, nil, "pr", stamp, github.Fit("first"), nil)
	require.NoError(t, err)
	assert.Equal(t, github.Created, first.Action)
	second, err := c.Upsert(ctx, issue, nil, "pr", stamp, github.Fit("second"), nil)
	require.NoError(t, err)
	assert.Equal(t, github.Edited, second.Action)
	assert.Equal(t, first.Comment.ID, second.Comment.ID)

	p, err := c.Placeholder(ctx, issue, "dig", github.Stamp{}, "⏳")
	require.NoError(t, err)
	require.NoError(t, p.Update(ctx, github.Fit("done")))

	comments, err := c.ListComments(ctx, issue)
	require.NoError(t, err)
	require.Len(t, comments, 2)
	assert.True(t, strings.HasSuffix(comments[0].Body, "\nsecond"))
	assert.True(t, strings.HasSuffix(comments[1].Body, "\ndone"))
}

func startGitea(t *testing.T, bin string) (api, token string) {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	conf := filepath.Join(dir, "app.ini")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`APP_NAME = infra-test
RUN_MODE = prod
WORK_PATH = %[1]s
[server]
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[2]d
ROOT_URL = http://127.0.0.1:%[2]d/
OFFLINE_MODE = true
DISABLE_SSH = true
[database]
DB_TYPE = sqlite3
PATH = %[1]s/gitea.db
[repository]
ROOT = %[1]s/repos
[security]
INSTALL_LOCK = true
[service]
DISABLE_REGISTRATION = true
[log]
MODE = console
LEVEL = warn
`, dir, port)), 0o600))
	gitea := func(args ...string) string {
		cmd := exec.Command(bin, append(args, "--config", conf)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GITEA_WORK_DIR="+dir, "HOME="+dir)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "gitea %v: %s", args, out)
		return string(out)
	}
	gitea("migrate")
	gitea("admin", "user", "create", "--username", "infra", "--password", "a-long-test-password-1", "--email", "infra@example.com",
		"--admin", "--must-change-password=false")
	out := gitea("admin", "user", "generate-access-token", "--username", "infra", "--token-name", "test", "--scopes", "all", "--raw")
	lines := strings.Fields(out)
	require.NotEmpty(t, lines)
	token = lines[len(lines)-1]

	ctx, cancel := context.WithCancel(context.Background())
	web := exec.CommandContext(ctx, bin, "web", "--config", conf)
	web.Dir = dir
	web.Env = append(os.Environ(), "GITEA_WORK_DIR="+dir, "HOME="+dir)
	require.NoError(t, web.Start())
	t.Cleanup(func() { cancel(); _ = web.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/api/v1/version")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "gitea did not start: %v", err)
		time.Sleep(200 * time.Millisecond)
	}
	return base + "/api/v1/", token
}

// giteaIssue creates the repository infra/infra and an issue on it.
func giteaIssue(t *testing.T, api, token string) int {
	t.Helper()
	post := func(path string, body any, out any) {
		data, _ := json.Marshal(body)
		req, err := http.NewRequest(http.MethodPost, api+path, bytes.NewReader(data))
		require.NoError(t, err)
		req.Header.Set("Authorization", "token "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode, path)
		if out != nil {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
		}
	}
	post("user/repos", map[string]any{"name": "infra", "auto_init": true}, nil)
	var issue struct {
		Number int `json:"number"`
	}
	post("repos/infra/infra/issues", map[string]any{"title": "a change"}, &issue)
	return issue.Number
}
