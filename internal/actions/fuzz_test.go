package actions_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/infra-flash/infra/internal/actions"
)

var (
	fuzzSHA  = regexp.MustCompile(`^([0-9a-f]{40}([0-9a-f]{24})?)?$`)
	fuzzRepo = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+)?$`)
)

// FuzzParseEvent: any payload either is refused with an EventError or yields
// values safe to put in API paths, comments and outputs.
func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{`{}`, `{"action":"opened","number":1,"pull_request":{"number":1,"head":{"sha":"` + strings.Repeat("a", 40) + `","ref":"x"}}}`,
		`{"issue":{"number":3,"pull_request":{}},"comment":{"body":"/review","author_association":"MEMBER","user":{"login":"a","type":"User"}}}`,
		`{"ref":"refs/heads/main","after":"` + strings.Repeat("b", 40) + `","head_commit":{"id":"` + strings.Repeat("b", 40) + `","message":"x\ny"}}`,
		`[]`, `null`, `{"repository":{"full_name":"a/b"}}`} {
		for _, name := range []string{"pull_request", "issue_comment", "push", "pull_request_review"} {
			f.Add(name, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		ev, err := actions.ParseEvent(name, data)
		if err != nil {
			if _, ok := err.(*actions.EventError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if ev.Name != name || ev.PR < 0 || !fuzzSHA.MatchString(ev.HeadSHA) || !fuzzRepo.MatchString(ev.Repo) {
			t.Fatalf("unsafe event %+v", ev)
		}
		for _, ref := range []string{ev.HeadRef, ev.BaseRef} {
			if strings.ContainsAny(ref, "\n\r\x00 ") {
				t.Fatalf("unsafe ref %q", ref)
			}
		}
		if ev.Commit != nil && !fuzzSHA.MatchString(ev.Commit.SHA) {
			t.Fatalf("unsafe commit %+v", ev.Commit)
		}
	})
}
