package native

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// skipDirs are never copied: VCS data, terraform's own state directories (local
// workspaces' states too) and dependency trees that no layer reads.
var skipDirs = map[string]bool{".git": true, ".terraform": true, "node_modules": true, ".dagger": true, "terraform.tfstate.d": true}

// localState tells a local state file left in a working copy (a local apply, a
// backup): no check reads state, init would choke on a stale one, and a state
// file holds secrets that have no business in the cache.
func localState(name string) bool {
	return strings.HasSuffix(name, ".tfstate") || strings.HasSuffix(name, ".tfstate.backup")
}

const lockFileName = ".terraform.lock.hcl"

// Link is a symbolic link of the source that Sync did not copy because it leads
// out of the repository: the copy would dangle, or reach the user's files.
type Link struct {
	Path   string // repository-relative, slash-separated
	Target string // as the link says
}

func (l Link) String() string {
	return fmt.Sprintf("%s is a symlink to %s, outside the repository; the checks do not see it", l.Path, l.Target)
}

// Sync makes dst mirror src: it copies files whose size or modification time
// differ and removes files src no longer has, except what init made in dst: the
// .terraform directories and the dependency lock files that init wrote where src
// has none (validate needs both). A lock file that came from src goes when src
// deletes it; one src has is copied over init's. The lock files taken from src
// are listed next to dst, so the next Sync can tell them from init's.
//
// Symbolic links that stay in the repository are copied as links to the same
// place in dst (an absolute one made relative); links leading out of the
// repository are not copied and are returned.
//
// Copies, never hard links: whatever a tool writes in the workspace must not be
// able to reach the user's files.
func Sync(src, dst string) ([]Link, error) {
	realSrc, err := filepath.EvalSymlinks(src)
	if err != nil {
		return nil, err
	}
	manifest := dst + ".source-locks"
	fromSource := readManifest(manifest)
	seen := map[string]bool{}
	var locks []string
	var outside []Link
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
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
		if d.Type()&fs.ModeSymlink != 0 {
			target, inside, err := linkTarget(src, realSrc, p)
			if err != nil {
				return err
			}
			if !inside {
				outside = append(outside, Link{Path: filepath.ToSlash(rel), Target: target})
				return nil // not seen: a copy left from before is removed
			}
			seen[rel] = true
			return syncLink(target, filepath.Join(dst, rel))
		}
		if localState(d.Name()) {
			return nil // not seen: a copy left from before is removed
		}
		seen[rel] = true
		if d.Name() == lockFileName {
			locks = append(locks, rel)
		}
		return syncFile(p, filepath.Join(dst, rel), d)
	})
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
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
		initMade := d.Name() == lockFileName && !fromSource[rel]
		if !seen[rel] && !initMade {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outside, writeManifest(manifest, locks)
}

// linkTarget reads the link at p and says whether it stays in the repository
// (rooted at src, which resolves to realSrc). The target returned is the one to
// write in the workspace: the link's own, or a relative one for an absolute
// target inside the repository.
func linkTarget(src, realSrc, p string) (string, bool, error) {
	target, err := os.Readlink(p)
	if err != nil {
		return "", false, err
	}
	lexical := target
	if !filepath.IsAbs(target) {
		lexical = filepath.Join(filepath.Dir(p), target)
	}
	if !within(src, lexical) && !within(realSrc, lexical) {
		return target, false, nil
	}
	// The whole chain must stay inside too; a dangling link is judged by its text.
	if real, err := filepath.EvalSymlinks(p); err == nil && !within(realSrc, real) {
		return target, false, nil
	}
	if filepath.IsAbs(target) {
		inSrc := target
		if !within(src, target) {
			r, _ := filepath.Rel(realSrc, target)
			inSrc = filepath.Join(src, r)
		}
		rel, err := filepath.Rel(filepath.Dir(p), inSrc)
		if err != nil {
			return target, false, nil
		}
		return rel, true, nil
	}
	return target, true, nil
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, filepath.Clean(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func syncLink(target, dst string) error {
	if cur, err := os.Readlink(dst); err == nil && cur == target {
		return nil
	}
	_ = os.RemoveAll(dst)
	return os.Symlink(target, dst)
}

func readManifest(path string) map[string]bool {
	out := map[string]bool{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" {
			out[filepath.FromSlash(line)] = true
		}
	}
	return out
}

func writeManifest(path string, rels []string) error {
	sort.Strings(rels)
	var b strings.Builder
	for _, r := range rels {
		b.WriteString(filepath.ToSlash(r) + "\n")
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func syncFile(src, dst string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return err
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
