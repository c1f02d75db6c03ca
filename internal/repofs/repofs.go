// Package repofs is a repository on disk as an fs.FS that can also read a whole
// directory at once: its entries and the files a caller wants, with as few system
// calls as the platform allows. Discovery reads every layer's files on every run,
// and on virtual machines each system call and each path lookup is dear.
package repofs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"sort"
)

// FS is os.DirFS(root) that also serves ReadFiles from the operating system directly.
type FS struct {
	root string
	dir  fs.FS
}

// Dir returns the repository at root. Like os.DirFS, it resolves names under root
// and follows symbolic links.
func Dir(root string) *FS { return &FS{root: root, dir: os.DirFS(root)} }

// Root is the directory the file system was opened at.
func (f *FS) Root() string { return f.root }

func (f *FS) Open(name string) (fs.File, error)          { return f.dir.Open(name) }
func (f *FS) ReadFile(name string) ([]byte, error)       { return fs.ReadFile(f.dir, name) }
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.dir, name) }
func (f *FS) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(f.dir, name) }
func (f *FS) Lstat(name string) (fs.FileInfo, error)     { return fs.Lstat(f.dir, name) }
func (f *FS) ReadLink(name string) (string, error)       { return fs.ReadLink(f.dir, name) }
func (f *FS) Sub(dir string) (fs.FS, error)              { return fs.Sub(f.dir, dir) }

// trustShortEnds lets Linux reads stop at a short read on local file systems;
// tests turn it off to check the careful path on a local disk too.
var trustShortEnds = true

// Listing is one directory: every entry, sorted by name as fs.ReadDir sorts them,
// and Data[i], the contents of Entries[i] when it is a regular file that was
// wanted (empty, not nil, for an empty file), else nil.
type Listing struct {
	Entries []fs.DirEntry
	Data    [][]byte
}

// ReadFiles lists dir and reads each regular file whose name want accepts.
// Symbolic links are listed, never read: whether to follow one is the caller's call.
// On Linux, with an FS from Dir, a directory on a local file system costs four
// system calls (open, fstatfs, getdents64, close) and a file three (openat, read,
// close), each file resolved against the open directory rather than the whole path.
func ReadFiles(fsys fs.FS, dir string, want func(name string) bool) (*Listing, error) {
	if !fs.ValidPath(dir) {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: fs.ErrInvalid}
	}
	if f, ok := fsys.(*FS); ok && fastReads {
		return readFilesAt(f.root, dir, want)
	}
	return readFilesFS(fsys, dir, want)
}

// readFilesFS is the portable way, through the fs.FS interfaces.
func readFilesFS(fsys fs.FS, dir string, want func(name string) bool) (*Listing, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	l := &Listing{Entries: entries, Data: make([][]byte, len(entries))}
	for i, e := range entries {
		if !e.Type().IsRegular() || !want(e.Name()) {
			continue
		}
		src, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since it was listed
		}
		if err != nil {
			return nil, err
		}
		if src == nil {
			src = []byte{}
		}
		l.Data[i] = src
	}
	return l, nil
}

// osPath joins a valid fs path to root the way os.DirFS does.
func osPath(root, dir string) string {
	if dir == "." {
		if root == "" {
			return "."
		}
		return root
	}
	if root == "" {
		return dir
	}
	return root + string(os.PathSeparator) + dir
}

func sortEntries(es []fs.DirEntry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Name() < es[j].Name() })
}

// cloneRead keeps the bytes read into a scratch buffer.
func cloneRead(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	return bytes.Clone(b)
}
