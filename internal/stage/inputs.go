package stage

import (
	"path"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
)

// Filter selects repository paths with include and exclude patterns in the
// .dockerignore syntax that Dagger's Directory.filter takes: a path is selected
// when it or a parent directory matches an include pattern and none matches an
// exclude pattern. Patterns are repository-relative slash paths.
type Filter struct {
	Include []string
	Exclude []string
}

// Match reports whether the repository-relative path p is selected.
func (f Filter) Match(p string) bool {
	m, err := f.Matcher()
	return err == nil && m.Match(p)
}

// Matcher compiles the patterns once, for matching many paths.
func (f Filter) Matcher() (*FilterMatcher, error) {
	inc, err := patternmatcher.New(f.Include)
	if err != nil {
		return nil, err
	}
	exc, err := patternmatcher.New(f.Exclude)
	if err != nil {
		return nil, err
	}
	return &FilterMatcher{inc, exc}, nil
}

// FilterMatcher is a compiled Filter.
type FilterMatcher struct {
	include, exclude *patternmatcher.PatternMatcher
}

// Match reports whether the repository-relative path p is selected.
func (m *FilterMatcher) Match(p string) bool {
	p = path.Clean(strings.ReplaceAll(p, "\\", "/"))
	//nolint:staticcheck // the same parent-directory semantics as Dagger's filter
	in, err := m.include.MatchesOrParentMatches(p)
	if err != nil || !in {
		return false
	}
	//nolint:staticcheck
	out, err := m.exclude.MatchesOrParentMatches(p)
	return err == nil && !out
}

// Excludes reports whether p (a file or a directory) is excluded, so a walk can
// skip a directory without looking inside.
func (m *FilterMatcher) Excludes(p string) bool {
	//nolint:staticcheck
	out, err := m.exclude.MatchesOrParentMatches(path.Clean(strings.ReplaceAll(p, "\\", "/")))
	return err == nil && out
}

// codeSuffixes are the files "fmt" formats (terraform and tofu): it reads nothing else.
var codeSuffixes = []string{".tf", ".tofu", ".tfvars", ".tftest.hcl", ".tofutest.hcl", ".tfmock.hcl"}

// neverRead is left out of every stage: what init and plan write, never what a
// check reads.
var neverRead = []string{"**/.git", "**/.terraform", "**/*.tfstate", "**/*.tfstate.backup"}

// Inputs says exactly what a stage reads from the repository when it runs on t,
// the one definition behind both the native result cache key and the files the
// Dagger module puts in each (layer, stage) container:
//   - format: the files fmt formats, in the layer and in the local modules it calls;
//   - lint: the layer's and those modules' directories (tflint evaluates files
//     they reference, such as templates) and the lint config that applies, but not
//     the lock file, which tflint never reads;
//   - validate: the layer's and those modules' directories, the lock file included.
//
// Whole directories are conservative: a file no tool opens still re-runs the stage
// when it changes, never the other way round.
func Inputs(kind Kind, t Target) Filter {
	dirs := append([]string{t.Path}, t.Modules...)
	if t.Real != "" {
		dirs = append(dirs, t.Real) // the tools run there: a container needs it besides the link
	}
	f := Filter{Exclude: append([]string(nil), neverRead...)}
	switch kind {
	case Format:
		for _, d := range dirs {
			for _, s := range codeSuffixes {
				f.Include = append(f.Include, under(d, "**/*"+s))
			}
		}
	case Lint:
		for _, d := range dirs {
			f.Include = append(f.Include, under(d, ""))
		}
		if t.LintConfig != "" {
			f.Include = append(f.Include, t.LintConfig)
		}
		f.Exclude = append(f.Exclude, "**/"+lockFileName)
	case Validate:
		for _, d := range dirs {
			f.Include = append(f.Include, under(d, ""))
		}
	}
	f.Include = sortedUnique(f.Include)
	f.Exclude = sortedUnique(f.Exclude)
	return f
}

// InitRecord lists what validate's init writes in the layer and validate then
// depends on: the lock file (the provider versions and hashes init selected) and
// the module manifest (the versions of remote modules it installed). A result
// cache reads them from the workspace after init, where they are what the tools
// used, committed or not.
func InitRecord(t Target) []string {
	return []string{path.Join(t.Path, lockFileName), path.Join(t.Path, ".terraform", "modules", "modules.json")}
}

// PrepareCommands are the commands a stage runs before its result depends only
// on Inputs and InitRecord: validate's init, which selects provider versions.
// A result cache runs them first, so it can key on what they recorded.
func PrepareCommands(kind Kind, t Target) []Command {
	if kind != Validate || len(t.LinkedOut) > 0 || t.Terragrunt {
		return nil
	}
	initCmd, _ := validateCommands(t.atWorkDir())
	return []Command{initCmd}
}

const lockFileName = ".terraform.lock.hcl"

func under(dir, pattern string) string {
	dir = path.Clean(dir)
	switch {
	case dir == ".":
		if pattern == "" {
			return "**"
		}
		return pattern
	case pattern == "":
		return dir
	}
	return dir + "/" + pattern
}

func sortedUnique(in []string) []string {
	sort.Strings(in)
	out := in[:0]
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}
