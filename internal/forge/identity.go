package forge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Self returns the login the client writes as: a token's user (GET /user), a
// GitHub App's "<slug>[bot]" (GET /app with the App's JWT), or, for an
// installation token such as Actions' GITHUB_TOKEN, which GET /user refuses,
// GraphQL's viewer. It is asked once and remembered. Only comments and issues
// this login wrote are ever edited or deleted: anyone can paste our marker.
func (c *Client) Self(ctx context.Context) (string, error) {
	c.selfMu.Lock()
	defer c.selfMu.Unlock()
	if c.self != "" || c.selfErr != nil {
		return c.self, c.selfErr
	}
	c.self, c.selfErr = c.whoAmI(ctx)
	return c.self, c.selfErr
}

func (c *Client) whoAmI(ctx context.Context) (string, error) {
	switch {
	case c.login != "":
		return c.login, nil
	case c.apps != nil:
		app, _, err := c.apps.Apps.Get(ctx, "")
		if err != nil {
			return "", fmt.Errorf("finding the GitHub App's name: %w", wrap(http.MethodGet, "app", err))
		}
		if app.GetSlug() == "" {
			return "", &APIError{Method: http.MethodGet, Path: "app", Message: "the answer names no App slug"}
		}
		return app.GetSlug() + "[bot]", nil
	case !c.canWrite:
		return "", errAnonymous
	}
	u, _, err := c.gh.Users.Get(ctx, "")
	if err == nil && u.GetLogin() != "" {
		return u.GetLogin(), nil
	}
	err = wrap(http.MethodGet, "user", err)
	if StatusOf(err) != http.StatusForbidden {
		return "", fmt.Errorf("finding who the token belongs to: %w", err)
	}
	// An installation token (GITHUB_TOKEN): "Resource not accessible by integration".
	login, gerr := c.viewer(ctx)
	if gerr != nil {
		return "", fmt.Errorf("finding who the token belongs to: %v; GraphQL: %w", err, gerr)
	}
	return login, nil
}

// errAnonymous: without credentials there is no identity; a dry run then
// predicts with every marked item, and says so.
var errAnonymous = &InputError{"no GitHub credentials: cannot tell which comments are ours"}

// viewer asks GraphQL for the login of an installation token.
func (c *Client) viewer(ctx context.Context) (string, error) {
	endpoint := graphQLURL(c.gh.BaseURL)
	req, err := c.gh.NewRequest(http.MethodPost, endpoint, map[string]string{"query": "query { viewer { login } }"})
	if err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			Viewer struct {
				Login string `json:"login"`
			} `json:"viewer"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if _, err := c.gh.Do(safe(ctx), req, &out); err != nil {
		return "", wrap(http.MethodPost, strings.TrimPrefix(endpoint, c.gh.BaseURL.String()), err)
	}
	if len(out.Errors) > 0 || out.Data.Viewer.Login == "" {
		msg := "no viewer in the answer"
		if len(out.Errors) > 0 {
			msg = out.Errors[0].Message
		}
		return "", &APIError{Method: http.MethodPost, Path: "graphql", Message: msg}
	}
	return out.Data.Viewer.Login, nil
}

// graphQLURL is GraphQL's endpoint beside a REST root: api.github.com/graphql,
// or HOST/api/graphql on GitHub Enterprise Server (REST at HOST/api/v3/).
func graphQLURL(base *url.URL) string {
	u := *base
	switch {
	case strings.HasSuffix(u.Path, "/api/v3/"):
		u.Path = strings.TrimSuffix(u.Path, "v3/") + "graphql"
	default:
		u.Path = strings.TrimSuffix(u.Path, "/") + "/graphql"
	}
	return u.String()
}

// Mine reports whether a comment or issue author is the client's identity.
// Logins compare without case, as GitHub and Gitea treat them.
func Mine(self, author string) bool {
	return self != "" && strings.EqualFold(self, author)
}

// foreign says once per client that marked items by others were left alone.
func (c *Client) foreign(what string, authors []string) {
	if len(authors) == 0 {
		return
	}
	c.mu.Lock()
	said := c.saidForeign
	c.saidForeign = true
	c.mu.Unlock()
	if said {
		return
	}
	c.log(fmt.Sprintf("forge: left alone %d %s carrying the infra-flash marker written by %s, not by us: only our own are edited or deleted",
		len(authors), what, strings.Join(uniq(authors), ", ")))
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if k := strings.ToLower(x); !seen[k] {
			seen[k] = true
			out = append(out, "@"+x)
		}
	}
	return out
}

// ours keeps the items that carry a marker (marked says so, and by whom) and
// were written by the client's identity; marked items by others are left out,
// and said once. Without credentials (a dry run) every marked item is kept,
// since nothing will be written anyway, and that is said too.
func ours[T any](ctx context.Context, c *Client, what string, items []T, marked func(T) (author string, ok bool)) ([]T, error) {
	var candidates []T
	for _, it := range items {
		if _, ok := marked(it); ok {
			candidates = append(candidates, it)
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	self, err := c.Self(ctx)
	if err != nil {
		if c.dry != nil {
			c.log(fmt.Sprintf("dry run: cannot tell who we are (%v); predicting as if every marked %s were ours", err, what))
			return candidates, nil
		}
		return nil, err
	}
	var out []T
	var others []string
	for _, it := range candidates {
		author, _ := marked(it)
		if Mine(self, author) {
			out = append(out, it)
		} else {
			others = append(others, author)
		}
	}
	c.foreign(what, others)
	return out, nil
}
