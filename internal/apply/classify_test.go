package apply

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/infra-flash/infra/internal/plan"
)

// diagnostic is one line of the engine's -json output.
func diagnostic(summary, detail string) string {
	b, _ := json.Marshal(map[string]any{"type": "diagnostic", "@level": "error",
		"diagnostic": map[string]string{"severity": "error", "summary": summary, "detail": detail}})
	return string(b) + "\n"
}

func TestClassifyReadsTheMachineReadableDiagnostics(t *testing.T) {
	m, _ := plan.NewMasker([]string{"hunter2-secret"}, nil)
	for name, c := range map[string]struct {
		step, stdout string
		status       Status
		reason       string
	}{
		"lock held": {"apply", diagnostic("Error acquiring the state lock",
			"Error message: operation error S3: PutObject\nLock Info:\n  ID:        3c9f2d\n  Path:      state/1.app/terraform.tfstate.tflock\n  Operation: OperationTypeApply\n  Who:       runner@ci-7\n  Version:   1.10.6\n  Created:   2026-11-29 10:15:42.123 +0000 UTC\n  Info:      \n"),
			Locked, "lock ID 3c9f2d"},
		"state unreachable after init": {"plan", diagnostic("Failed to load state",
			`operation error S3: GetObject, https response error: dial tcp 127.0.0.1:9: connect: connection refused`), Error, "plan: the state backend could not be reached"},
		"state not persisted": {"apply", diagnostic("Failed to save state", "connection reset") +
			diagnostic("Failed to persist state to backend", `The error shown above has prevented OpenTofu from writing the updated state to the configured backend. To allow for recovery, the state has been written to the file "errored.tfstate" in the current working directory.`),
			Error, "apply: the state could not be saved to the backend"},
		"provider API unreachable is the configuration's": {"apply", diagnostic("creating widget",
			"dial tcp 10.0.0.1:443: connect: connection refused"), Failed, "apply: creating widget"},
		"secret in a diagnostic": {"plan", diagnostic("Invalid value", "hunter2-secret is not valid"), Failed, "plan: Invalid value"},
	} {
		t.Run(name, func(t *testing.T) {
			f := classify(c.step, c.stdout, "", m)
			assert.Equal(t, c.status, f.status)
			assert.Contains(t, f.reason, c.reason)
			assert.NotContains(t, f.detail, `"type"`, "the detail is the diagnostics as text, not JSON")
			assert.NotContains(t, f.detail+f.reason, "hunter2-secret")
		})
	}
}

func TestAppliedSummaryFromTheMachineReadableUI(t *testing.T) {
	out := `{"@level":"info","type":"version","terraform":"1.10.6","ui":"1.2"}
{"type":"apply_complete","hook":{"resource":{"addr":"data.terraform_remote_state.up"},"action":"read"}}
{"type":"apply_complete","hook":{"resource":{"addr":"null_resource.a"},"action":"create"}}
{"type":"apply_complete","hook":{"resource":{"addr":"null_resource.b"},"action":"delete"}}
{"type":"apply_complete","hook":{"resource":{"addr":"null_resource.b"},"action":"create"}}
{"type":"apply_complete","hook":{"resource":{"addr":"null_resource.c"},"action":"update"}}
{"type":"change_summary","changes":{"add":2,"change":1,"import":0,"remove":1,"operation":"apply"}}
`
	s := appliedSummary(out, nil)
	assert.Equal(t, []plan.Resource{{Address: "null_resource.a", Action: "create"}, {Address: "null_resource.b", Action: "replace"},
		{Address: "null_resource.c", Action: "update"}}, s.Changes)
	assert.Equal(t, [4]int{2, 1, 1, 0}, [4]int{s.Add, s.Change, s.Destroy, s.Import})

	failed := appliedSummary(`{"type":"apply_complete","hook":{"resource":{"addr":"null_resource.a"},"action":"create"}}`+"\n"+diagnostic("boom", ""), nil)
	assert.Equal(t, 1, failed.Add, "without the closing counts, the finished resources are counted")
	empty := appliedSummary("", nil)
	assert.NotNil(t, empty.Changes)
	assert.NotNil(t, empty.Outputs)
	assert.NotNil(t, empty.Drift)
}
