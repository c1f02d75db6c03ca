package repofs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/repofs"
)

func TestParseLinksKeepsLinksInsideTheRepository(t *testing.T) {
	out := "./layers/1.a\x00../stacks/team/a\x00" + // a linked layer directory
		"./layers/2.b\x00../stacks/b\x00" +
		"./mods/out\x00../../elsewhere\x00" + // leads out of the repository
		"./abs\x00/etc\x00" + // absolute: nothing behind it elsewhere
		"./empty\x00\x00" +
		"./trailing" // cut short
	assert.Equal(t, []repofs.Link{{"layers/1.a", "../stacks/team/a"}, {"layers/2.b", "../stacks/b"}}, repofs.ParseLinks(out))
	assert.Empty(t, repofs.ParseLinks(""))
}

// The command as a container runs it, on a real tree: names with spaces and
// newlines survive, .git is left out.
func TestFindLinksOnARealTree(t *testing.T) {
	if _, err := exec.LookPath("find"); err != nil {
		t.Skip("no find")
	}
	dir := t.TempDir()
	for _, d := range []string{"stacks/a", "layers", ".git/refs"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	require.NoError(t, os.Symlink("../stacks/a", filepath.Join(dir, "layers", "1.a")))
	require.NoError(t, os.Symlink("../stacks/a", filepath.Join(dir, "layers", "2.my\nlayer")))
	require.NoError(t, os.Symlink("../stacks/a", filepath.Join(dir, ".git", "refs", "x")))
	cmd := exec.Command(repofs.FindLinks[0], repofs.FindLinks[1:]...)
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.ElementsMatch(t, []repofs.Link{{"layers/1.a", "../stacks/a"}, {"layers/2.my\nlayer", "../stacks/a"}}, repofs.ParseLinks(string(out)))
}
