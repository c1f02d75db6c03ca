package githubtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// operations are the endpoints the fake answers, by path template and method.
var operations = map[string][]string{
	"/repos/{owner}/{repo}/issues/{issue_number}/comments": {"get", "post"},
	"/repos/{owner}/{repo}/issues/comments/{comment_id}":   {"get", "patch", "delete"},
	"/repos/{owner}/{repo}/issues":                         {"get", "post"},
	"/repos/{owner}/{repo}/issues/{issue_number}":          {"get", "patch"},
	"/repos/{owner}/{repo}/pulls/{pull_number}":            {"get"},
	"/repos/{owner}/{repo}/pulls/{pull_number}/reviews":    {"get"},
	"/repos/{owner}/{repo}/commits/{ref}":                  {"get"},
	"/repos/{owner}/{repo}/commits/{ref}/statuses":         {"get"},
	"/repos/{owner}/{repo}/statuses/{sha}":                 {"post"},
	"/repos/{owner}/{repo}/check-runs":                     {"post"},
	"/repos/{owner}/{repo}/commits/{ref}/check-runs":       {"get"},
	"/repos/{owner}/{repo}/installation":                   {"get"},
	"/app/installations/{installation_id}/access_tokens":   {"post"},
	"/user": {"get"},
	"/app":  {"get"},
}

type spec struct {
	doc    *openapi3.T
	router routers.Router
}

var loaded struct {
	once sync.Once
	spec *spec
	err  error
}

// loadSpec reads GitHub's REST description once per test binary. Only the
// operations the fake answers are kept, with the components they reference, so
// the 13 MB document loads in a fraction of the time.
func loadSpec(t testing.TB) *spec {
	t.Helper()
	path := need(t, "api.github.com.json")
	loaded.once.Do(func() { loaded.spec, loaded.err = readSpec(path) })
	if loaded.err != nil {
		t.Fatalf("loading GitHub's REST description: %v", loaded.err)
	}
	return loaded.spec
}

func readSpec(path string) (*spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var full map[string]any
	if err := json.Unmarshal(data, &full); err != nil {
		return nil, err
	}
	paths, _ := full["paths"].(map[string]any)
	kept := map[string]any{}
	for p, methods := range operations {
		item, ok := paths[p].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("the description has no path %s", p)
		}
		out := map[string]any{}
		if params, ok := item["parameters"]; ok {
			out["parameters"] = params
		}
		for _, m := range methods {
			op, ok := item[m].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("the description has no %s %s", strings.ToUpper(m), p)
			}
			strictRequestBody(op)
			out[m] = op
		}
		kept[p] = out
	}
	components, _ := full["components"].(map[string]any)
	doc := map[string]any{
		"openapi":    full["openapi"],
		"info":       full["info"],
		"paths":      kept,
		"components": reachable(kept, components),
	}
	small, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(small)
	if err != nil {
		return nil, err
	}
	if err := t.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("the filtered description does not validate: %w", err)
	}
	t.Servers = nil // match any host: the fake runs on loopback or in-process
	router, err := gorillamux.NewRouter(t)
	if err != nil {
		return nil, err
	}
	return &spec{doc: t, router: router}, nil
}

// strictRequestBody forbids properties the description does not list in the
// request bodies of the kept operations (GitHub ignores them silently; a typo in
// a field name must fail a test instead).
func strictRequestBody(op map[string]any) {
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	for _, media := range content {
		m, _ := media.(map[string]any)
		if s, ok := m["schema"].(map[string]any); ok {
			closeObjects(s)
		}
	}
}

func closeObjects(s map[string]any) {
	if _, isRef := s["$ref"]; isRef {
		return
	}
	if props, ok := s["properties"].(map[string]any); ok {
		if _, set := s["additionalProperties"]; !set {
			s["additionalProperties"] = false
		}
		for _, p := range props {
			if ps, ok := p.(map[string]any); ok {
				closeObjects(ps)
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		closeObjects(items)
	}
}

// reachable returns the components referenced, transitively, from v.
func reachable(v any, components map[string]any) map[string]any {
	out := map[string]any{}
	seen := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#/components/") {
				if !seen[ref] {
					seen[ref] = true
					parts := strings.SplitN(strings.TrimPrefix(ref, "#/components/"), "/", 2)
					if len(parts) == 2 {
						kind, _ := components[parts[0]].(map[string]any)
						if target, ok := kind[parts[1]]; ok {
							section, _ := out[parts[0]].(map[string]any)
							if section == nil {
								section = map[string]any{}
								out[parts[0]] = section
							}
							section[parts[1]] = target
							walk(target)
						}
					}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

// example returns a fresh copy of the documented example of an operation's
// response, or nil when it documents none.
func (s *spec) example(route *routers.Route, status int) any {
	ref := route.Operation.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil
	}
	media := ref.Value.Content.Get("application/json")
	if media == nil {
		return nil
	}
	var v any
	switch {
	case media.Example != nil:
		v = media.Example
	default:
		for _, ex := range media.Examples {
			if ex != nil && ex.Value != nil {
				v = ex.Value.Value
				break
			}
		}
	}
	if v == nil {
		return nil
	}
	data, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

func (s *spec) find(r *http.Request) (*routers.Route, map[string]string, error) {
	return s.router.FindRoute(r)
}
