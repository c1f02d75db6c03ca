// Package plan handles saved plans: the plan file with what it was made from (the
// commit, a hash of the layer's source, a hash of the plan itself), the check that
// refuses to apply a plan made for anything else, and the rendering of a plan's
// `show -json` for people, with sensitive values redacted and secrets masked.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Meta is what a saved plan was made from. It travels next to the plan file.
type Meta struct {
	Layer      string    `json:"layer"`
	Env        string    `json:"env,omitempty"` // the environment it was made for
	Commit     string    `json:"commit"`
	SourceHash string    `json:"source_sha256"`
	PlanHash   string    `json:"plan_sha256"`
	Engine     string    `json:"engine"`
	Args       []string  `json:"args"` // the extra arguments the plan was made with
	Changes    bool      `json:"changes"`
	Created    time.Time `json:"created"`
}

// Hash is the content hash of a plan file, as shown in reports.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Short is the prefix of a hash people compare by eye.
func Short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}

// SourceHash hashes what a layer's plan depends on in the repository: every file
// under the layer's directory and the local modules it calls, except the engine's
// working files and the dependency lock file. dirs are repository-relative slash paths.
func SourceHash(fsys fs.FS, dirs []string) (string, error) {
	files := map[string]string{}
	for _, dir := range dirs {
		err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if p != dir && (name == ".terraform" || name == ".git") {
					return fs.SkipDir
				}
				return nil
			}
			// The engine's working files, and the dependency lock file: init writes one
			// into a layer that has none (plan and apply run in the layer's directory),
			// and a saved plan carries its own provider selections, which the engine
			// checks on apply.
			if strings.Contains(name, ".tfstate") || strings.HasSuffix(name, ".tfplan") || name == ".terraform.lock.hcl" || name == "crash.log" {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				files[p] = "symlink"
				if data, err := fs.ReadFile(fsys, p); err == nil {
					files[p] = Hash(data)
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			files[p] = Hash(data)
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("hashing %s: %w", dir, err)
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%s\n", n, files[n])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileName is the plan file of a layer in a plan directory; MetaName its metadata.
func FileName(layer string) string { return layer + ".tfplan" }

// MetaName is the metadata file of a layer's plan in a plan directory.
func MetaName(layer string) string { return layer + ".tfplan.json" }

// Save writes a layer's plan and its metadata into dir.
func Save(dir string, meta Meta, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, FileName(meta.Layer)), data); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, MetaName(meta.Layer)), append(js, '\n'))
}

// writeFile replaces a file whole, so a reader never sees half a plan.
func writeFile(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return werr
	}
	return os.Rename(tmp.Name(), name)
}

// ErrNoPlan means the plan directory holds no plan for the layer.
var ErrNoPlan = errors.New("no saved plan")

// maxPlanSize bounds what is read from a plan directory.
const maxPlanSize = 1 << 30

// Load reads a layer's plan and metadata from a plan directory.
func Load(fsys fs.FS, dir, layer string) (Meta, []byte, error) {
	var meta Meta
	js, err := readLimited(fsys, path.Join(dir, MetaName(layer)), 1<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return meta, nil, fmt.Errorf("%s: %w", layer, ErrNoPlan)
	}
	if err != nil {
		return meta, nil, err
	}
	if err := json.Unmarshal(js, &meta); err != nil {
		return meta, nil, fmt.Errorf("%s: unreadable plan metadata: %v", MetaName(layer), err)
	}
	if meta.Layer != layer {
		return meta, nil, fmt.Errorf("%s: the metadata is for layer %q", MetaName(layer), meta.Layer)
	}
	data, err := readLimited(fsys, path.Join(dir, FileName(layer)), maxPlanSize)
	if err != nil {
		return meta, nil, fmt.Errorf("%s: %w", FileName(layer), err)
	}
	return meta, data, nil
}

func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return data, nil
}

// RefusedError says why a saved plan may not be applied.
type RefusedError struct{ Layer, Reason string }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refusing the saved plan of %s: %s", e.Layer, e.Reason)
}

// Verify checks that a saved plan is the one reviewed and fits what is about to be
// applied: its content matches its recorded hash, it was made at the given commit
// (when the plan recorded one, the commit must be known) and from the same source.
func Verify(meta Meta, data []byte, commit, sourceHash string) error {
	refuse := func(format string, args ...any) error {
		return &RefusedError{Layer: meta.Layer, Reason: fmt.Sprintf(format, args...)}
	}
	if got := Hash(data); got != meta.PlanHash {
		return refuse("the plan file's hash is %s, not the %s recorded when it was made", Short(got), Short(meta.PlanHash))
	}
	if meta.Commit != "" && commit == "" {
		return refuse("it was made at commit %s and the commit being applied is unknown (pass --sha)", shortCommit(meta.Commit))
	}
	if meta.Commit != commit {
		return refuse("it was made at commit %s, not at %s", orNone(shortCommit(meta.Commit)), orNone(shortCommit(commit)))
	}
	if meta.SourceHash != sourceHash {
		return refuse("the layer's files differ from those it was made from (source %s, plan made from %s)", Short(sourceHash), Short(meta.SourceHash))
	}
	return nil
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
