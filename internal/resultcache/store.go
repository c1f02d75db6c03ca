package resultcache

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/infra-flash/infra/internal/stage"
)

// entry is one stored result.
type entry struct {
	Version    int             `json:"version"`
	Key        string          `json:"key"`
	Kind       stage.Kind      `json:"kind"`
	Layer      string          `json:"layer"`
	Status     stage.Status    `json:"status"`
	Findings   []stage.Finding `json:"findings"`
	DurationMS int64           `json:"duration_ms"` // how long computing it took
	Created    time.Time       `json:"created"`
}

func entriesDir(root string) string { return filepath.Join(root, "v"+strconv.Itoa(Version)) }

// EntryPath is where the result with this key is stored.
func EntryPath(root, key string) string {
	return filepath.Join(entriesDir(root), key[:2], key+".json")
}

// load returns the stored result for key. Anything unreadable, of another format
// or not a result the cache would have stored is a miss.
func (c *Cache) load(key string) (stage.Result, bool) {
	p := EntryPath(c.root, key)
	b, err := os.ReadFile(p)
	if err != nil {
		return stage.Result{}, false
	}
	var e entry
	if json.Unmarshal(b, &e) != nil || e.Version != Version || e.Key != key || (e.Status != stage.Pass && e.Status != stage.Fail) {
		return stage.Result{}, false
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // recently used: trimmed last
	return stage.Result{Status: e.Status, Findings: e.Findings}, true
}

func (c *Cache) store(key string, kind stage.Kind, t stage.Target, res stage.Result) error {
	b, err := json.Marshal(entry{Version: Version, Key: key, Kind: kind, Layer: t.Path, Status: res.Status,
		Findings: res.Findings, DurationMS: res.Duration.Milliseconds(), Created: time.Now().UTC()})
	if err != nil {
		return err
	}
	return writeAtomic(EntryPath(c.root, key), b)
}

// writeAtomic writes through a temporary file and a rename, so a reader (another
// run) sees the old file, the new one or none, never a partial one.
func writeAtomic(p string, data []byte) error {
	if err := mkdirAll(filepath.Dir(p)); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), p)
	}
	if werr != nil {
		os.Remove(tmp.Name())
	}
	return werr
}

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// trim removes other formats' entries, temporary files left by interrupted runs,
// and, while the entries exceed the size bound, the least recently used ones down
// to three quarters of it (so that a run near the bound does not trim every time).
func (c *Cache) trim() error {
	tops, err := os.ReadDir(c.root)
	if err != nil {
		return err
	}
	for _, e := range tops {
		if e.IsDir() && e.Name() != filepath.Base(c.dir) && len(e.Name()) > 1 && e.Name()[0] == 'v' {
			if _, err := strconv.Atoi(e.Name()[1:]); err == nil {
				_ = os.RemoveAll(filepath.Join(c.root, e.Name()))
			}
		}
	}
	type file struct {
		path string
		size int64
		used time.Time
	}
	var files []file
	var total int64
	stale := time.Now().Add(-time.Hour)
	err = filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // another run removed it meanwhile
		}
		if d.IsDir() {
			if p != c.dir && len(d.Name()) != 2 {
				return fs.SkipDir // not an entry shard (the binaries' digests)
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if d.Name()[0] == '.' {
			if info.ModTime().Before(stale) {
				_ = os.Remove(p)
			}
			return nil
		}
		files = append(files, file{p, info.Size(), info.ModTime()})
		total += info.Size()
		return nil
	})
	if err != nil || total <= c.max {
		return err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	for _, f := range files {
		if total <= c.max*3/4 {
			break
		}
		if os.Remove(f.path) == nil {
			total -= f.size
		}
	}
	return nil
}
