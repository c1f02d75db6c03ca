package resultcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/infra-flash/infra/internal/stage"
)

// key is the content hash of everything the stage's result on t depends on, with
// its input files read under root (the workspace the tools see).
func (c *Cache) key(kind stage.Kind, root string, t stage.Target) (string, error) {
	envKey, err := c.envKey(kind)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	field(h, "version", strconv.Itoa(Version))
	field(h, "kind", string(kind))
	field(h, "environment", envKey)
	field(h, "layer", t.Path)
	for _, m := range t.Modules {
		field(h, "module", m)
	}
	switch kind { // what else of the target shapes the stage's commands
	case stage.Lint:
		field(h, "lint-config", t.LintConfig)
	case stage.Validate:
		field(h, "has-lock-file", strconv.FormatBool(t.HasLockFile))
	}
	if kind == stage.Lint && t.LintConfig == "" {
		// tflint falls back to the user's ~/.tflint.hcl when the repository has none.
		if home := lookupEnv(c.env.Environ, "HOME"); home != "" {
			d, err := fileDigest(filepath.Join(home, ".tflint.hcl"))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
			field(h, "home-lint-config", d)
		}
	}
	files, err := inputFiles(root, stage.Inputs(kind, t))
	if err != nil {
		return "", err
	}
	for _, rel := range files {
		d, err := c.repoFileDigest(root, rel)
		if err != nil {
			return "", err
		}
		field(h, "file "+rel, d)
	}
	if kind == stage.Validate {
		for _, rel := range stage.InitRecord(t) {
			d, err := fileDigest(filepath.Join(root, filepath.FromSlash(rel)))
			if errors.Is(err, fs.ErrNotExist) {
				d, err = "absent", nil
			}
			if err != nil {
				return "", err
			}
			field(h, "init-record "+rel, d)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// field writes a length-prefixed name and value, so no two sequences collide.
func field(h hash.Hash, name, value string) {
	fmt.Fprintf(h, "%d:%s=%d:%s\n", len(name), name, len(value), value)
}

// envKey digests, once per run, the parts of the environment each stage depends
// on: format the engine binary, lint the tflint binary and its variables, validate
// the engine binary, the CLI configuration's content and the engine's variables.
// Every stage depends on the executable that parses the tools' output.
func (c *Cache) envKey(kind stage.Kind) (string, error) {
	c.envOnce.Do(func() {
		self := c.env.Self
		if self == "" {
			if self, c.envErr = os.Executable(); c.envErr != nil {
				return
			}
		}
		digest := func(bin string) string {
			if c.envErr != nil {
				return ""
			}
			var d string
			d, c.envErr = c.binaryDigest(bin)
			return d
		}
		selfD, engineD, tflintD := digest(self), digest(c.env.Engine), digest(c.env.TFLint)
		cliConfig := ""
		if p := lookupEnv(c.env.Environ, "TF_CLI_CONFIG_FILE"); p != "" && c.envErr == nil {
			b, err := os.ReadFile(p)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				c.envErr = err
			}
			cliConfig = string(b)
		}
		if c.envErr != nil {
			return
		}
		engineVars, tflintVars := toolVariables(c.env.Environ)
		kinds := map[stage.Kind][]string{
			stage.Format:   {"engine", engineD},
			stage.Lint:     {"tflint", tflintD, "tflint-variables", tflintVars},
			stage.Validate: {"engine", engineD, "cli-config", cliConfig, "engine-variables", engineVars},
		}
		c.envKeys = map[stage.Kind]string{}
		for k, parts := range kinds {
			h := sha256.New()
			field(h, "self", selfD)
			for i := 0; i+1 < len(parts); i += 2 {
				field(h, parts[i], parts[i+1])
			}
			c.envKeys[k] = hex.EncodeToString(h.Sum(nil))
		}
	})
	if c.envErr != nil {
		return "", c.envErr
	}
	return c.envKeys[kind], nil
}

// toolVariables are the environment variables that can change what terraform/tofu
// and tflint answer. Credentials (TF_TOKEN_*), variable values (TF_VAR_*, which no
// check reads), logging and where caches live are left out; so is the CLI
// configuration's path, whose content is keyed instead.
func toolVariables(environ []string) (engine, tflint string) {
	skip := []string{"TF_TOKEN_", "TF_VAR_", "TF_LOG", "TF_CLI_CONFIG_FILE=", "TF_PLUGIN_CACHE_DIR=", "TF_DATA_DIR=", "TFLINT_LOG"}
	var e, l []string
	for _, kv := range environ {
		keep := true
		for _, s := range skip {
			if strings.HasPrefix(kv, s) {
				keep = false
			}
		}
		switch {
		case !keep:
		case strings.HasPrefix(kv, "TFLINT_"):
			l = append(l, kv)
		case strings.HasPrefix(kv, "TF_"), strings.HasPrefix(kv, "TOFU_"), strings.HasPrefix(kv, "OPENTOFU_"):
			e = append(e, kv)
		}
	}
	sort.Strings(e)
	sort.Strings(l)
	return strings.Join(e, "\x00"), strings.Join(l, "\x00")
}

func lookupEnv(environ []string, name string) string {
	val := ""
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			val = v // the last one wins, as exec does
		}
	}
	return val
}

