package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/testfixture"
)

type locatedFinding struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

type locatedReport struct {
	Layers []struct {
		Name      string   `json:"name"`
		DependsOn []string `json:"depends_on"`
		Format    struct {
			Status   string           `json:"status"`
			Findings []locatedFinding `json:"findings"`
		} `json:"format"`
		Lint struct {
			Status string `json:"status"`
		} `json:"lint"`
		Validate struct {
			Status   string           `json:"status"`
			Findings []locatedFinding `json:"findings"`
		} `json:"validate"`
	} `json:"layers"`
}

// A syntax error in one layer of four fails that layer's Validate and Format with
// the parser's location; the other three are checked completely.
func TestSyntaxErrorInOneLayerOfFour(t *testing.T) {
	for _, engine := range []string{"terraform", "tofu"} {
		t.Run(engine, func(t *testing.T) {
			testfixture.Tools(t, engine)
			files := testfixture.Tree(testfixture.Chain("bootstrap", "platform", "data", "insight")...)
			// An unclosed block after the remote state block: the dependency on L1
			// is still read from the part that parses.
			files["terraform/2.platform/main.tf"] += "\nresource \"null_resource\" \"broken\" {\n  triggers = {\n}\n"
			src := repo(t, files)

			r := run(t, "validate", "--source", src, "--engine", engine, "--format", "json")
			require.Equal(t, 1, r.code, r.stderr)
			var rep locatedReport
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
			require.Len(t, rep.Layers, 4)
			for _, i := range []int{0, 2, 3} {
				l := rep.Layers[i]
				assert.Equal(t, "pass", l.Format.Status, l.Name)
				assert.Equal(t, "pass", l.Lint.Status, l.Name)
				assert.Equal(t, "pass", l.Validate.Status, l.Name)
			}
			platform := rep.Layers[1]
			assert.Equal(t, "2.platform", platform.Name)
			assert.Equal(t, []string{"1.bootstrap"}, platform.DependsOn)
			assert.Equal(t, []string{"2.platform"}, rep.Layers[2].DependsOn)

			want := locatedFinding{File: "terraform/2.platform/main.tf", Line: 15, Column: 35, Message: "Unclosed configuration block"}
			require.Equal(t, "fail", platform.Validate.Status)
			require.Len(t, platform.Validate.Findings, 1)
			assert.Equal(t, want, platform.Validate.Findings[0])
			require.Equal(t, "fail", platform.Format.Status, "fmt rejects the file too")
			require.NotEmpty(t, platform.Format.Findings)
			assert.Equal(t, want, platform.Format.Findings[0])

			assert.Contains(t, r.stderr, "infra: warning: terraform/2.platform/main.tf does not parse; the dependencies of 2.platform are read from its blocks that do")

			// The text and markdown reports are complete too.
			text := run(t, "validate", "--source", src, "--engine", engine, "--quiet", "--no-cache")
			assert.Equal(t, 1, text.code)
			assert.Contains(t, text.stdout, "terraform/2.platform/main.tf:15")
			assert.Contains(t, text.stdout, "L4 Insight")
			md := run(t, "validate", "--source", src, "--engine", engine, "--format", "markdown", "--quiet", "--no-cache")
			assert.Equal(t, 1, md.code)
			assert.Contains(t, md.stdout, "| **L4** Insight | ✅ | ✅ | ✅ |")
			assert.True(t, strings.Contains(md.stdout, "| **L2** Platform | ❌ |"), md.stdout)
		})
	}
}
