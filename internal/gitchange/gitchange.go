// Package gitchange lists the files changed against a base ref: what "--layer
// changed" selects from. The git commands are data, so an executor without a host
// git (a container) can run the same ones and parse them here.
package gitchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// DiffArgs lists files that differ between the working tree and the merge base of
// base and HEAD: the branch's commits plus uncommitted work, not what base gained
// since. Both sides of a rename are listed, so a moved file affects both layers.
func DiffArgs(base string) []string {
	return []string{"diff", "--name-only", "-z", "--no-renames", "--relative", "--merge-base", base, "--"}
}

// UntrackedArgs lists new files git does not ignore.
func UntrackedArgs() []string {
	return []string{"ls-files", "--others", "--exclude-standard", "-z"}
}

// ParseNames splits NUL-separated git output into sorted, unique paths.
func ParseNames(outputs ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range outputs {
		for _, name := range strings.Split(o, "\x00") {
			if name = strings.TrimRight(name, "\n"); name != "" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// BadRefError says base does not name a commit; callers treat it as bad input.
type BadRefError struct {
	Ref, Detail string
	Missing     bool     // Ref names no commit here
	Shallow     bool     // the clone is shallow: the base or the merge base may not have been fetched
	Tried       []string // the default bases tried, when --base was not given
}

func (e *BadRefError) Error() string {
	what := fmt.Sprintf("cannot compare with %q: %s", e.Ref, e.Detail)
	if e.Missing && len(e.Tried) > 1 {
		what = fmt.Sprintf("nothing to compare with: none of %s names a commit here", strings.Join(e.Tried, ", "))
	}
	hint := "pass --base with a branch, tag or commit that exists, e.g. --base origin/main after fetching it"
	if e.Shallow {
		hint = "this is a shallow clone: fetch the base branch with its history, e.g. fetch-depth: 0 in actions/checkout; or " + hint
	}
	return what + " (" + hint + ")"
}

// Git runs one git command in a work tree and returns its stdout; git answering
// with a failure is a *Failure, git not running at all any other error. The host's
// git (Local) and a container's both fit, so every executor runs the same commands
// and reaches the same conclusions from them.
type Git func(ctx context.Context, args ...string) (string, error)

// Failure is git exiting non-zero.
type Failure struct{ msg string }

func (e *Failure) Error() string { return e.msg }

// Fail makes the Failure of a git command that exited non-zero with stderr.
func Fail(args []string, stderr string) *Failure {
	return &Failure{msg: fmt.Sprintf("git %s: %s", args[0], strings.TrimSpace(stderr))}
}

// Local runs the host's git in dir.
func Local(dir string) Git {
	return func(ctx context.Context, args ...string) (string, error) { return git(ctx, dir, args...) }
}

// DefaultBase is the ref "changed" compares with when --base is not given: the pull
// request's base branch in GitHub Actions, else origin/main, else main.
func DefaultBase(ctx context.Context, dir string) string {
	return DefaultBaseWith(ctx, Local(dir), os.Getenv("GITHUB_BASE_REF"))
}

// DefaultBaseWith is DefaultBase for any Git, given the pull request's base branch.
func DefaultBaseWith(ctx context.Context, g Git, githubBaseRef string) string {
	candidates := BaseCandidates(githubBaseRef)
	for _, c := range candidates {
		if _, err := g(ctx, VerifyArgs(c)...); err == nil {
			return c
		}
	}
	return candidates[len(candidates)-1]
}

// BaseCandidates are the refs DefaultBase tries in order, given the pull
// request's base branch (GITHUB_BASE_REF, "" outside a pull request); the first
// that names a commit wins, else the last. An executor that runs git elsewhere (a
// container) tries the same ones with VerifyArgs.
func BaseCandidates(githubBaseRef string) []string {
	candidates := []string{"origin/main", "main"}
	if githubBaseRef != "" && githubBaseRef != "main" {
		candidates = append([]string{"origin/" + githubBaseRef}, candidates...)
	}
	return candidates
}

// VerifyArgs succeed exactly when ref names a commit.
func VerifyArgs(ref string) []string {
	return []string{"rev-parse", "--verify", "--quiet", ref + "^{commit}"}
}

// ChangedFiles runs the git commands in dir (which may be a subdirectory of the
// work tree; paths come back relative to it).
func ChangedFiles(ctx context.Context, dir, base string) ([]string, error) {
	return Changed(ctx, Local(dir), dir, base)
}

// Changed lists the files changed against base with any Git; where names the
// work tree in messages.
func Changed(ctx context.Context, g Git, where, base string) ([]string, error) {
	if strings.HasPrefix(base, "-") {
		return nil, &BadRefError{Ref: base, Detail: "a ref cannot start with '-'"}
	}
	if _, err := g(ctx, "rev-parse", "--is-inside-work-tree"); err != nil {
		var notRepo *Failure
		if errors.As(err, &notRepo) {
			return nil, &NotRepoError{Dir: where}
		}
		return nil, err
	}
	if _, err := g(ctx, VerifyArgs(base)...); err != nil {
		var refErr *Failure
		if errors.As(err, &refErr) {
			return nil, &BadRefError{Ref: base, Detail: "no such commit in " + where, Missing: true, Shallow: isShallow(ctx, g)}
		}
		return nil, err
	}
	diff, err := g(ctx, DiffArgs(base)...)
	var gitErr *Failure
	if errors.As(err, &gitErr) {
		return nil, &BadRefError{Ref: base, Detail: err.Error(), Shallow: isShallow(ctx, g)}
	}
	if err != nil {
		return nil, err
	}
	untracked, err := g(ctx, UntrackedArgs()...)
	if err != nil {
		return nil, err
	}
	return ParseNames(diff, untracked), nil
}

func isShallow(ctx context.Context, g Git) bool {
	out, err := g(ctx, "rev-parse", "--is-shallow-repository")
	return err == nil && strings.TrimSpace(out) == "true"
}

// ForeignGitError says the history given is not the source's: it tracks files
// the source does not have (a --source from elsewhere with the caller's .git).
type ForeignGitError struct{ Tracked, Missing int }

func (e *ForeignGitError) Error() string {
	return fmt.Sprintf("the git history given is not the source's: %d of the %d files its HEAD tracks are not in the source "+
		"(with --source from elsewhere, pass that repository's .git as --git-dir, or select layers by name)", e.Missing, e.Tracked)
}

// CheckOwn fails with a *ForeignGitError when more than half of the files HEAD
// tracks are missing from the work tree: a checkout has its own files, however
// much uncommitted work it holds, while a .git paired with another directory
// finds next to none of them.
func CheckOwn(ctx context.Context, g Git) error {
	tracked, err := g(ctx, "ls-files", "-z")
	if err != nil {
		return err
	}
	missing, err := g(ctx, "ls-files", "-z", "--deleted")
	if err != nil {
		return err
	}
	t, m := len(ParseNames(tracked)), len(ParseNames(missing))
	if t > 0 && 2*m > t {
		return &ForeignGitError{Tracked: t, Missing: m}
	}
	return nil
}

// NotRepoError says the source is not inside a git work tree, so "changed" has
// nothing to compare; callers treat it as bad input.
type NotRepoError struct{ Dir string }

func (e *NotRepoError) Error() string {
	return fmt.Sprintf("%s is not a git work tree: --layer changed needs the repository's history (select layers by name instead)", e.Dir)
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if ctx.Err() == nil && errors.As(err, &exitErr) {
			return "", Fail(args, stderr.String())
		}
		return "", fmt.Errorf("running git: %w", err)
	}
	return stdout.String(), nil
}
