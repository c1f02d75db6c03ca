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
	// Dir is the layer's key, unique in the repository: its directory name
	// ("2.platform", "00-prereqs", "bootstrap"), or for a layer matched by a glob
	// the matched part of its path ("envs/*/data" gives "staging-data").
	Dir   string `json:"dir"`
	Path  string `json:"path"`  // repository-relative slash path: "terraform/2.platform"
	Index int    `json:"index"` // the N of N.name (NN-name, NN_name); 0 when unnumbered
	Name  string `json:"name"`  // short name: "platform"
	Title string `json:"title"` // display name: "Platform"
	// Unnumbered says the directory carries no number (the order hint and the ID
	// of a numbered one); the zero value is a numbered layer.
	Unnumbered bool `json:"unnumbered,omitempty"`
	// Env is the environment whose directory holds the layer; "" for a shared one.
	Env string `json:"environment,omitempty"`
	// PerEnv are the environments that apply this shared layer with their own
	// variable files or backend config, which the layer's directory holds.
	PerEnv []string `json:"per_environment,omitempty"`
	// Terragrunt says the directory holds terragrunt.hcl: Terragrunt generates its
	// backend and provider files, which are not in the tree.
	Terragrunt bool `json:"terragrunt,omitempty"`

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

// ID is the short label used in tables: "L2" for a numbered layer, else its key.
func (l *Layer) ID() string {
	if l.Unnumbered {
		return l.Dir
	}
	return "L" + strconv.Itoa(l.Index)
}

// Label is the table row label: "L2 Platform", or the key when unnumbered
// ("staging-data"), which is what --layer takes.
func (l *Layer) Label() string {
	if l.Unnumbered {
		return l.Dir
	}
	return l.ID() + " " + l.Title
}

var dirPattern = regexp.MustCompile(`^([0-9]+)[._-]([A-Za-z0-9][A-Za-z0-9_-]*)$`)

// parseDir splits "2.platform", "02-platform" or "02_platform" into 2 and
// "platform"; ok is false for other names.
func parseDir(dir string) (index int, name string, ok bool) {
	// By hand, not with dirPattern: discovery calls this for every entry of the
	// layers directory, and the two are held equal by FuzzParseDir.
	dot := 0
	for dot < len(dir) && dir[dot] >= '0' && dir[dot] <= '9' {
		dot++
	}
	if dot == 0 || dot >= len(dir)-1 || dir[dot] != '.' && dir[dot] != '-' && dir[dot] != '_' {
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

// looksNumbered tells a name that starts like a numbered layer (digits, then a
// separator or a space) but may not be one: "5.my layer", "5.my.layer".
func looksNumbered(dir string) bool {
	i := 0
	for i < len(dir) && dir[i] >= '0' && dir[i] <= '9' {
		i++
	}
	return i > 0 && i < len(dir) && strings.IndexByte("._- ", dir[i]) >= 0
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
