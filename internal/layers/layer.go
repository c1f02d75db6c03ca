// Package layers builds the layer model of a Terraform monorepo from its files:
// which N.name directories are layers, what each depends on (read from the HCL),
// the order they apply in, and which layers a selection such as "changed" means.
package layers

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Layer is one root Terraform configuration, such as terraform/2.platform.
type Layer struct {
	Dir   string `json:"dir"`   // directory name: "2.platform"
	Path  string `json:"path"`  // repository-relative slash path: "terraform/2.platform"
	Index int    `json:"index"` // the N of N.name
	Name  string `json:"name"`  // short name: "platform"
	Title string `json:"title"` // display name: "Platform"

	// Real is Path with symlinks resolved, when they differ: where the engine runs
	// and counts relative paths from.
	Real string `json:"real_path,omitempty"`

	DependsOn []string `json:"depends_on"` // directory names of the layers this one reads
	Modules   []string `json:"modules"`    // repository-relative local module directories it calls, transitively (symlinks resolved)
	// LinkedOut are local modules it calls through a symlink that leads out of the
	// repository: the checks see the repository alone, so they cannot check it.
	LinkedOut []LinkedOut `json:"linked_out,omitempty"`

	HasLockFile bool   `json:"has_lock_file"`
	LintConfig  string `json:"lint_config,omitempty"` // the .tflint.hcl that applies: the layer's own, else the root's
	// InitKey changes exactly when "init" must run again: required providers, module
	// calls, provider-implying resource types and the lock file.
	InitKey string `json:"-"`
	// LintKey changes exactly when "tflint --init" must run again: the plugin blocks
	// of the lint config.
	LintKey string `json:"-"`

	// Problems are HCL errors in the layer's files or in the local modules it calls.
	Problems []Problem `json:"problems,omitempty"`
	// Warnings say where this layer's model may be incomplete.
	Warnings []string `json:"warnings,omitempty"`

	// readsGone are layer-like directory names its remote state blocks name that
	// are no layer here: a layer deleted or renamed on this branch, or another
	// repository's. A change under one (its deletion) affects this layer.
	readsGone []string
}

// LinkedOut is a module directory reached through a symlink leading out of the
// repository.
type LinkedOut struct {
	Module string `json:"module"` // as the layer calls it, repository-relative
	Target string `json:"target"` // the link's target, as it says
}

// WorkDir is the directory the engine runs in: Path with symlinks resolved.
func (l *Layer) WorkDir() string {
	if l.Real != "" {
		return l.Real
	}
	return l.Path
}

// ID is the short label used in tables: "L2".
func (l *Layer) ID() string { return "L" + strconv.Itoa(l.Index) }

// Label is the table row label: "L2 Platform".
func (l *Layer) Label() string { return l.ID() + " " + l.Title }

var dirPattern = regexp.MustCompile(`^([0-9]+)\.([A-Za-z0-9][A-Za-z0-9_-]*)$`)

// parseDir splits "2.platform" into 2 and "platform"; ok is false for other names.
func parseDir(dir string) (index int, name string, ok bool) {
	// By hand, not with dirPattern: discovery calls this for every entry of the
	// layers directory, and the two are held equal by FuzzParseDir.
	dot := strings.IndexByte(dir, '.')
	if dot <= 0 || dot == len(dir)-1 {
		return 0, "", false
	}
	for i := 0; i < dot; i++ {
		if dir[i] < '0' || dir[i] > '9' {
			return 0, "", false
		}
	}
	name = dir[dot+1:]
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '_' && c != '-') {
			return 0, "", false
		}
	}
	index, err := strconv.Atoi(dir[:dot])
	if err != nil {
		return 0, "", false
	}
	return index, name, true
}

// title turns "data-lake" into "Data Lake".
func title(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// InputError is a problem with the repository or the request, not with the tools:
// callers map it to the "bad input" exit code.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}
