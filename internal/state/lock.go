package state

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Lock is who holds a state lock: the engine's lock info, as it stores it in the
// lock object and prints it when a lock cannot be acquired.
type Lock struct {
	ID        string    `json:"ID"`
	Operation string    `json:"Operation"`
	Info      string    `json:"Info"`
	Who       string    `json:"Who"`
	Version   string    `json:"Version"`
	Created   time.Time `json:"Created"`
	Path      string    `json:"Path"`
}

// ParseLockJSON reads a lock object's content.
func ParseLockJSON(data []byte) (Lock, error) {
	var l Lock
	if err := json.Unmarshal(data, &l); err != nil {
		return Lock{}, fmt.Errorf("the lock object is not lock info: %w", err)
	}
	if l.ID == "" {
		return Lock{}, fmt.Errorf("the lock object carries no lock ID")
	}
	return l, nil
}

// createdLayout is how the engine prints the lock's creation time (Go's time.String).
const createdLayout = "2006-01-02 15:04:05.999999999 -0700 MST"

// ParseLockError finds the lock info in an engine's "Error acquiring the state lock"
// output; ok is false when the output is about something else.
func ParseLockError(output string) (Lock, bool) {
	if !strings.Contains(output, "Error acquiring the state lock") {
		return Lock{}, false
	}
	var l Lock
	in := false
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "│╷╵"))
		if line == "Lock Info:" {
			in = true
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			if line == "" {
				continue
			}
			break
		}
		v = strings.TrimSpace(v)
		switch k {
		case "ID":
			l.ID = v
		case "Path":
			l.Path = v
		case "Operation":
			l.Operation = v
		case "Who":
			l.Who = v
		case "Version":
			l.Version = v
		case "Created":
			if t, err := time.Parse(createdLayout, v); err == nil {
				l.Created = t
			}
		case "Info":
			l.Info = v
			in = false
		}
	}
	return l, true
}

// Operation names the locking operation for people: "apply" for OperationTypeApply.
func (l Lock) operation() string {
	op := strings.TrimPrefix(l.Operation, "OperationType")
	if op == "" {
		return "an unknown operation"
	}
	return strings.ToLower(op)
}

// Describe is the one line an operator needs: who, doing what, since when, and the
// ID that releases the lock.
func (l Lock) Describe(now time.Time) string {
	who := l.Who
	if who == "" {
		who = "an unknown holder"
	}
	s := fmt.Sprintf("locked by %s (%s", who, l.operation())
	if !l.Created.IsZero() {
		s += fmt.Sprintf(", since %s, %s ago", l.Created.UTC().Format(time.RFC3339), now.Sub(l.Created).Round(time.Second))
	}
	s += ")"
	if l.ID != "" {
		s += ", lock ID " + l.ID
	} else {
		s += ", lock ID unknown"
	}
	return s
}
