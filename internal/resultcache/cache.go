// Package resultcache reuses the result of a (layer, stage) check when nothing it
// reads has changed since a run that computed it, as Dagger replays a step whose
// inputs are unchanged, for the native executor.
//
// The key is a content hash of everything the stage's answer depends on: the files
// stage.Inputs selects, read in the workspace the tools see; for validate, what
// init recorded there (the lock file with the provider versions it selected, the
// module manifest); the tool binaries; the CLI configuration and the tools'
// environment variables; and the executable that parses the tools' output. A
// result that could not run (stage.Error) is never stored. Entries are written
// with an atomic rename, so concurrent runs share the cache safely, and the cache
// is trimmed to a size bound, least recently used first.
package resultcache

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/infra-flash/infra/internal/stage"
)

// Version is the entry format and key composition. Entries of another version
// live in another directory and are never read; Close removes them.
const Version = 1

// DefaultMaxBytes bounds the cache's size on disk when Options.MaxBytes is 0.
const DefaultMaxBytes = 64 << 20

// Env is what the tools' answers depend on besides the repository's files.
type Env struct {
	Engine  string   // path of the terraform or tofu binary
	TFLint  string   // path of the tflint binary
	Self    string   // the executable that parses the tools' output; "" means this process's
	Environ []string // the tools' environment (TF_CLI_CONFIG_FILE, TF_* and TFLINT_* variables, HOME)
}

// Options tune a cache.
type Options struct {
	MaxBytes int64 // size bound; 0 means DefaultMaxBytes
	// Refresh computes every result again (never reads an entry) and stores the
	// fresh results: --no-cache.
	Refresh bool
}

// Cache is one run's view of the result cache in a directory.
type Cache struct {
	root    string // the cache directory
	dir     string // root/v<Version>: this format's entries
	max     int64
	refresh bool
	env     Env

	envOnce sync.Once
	envErr  error
	envKeys map[stage.Kind]string

	filesMu sync.Mutex
	files   map[string]string // rel path -> content digest, memoised for this run

	hits, misses atomic.Int64
	stored       atomic.Bool
}

// Open prepares the cache under dir (created when missing).
func Open(dir string, env Env, opts Options) (*Cache, error) {
	c := &Cache{root: dir, dir: entriesDir(dir), max: opts.MaxBytes, refresh: opts.Refresh, env: env, files: map[string]string{}}
	if c.max <= 0 {
		c.max = DefaultMaxBytes
	}
	if err := mkdirAll(c.dir); err != nil {
		return nil, err
	}
	return c, nil
}

// Hits is how many results this run reused.
func (c *Cache) Hits() int { return int(c.hits.Load()) }

// Misses is how many results this run computed.
func (c *Cache) Misses() int { return int(c.misses.Load()) }

// Run returns the stage's result on t: the stored one when everything it reads is
// unchanged, else the result of running it, stored for the next run unless the
// stage could not run. Reused results are marked Cached.
func (c *Cache) Run(ctx context.Context, kind stage.Kind, r stage.Runner, t stage.Target) stage.Result {
	start := time.Now()
	mr := &memoRunner{Runner: r, outs: map[string]memoOut{}}
	// Validate's answer depends on the provider versions init selects: run init
	// first (a no-op when its inputs are unchanged) and key on what it recorded.
	// When it fails, the stage reports that failure from the same output, uncached.
	for _, cmd := range stage.PrepareCommands(kind, t) {
		out, err := r.Run(ctx, cmd)
		mr.outs[commandID(cmd)] = memoOut{out, err}
		if err != nil || out.ExitCode != 0 {
			c.misses.Add(1)
			return finish(stage.Run(ctx, kind, mr, t), start)
		}
	}
	key, err := c.key(kind, r.Root(), t)
	if err != nil { // an unreadable input: run it, and let the tools say what is wrong
		c.misses.Add(1)
		return finish(stage.Run(ctx, kind, mr, t), start)
	}
	if !c.refresh {
		if res, ok := c.load(key); ok {
			c.hits.Add(1)
			res.Cached = true
			return finish(res, start)
		}
	}
	c.misses.Add(1)
	res := stage.Run(ctx, kind, mr, t)
	if res.Status != stage.Error && ctx.Err() == nil {
		if err := c.store(key, kind, t, res); err == nil {
			c.stored.Store(true)
		}
	}
	return finish(res, start)
}

func finish(res stage.Result, start time.Time) stage.Result {
	res.Duration = time.Since(start)
	if res.Findings == nil {
		res.Findings = []stage.Finding{}
	}
	return res
}

// Close trims the cache to its size bound when this run stored something.
func (c *Cache) Close() error {
	if !c.stored.Load() {
		return nil
	}
	return c.trim()
}

// memoRunner answers the commands Run already ran with their outputs, once, so
// the stage does not run them again.
type memoRunner struct {
	stage.Runner
	mu   sync.Mutex
	outs map[string]memoOut
}

type memoOut struct {
	out stage.Output
	err error
}

func (m *memoRunner) Run(ctx context.Context, cmd stage.Command) (stage.Output, error) {
	id := commandID(cmd)
	m.mu.Lock()
	o, ok := m.outs[id]
	delete(m.outs, id)
	m.mu.Unlock()
	if ok {
		return o.out, o.err
	}
	return m.Runner.Run(ctx, cmd)
}

func commandID(cmd stage.Command) string {
	return strings.Join(append([]string{string(cmd.Tool), cmd.Dir, cmd.Session, cmd.SkipKey}, cmd.Args...), "\x00")
}
