package plan

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Masked replaces every secret in rendered output.
const Masked = "***"

// minSecretLen: shorter values would mask ordinary words everywhere.
const minSecretLen = 4

// Masker hides configured secret values and patterns in any text a run shows. It is
// safe for concurrent use; values learnt during a run (the values of sensitive
// variables) are added as they are found.
type Masker struct {
	mu       sync.RWMutex
	values   []string
	patterns []*regexp.Regexp
}

// NewMasker compiles the patterns (Go regular expressions). A pattern that does not
// compile is an error that names its position, not its text: patterns may be secret.
func NewMasker(values, patterns []string) (*Masker, error) {
	m := &Masker{}
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("mask pattern %d does not compile: %v", i+1, strings.ReplaceAll(err.Error(), p, "…"))
		}
		if re.MatchString("") {
			return nil, fmt.Errorf("mask pattern %d matches the empty string", i+1)
		}
		m.patterns = append(m.patterns, re)
	}
	m.Add(values...)
	return m, nil
}

// Add masks more values from now on.
func (m *Masker) Add(values ...string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for _, v := range m.values {
		seen[v] = true
	}
	for _, v := range values {
		for _, s := range variants(v) {
			if len(s) >= minSecretLen && !seen[s] {
				seen[s] = true
				m.values = append(m.values, s)
			}
		}
	}
	// Longest first, so a secret containing another is masked whole.
	sort.SliceStable(m.values, func(i, j int) bool { return len(m.values[i]) > len(m.values[j]) })
}

// variants are the forms a value takes in tool output: as is, line by line for
// multi-line secrets (keys, certificates), and JSON-escaped.
func variants(v string) []string {
	out := []string{strings.TrimSpace(v)}
	if strings.Contains(v, "\n") {
		for _, line := range strings.Split(v, "\n") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	if esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`).Replace(v); esc != v {
		out = append(out, esc)
	}
	return out
}

// Mask returns s with every secret replaced by Masked.
func (m *Masker) Mask(s string) string {
	if m == nil || s == "" {
		return s
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, v := range m.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Masked)
		}
	}
	for _, re := range m.patterns {
		s = re.ReplaceAllLiteralString(s, Masked)
	}
	return s
}
