package apply

import (
	"bufio"
	"encoding/json"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"
)

// uiLine is one message of the engine's machine-readable UI (plan and apply
// with -json): the fields this package reads of the kinds it reads.
type uiLine struct {
	Type string `json:"type"`
	Hook *struct {
		Resource struct {
			Addr string `json:"addr"`
		} `json:"resource"`
		Action string `json:"action"`
	} `json:"hook"`
	Changes *struct {
		Add       int    `json:"add"`
		Change    int    `json:"change"`
		Import    int    `json:"import"`
		Remove    int    `json:"remove"`
		Operation string `json:"operation"`
	} `json:"changes"`
	Diagnostic *tfjson.Diagnostic `json:"diagnostic"`
}

// ui is what a command run with -json said.
type ui struct {
	messages []uiLine
	// json: the output was the machine-readable UI (an engine that cannot start
	// says why in plain text).
	json bool
}

// readUI decodes the engine's -json output; lines that are not messages are
// ignored.
func readUI(stdout string) ui {
	var u ui
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m uiLine
		if json.Unmarshal([]byte(line), &m) != nil || m.Type == "" {
			continue
		}
		u.json = true
		u.messages = append(u.messages, m)
	}
	return u
}

// text renders the diagnostics as the engine prints them for people ("Error:
// summary", then the detail), which is what the lock info and the failure
// classification read: the lock info is text inside the diagnostic's detail,
// with no structured form.
func (u ui) text() string {
	var b strings.Builder
	for _, m := range u.messages {
		d := m.Diagnostic
		if m.Type != "diagnostic" || d == nil {
			continue
		}
		label := "Warning"
		if d.Severity == tfjson.DiagnosticSeverityError {
			label = "Error"
		}
		b.WriteString(label + ": " + d.Summary + "\n")
		if d.Detail != "" {
			b.WriteString("\n" + d.Detail + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// humanOutput is a command's output for classify and the report: the
// diagnostics of the machine-readable UI with whatever went to stderr, or the
// output as is when it was not the UI.
func humanOutput(stdout, stderr string) (string, string) {
	u := readUI(stdout)
	if !u.json {
		return stdout, stderr
	}
	return "", strings.TrimSpace(u.text() + stderr)
}
