// Package forge is the project's one way to talk to a pull request and its
// issues, the "notify" end of parse -> render -> notify (the packages that
// parse events and render reports never talk to the forge), over a forge's REST API:
// github.com, GitHub Enterprise Server, Gitea or Forgejo at --api-url. Token or
// GitHub App authentication; go-github's typed calls wherever their answers
// decode on every forge (hand-made requests only for the issue and status
// lists and Gitea's commit path, whose shapes differ); retries with backoff in
// an http.RoundTripper that knows which requests are safe to send twice; and
// the few writes the pipeline makes, each through one choke point that a dry
// run turns into a printout of the request (method, path, body) instead.
// Only comments and issues the running identity wrote are ever changed.
//
// Reusable pieces for other flows:
//   - Upsert: the one marked comment per PR, created once and edited in place.
//   - Placeholder / (*Pending).Update, and CommentFlow over Live: post a comment
//     now, edit it with results later (the /dig answer).
//   - UpsertIssue / CloseIssue, and SyncIssues over a list of IssueActions: one
//     issue per key (a marker), opened, updated, closed (the drift issues).
//   - SetChecks: per-layer check runs, or commit statuses where checks are not allowed.
package forge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// DefaultAPIURL is github.com's API.
const DefaultAPIURL = "https://api.github.com/"

// Options configure a client. Token and App are alternatives; with neither the
// client reads anonymously (public repositories) and cannot write.
type Options struct {
	APIURL string // the API root; GitHub Enterprise Server: https://HOST/api/v3/
	Token  string
	App    *App
	// DryRun, when set, receives every write as "METHOD /path" and its JSON body
	// instead of sending it. Reads still happen where the credentials allow.
	DryRun io.Writer
	// Log receives one line per retry and per read a dry run could not make.
	Log   func(string)
	Retry Retry
	// Login is who the credentials write as, when it should not be asked of
	// the API (see Self); default: asked once, when first needed.
	Login string
	// Transport is the base HTTP transport (tests); default http.DefaultTransport.
	Transport http.RoundTripper
}

// App is a GitHub App's credentials; comments then come from "<app>[bot]".
type App struct {
	ID             int64
	InstallationID int64 // 0: looked up from the repository
	PrivateKey     []byte
}

// Client talks to one repository.
type Client struct {
	gh           *gh.Client
	Owner, Repo  string
	dry          io.Writer
	log          func(string)
	canWrite     bool
	mu           sync.Mutex
	checksDenied bool // check runs were refused once: use commit statuses
	dryIDs       int64
	saidForeign  bool

	apps    *gh.Client // the App's own (JWT) client, for GET /app; nil with a token
	login   string     // Options.Login
	selfMu  sync.Mutex
	self    string
	selfErr error
}

var repoPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

// ParseRepo splits and checks "owner/name".
func ParseRepo(s string) (owner, name string, err error) {
	if !repoPattern.MatchString(s) || strings.HasSuffix(s, "/.") || strings.HasSuffix(s, "/..") {
		return "", "", &InputError{fmt.Sprintf("--repo %q is not OWNER/NAME", s)}
	}
	owner, name, _ = strings.Cut(s, "/")
	return owner, name, nil
}

// InputError is a problem with what the caller passed (exit code 2).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// New builds a client for one repository ("owner/name").
func New(ctx context.Context, repo string, o Options) (*Client, error) {
	owner, name, err := ParseRepo(repo)
	if err != nil {
		return nil, err
	}
	api := o.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	base, err := url.Parse(api)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, &InputError{fmt.Sprintf("--api-url %q is not an http(s) URL", redactURL(api))}
	}
	if base.User != nil {
		return nil, &InputError{fmt.Sprintf("--api-url %q carries credentials: give the URL alone, and the token in GITHUB_TOKEN", redactURL(api))}
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	logf := o.Log
	if logf == nil {
		logf = func(string) {}
	}
	tr := o.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	tr = &retryTransport{base: tr, policy: o.Retry.withDefaults(), log: logf}
	c := &Client{Owner: owner, Repo: name, dry: o.DryRun, log: logf, login: o.Login}
	switch {
	case o.App != nil:
		var apps http.RoundTripper
		tr, apps, err = appTransport(ctx, tr, base, owner, name, *o.App)
		if err != nil {
			return nil, err
		}
		c.apps = gh.NewClient(&http.Client{Transport: apps, Timeout: 60 * time.Second})
		c.apps.BaseURL, c.apps.UserAgent = base, "infra-flash"
		c.canWrite = true
	case o.Token != "":
		if strings.ContainsAny(o.Token, " \t\r\n") {
			return nil, &InputError{"the GitHub token contains whitespace"}
		}
		tr = &tokenTransport{base: tr, token: o.Token}
		c.canWrite = true
	}
	c.gh = gh.NewClient(&http.Client{Transport: tr, Timeout: 60 * time.Second})
	c.gh.BaseURL = base
	c.gh.UploadURL = base
	c.gh.UserAgent = "infra-flash"
	return c, nil
}

