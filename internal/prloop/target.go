// Package prloop runs the PR loop's steps against GitHub, for the native CLI and
// the Dagger module alike: flash (the comment, per-layer checks, the job summary
// and annotations from a report), kick-atlantis (one plan request per changed
// layer, once per commit) and review-gate. It only wires the pure packages
// (flash, atlantis, review) to the GitHub client; both front ends call it.
package prloop

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/forge"
)

// Flags are the GitHub-facing flags every PR-loop command shares. Explicit flags
// win over the event, which wins over the runner's environment.
type Flags struct {
	Repo      string
	PR        int
	SHA       string
	APIURL    string
	RunURL    string
	EventPath string
	EventData []byte // the event itself, instead of a path (the Dagger module's --event)
	EventName string
	DryRun    bool
}

// Target is what a run is about, with every default filled in.
type Target struct {
	Repo   string
	PR     int // 0: no PR (a push)
	SHA    string
	Branch string // "" when only the API can tell
	APIURL string
	RunURL string
	Event  *actions.Event // nil without one
}

// Resolve fills the flags' gaps from the event (read from the flags' or the
// runner's event file) and the runner's environment, and checks the result.
// An event is needed only by the commands that say so.
func Resolve(f Flags, env actions.Env) (Target, error) {
	t := Target{Repo: f.Repo, PR: f.PR, SHA: f.SHA, APIURL: f.APIURL, RunURL: f.RunURL}
	path, name := f.EventPath, f.EventName
	if path == "" && f.EventData == nil {
		path = env.EventPath
		if name == "" {
			name = env.EventName
		}
	}
	if path != "" || f.EventData != nil {
		if name == "" {
			return t, &forge.InputError{Msg: "--event needs --event-name (the event's type, e.g. pull_request)"}
		}
		var ev *actions.Event
		var err error
		if f.EventData != nil {
			ev, err = actions.ParseEvent(name, f.EventData)
		} else {
			ev, err = actions.ReadEvent(name, path)
		}
		if err != nil {
			return t, err
		}
		t.Event = ev
	}
	if t.Repo == "" {
		t.Repo = env.Repository
	}
	if t.Repo == "" && t.Event != nil {
		t.Repo = t.Event.Repo
	}
	if t.Event != nil {
		if t.PR == 0 {
			t.PR = t.Event.PR
		}
		// A PR's head, not GITHUB_SHA: on pull_request that is a merge commit.
		if t.SHA == "" {
			t.SHA = t.Event.HeadSHA
		}
		if f.SHA == "" || f.SHA == t.Event.HeadSHA {
			t.Branch = t.Event.HeadRef
		}
	}
	if t.SHA == "" && (t.Event == nil || t.Event.Name == "push") {
		t.SHA = env.SHA
	}
	if t.APIURL == "" {
		t.APIURL = env.APIURL
	}
	if t.APIURL == "" {
		t.APIURL = forge.DefaultAPIURL
	}
	if t.RunURL == "" {
		t.RunURL = env.RunURL()
	}
	return t, t.check()
}

func (t Target) check() error {
	if t.Repo == "" {
		return &forge.InputError{Msg: "no repository: pass --repo OWNER/NAME (or run in GitHub Actions)"}
	}
	if _, _, err := forge.ParseRepo(t.Repo); err != nil {
		return err
	}
	if t.PR < 0 {
		return &forge.InputError{Msg: fmt.Sprintf("--pr %d is not a PR number", t.PR)}
	}
	if t.SHA != "" && !forge.ValidSHA(t.SHA) {
		return &forge.InputError{Msg: fmt.Sprintf("--sha %q is not a full commit SHA", t.SHA)}
	}
	if t.RunURL != "" {
		u, err := url.Parse(t.RunURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(t.RunURL, " \n()") {
			return &forge.InputError{Msg: fmt.Sprintf("--run-url %q is not an http(s) URL", t.RunURL)}
		}
	}
	return nil
}
