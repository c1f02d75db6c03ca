package atlantis_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/infra-flash/infra/internal/atlantis"
)

// FuzzParse: any text is either not an Atlantis comment or reads back into
// well-formed results, without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{planOne, planNamed, planMany, applyOne, applyError, applyRefused, policy,
		"Ran Plan for 0 projects:", "Ran Plan for 1 projects:\n### 1. dir: `a` workspace: `b`\n**Plan Error**",
		"**Plan Failed**:", "Ran  for dir: `` workspace: ``"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		res, ok := atlantis.Parse(body)
		if !ok {
			if res.Command != "" || res.Projects != nil || res.Failure != "" {
				t.Fatalf("not a result but fields set: %+v", res)
			}
			return
		}
		if res.Command == "" || strings.ContainsAny(res.Command, "\n`") {
			t.Fatalf("bad command %q", res.Command)
		}
		for _, p := range res.Projects {
			if p.Dir == "" || strings.ContainsAny(p.Dir, "\n`") || strings.ContainsAny(p.Workspace, "\n`") {
				t.Fatalf("bad project %+v", p)
			}
			switch p.Outcome {
			case atlantis.Success, atlantis.Failed, atlantis.Errored:
			default:
				t.Fatalf("bad outcome %q", p.Outcome)
			}
			if strings.Contains(p.Summary, "\n") || len(p.Summary) > 210 {
				t.Fatalf("summary not one short line: %q", p.Summary)
			}
			if utf8.ValidString(body) && !utf8.ValidString(p.Summary) {
				t.Fatalf("summary cut inside a character: %q", p.Summary)
			}
		}
		if res.Succeeded() && res.Failure != "" {
			t.Fatal("succeeded with a failure")
		}
	})
}