// inputFiles lists the files under root that f selects, sorted: each include
// pattern's fixed leading directories are walked, excluded directories skipped.
// Symbolic links to directories are followed, as the tools follow them, and their
// files listed under the link's path: a layer or module directory that is a link
// is keyed on the files it shows, not on the link alone.
func inputFiles(root string, f stage.Filter) ([]string, error) {
	m, err := f.Matcher()
	if err != nil {
		return nil, err
	}
	w := &walker{root: root, m: m, seen: map[string]bool{}}
	for _, pattern := range f.Include {
		if err := w.walkBase(staticPrefix(pattern)); err != nil {
			return nil, err
		}
	}
	sort.Strings(w.out)
	return w.out, nil
}

type walker struct {
	root string
	m    *stage.FilterMatcher
	seen map[string]bool
	out  []string
}

func (w *walker) walkBase(base string) error {
	p := filepath.Join(w.root, filepath.FromSlash(base))
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // nothing there (or a dangling link): a missing module is for init to report
	}
	if err != nil {
		return err
	}
	if !info.IsDir() {
		w.file(base)
		return nil
	}
	if base != "." && w.m.Excludes(base) {
		return nil
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err
	}
	return w.walkDir(p, base, []string{real})
}

// walkDir lists dir (at the repository path rel); open holds the real paths of
// the directories being walked, so a link back to one of them ends the descent.
func (w *walker) walkDir(dir, rel string, open []string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		r := path.Join(rel, e.Name())
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			isDir = err == nil && st.IsDir() // a dangling link is keyed as a file, by its target
		}
		if !isDir {
			w.file(r)
			continue
		}
		if w.m.Excludes(r) {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return err
		}
		if slices.Contains(open, real) {
			continue // a cycle: the tools do not descend into it either
		}
		if err := w.walkDir(p, r, append(open, real)); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) file(rel string) {
	if !w.seen[rel] && w.m.Match(rel) {
		w.seen[rel] = true
		w.out = append(w.out, rel)
	}
}

// staticPrefix is the part of a pattern before its first wildcard segment.
func staticPrefix(pattern string) string {
	segs := strings.Split(pattern, "/")
	i := 0
	for i < len(segs) && !strings.ContainsAny(segs[i], `*?[\`) {
		i++
	}
	if i == 0 {
		return "."
	}
	return path.Join(segs[:i]...)
}

// repoFileDigest is memoised for the run: the workspace is a fixed snapshot, and
// several layers read the same modules. Lock files are read every time, since
// init may write them during the run.
func (c *Cache) repoFileDigest(root, rel string) (string, error) {
	memo := path.Base(rel) != ".terraform.lock.hcl"
	if memo {
		c.filesMu.Lock()
		d, ok := c.files[rel]
		c.filesMu.Unlock()
		if ok {
			return d, nil
		}
	}
	d, err := fileDigest(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", err
	}
	if memo {
		c.filesMu.Lock()
		c.files[rel] = d
		c.filesMu.Unlock()
	}
	return d, nil
}

// fileDigest hashes a file's content; a symbolic link is keyed by its target and,
// when that is a file, by the file's content (the tools follow links).
func fileDigest(p string) (string, error) {
	info, err := os.Lstat(p)
	if err != nil {
		return "", err
	}
	prefix := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		prefix = "link:" + target + ":"
		if info, err = os.Stat(p); err != nil {
			return prefix + "dangling", nil
		}
		if !info.Mode().IsRegular() {
			return prefix + info.Mode().Type().String(), nil
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(h.Sum(nil)), nil
}

// binaryDigest is a tool's content hash. Tools are large (terraform is tens of
// megabytes), so the hash is remembered with the file's size and modification
// time and computed again only when either changes.
func (c *Cache) binaryDigest(bin string) (string, error) {
	if bin == "" {
		return "none", nil
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		abs = resolved
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	type memo struct {
		Path    string `json:"path"`
		Size    int64  `json:"size"`
		ModTime int64  `json:"mod_time_ns"`
		Digest  string `json:"digest"`
	}
	sum := sha256.Sum256([]byte(abs))
	memoPath := filepath.Join(c.dir, "binaries", hex.EncodeToString(sum[:12])+".json")
	if b, err := os.ReadFile(memoPath); err == nil {
		var m memo
		if json.Unmarshal(b, &m) == nil && m.Path == abs && m.Size == info.Size() && m.ModTime == info.ModTime().UnixNano() && m.Digest != "" {
			return m.Digest, nil
		}
	}
	d, err := fileDigest(abs)
	if err != nil {
		return "", err
	}
	if b, err := json.Marshal(memo{abs, info.Size(), info.ModTime().UnixNano(), d}); err == nil {
		_ = writeAtomic(memoPath, b) // only a shortcut: failing to remember costs a hash next time
	}
	return d, nil
}
