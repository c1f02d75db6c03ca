package stage

import (
	"path"
	"strings"
)

// repoPath turns a file name printed by a tool running in dir into a
// repository-relative path. root is where the tools see the repository.
func repoPath(root, dir, file string) string {
	if file == "" {
		return ""
	}
	file = strings.ReplaceAll(file, "\\", "/")
	if path.IsAbs(file) {
		if root != "" {
			if rel, ok := strings.CutPrefix(file, strings.TrimSuffix(root, "/")+"/"); ok {
				return path.Clean(rel)
			}
		}
		return file
	}
	return path.Clean(path.Join(dir, file))
}

// tail keeps the last n lines of s: enough context for an unexpected failure
// without flooding a report.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
