package layers_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/layers"
)

func TestModuleClosureFollowsLocalCallsFromAModule(t *testing.T) {
	fsys := fstest.MapFS{
		"modules/a/main.tf":     {Data: []byte("module \"b\" {\n  source = \"../b\"\n}\nmodule \"remote\" {\n  source = \"hashicorp/x/y\"\n}\n")},
		"modules/b/main.tf":     {Data: []byte("module \"c\" {\n  source = \"./c\"\n}\n")},
		"modules/b/c/main.tf":   {Data: []byte("")},
		"modules/lone/main.tf":  {Data: []byte("")},
		"modules/cycle/main.tf": {Data: []byte("module \"self\" {\n  source = \"./\"\n}\n")},
	}
	got, err := layers.ModuleClosure(fsys, "modules/a")
	require.NoError(t, err)
	assert.Equal(t, []string{"modules/b", "modules/b/c"}, got)
	got, err = layers.ModuleClosure(fsys, "modules/lone")
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = layers.ModuleClosure(fsys, "modules/cycle")
	require.NoError(t, err)
	assert.Empty(t, got)
}
