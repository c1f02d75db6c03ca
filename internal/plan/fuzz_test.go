package plan_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/plan"
)

// A trimmed `tofu show -json` of a plan replacing a resource with a sensitive
// trigger and changing an output.
const showJSON = `{"format_version":"1.2","terraform_version":"1.10.6",
"variables":{"canary":{"value":"canary-value"}},
"resource_changes":[{"address":"null_resource.s","mode":"managed","type":"null_resource","name":"s","provider_name":"registry.opentofu.org/hashicorp/null",
 "change":{"actions":["delete","create"],"before":{"id":"1","triggers":{"canary":"canary-value","plain":"x"}},"after":{"id":null,"triggers":{"canary":"canary-value-2","plain":"x"}},
 "after_unknown":{"id":true,"triggers":{}},"before_sensitive":{"triggers":{"canary":true}},"after_sensitive":{"triggers":{"canary":true}}}}],
"output_changes":{"o":{"actions":["update"],"before":"a","after":"b","after_unknown":false,"before_sensitive":false,"after_sensitive":false}},
"configuration":{"root_module":{"variables":{"canary":{"sensitive":true}}}}}`

func FuzzSummarize(f *testing.F) {
	f.Add([]byte(showJSON))
	f.Add([]byte(`{"format_version":"1.0","resource_changes":[{"change":{"actions":["update"],"before":1,"after":{"a":[1,{"b":true}]},"after_sensitive":[true]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := plan.Parse(data)
		if err != nil {
			return
		}
		m, _ := plan.NewMasker(plan.SensitiveValues(p), nil)
		s := plan.Summarize(p, m)
		_ = s.Lines("  ")
		_ = s.Markdown(3, false)
		_ = s.Counts()
	})
}

func TestSummarizeRedactsSensitiveParts(t *testing.T) {
	p, err := plan.Parse([]byte(showJSON))
	require.NoError(t, err)
	m, err := plan.NewMasker(plan.SensitiveValues(p), nil)
	require.NoError(t, err)
	s := plan.Summarize(p, m)
	assert.Equal(t, []int{1, 0, 1, 1}, []int{s.Add, s.Change, s.Destroy, s.Replace})
	require.Len(t, s.Changes, 1)
	assert.Equal(t, "replace", s.Changes[0].Action)
	assert.Equal(t, []plan.Attribute{
		{Name: "id", Before: `"1"`, After: "(known after apply)"},
		{Name: "triggers", Before: "(sensitive value)", After: "(sensitive value)"},
	}, s.Changes[0].Attributes)
	assert.Equal(t, []plan.Output{{Name: "o", Action: "update", Value: `"b"`}}, s.Outputs)
	assert.NotContains(t, strings.Join(s.Lines(""), "\n")+s.Markdown(0, false), "canary-value")
}
