// Package prlock keeps the pull-request locks of comment mode: while a pull
// request has a plan of a layer that is not applied yet, no other pull request
// may plan or apply that layer. A lock is an object next to the layer's state
// (like the engine's own .tflock), created only if absent, naming the holder.
package prlock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/infra-flash/infra/internal/state"
)

// Suffix is added to the state's key (or path) to name its PR lock.
const Suffix = ".prlock"

// Lock names who holds a layer.
type Lock struct {
	Repo    string    `json:"repo"`
	PR      int       `json:"pr"`
	Layer   string    `json:"layer"`
	Commit  string    `json:"commit,omitempty"` // the head the plan was made for
	By      string    `json:"by,omitempty"`     // who commented
	Created time.Time `json:"created"`
}

func (l *Lock) String() string {
	s := fmt.Sprintf("#%d", l.PR)
	if l.By != "" {
		s += " (by @" + l.By + ")"
	}
	return s
}

// Objects is where lock objects live: a bucket or a directory.
type Objects interface {
	Get(ctx context.Context, key string) ([]byte, error)               // nil when absent
	Create(ctx context.Context, key string, data []byte) (bool, error) // false when present
	Delete(ctx context.Context, key string) error                      // absent is fine
}

// HeldError refuses a pull request a layer another one holds.
type HeldError struct{ Holder Lock }

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is locked by pull request %s until it is applied, unlocked (/unlock) or closed",
		e.Holder.Layer, e.Holder.String())
}

// Locks reads and writes one layer's PR lock.
type Locks struct {
	Objects Objects
	Key     string // the lock object's key: the state's key + Suffix
}

// ForState addresses the PR lock of a layer's state: in its bucket for the s3
// backend, else as a file next to the local state file (statePath).
func ForState(s state.Settings, statePath string) (*Locks, error) {
	if s.Type == "s3" {
		st, err := state.NewStore(s)
		if err != nil {
			return nil, err
		}
		return &Locks{Objects: st, Key: s.Key + Suffix}, nil
	}
	if s.Type != "" && s.Type != "local" {
		return nil, fmt.Errorf("PR locks need the s3 or the local backend, not %q", s.Type)
	}
	return &Locks{Objects: Dir{}, Key: statePath + Suffix}, nil
}

// Holder returns the lock on the layer, or nil when it is free.
func (l *Locks) Holder(ctx context.Context) (*Lock, error) {
	data, err := l.Objects.Get(ctx, l.Key)
	if err != nil || data == nil {
		return nil, err
	}
	var lk Lock
	if err := json.Unmarshal(data, &lk); err != nil || lk.PR <= 0 {
		return nil, fmt.Errorf("the PR lock %s is not a lock this tool wrote", l.Key)
	}
	return &lk, nil
}

// Acquire takes the layer for want.PR, or keeps it when that pull request
// holds it already; another's lock is a *HeldError naming it.
func (l *Locks) Acquire(ctx context.Context, want Lock) (*Lock, error) {
	if want.PR <= 0 {
		return nil, errors.New("a PR lock needs the pull request's number")
	}
	if want.Created.IsZero() {
		want.Created = time.Now().UTC()
	}
	data, err := json.Marshal(want)
	if err != nil {
		return nil, err
	}
	// Two tries: the holder may release between our create and our read.
	for attempt := 0; attempt < 2; attempt++ {
		created, err := l.Objects.Create(ctx, l.Key, data)
		if err != nil {
			return nil, err
		}
		if created {
			return &want, nil
		}
		held, err := l.Holder(ctx)
		if err != nil {
			return nil, err
		}
		if held == nil {
			continue
		}
		if held.PR != want.PR || held.Repo != want.Repo {
			return nil, &HeldError{Holder: *held}
		}
		return held, nil
	}
	return nil, fmt.Errorf("the PR lock %s was taken and released while acquiring it; try again", l.Key)
}

// Release frees the layer if pr holds it; free already is fine, another's
// lock is a *HeldError and stays.
func (l *Locks) Release(ctx context.Context, repo string, pr int) (released bool, err error) {
	held, err := l.Holder(ctx)
	if err != nil || held == nil {
		return false, err
	}
	if held.PR != pr || held.Repo != repo {
		return false, &HeldError{Holder: *held}
	}
	return true, l.Objects.Delete(ctx, l.Key)
}

// Dir keeps lock objects as files; a key is a file path.
type Dir struct{}

func (Dir) Get(_ context.Context, key string) ([]byte, error) {
	data, err := os.ReadFile(key)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

func (Dir) Create(_ context.Context, key string, data []byte) (bool, error) {
	dir := filepath.Dir(key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	// Written aside, then linked into place: a reader never sees half a lock,
	// and the link fails when the name is taken.
	tmp, err := os.CreateTemp(dir, ".prlock-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	err = os.Link(tmp.Name(), key)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	return err == nil, err
}

func (Dir) Delete(_ context.Context, key string) error {
	if err := os.Remove(key); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
