package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bradleyfalzon/ghinstallation/v2"
	gh "github.com/google/go-github/v60/github"
)

// appTransport authenticates as a GitHub App installation: a JWT signed with the
// App's key buys an installation token, renewed before it expires. Without an
// installation ID the repository's installation is looked up first. It also
// returns the App's own (JWT) transport, which may read GET /app.
func appTransport(ctx context.Context, base http.RoundTripper, api *url.URL, owner, repo string, app App) (http.RoundTripper, http.RoundTripper, error) {
	if app.ID <= 0 {
		return nil, nil, &InputError{"--app-id must be a positive number"}
	}
	if len(app.PrivateKey) == 0 {
		return nil, nil, &InputError{"the GitHub App's private key is empty"}
	}
	apiRoot := strings.TrimRight(api.String(), "/")
	apps, err := ghinstallation.NewAppsTransport(base, app.ID, app.PrivateKey)
	if err != nil {
		// The parser's message never quotes the key; ours does not either.
		return nil, nil, &InputError{"the GitHub App's private key is not a PEM-encoded RSA key"}
	}
	apps.BaseURL = apiRoot
	inst := app.InstallationID
	if inst == 0 {
		c := gh.NewClient(&http.Client{Transport: apps})
		c.BaseURL = api
		req, err := c.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/installation", url.PathEscape(owner), url.PathEscape(repo)), nil)
		if err != nil {
			return nil, nil, err
		}
		var found gh.Installation
		if _, err := c.Do(ctx, req, &found); err != nil {
			return nil, nil, fmt.Errorf("finding the GitHub App's installation on %s/%s (pass --installation-id): %w", owner, repo,
				wrap(http.MethodGet, fmt.Sprintf("repos/%s/%s/installation", owner, repo), err))
		}
		inst = found.GetID()
	}
	tr := ghinstallation.NewFromAppsTransport(apps, inst)
	tr.BaseURL = apiRoot
	// An empty object, not null: the description requires an object.
	tr.InstallationTokenOptions = &gh.InstallationTokenOptions{}
	return &installationTransport{tr}, apps, nil
}

// installationTransport turns ghinstallation's token errors (which quote a URL,
// never a secret) into the client's error type.
type installationTransport struct{ tr *ghinstallation.Transport }

func (t *installationTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.tr.RoundTrip(r)
	if err != nil {
		var he *ghinstallation.HTTPError
		if errors.As(err, &he) {
			status := 0
			if he.Response != nil {
				status = he.Response.StatusCode
			}
			return nil, &APIError{Method: http.MethodPost, Path: fmt.Sprintf("app/installations/%d/access_tokens", he.InstallationID),
				Status: status, Message: "could not get an installation token for the GitHub App", Attempts: 1}
		}
	}
	return resp, err
}
