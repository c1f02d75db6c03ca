package repofs

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tfOnly(name string) bool { return strings.HasSuffix(name, ".tf") }

// tree writes a directory with every kind of entry discovery meets.
func tree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	d := filepath.Join(root, "terraform", "1.bootstrap")
	require.NoError(t, os.MkdirAll(filepath.Join(d, "sub"), 0o755))
	write := func(name string, data []byte) {
		require.NoError(t, os.WriteFile(filepath.Join(d, name), data, 0o644))
	}
	write("empty.tf", nil)
	write("main.tf", []byte("resource \"null_resource\" \"a\" {}\n"))
	write("exact.tf", bytes.Repeat([]byte("a"), 64<<10))                 // the scratch buffer's size
	write("large.tf", bytes.Repeat([]byte("# line\n"), 300<<10/7))       // grows the buffer
	write("huge.tf", bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)) // past what the pool keeps
	write("ünïcødé.tf", []byte("locals {}\n"))
	write("README.md", []byte("not wanted"))
	require.NoError(t, os.Symlink("main.tf", filepath.Join(d, "link.tf")))
	require.NoError(t, os.Symlink("missing.tf", filepath.Join(d, "dangling.tf")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(d, "pipe.tf"), 0o644))
	return root
}

// bothEnds runs a test with reads that stop at a short read (local file systems)
// and with reads that go on until zero (every other file system).
func bothEnds(t *testing.T, test func(t *testing.T)) {
	for _, trust := range []bool{true, false} {
		t.Run(fmt.Sprintf("short-read-ends=%v", trust), func(t *testing.T) {
			old := trustShortEnds
			trustShortEnds = trust
			t.Cleanup(func() { trustShortEnds = old })
			test(t)
		})
	}
}

func TestReadFilesMatchesTheFSPath(t *testing.T) { bothEnds(t, testMatchesTheFSPath) }

func testMatchesTheFSPath(t *testing.T) {
	root := tree(t)
	dir := "terraform/1.bootstrap"
	fast, err := ReadFiles(Dir(root), dir, tfOnly)
	require.NoError(t, err)
	slow, err := readFilesFS(os.DirFS(root), dir, tfOnly)
	require.NoError(t, err)

	require.Equal(t, names(slow.Entries), names(fast.Entries), "same entries, same order")
	for i, e := range slow.Entries {
		assert.Equal(t, e.Type(), fast.Entries[i].Type(), e.Name())
		assert.Equal(t, e.IsDir(), fast.Entries[i].IsDir(), e.Name())
		want, err := e.Info()
		require.NoError(t, err)
		got, err := fast.Entries[i].Info()
		require.NoError(t, err)
		assert.Equal(t, want.Mode(), got.Mode(), e.Name())
		assert.Equal(t, want.Size(), got.Size(), e.Name())
	}
	slowFiles, fastFiles := files(slow), files(fast)
	require.Equal(t, len(slowFiles), len(fastFiles))
	for name, src := range slowFiles {
		assert.True(t, bytes.Equal(src, fastFiles[name]), "%s: %d bytes against %d", name, len(src), len(fastFiles[name]))
	}
	assert.ElementsMatch(t, []string{"empty.tf", "main.tf", "exact.tf", "large.tf", "huge.tf", "ünïcødé.tf"}, keys(fastFiles),
		"regular wanted files only: links, pipes and other names are listed, not read")
	assert.NotNil(t, fastFiles["empty.tf"], "an empty file is read as empty, not missing")
	assert.NotNil(t, slowFiles["empty.tf"], "an empty file is read as empty, not missing")
}

func TestReadFilesListsPastOneDirentBuffer(t *testing.T) { bothEnds(t, testListsPastOneDirentBuffer) }

func testListsPastOneDirentBuffer(t *testing.T) {
	root := t.TempDir()
	for i := range 3000 { // about 100 KiB of dirents: several getdents64 calls
		name := fmt.Sprintf("file-with-a-longish-name-%05d.tf", i)
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(name), 0o644))
	}
	l, err := ReadFiles(Dir(root), ".", tfOnly)
	require.NoError(t, err)
	require.Len(t, l.Entries, 3000)
	require.Len(t, files(l), 3000)
	for name, src := range files(l) {
		require.Equal(t, name, string(src))
	}
	assert.Equal(t, "file-with-a-longish-name-00000.tf", l.Entries[0].Name())
	assert.Equal(t, "file-with-a-longish-name-02999.tf", l.Entries[2999].Name())
}

func TestReadFilesErrors(t *testing.T) {
	root := tree(t)
	for _, fsys := range []fs.FS{Dir(root), os.DirFS(root)} {
		_, err := ReadFiles(fsys, "terraform/9.missing", tfOnly)
		assert.ErrorIs(t, err, fs.ErrNotExist, "%T", fsys)

		_, err = ReadFiles(fsys, "terraform/1.bootstrap/main.tf", tfOnly)
		assert.Error(t, err, "%T: a file is not a directory", fsys)

		for _, bad := range []string{"../etc", "/etc", "terraform/../..", ""} {
			_, err = ReadFiles(fsys, bad, tfOnly)
			assert.ErrorIs(t, err, fs.ErrInvalid, "%T %q", fsys, bad)
		}
	}
}

func TestReadFilesConcurrently(t *testing.T) {
	root := tree(t)
	want, err := ReadFiles(Dir(root), "terraform/1.bootstrap", tfOnly)
	require.NoError(t, err)
	fsys := Dir(root)
	var wg sync.WaitGroup
	errs := make(chan error, 4*runtime.GOMAXPROCS(0))
	for range cap(errs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				got, err := ReadFiles(fsys, "terraform/1.bootstrap", tfOnly)
				if err != nil {
					errs <- err
					return
				}
				gotFiles := files(got)
				for name, src := range files(want) {
					if !bytes.Equal(src, gotFiles[name]) {
						errs <- fmt.Errorf("%s differs under concurrent reads", name)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDirIsDirFS(t *testing.T) {
	root := tree(t)
	fsys := Dir(root)
	src, err := fs.ReadFile(fsys, "terraform/1.bootstrap/main.tf")
	require.NoError(t, err)
	assert.Contains(t, string(src), "null_resource")
	target, err := fs.ReadLink(fsys, "terraform/1.bootstrap/link.tf")
	require.NoError(t, err)
	assert.Equal(t, "main.tf", target)
	st, err := fs.Stat(fsys, "terraform")
	require.NoError(t, err)
	assert.True(t, st.IsDir())
	sub, err := fs.Sub(fsys, "terraform")
	require.NoError(t, err)
	_, err = fs.Stat(sub, "1.bootstrap/main.tf")
	assert.NoError(t, err)
	assert.Equal(t, root, fsys.Root())
}

func names(es []fs.DirEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name()
	}
	return out
}

// files maps the names of the entries that were read to their contents.
func files(l *Listing) map[string][]byte {
	out := map[string][]byte{}
	for i, e := range l.Entries {
		if l.Data[i] != nil {
			out[e.Name()] = l.Data[i]
		}
	}
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
