package stage

import "sync"

// Shared holds results that several layers of one run have in common, such as the
// lint of a module they all call, so the work is done once. A nil *Shared shares
// nothing.
type Shared struct {
	mu      sync.Mutex
	entries map[string]*sharedEntry
}

type sharedEntry struct {
	once sync.Once
	res  Result
}

// NewShared returns an empty Shared for one run.
func NewShared() *Shared { return &Shared{entries: map[string]*sharedEntry{}} }

// once runs f the first time key is asked for; later callers wait for that result.
func (s *Shared) once(key string, f func() Result) Result {
	if s == nil {
		return f()
	}
	s.mu.Lock()
	e, ok := s.entries[key]
	if !ok {
		e = &sharedEntry{}
		s.entries[key] = e
	}
	s.mu.Unlock()
	e.once.Do(func() { e.res = f() })
	return e.res
}

// merge combines two results of one stage: the worse status, every finding once.
func merge(a, b Result) Result {
	rank := map[Status]int{Skip: 0, Pass: 1, Fail: 2, Error: 3}
	out := Result{Status: a.Status}
	if rank[b.Status] > rank[a.Status] {
		out.Status = b.Status
	}
	seen := map[Finding]bool{}
	for _, f := range append(append([]Finding{}, a.Findings...), b.Findings...) {
		if !seen[f] {
			seen[f] = true
			out.Findings = append(out.Findings, f)
		}
	}
	return out
}
