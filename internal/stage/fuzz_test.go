package stage_test

import (
	"strings"
	"testing"

	"github.com/infra-flash/infra/internal/stage"
)

// The parsers read whatever a tool printed: they must never panic, and every
// non-pass result must say why.
func checkResult(t *testing.T, r stage.Result) {
	t.Helper()
	switch r.Status {
	case stage.Pass:
	case stage.Fail, stage.Error:
		if len(r.Findings) == 0 && r.Status == stage.Error {
			t.Fatalf("an error result without a finding: %+v", r)
		}
	default:
		t.Fatalf("unexpected status %q", r.Status)
	}
	for _, f := range r.Findings {
		if f.Line < 0 {
			t.Fatalf("negative line: %+v", f)
		}
	}
}

func FuzzParseFormat(f *testing.F) {
	f.Add("main.tf\n--- old/main.tf\n+++ new/main.tf\n@@ -1,3 +1,3 @@\n x {\n-a=1\n+  a = 1\n }\n", "", 3)
	f.Add("", "Error: Invalid character\n\n  on main.tf line 2:\n", 2)
	f.Add("@@ -x @@\n-", "", 3)
	f.Fuzz(func(t *testing.T, stdout, stderr string, code int) {
		checkResult(t, stage.ParseFormat("/src", "terraform/1.a", stage.Output{Stdout: stdout, Stderr: stderr, ExitCode: code}))
	})
}

func FuzzParseLint(f *testing.F) {
	f.Add(`{"issues":[{"rule":{"name":"r","severity":"warning"},"message":"m","range":{"filename":"main.tf","start":{"line":1,"column":1}}}],"errors":[]}`, 2)
	f.Add(`{"issues":[],"errors":[{"message":"Failed to load","severity":"error"}]}`, 1)
	f.Add(`not json`, 1)
	f.Fuzz(func(t *testing.T, stdout string, code int) {
		checkResult(t, stage.ParseLint("/src", "terraform/1.a", stage.Output{Stdout: stdout, ExitCode: code}))
	})
}

func FuzzParseValidate(f *testing.F) {
	f.Add(`{"valid":false,"diagnostics":[{"severity":"error","summary":"s","range":{"filename":"/src/modules/m/main.tf","start":{"line":3}}}]}`, 1)
	f.Add(`{"valid":true,"diagnostics":[]}`, 0)
	f.Add(`{"diagnostics":null}`, 0)
	f.Fuzz(func(t *testing.T, stdout string, code int) {
		r := stage.ParseValidate("/src", "terraform/1.a", stage.Output{Stdout: stdout, ExitCode: code})
		checkResult(t, r)
		if r.Status == stage.Pass && code != 0 {
			t.Fatalf("a non-zero exit passed: %+v", r)
		}
	})
}

func FuzzParseInitFailure(f *testing.F) {
	f.Add("Error: Unreadable module directory\n\n  on main.tf line 1:\n   1: module \"m\" {\n")
	f.Add("╷\n│ Error: x\n│ \n│   on ../../modules/a.tf line 9, in module:\n╵\n")
	f.Add("Error: Failed to query available provider packages\n\nCould not retrieve the list of available versions for provider\nhashicorp/null: the previously-selected version 3.2.0 is no longer available\n")
	f.Add("Error: Failed to query available provider packages\n\nCould not resolve provider hashicorp/null: failed to query provider mirror\nhttps://127.0.0.1:1/ for registry.opentofu.org/hashicorp/null: request\nfailed: dial tcp 127.0.0.1:1: connect: connection refused\n")
	f.Fuzz(func(t *testing.T, stderr string) {
		r := stage.ParseInitFailure("/src", "terraform/1.a", stage.Output{Stderr: stderr, ExitCode: 1})
		checkResult(t, r)
		if r.Status == stage.Pass {
			t.Fatal("a failed init passed")
		}
		for _, f := range r.Findings {
			if strings.Contains(f.File, "\n") {
				t.Fatalf("file name spans lines: %q", f.File)
			}
		}
	})
}
