package native

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/testfixture"
	"github.com/infra-flash/infra/internal/toolchain"
)

// validateTree runs validate on every layer of src with a fresh workspace.
func validateTree(t *testing.T, src string) (*report.Report, *Executor) {
	t.Helper()
	t.Setenv("INFRA_CACHE_DIR", t.TempDir())
	tools, err := toolchain.Find("terraform")
	require.NoError(t, err)
	tools.Mirror = os.Getenv(toolchain.MirrorEnv) // set by testfixture.Tools: the tests run offline
	set, err := layers.Discover(os.DirFS(src), repoconfig.Config{LayersDir: "terraform"})
	require.NoError(t, err)
	e, err := New(src, toolchain.CacheDir(), tools)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return pipeline.Run(context.Background(), set.Layers, e, pipeline.Options{Stages: []stage.Kind{stage.Validate}}), e
}

func TestValidatesShareOneServerPerProviderWithTheSameResults(t *testing.T) {
	testfixture.Tools(t, "terraform")
	files := testfixture.Tree(testfixture.Chain("base", "app", "data")...)
	files["terraform/2.app/bad.tf"] = "output \"broken\" {\n  description = \"Reads what does not exist.\"\n  value       = null_resource.missing.id\n}\n"
	src := t.TempDir()
	testfixture.Write(t, src, files)

	shared, e := validateTree(t, src)
	require.Len(t, e.providers.servers, 1, "the three layers' null provider is one binary: one server")

	// A server that dies is replaced, never handed out again.
	first := e.providers.servers[0]
	require.NoError(t, first.cmd.Process.Kill())
	<-first.exited
	dir := filepath.Join(e.Root(), "terraform", "1.base")
	r, used := e.providers.reattach(context.Background(), dir)
	require.NotEmpty(t, r)
	require.Len(t, used, 1)
	assert.NotSame(t, first, used[0])
	assert.False(t, died(used))
	require.NoError(t, e.Close())
	assert.Empty(t, e.providers.servers, "Close stops the servers")

	t.Setenv("INFRA_SHARE_PROVIDERS", "0")
	alone, e2 := validateTree(t, src)
	assert.Empty(t, e2.providers.servers)

	require.Len(t, shared.Layers, 3)
	for i, l := range shared.Layers {
		assert.Equal(t, alone.Layers[i].Results[stage.Validate].Status, l.Results[stage.Validate].Status, l.Layer.Dir)
		assert.ElementsMatch(t, alone.Layers[i].Results[stage.Validate].Findings, l.Results[stage.Validate].Findings, l.Layer.Dir)
	}
	assert.Equal(t, stage.Fail, shared.Layers[1].Results[stage.Validate].Status)
	assert.Equal(t, stage.Pass, shared.Layers[0].Results[stage.Validate].Status)
}

func TestAProviderThatCannotServeIsLeftToTerraform(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "terraform-provider-x_v1.0.0")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho 'no debug mode here'\nexit 1\n"), 0o755))
	var p providerServers
	s := p.server(context.Background(), bin)
	require.NotNil(t, s)
	assert.Nil(t, s.cfg, "no configuration to attach to")
	assert.True(t, died([]*providerServer{s}))
	p.stop()
}

func TestParseReattachLine(t *testing.T) {
	cfg := parseReattachLine(`	TF_REATTACH_PROVIDERS='{"registry.terraform.io/hashicorp/null":{"Protocol":"grpc","ProtocolVersion":5,"Pid":7,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin1"}}}'`)
	assert.JSONEq(t, `{"Protocol":"grpc","ProtocolVersion":5,"Pid":7,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin1"}}`, string(cfg))
	assert.NotNil(t, parseReattachLine(`export TF_REATTACH_PROVIDERS='{"kubernetes":{"Pid":1}}'`))
	for _, bad := range []string{"", "Provider started.", `TF_REATTACH_PROVIDERS='{"a":{},"b":{}}'`, `TF_REATTACH_PROVIDERS='{not json}'`, `TF_REATTACH_PROVIDERS='{"a":{}}`} {
		assert.Nil(t, parseReattachLine(bad), bad)
	}
}

func TestLockedProviders(t *testing.T) {
	lock := filepath.Join(t.TempDir(), ".terraform.lock.hcl")
	require.NoError(t, os.WriteFile(lock, []byte(`provider "registry.terraform.io/hashicorp/null" {
  version     = "3.3.1"
  constraints = ">= 3.0"
  hashes      = ["h1:abc"]
}

provider "registry.opentofu.org/hashicorp/helm" {
  version = "3.2.0"
}
`), 0o644))
	got, err := lockedProviders(lock)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"registry.terraform.io/hashicorp/null": "3.3.1", "registry.opentofu.org/hashicorp/helm": "3.2.0"}, got)
	assert.Empty(t, installedProvider(t.TempDir(), "registry.terraform.io/hashicorp/null", "../../x"))
}
