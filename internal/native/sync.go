package native

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// skipDirs are never copied: VCS data, terraform's own state directories and
// dependency trees that no layer reads.
var skipDirs = map[string]bool{".git": true, ".terraform": true, "node_modules": true, ".dagger": true}

// Sync makes dst mirror src: it copies files whose size or modification time
// differ and removes files src no longer has, except what init made in dst: the
// .terraform directories and, where src has none, the dependency lock files
// (validate needs both; a lock file src does have is copied over them).
// Copies, never hard links: whatever a tool writes in the workspace must not be
// able to reach the user's files.
func Sync(src, dst string) error {
	seen := map[string]bool{}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel != "." && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			seen[rel] = true
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		seen[rel] = true
		return syncFile(p, filepath.Join(dst, rel), d)
	})
	if err != nil {
		return err
	}
	return filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dst, p)
		if rel == "." {
			return nil
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if !seen[rel] && d.Name() != ".terraform.lock.hcl" {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
}

func syncFile(src, dst string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if cur, err := os.Readlink(dst); err == nil && cur == target {
			return nil
		}
		_ = os.RemoveAll(dst)
		return os.Symlink(target, dst)
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	if st, err := os.Lstat(dst); err == nil && st.Mode().IsRegular() && st.Size() == info.Size() && st.ModTime().Equal(info.ModTime()) {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_ = os.RemoveAll(dst)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, info.ModTime(), info.ModTime())
}
