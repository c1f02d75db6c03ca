package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
)

func cached(r stage.Result) stage.Result { r.Cached = true; return r }

func TestCachedResultsAreMarkedInEveryFormat(t *testing.T) {
	l1, l2 := layer(1, "network", "Network"), layer(2, "platform", "Platform")
	rep := newReport(
		row(l1, map[stage.Kind]stage.Result{stage.Format: cached(pass()), stage.Lint: cached(pass()), stage.Validate: pass()}),
		allPass(l2),
	)
	n, of := rep.Cached()
	assert.Equal(t, 2, n)
	assert.Equal(t, 6, of)

	txt := text(t, rep)
	assert.Contains(t, lines(txt)[1], "pass*     pass*     pass")
	assert.NotContains(t, lines(txt)[2], "*")
	assert.Contains(t, txt, "* cached: reused from an earlier run")
	assert.Contains(t, report.Summary(rep), "2 of 6 results cached")
	assert.Contains(t, report.Progress(l1, stage.Lint, cached(pass())), "(cached)")
	assert.NotContains(t, report.Progress(l1, stage.Lint, pass()), "cached")

	md := markdown(t, rep, 0)
	assert.Contains(t, md, "| **L1** Network | ✅ <sub>cached</sub> | ✅ <sub>cached</sub> | ✅ |")
	assert.Contains(t, md, "| **L2** Platform | ✅ | ✅ | ✅ |")
	assert.Contains(t, md, "cached: reused from an earlier run")

	var b bytes.Buffer
	require.NoError(t, report.JSON(&b, rep))
	type stageJSON struct {
		Cached *bool `json:"cached"`
	}
	var parsed struct {
		Layers []struct {
			Format   stageJSON `json:"format"`
			Lint     stageJSON `json:"lint"`
			Validate stageJSON `json:"validate"`
		} `json:"layers"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &parsed))
	require.Len(t, parsed.Layers, 2)
	for i, want := range []map[string]bool{
		{"format": true, "lint": true, "validate": false},
		{"format": false, "lint": false, "validate": false},
	} {
		l := parsed.Layers[i]
		for k, got := range map[string]stageJSON{"format": l.Format, "lint": l.Lint, "validate": l.Validate} {
			require.NotNil(t, got.Cached, "%s always says whether it was cached", k)
			assert.Equal(t, want[k], *got.Cached, "layer %d %s", i, k)
		}
	}
}

func TestNothingCachedSaysNothingAboutTheCache(t *testing.T) {
	rep := newReport(allPass(layer(1, "network", "Network")))
	assert.NotContains(t, text(t, rep), "cached")
	assert.NotContains(t, markdown(t, rep, 0), "cached")
	assert.NotContains(t, report.Summary(rep), "cached")
}
