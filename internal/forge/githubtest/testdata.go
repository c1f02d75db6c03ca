// Package githubtest is a GitHub built from GitHub's own published REST description
// (@octokit/openapi): every request is validated against the description before it
// is answered, every answer is built from the description's documented examples and
// validated against its response schema (strict), and the fake keeps the state the
// project's flows need (comments, issues, statuses, check runs, pull requests,
// commits, App installation tokens). Tests assert behaviour on the recorded requests
// and the state; the fake only refuses what GitHub refuses.
//
// The description and GitHub's webhook examples are installed by
// scripts/setup-testdata; without them the tests skip, saying how to install them
// (scripts/test sets INFRA_REQUIRE_TESTDATA=1, which turns the skip into a failure).
package githubtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Dir is where scripts/setup-testdata installs the test data.
func Dir() string {
	if d := os.Getenv("INFRA_TESTDATA_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("INFRA_CACHE_DIR")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "infra")
	}
	return filepath.Join(cache, "npm")
}

// need returns the path of a test data file, or skips (fails when required).
func need(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(Dir(), name)
	if _, err := os.Stat(p); err != nil {
		msg := "GitHub test data missing (" + name + "): run scripts/setup-testdata"
		if os.Getenv("INFRA_REQUIRE_TESTDATA") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

var examples struct {
	once sync.Once
	byEv map[string][]json.RawMessage
	err  error
}

// Webhooks returns GitHub's example payloads for one event (from
// @octokit/webhooks-examples), as the runner writes them to GITHUB_EVENT_PATH.
func Webhooks(t testing.TB, event string) []json.RawMessage {
	t.Helper()
	path := need(t, "webhooks-examples.json")
	examples.once.Do(func() {
		data, err := os.ReadFile(path)
		if err != nil {
			examples.err = err
			return
		}
		var all []struct {
			Name     string            `json:"name"`
			Examples []json.RawMessage `json:"examples"`
		}
		if examples.err = json.Unmarshal(data, &all); examples.err != nil {
			return
		}
		examples.byEv = map[string][]json.RawMessage{}
		for _, e := range all {
			examples.byEv[e.Name] = e.Examples
		}
	})
	if examples.err != nil {
		t.Fatalf("reading webhook examples: %v", examples.err)
	}
	out := examples.byEv[event]
	if len(out) == 0 {
		t.Fatalf("no webhook examples for %q", event)
	}
	return out
}

// Webhook returns the first example of an event with the given action ("" for
// events without one, such as push).
func Webhook(t testing.TB, event, action string) map[string]any {
	t.Helper()
	for _, raw := range Webhooks(t, event) {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if a, _ := m["action"].(string); a == action {
			return m
		}
	}
	t.Fatalf("no %s example with action %q", event, action)
	return nil
}
