package native_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/stage"
	"github.com/infra-flash/infra/internal/testfixture"
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
	syncTree(t, src, dst)
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
	syncTree(t, src, dst)
	assert.Equal(t, "v2", read(t, filepath.Join(dst, "terraform/1.a/main.tf")))
	assert.NoFileExists(t, filepath.Join(dst, "terraform/1.a/gone.tf"))
	assert.Equal(t, "provider", read(t, filepath.Join(dst, "terraform/1.a/.terraform/providers/p")))
	assert.Equal(t, "made by init", read(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl")))

	// A lock file the repository has wins.
	write(t, filepath.Join(src, "terraform/1.a/.terraform.lock.hcl"), "the user's")
	syncTree(t, src, dst)
	assert.Equal(t, "the user's", read(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl")))

	// A removed layer goes, with its init state.
	require.NoError(t, os.RemoveAll(filepath.Join(src, "terraform/1.a")))
	syncTree(t, src, dst)
	assert.NoDirExists(t, filepath.Join(dst, "terraform/1.a"))
}

// Local state left in a working copy is never copied: no check reads it, and it
// holds secrets.
func TestSyncLeavesLocalStateBehind(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	write(t, filepath.Join(src, "terraform/1.a/main.tf"), "v1")
	for _, f := range []string{"terraform.tfstate", "terraform.tfstate.backup", "old.tfstate", "terraform.tfstate.d/dev/terraform.tfstate"} {
		write(t, filepath.Join(src, "terraform/1.a", f), `{"secret": "s3cr3t"}`)
	}
	// A copy made before this rule goes.
	write(t, filepath.Join(dst, "terraform/1.a/terraform.tfstate"), "old copy")
	syncTree(t, src, dst)
	assert.FileExists(t, filepath.Join(dst, "terraform/1.a/main.tf"))
	assert.NoFileExists(t, filepath.Join(dst, "terraform/1.a/terraform.tfstate"))
	assert.NoFileExists(t, filepath.Join(dst, "terraform/1.a/terraform.tfstate.backup"))
	assert.NoFileExists(t, filepath.Join(dst, "terraform/1.a/old.tfstate"))
	assert.NoDirExists(t, filepath.Join(dst, "terraform/1.a/terraform.tfstate.d"))
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

func syncTree(t *testing.T, src, dst string) []native.Link {
	t.Helper()
	outside, err := native.Sync(src, dst)
	require.NoError(t, err)
	return outside
}

func TestSyncRemovesALockFileTheSourceDeleted(t *testing.T) {
	src, work := t.TempDir(), t.TempDir()
	dst := filepath.Join(work, "ws")
	write(t, filepath.Join(src, "terraform/1.a/main.tf"), "x")
	write(t, filepath.Join(src, "terraform/1.a/.terraform.lock.hcl"), "the user's")
	syncTree(t, src, dst)
	assert.Equal(t, "the user's", read(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl")))

	require.NoError(t, os.Remove(filepath.Join(src, "terraform/1.a/.terraform.lock.hcl")))
	syncTree(t, src, dst)
	assert.NoFileExists(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl"), "a stale lock would pin init to old versions")

	// What init writes afterwards is init's, and stays.
	write(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl"), "made by init")
	syncTree(t, src, dst)
	assert.Equal(t, "made by init", read(t, filepath.Join(dst, "terraform/1.a/.terraform.lock.hcl")))
}

func TestSyncSymlinks(t *testing.T) {
	src, work, elsewhere := t.TempDir(), t.TempDir(), t.TempDir()
	dst := filepath.Join(work, "ws")
	write(t, filepath.Join(src, "stacks/c/main.tf"), "c")
	write(t, filepath.Join(src, "shared/providers.tf"), "p")
	write(t, filepath.Join(elsewhere, "secret.tf"), "not the repository's")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "terraform/1.a"), 0o755))
	require.NoError(t, os.Symlink("../stacks/c", filepath.Join(src, "terraform/3.linked")))
	require.NoError(t, os.Symlink(filepath.Join(src, "shared/providers.tf"), filepath.Join(src, "terraform/1.a/providers.tf")))
	require.NoError(t, os.Symlink(filepath.Join(elsewhere, "secret.tf"), filepath.Join(src, "terraform/1.a/outside.tf")))
	require.NoError(t, os.Symlink("../../../../etc", filepath.Join(src, "terraform/1.a/up")))

	outside := syncTree(t, src, dst)

	// A symlinked layer directory reads the workspace's copy.
	target, err := os.Readlink(filepath.Join(dst, "terraform/3.linked"))
	require.NoError(t, err)
	assert.Equal(t, "../stacks/c", target)
	assert.Equal(t, "c", read(t, filepath.Join(dst, "terraform/3.linked/main.tf")))
	// An absolute link into the repository becomes relative, so tools never reach the user's tree.
	target, err = os.Readlink(filepath.Join(dst, "terraform/1.a/providers.tf"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("..", "..", "shared", "providers.tf"), target)
	assert.Equal(t, "p", read(t, filepath.Join(dst, "terraform/1.a/providers.tf")))
	// Links leaving the repository are reported and not copied.
	assert.Equal(t, []native.Link{
		{Path: "terraform/1.a/outside.tf", Target: filepath.Join(elsewhere, "secret.tf")},
		{Path: "terraform/1.a/up", Target: "../../../../etc"},
	}, outside)
	_, err = os.Lstat(filepath.Join(dst, "terraform/1.a/outside.tf"))
	assert.True(t, os.IsNotExist(err))
	_, err = os.Lstat(filepath.Join(dst, "terraform/1.a/up"))
	assert.True(t, os.IsNotExist(err))
	assert.Contains(t, outside[0].String(), "terraform/1.a/outside.tf is a symlink to "+elsewhere)
}

// Commands that install providers into the shared plugin cache never overlap, in
// one run or across runs on other repositories. The engine here is a script that
// notes when it finds another one running; the real engines run concurrently in
// the CLI tests.
func TestProviderInstallsTakeThePluginCacheInTurn(t *testing.T) {
	cache, marks := t.TempDir(), t.TempDir()
	engine := filepath.Join(t.TempDir(), "engine")
	write(t, engine, "#!/bin/sh\n"+
		"if ! mkdir \""+marks+"/busy\" 2>/dev/null; then echo overlap >> \""+marks+"/overlaps\"; fi\n"+
		"sleep 0.05\nrmdir \""+marks+"/busy\" 2>/dev/null\nexit 0\n")
	require.NoError(t, os.Chmod(engine, 0o755))
	tools := toolchain.Tools{EngineName: "terraform", Engine: engine}

	var execs []*native.Executor
	for range 2 {
		src := t.TempDir()
		write(t, filepath.Join(src, "terraform/1.a/main.tf"), "")
		e, err := native.New(src, cache, tools)
		require.NoError(t, err)
		defer e.Close()
		execs = append(execs, e)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := execs[i%2].Run(context.Background(), stage.Command{Tool: stage.Engine, Args: []string{"init"},
				Dir: "terraform/1.a", InstallsProviders: true})
			assert.NoError(t, err)
			assert.Equal(t, 0, out.ExitCode)
		}()
	}
	wg.Wait()
	assert.NoFileExists(t, filepath.Join(marks, "overlaps"))
}

// In place, the engine runs in the layer's own directory: what it writes there
// (local state) stays in the repository, and its data directory, with the plan
// files named under .terraform/, goes to the cache.
func TestInPlaceWritesStateInTheLayerAndDataInTheCache(t *testing.T) {
	tools := testfixture.Tools(t, "tofu")
	src := t.TempDir()
	write(t, filepath.Join(src, "terraform/1.a/main.tf"), "resource \"terraform_data\" \"x\" {\n  input = file(\"input.txt\")\n}\n")
	write(t, filepath.Join(src, "terraform/1.a/input.txt"), "from the layer")
	before := read(t, filepath.Join(src, "terraform/1.a/main.tf"))
	ex, err := native.New(src, toolchain.CacheDir(), tools, native.InPlace())
	require.NoError(t, err)
	defer ex.Close()
	assert.Equal(t, src, ex.Root())
	ctx := context.Background()
	for _, args := range [][]string{
		{"init", "-input=false", "-no-color"},
		{"plan", "-input=false", "-no-color", "-out=.terraform/p.tfplan"},
		{"apply", "-input=false", "-no-color", ".terraform/p.tfplan"},
	} {
		out, err := ex.Run(ctx, stage.Command{Tool: stage.Engine, Args: args, Dir: "terraform/1.a"})
		require.NoError(t, err)
		require.Equal(t, 0, out.ExitCode, out.Stdout+out.Stderr)
	}
	assert.Contains(t, read(t, filepath.Join(src, "terraform/1.a/terraform.tfstate")), "from the layer")
	assert.NoDirExists(t, filepath.Join(src, "terraform/1.a/.terraform"))
	plan, err := ex.Get(ctx, "", "terraform/1.a/.terraform/p.tfplan")
	require.NoError(t, err)
	assert.NotEmpty(t, plan)
	require.NoError(t, ex.Put(ctx, "", "terraform/1.a/.terraform/q.tfplan", plan))
	assert.NoFileExists(t, filepath.Join(src, "terraform/1.a/.terraform/q.tfplan"))
	_, err = ex.Get(ctx, "", "../outside")
	assert.Error(t, err)
	assert.Equal(t, before, read(t, filepath.Join(src, "terraform/1.a/main.tf")))
}
