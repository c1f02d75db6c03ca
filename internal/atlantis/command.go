package atlantis

import (
	"fmt"
	"regexp"
)

// safeDir is what a directory may look like in a command Atlantis parses with shell
// quoting rules: no spaces, quotes or shell metacharacters, no way out of the repository.
var (
	safeDir = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,254}$`)
	dotDot  = regexp.MustCompile(`(^|/)\.\.(/|$)`)
)

// PlanCommand is the comment that asks Atlantis to plan one directory. Atlantis
// ignores comments of more than one line, so it carries nothing else.
func PlanCommand(dir string) (string, error) {
	dir = cleanDir(dir)
	if dir != "." && (!safeDir.MatchString(dir) || dotDot.MatchString(dir)) {
		return "", fmt.Errorf("directory %q cannot be passed to atlantis plan -d", dir)
	}
	return "atlantis plan -d " + dir, nil
}

// safeProject is a project name Atlantis parses as one word.
var safeProject = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,254}$`)

// PlanProjectCommand asks Atlantis to plan one project by name: the only way to
// reach a project planned in a workspace of its own (an environment), which
// "-d DIR" alone, in the default workspace, does not select.
func PlanProjectCommand(name string) (string, error) {
	if !safeProject.MatchString(name) {
		return "", fmt.Errorf("project %q cannot be passed to atlantis plan -p", name)
	}
	return "atlantis plan -p " + name, nil
}

// Hint is one Atlantis command worth showing on a PR.
type Hint struct {
	Command, What string
}

// maxHintDirs bounds the directories named one by one; past it the commands are
// shown once with a placeholder.
const maxHintDirs = 6

// Hints are the commands the PR comment shows for the given directories, the
// seed design's reference table narrowed to this PR.
func Hints(dirs []string) []Hint {
	h := []Hint{{"atlantis plan", "plan every modified directory"}}
	if len(dirs) > maxHintDirs {
		return append(h,
			Hint{"atlantis plan -d <dir>", "plan one directory"},
			Hint{"atlantis apply -d <dir>", "apply one directory's plan"},
			Hint{"atlantis apply", "apply every pending plan"},
			Hint{"atlantis plan -d <dir> -- -destroy", "plan a destroy (extra terraform arguments go after --)"},
			Hint{"atlantis unlock", "release the PR's locks and delete its plans"})
	}
	for _, d := range dirs {
		if c, err := PlanCommand(d); err == nil {
			h = append(h, Hint{c, "plan this directory"})
		}
	}
	for _, d := range dirs {
		if _, err := PlanCommand(d); err == nil {
			h = append(h, Hint{"atlantis apply -d " + cleanDir(d), "apply this directory's plan"})
		}
	}
	h = append(h,
		Hint{"atlantis apply", "apply every pending plan"},
		Hint{"atlantis plan -d <dir> -- -destroy", "plan a destroy (extra terraform arguments go after --)"},
		Hint{"atlantis unlock", "release the PR's locks and delete its plans"},
	)
	return h
}
