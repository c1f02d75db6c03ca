package actions

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Runtime is the Actions runner around the process: its environment, and the
// files and workflow commands through which a step reports.
type Runtime struct {
	a      *githubactions.Action
	getenv func(string) string
}

// New reads the runner's environment through getenv (os.Getenv outside tests)
// and writes workflow commands (annotations) to stdout.
func New(getenv func(string) string, stdout io.Writer) *Runtime {
	// The event is read by ReadEvent, bounded and typed; go-githubactions must not
	// read it a second time.
	env := func(k string) string {
		if k == "GITHUB_EVENT_PATH" {
			return ""
		}
		return getenv(k)
	}
	return &Runtime{a: githubactions.New(githubactions.WithGetenv(env), githubactions.WithWriter(stdout)), getenv: getenv}
}

// Active reports whether the process runs in an Actions job.
func (r *Runtime) Active() bool { return r.getenv("GITHUB_ACTIONS") == "true" }

// Env is the part of the runner's environment the PR loop defaults from.
type Env struct {
	Repository string // GITHUB_REPOSITORY
	EventName  string // GITHUB_EVENT_NAME
	EventPath  string // GITHUB_EVENT_PATH
	SHA        string // GITHUB_SHA
	APIURL     string // GITHUB_API_URL (set only when the runner sets it)
	ServerURL  string // GITHUB_SERVER_URL
	RunID      int64  // GITHUB_RUN_ID
	RunAttempt int64  // GITHUB_RUN_ATTEMPT
}

// Env reads the runner's environment (every value may be empty).
func (r *Runtime) Env() Env {
	// Only a malformed number can fail; it then reads as 0.
	ctx, _ := r.a.Context()
	e := Env{EventName: ctx.EventName, EventPath: r.getenv("GITHUB_EVENT_PATH"), SHA: ctx.SHA,
		Repository: ctx.Repository, RunID: ctx.RunID, RunAttempt: ctx.RunAttempt}
	// go-githubactions fills in github.com's URLs when the variables are unset;
	// only what the runner set counts.
	e.APIURL = r.getenv("GITHUB_API_URL")
	e.ServerURL = r.getenv("GITHUB_SERVER_URL")
	return e
}

// RunURL is the link to the job's run, or "" outside Actions.
func (e Env) RunURL() string {
	if e.ServerURL == "" || e.Repository == "" || e.RunID == 0 || !repoName.MatchString(e.Repository) {
		return ""
	}
	u := fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimRight(e.ServerURL, "/"), e.Repository, e.RunID)
	if e.RunAttempt > 1 {
		u += "/attempts/" + strconv.FormatInt(e.RunAttempt, 10)
	}
	return u
}

// SummaryLimit is GitHub's limit on a step's job summary.
const SummaryLimit = 1 << 20

// Summary appends markdown to the job summary, cut to what the step still has
// room for (1 MiB a step, with a margin). It does nothing outside Actions.
func (r *Runtime) Summary(markdown string) (bool, error) {
	path := r.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return false, nil
	}
	used := int64(0)
	if st, err := os.Stat(path); err == nil {
		used = st.Size()
	}
	room := int(SummaryLimit - 4096 - used)
	if room <= 0 {
		return false, fmt.Errorf("the job summary is full (%d bytes)", used)
	}
	if len(markdown) > room {
		const note = "\n\n> ✂️ Cut: GitHub keeps at most 1 MiB of job summary per step.\n"
		n := max(room-len(note), 0)
		for n > 0 && markdown[n]&0xC0 == 0x80 {
			n--
		}
		markdown = markdown[:n] + note
	}
	return true, safely(func() { r.a.AddStepSummary(markdown) })
}

var outputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,99}$`)

// fileDelimiter is the fixed heredoc delimiter go-githubactions uses for outputs.
const fileDelimiter = "_GitHubActionsFileCommandDelimeter_"

// Output sets a step output. The value is made one line and can never contain
// the delimiter of the output file, so text from a PR cannot end the value early
// and forge other outputs. It does nothing outside Actions.
func (r *Runtime) Output(name, value string) (bool, error) {
	if !outputName.MatchString(name) {
		return false, fmt.Errorf("output name %q is not valid", name)
	}
	if r.getenv("GITHUB_OUTPUT") == "" {
		return false, nil
	}
	return true, safely(func() { r.a.SetOutput(name, OneLine(value)) })
}

// OneLine folds text onto one line and removes the output file's delimiter.
func OneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	for strings.Contains(s, fileDelimiter) {
		s = strings.ReplaceAll(s, fileDelimiter, "")
	}
	return s
}

// safely turns go-githubactions' panics on unwritable files into errors.
func safely(f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("writing to the Actions runner: %v", p)
		}
	}()
	f()
	return nil
}
