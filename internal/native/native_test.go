package native_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/toolchain"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestSyncMirrorsTheSourceAndKeepsInitState(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	write(t, filepath.Join(src, "terraform/1.a/main.tf"), "v1")
	write(t, filepath.Join(src, "terraform/1.a/gone.tf"), "x")
	write(t, filepath.Join(src, ".git/HEAD"), "ref")
	write(t, filepath.Join(src, "terraform/1.a/.terraform/junk"), "user's own init")
	require.NoError(t, native.Sync(src, dst))
	assert.Equal(t, "v1", read(t, filepath.Join(dst, "terraform/1.a/main.tf")))
	assert.NoFileExists(t, filepath.Join(dst, ".git/HEAD"))
	assert.NoFileExists(t, filepath.Join(dst, "terraform/1.a/.terraform/junk"))

	// What init leaves in the workspace survives the next sync.
	write(t, filepath.Join(dst, "terraform/1.a/.terraform/providers/p"), "provider")
	write(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl"), "made by init")

	write(t, filepath.Join(src, "terraform/1.a/main.tf"), "v2")
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(filepath.Join(src, "terraform/1.a/main.tf"), later, later))
	require.NoError(t, os.Remove(filepath.Join(src, "terraform/1.a/gone.tf")))
	require.NoError(t, native.Sync(src, dst))
	assert.Equal(t, "v2", read(t, filepath.Join(dst, "terraform/1.a/main.tf")))
	assert.NoFileExists(t, filepath.Join(dst, "terraform/1.a/gone.tf"))
	assert.Equal(t, "provider", read(t, filepath.Join(dst, "terraform/1.a/.terraform/providers/p")))
	assert.Equal(t, "made by init", read(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl")))

	// A lock file the repository has wins.
	write(t, filepath.Join(src, "terraform/1.a/.terraform.lock.hcl"), "the user's")
	require.NoError(t, native.Sync(src, dst))
	assert.Equal(t, "the user's", read(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl")))

	// A removed layer goes, with its init state.
	require.NoError(t, os.RemoveAll(filepath.Join(src, "terraform/1.a")))
	require.NoError(t, native.Sync(src, dst))
	assert.NoDirExists(t, filepath.Join(dst, "terraform/1.a"))
}

func TestSecondRunOnTheSameRepositoryWaitsForTheFirst(t *testing.T) {
	cache, src := t.TempDir(), t.TempDir()
	write(t, filepath.Join(src, "terraform/1.a/main.tf"), "")
	tools := toolchain.Tools{EngineName: "terraform"}
	first, err := native.New(src, cache, tools)
	require.NoError(t, err)

	waited := make(chan struct{})
	acquired := make(chan *native.Executor)
	go func() {
		second, err := native.New(src, cache, tools, native.OnWait(func() { close(waited) }))
		assert.NoError(t, err)
		acquired <- second
	}()
	<-waited
	select {
	case <-acquired:
		t.Fatal("the second run got the workspace while the first held it")
	default:
	}
	require.NoError(t, first.Close())
	second := <-acquired
	require.NotNil(t, second)
	require.NoError(t, second.Close())
}
