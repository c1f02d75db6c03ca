package apply

import (
	"strings"
	"testing"

	"github.com/infra-flash/infra/internal/plan"
)

// FuzzReadEngineOutput feeds arbitrary engine output to what reads it: the apply
// summary and the failure classification must never panic, and never let a
// masked value through.
func FuzzReadEngineOutput(f *testing.F) {
	f.Add("null_resource.a: Creation complete after 0s [id=1]\nApply complete! Resources: 1 added, 0 changed, 0 destroyed.\n", "")
	f.Add(`{"type":"apply_complete","hook":{"resource":{"addr":"null_resource.a"},"action":"create"}}
{"type":"change_summary","changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"apply"}}
{"type":"diagnostic","diagnostic":{"severity":"error","summary":"Error acquiring the state lock","detail":"Lock Info:\n  ID: abc\n  Who: secret-value-1234"}}`, "")
	f.Add("module.x.null_resource.b[\"k\"]: Destruction complete after 1s\nmodule.x.null_resource.b[\"k\"]: Creation complete after 0s\n", "\nError: Error acquiring the state lock\n\nLock Info:\n  ID: abc\n  Who: me\n")
	f.Add("", "Error: Failed to get existing workspaces: api error InvalidAccessKeyId: secret-value-1234")
	f.Fuzz(func(t *testing.T, stdout, stderr string) {
		m, _ := plan.NewMasker([]string{"secret-value-1234"}, nil)
		s := appliedSummary(stdout, m)
		if s.Add < 0 || s.Destroy < 0 {
			t.Fatalf("negative counts: %+v", s)
		}
		fl := classify("apply", stdout, stderr, m)
		for _, out := range []string{fl.reason, fl.detail} {
			if strings.Contains(out, "secret-value-1234") {
				t.Fatalf("secret in %q", out)
			}
		}
		_ = CheckExtraArgs(strings.Fields(stdout))
	})
}
