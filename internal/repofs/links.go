package repofs

import (
	"path"
	"strings"
)

// FindLinks lists a checkout's symlinks, run at its root where only POSIX
// tools are at hand (a container): NUL-separated path and target pairs, .git
// left out. ParseLinks reads its output.
var FindLinks = []string{"find", ".", "-path", "./.git", "-prune", "-o", "-type", "l",
	"-exec", "sh", "-c", `for p; do printf '%s\0%s\0' "$p" "$(readlink "$p")"; done`, "sh", "{}", "+"}

// Link is a symlink of the repository: its path and its target, as written.
type Link struct{ Path, Target string }

// ParseLinks reads FindLinks' output and keeps the links whose relative target
// stays inside the repository: only those have something behind them wherever
// the repository is copied.
func ParseLinks(out string) []Link {
	fields := strings.Split(out, "\x00")
	var links []Link
	for i := 0; i+1 < len(fields); i += 2 {
		p := path.Clean(strings.TrimPrefix(fields[i], "./"))
		target := fields[i+1]
		if p == "." || p == ".." || strings.HasPrefix(p, "../") || target == "" || path.IsAbs(target) {
			continue
		}
		if to := path.Join(path.Dir(p), target); to == ".." || strings.HasPrefix(to, "../") {
			continue
		}
		links = append(links, Link{p, target})
	}
	return links
}
