package enginecases_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/cli"
	"github.com/infra-flash/infra/internal/enginecases"
	"github.com/infra-flash/infra/internal/testfixture"
)

var repoRoot = filepath.Join("..", "..")

func table(t *testing.T) *enginecases.Table {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join(repoRoot, "testdata", "engine"))
	require.NoError(t, err)
	tab, err := enginecases.Load(dir)
	require.NoError(t, err)
	return tab
}

// Every case through the native CLI with the real tools.
func TestNativeExecutor(t *testing.T) {
	tab := table(t)
	testfixture.Tools(t, "terraform")
	// Run as on a laptop even inside GitHub Actions: no defaults from the job's
	// event, token or repository, and no writes to its summary or outputs.
	for _, v := range []string{"GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_EVENT_PATH",
		"GITHUB_EVENT_NAME", "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_SERVER_URL",
		"GITHUB_RUN_ID", "GITHUB_BASE_REF", "INFRA_APP_KEY"} {
		t.Setenv(v, "")
	}
	// Natively the API is a loopback server that answers 404 at once (the refused
	// port the engine uses costs the client's retries).
	api := httptest.NewServer(http.NotFoundHandler())
	defer api.Close()
	tab.APIURL = api.URL + "/"
	for _, c := range tab.Cases {
		if !c.For("native") {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Run(context.Background(), tab.NativeArgs(c), &stdout, &stderr)
			out := stdout.String() + stderr.String()
			assert.Empty(t, c.CheckNative(code, out), "%s", out)
		})
	}
}

// Every case through `dagger call` on a real engine: scripts/engine-test sets
// INFRA_ENGINE_TEST=1 once it has found the dagger CLI and an engine.
func TestDaggerExecutor(t *testing.T) {
	if os.Getenv("INFRA_ENGINE_TEST") != "1" {
		t.Skip("needs a Dagger engine: run scripts/engine-test (it says why it skips when there is none)")
	}
	tab := table(t)
	dagger, err := exec.LookPath("dagger")
	require.NoError(t, err, "scripts/engine-test checks for the dagger CLI first")
	for _, c := range tab.Cases {
		if !c.For("dagger") {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, dagger, tab.DaggerArgs(c)...)
			cmd.Dir = repoRoot
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				t.Fatalf("dagger did not run: %v", err)
			}
			assert.Empty(t, c.CheckDagger(err != nil, out.String()), "dagger %s\n%s", strings.Join(tab.DaggerArgs(c), " "), out.String())
		})
	}
}

// The table asserts something about every executor, covers every fixture and each
// kind of outcome, and calls each read-only function.
func TestTableCoversTheModule(t *testing.T) {
	tab := table(t)
	fixtures := map[string]bool{}
	exits := map[int]bool{}
	functions := map[string]bool{}
	for _, c := range tab.Cases {
		fixtures[c.Fixture] = true
		exits[c.Exit] = true
		functions[c.Args[0]] = true
		if len(c.NativeArgs) > 0 { // a chained Dagger call (github ... flash): the native command names it
			functions[c.NativeArgs[0]] = true
		}
	}
	entries, err := os.ReadDir(tab.Dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.IsDir() {
			assert.True(t, fixtures[e.Name()], "fixture %s is used by no case", e.Name())
		}
	}
	for _, code := range []int{0, 1, 2} {
		assert.True(t, exits[code], "no case expects exit %d", code)
	}
	for _, fn := range []string{"validate", "fmt", "lint", "report", "layers", "atlantis-config", "review-gate", "flash", "kick-atlantis"} {
		assert.True(t, functions[fn], "no case calls %s", fn)
	}
}

func TestParseRefusesTablesThatAssertNothing(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "pass"), 0o755))
	for name, src := range map[string]string{
		"not json":       `{`,
		"no cases":       `{"cases": []}`,
		"unknown field":  `{"cases": [{"name": "a", "fixture": "pass", "args": ["fmt"], "says": ["x"], "exitt": 1}]}`,
		"no says":        `{"cases": [{"name": "a", "fixture": "pass", "args": ["fmt"]}]}`,
		"no args":        `{"cases": [{"name": "a", "fixture": "pass", "says": ["x"]}]}`,
		"bad exit":       `{"cases": [{"name": "a", "fixture": "pass", "args": ["fmt"], "says": ["x"], "exit": 9}]}`,
		"escape":         `{"cases": [{"name": "a", "fixture": "../pass", "args": ["fmt"], "says": ["x"]}]}`,
		"absent fixture": `{"cases": [{"name": "a", "fixture": "gone", "args": ["fmt"], "says": ["x"]}]}`,
		"duplicate":      `{"cases": [{"name": "a", "fixture": "pass", "args": ["fmt"], "says": ["x"]}, {"name": "a", "fixture": "pass", "args": ["lint"], "says": ["x"]}]}`,
	} {
		_, err := enginecases.Parse(dir, []byte(src))
		assert.Error(t, err, name)
	}
}

func TestOutcomes(t *testing.T) {
	c := enginecases.Case{Name: "x", Exit: 1, Says: []string{"a:3"}}
	assert.Empty(t, c.CheckNative(1, "found a:3"))
	assert.Len(t, c.CheckNative(0, "found a:3"), 1)
	assert.Len(t, c.CheckNative(1, "nothing"), 1)
	assert.Empty(t, c.CheckDagger(true, "a:3"))
	assert.Len(t, c.CheckDagger(false, "a:3"), 1)
	c.NeverFails = true
	assert.Empty(t, c.CheckDagger(false, "a:3"))
	c.Never = []string{"secret"}
	assert.Empty(t, c.CheckDagger(false, "a:3"))
	assert.Equal(t, []string{`output has "secret"`}, c.CheckDagger(false, "a:3 secret"))
}