type tokenTransport struct {
	base  http.RoundTripper
	token string
}

func (t *tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// DryRun reports whether writes are printed instead of sent.
func (c *Client) DryRun() bool { return c.dry != nil }

func (c *Client) path(format string, args ...any) string {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = url.PathEscape(s)
		}
	}
	return fmt.Sprintf("repos/%s/%s/", url.PathEscape(c.Owner), url.PathEscape(c.Repo)) + fmt.Sprintf(format, args...)
}

// write is the choke point every change goes through: a dry run prints the
// request (method, path and body) instead of sending it; otherwise send makes
// it, with go-github's typed call where the answer decodes on every forge.
func (c *Client) write(ctx context.Context, method, path string, body any, send func(context.Context) (*gh.Response, error)) error {
	if c.dry != nil {
		var b strings.Builder
		fmt.Fprintf(&b, "%s /%s\n", method, path)
		if body != nil {
			if err := dryBody(&b, body); err != nil {
				return err
			}
		}
		b.WriteString("\n")
		_, err := io.WriteString(c.dry, b.String())
		return err
	}
	if !c.canWrite {
		return &InputError{"no GitHub credentials: set GITHUB_TOKEN (or --token), or a GitHub App (--app-id and its key), or use --dry-run"}
	}
	_, err := send(ctx)
	return wrap(method, path, err)
}

// raw sends a hand-made request, for the few answers go-github cannot decode
// on Gitea and Forgejo (an issue's repository owner is a string there).
func (c *Client) raw(method, path string, body, out any) func(context.Context) (*gh.Response, error) {
	return func(ctx context.Context) (*gh.Response, error) {
		req, err := c.gh.NewRequest(method, path, body)
		if err != nil {
			return nil, err
		}
		return c.gh.Do(ctx, req, out)
	}
}

// got turns a typed read's error into the client's; a dry run logs it and
// reports errDryRead, so callers can carry on with what they know.
func (c *Client) got(path string, err error) error {
	if err == nil {
		return nil
	}
	err = wrap(http.MethodGet, path, err)
	if c.dry != nil {
		c.log(fmt.Sprintf("dry run: could not read /%s (%v); going on without it", path, err))
		return errDryRead{err}
	}
	return err
}

// read runs a hand-made GET (see raw), with got's error handling.
func (c *Client) read(ctx context.Context, path string, out any) (*gh.Response, error) {
	resp, err := c.raw(http.MethodGet, path, nil, out)(ctx)
	return resp, c.got(path, err)
}

type errDryRead struct{ error }

func (e errDryRead) Unwrap() error { return e.error }

// IsDryRead reports whether err is a read a dry run could not make.
func IsDryRead(err error) bool {
	var d errDryRead
	return errors.As(err, &d)
}

// APIError is a failed request, with how many attempts were made. Its text
// names the method and path and GitHub's message, never credentials.
type APIError struct {
	Method, Path string
	Status       int // 0 when no answer came
	Message      string
	Attempts     int
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("GitHub %s /%s", e.Method, e.Path)
	if e.Status != 0 {
		s += fmt.Sprintf(": %d", e.Status)
	}
	if e.Message != "" {
		s += " " + e.Message
	}
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

func wrap(method, path string, err error) error {
	if err == nil {
		return nil
	}
	e := &APIError{Method: method, Path: path, Attempts: 1}
	var er *gh.ErrorResponse
	var rl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	var resp *http.Response
	switch {
	case errors.As(err, &er):
		resp = er.Response
		e.Message = er.Message
		for _, d := range er.Errors {
			if d.Message != "" {
				e.Message += ": " + d.Message
			}
		}
	case errors.As(err, &rl):
		resp, e.Message = rl.Response, "rate limit exceeded: "+rl.Message
	case errors.As(err, &ab):
		resp, e.Message = ab.Response, "secondary rate limit: "+ab.Message
	default:
		var ue *url.Error
		if errors.As(err, &ue) {
			e.Message = ue.Err.Error()
		} else {
			e.Message = err.Error()
		}
	}
	if resp != nil {
		e.Status = resp.StatusCode
		if n := attemptsOf(resp); n > 0 {
			e.Attempts = n
		}
	}
	return e
}

// StatusOf returns the HTTP status of a failed request, 0 if none.
func StatusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// redactURL drops credentials and queries from a URL before it is printed.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// dryBody prints a request body as JSON, and a text "body" field (a comment or an
// issue) again as it will read on GitHub, so a dry run shows the comment itself.
func dryBody(b *strings.Builder, body any) error {
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(body); err != nil {
		return err
	}
	b.Write(data.Bytes())
	var fields map[string]any
	if json.Unmarshal(data.Bytes(), &fields) == nil {
		if text, ok := fields["body"].(string); ok && text != "" {
			b.WriteString("----- body as posted -----\n")
			b.WriteString(strings.TrimRight(text, "\n") + "\n")
			b.WriteString("----- end of body -----\n")
		}
	}
	return nil
}
