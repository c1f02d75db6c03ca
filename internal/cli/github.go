package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	usecase "github.com/infra-flash/infra/internal/app"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/prloop"
)

// githubFlags are the flags of every command that talks to GitHub. Credentials
// never come from flags: GITHUB_TOKEN, or a GitHub App's ID and installation with
// its key in INFRA_APP_KEY or a file.
type githubFlags struct {
	prloop.Flags
	appID          int64
	installationID int64
	appKeyFile     string
}

func (g *githubFlags) addFlags(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&g.Repo, "repo", "", "OWNER/NAME (default: GITHUB_REPOSITORY, else the event's)")
	f.IntVar(&g.PR, "pr", 0, "pull request number (default: the event's)")
	f.StringVar(&g.SHA, "sha", "", "commit (default: the PR's head from the event, else GITHUB_SHA on a push)")
	f.StringVar(&g.APIURL, "api-url", "", "API root: GitHub Enterprise Server (https://HOST/api/v3/), Gitea or Forgejo (https://HOST/api/v1/) (default: GITHUB_API_URL, else https://api.github.com/)")
	f.BoolVar(&g.DryRun, "dry-run", false, "print the requests that would change GitHub (method, path, body) instead of sending them")
	f.StringVar(&g.RunURL, "run-url", "", "link to the run (default: from GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID)")
	f.StringVar(&g.EventPath, "event", "", "the Actions event payload file (default: GITHUB_EVENT_PATH)")
	f.StringVar(&g.EventName, "event-name", "", "the event's name, e.g. pull_request (default: GITHUB_EVENT_NAME)")
	f.Int64Var(&g.appID, "app-id", 0, "authenticate as this GitHub App (its key in INFRA_APP_KEY or --app-key-file) instead of GITHUB_TOKEN")
	f.Int64Var(&g.installationID, "installation-id", 0, "the App's installation (default: looked up from --repo)")
	f.StringVar(&g.appKeyFile, "app-key-file", "", "the GitHub App's private key (PEM) file")
}

// runtime is the Actions runner around the process (inactive outside Actions).
func (a *app) runtime() *actions.Runtime { return actions.New(os.Getenv, a.stdout) }

// target resolves the GitHub flags against the event and the runner's environment.
func (a *app) target(g *githubFlags) (prloop.Target, error) {
	t, err := prloop.Resolve(g.Flags, a.runtime().Env())
	if err != nil {
		return t, githubError(err)
	}
	return t, nil
}

// dryOut is where a dry run prints the requests it would send: stdout, beside a
// report for people; stderr when stdout is JSON, so it stays one document.
func (a *app) dryOut(format string) io.Writer {
	if format == "json" {
		return a.stderr
	}
	return a.stdout
}

// client builds the GitHub client; retries and dry-run reads are reported on stderr.
// With --dry-run the requests it would send go to dryOut.
func (a *app) client(ctx context.Context, g *githubFlags, t prloop.Target, dryOut io.Writer) (*forge.Client, error) {
	o := forge.Options{APIURL: t.APIURL, Log: func(s string) { fmt.Fprintln(a.stderr, s) }}
	if g.DryRun {
		o.DryRun = dryOut
	}
	switch {
	case g.appID != 0:
		key := []byte(os.Getenv("INFRA_APP_KEY"))
		if g.appKeyFile != "" {
			data, err := os.ReadFile(g.appKeyFile)
			if err != nil {
				return nil, a.badInput("reading --app-key-file: %v", errors.Unwrap(err))
			}
			key = data
		}
		if len(key) == 0 {
			return nil, a.badInput("--app-id needs the App's private key: set INFRA_APP_KEY or pass --app-key-file")
		}
		o.App = &forge.App{ID: g.appID, InstallationID: g.installationID, PrivateKey: key}
	case g.appKeyFile != "" || g.installationID != 0:
		return nil, a.badInput("--app-key-file and --installation-id need --app-id")
	default:
		o.Token = strings.TrimSpace(os.Getenv("GITHUB_TOKEN"))
		if o.Token == "" && !g.DryRun {
			// Said now, not after the checks ran and the first write was refused.
			return nil, a.badInput("no GitHub credentials: set GITHUB_TOKEN, or a GitHub App (--app-id and its key), or use --dry-run")
		}
	}
	c, err := forge.New(ctx, t.Repo, o)
	if err != nil {
		return nil, githubError(err)
	}
	return c, nil
}

// githubError is the PR loop's error as the CLI's exit (see usecase.ForgeError).
func githubError(err error) error {
	return &exitError{code: usecase.Code(usecase.ForgeError(err)), msg: "infra: " + err.Error()}
}
