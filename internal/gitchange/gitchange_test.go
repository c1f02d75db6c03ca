package gitchange_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/gitchange"
)

// repo is a scratch git repository with one commit on main.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	// Keep the developer's and the CI runner's git configuration out of the tests.
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GITHUB_BASE_REF", "")
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	r.write("terraform/1.network/main.tf", "locals {}\n")
	r.write("terraform/2.platform/main.tf", "locals {}\n")
	r.write("modules/m/main.tf", "locals {}\n")
	r.write(".gitignore", "*.tfstate\n")
	r.commit("initial")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{
		"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", "-C", r.dir,
	}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(r.t, err, "git %s: %s", strings.Join(args, " "), out)
	return string(out)
}

func (r *repo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, filepath.FromSlash(name))
	require.NoError(r.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(r.t, os.WriteFile(p, []byte(content), 0o644))
}

func (r *repo) commit(msg string) {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
}

func (r *repo) changed(dir, base string) []string {
	r.t.Helper()
	files, err := gitchange.ChangedFiles(context.Background(), dir, base)
	require.NoError(r.t, err)
	return files
}

func TestChangedFilesNoChanges(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	assert.Empty(t, r.changed(r.dir, "main"))
}

func TestChangedFilesListsBranchCommits(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	r.write("terraform/2.platform/main.tf", "locals { a = 1 }\n")
	r.commit("change platform")
	r.write("terraform/2.platform/extra.tf", "locals { b = 1 }\n")
	r.commit("add a file")
	assert.Equal(t, []string{"terraform/2.platform/extra.tf", "terraform/2.platform/main.tf"}, r.changed(r.dir, "main"))
}

func TestChangedFilesListsStagedFiles(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	r.write("terraform/1.network/main.tf", "locals { staged = 1 }\n")
	r.write("terraform/1.network/new.tf", "locals {}\n")
	r.git("add", "terraform/1.network")
	assert.Equal(t, []string{"terraform/1.network/main.tf", "terraform/1.network/new.tf"}, r.changed(r.dir, "main"))
}

func TestChangedFilesListsUnstagedFiles(t *testing.T) {
	r := newRepo(t)
	r.write("modules/m/main.tf", "locals { unstaged = 1 }\n")
	assert.Equal(t, []string{"modules/m/main.tf"}, r.changed(r.dir, "main"))
}

func TestChangedFilesListsUntrackedFilesButNotIgnoredOnes(t *testing.T) {
	r := newRepo(t)
	r.write("terraform/3.data/main.tf", "locals {}\n")
	r.write("terraform/3.data/terraform.tfstate", "{}\n")
	assert.Equal(t, []string{"terraform/3.data/main.tf"}, r.changed(r.dir, "main"))
}

func TestChangedFilesListsBothSidesOfARename(t *testing.T) {
	tests := []struct {
		name   string
		commit bool
	}{
		{"committed", true},
		{"staged", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRepo(t)
			r.git("checkout", "-q", "-b", "feature")
			r.git("mv", "terraform/1.network/main.tf", "terraform/2.platform/network.tf")
			if tt.commit {
				r.commit("move")
			}
			assert.Equal(t, []string{"terraform/1.network/main.tf", "terraform/2.platform/network.tf"}, r.changed(r.dir, "main"))
		})
	}
}

func TestChangedFilesListsDeletedFiles(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	r.git("rm", "-q", "terraform/1.network/main.tf")
	r.commit("delete network")
	require.NoError(t, os.Remove(filepath.Join(r.dir, "modules/m/main.tf"))) // deleted, not staged
	assert.Equal(t, []string{"modules/m/main.tf", "terraform/1.network/main.tf"}, r.changed(r.dir, "main"))
}

func TestChangedFilesCombinesAllKindsOfChange(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	r.write("terraform/1.network/main.tf", "locals { committed = 1 }\n")
	r.commit("commit")
	r.write("terraform/1.network/main.tf", "locals { committed = 2 }\n") // the same file, changed again
	r.write("terraform/2.platform/main.tf", "locals { staged = 1 }\n")
	r.git("add", "terraform/2.platform/main.tf")
	r.write("modules/m/main.tf", "locals { unstaged = 1 }\n")
	r.write("modules/n/main.tf", "locals {}\n")
	assert.Equal(t, []string{
		"modules/m/main.tf",
		"modules/n/main.tf",
		"terraform/1.network/main.tf",
		"terraform/2.platform/main.tf",
	}, r.changed(r.dir, "main"))
}

func TestChangedFilesRelativeToSubdirectory(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	r.write("terraform/2.platform/main.tf", "locals { a = 1 }\n")
	r.commit("change platform")
	r.write("terraform/1.network/new.tf", "locals {}\n")     // untracked, inside
	r.write("modules/m/main.tf", "locals { outside = 1 }\n") // outside the subdirectory
	r.write("README.md", "outside\n")

	got := r.changed(filepath.Join(r.dir, "terraform"), "main")
	assert.Equal(t, []string{"1.network/new.tf", "2.platform/main.tf"}, got)
}

func TestChangedFilesExcludesBaseChangesAfterFork(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	r.write("terraform/2.platform/main.tf", "locals { feature = 1 }\n")
	r.commit("feature change")

	r.git("checkout", "-q", "main")
	r.write("terraform/1.network/main.tf", "locals { main = 1 }\n")
	r.write("modules/m/added-on-main.tf", "locals {}\n")
	r.commit("main moved on")
	r.git("checkout", "-q", "feature")

	assert.Equal(t, []string{"terraform/2.platform/main.tf"}, r.changed(r.dir, "main"))
}

func TestChangedFilesAcceptsCommitsAndTags(t *testing.T) {
	r := newRepo(t)
	first := strings.TrimSpace(r.git("rev-parse", "HEAD"))
	r.git("tag", "v1")
	r.write("terraform/1.network/main.tf", "locals { a = 1 }\n")
	r.commit("second")
	for _, base := range []string{first, "v1", "HEAD~1"} {
		t.Run(base, func(t *testing.T) {
			assert.Equal(t, []string{"terraform/1.network/main.tf"}, r.changed(r.dir, base))
		})
	}
}

func TestChangedFilesBadRef(t *testing.T) {
	r := newRepo(t)
	tests := []struct {
		name, base, detail string
	}{
		{"unknown ref", "origin/does-not-exist", "no such commit"},
		{"option-like ref", "--output=/tmp/x", "cannot start with '-'"},
		{"single dash", "-", "cannot start with '-'"},
		{"empty", "", "no such commit"},
		{"a tree is not a commit", "HEAD^{tree}", "no such commit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := gitchange.ChangedFiles(context.Background(), r.dir, tt.base)
			require.Error(t, err)
			assert.Nil(t, files)
			var bad *gitchange.BadRefError
			require.True(t, errors.As(err, &bad), "want a BadRefError, got %T: %v", err, err)
			assert.Equal(t, tt.base, bad.Ref)
			assert.Contains(t, bad.Detail, tt.detail)
			assert.Contains(t, err.Error(), "cannot compare with \""+tt.base+"\"")
			assert.Contains(t, err.Error(), "--base")
		})
	}
}

func TestChangedFilesOptionLikeRefDoesNotReachGit(t *testing.T) {
	r := newRepo(t)
	out := filepath.Join(t.TempDir(), "written-by-git")
	_, err := gitchange.ChangedFiles(context.Background(), r.dir, "--output="+out)
	require.Error(t, err)
	assert.NoFileExists(t, out)
}

func TestChangedFilesNoMergeBase(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "--orphan", "unrelated")
	r.git("rm", "-rq", "--cached", ".")
	r.write("other.tf", "locals {}\n")
	r.git("add", "other.tf")
	r.git("commit", "-q", "-m", "unrelated root")

	_, err := gitchange.ChangedFiles(context.Background(), r.dir, "main")
	var bad *gitchange.BadRefError
	require.True(t, errors.As(err, &bad), "want a BadRefError, got %T: %v", err, err)
	assert.Equal(t, "main", bad.Ref)
}

// A shallow clone (actions/checkout's default) lacks the base or the merge base:
// the error says so and how to fetch it.
func TestChangedFilesInAShallowClone(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	r.write("terraform/2.platform/more.tf", "locals {}\n")
	r.commit("feature")
	clone := t.TempDir()
	r.git("clone", "-q", "--depth", "1", "--branch", "feature", "file://"+r.dir, clone)
	ctx := context.Background()

	_, err := gitchange.ChangedFiles(ctx, clone, "origin/main")
	var bad *gitchange.BadRefError
	require.ErrorAs(t, err, &bad)
	assert.True(t, bad.Missing)
	assert.True(t, bad.Shallow)
	assert.Contains(t, err.Error(), "this is a shallow clone: fetch the base branch with its history, e.g. fetch-depth: 0 in actions/checkout")
	bad.Tried = gitchange.BaseCandidates("")
	assert.Contains(t, err.Error(), "nothing to compare with: none of origin/main, main names a commit here")

	// The base fetched alone, without the history that joins it to HEAD.
	r2 := &repo{t: t, dir: clone}
	r2.git("fetch", "-q", "--depth", "1", "origin", "main:refs/remotes/origin/main")
	_, err = gitchange.ChangedFiles(ctx, clone, "origin/main")
	require.ErrorAs(t, err, &bad)
	assert.False(t, bad.Missing)
	assert.Contains(t, err.Error(), "this is a shallow clone")

	_, err = gitchange.ChangedFiles(ctx, r.dir, "nope")
	require.ErrorAs(t, err, &bad)
	assert.False(t, bad.Shallow)
	assert.NotContains(t, err.Error(), "shallow")
}

func TestChangedFilesOutsideARepository(t *testing.T) {
	t.Setenv("GIT_CEILING_DIRECTORIES", os.TempDir())
	files, err := gitchange.ChangedFiles(context.Background(), t.TempDir(), "main")
	require.Error(t, err)
	assert.Nil(t, files)
}

func TestChangedFilesHonoursContext(t *testing.T) {
	r := newRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := gitchange.ChangedFiles(ctx, r.dir, "main")
	assert.Error(t, err)
}

func TestParseNames(t *testing.T) {
	tests := []struct {
		name    string
		outputs []string
		want    []string
	}{
		{"nothing", nil, nil},
		{"empty output", []string{""}, nil},
		{"sorted", []string{"b.tf\x00a.tf\x00c/d.tf\x00"}, []string{"a.tf", "b.tf", "c/d.tf"}},
		{"duplicates across outputs", []string{"x/1.tf\x00x/2.tf\x00", "x/2.tf\x00x/0.tf\x00x/1.tf\x00"}, []string{"x/0.tf", "x/1.tf", "x/2.tf"}},
		{"empty entries", []string{"\x00\x00a.tf\x00\x00", "\x00"}, []string{"a.tf"}},
		{"no trailing NUL", []string{"a.tf\x00b.tf"}, []string{"a.tf", "b.tf"}},
		{"names with spaces are kept whole", []string{"dir/with space.tf\x00"}, []string{"dir/with space.tf"}},
		{"trailing newline", []string{"a.tf\x00b.tf\n"}, []string{"a.tf", "b.tf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, gitchange.ParseNames(tt.outputs...))
		})
	}
}

func TestDiffArgsEndWithPathSeparator(t *testing.T) {
	args := gitchange.DiffArgs("origin/main")
	require.NotEmpty(t, args)
	assert.Equal(t, "diff", args[0])
	assert.Equal(t, "--", args[len(args)-1], "the base can never be read as a path")
	assert.Contains(t, args, "--no-renames")
	assert.Contains(t, args, "--merge-base")
	assert.Contains(t, args, "origin/main")
	assert.Contains(t, args, "-z")
}

func TestUntrackedArgs(t *testing.T) {
	assert.Equal(t, []string{"ls-files", "--others", "--exclude-standard", "-z"}, gitchange.UntrackedArgs())
}

func TestDefaultBase(t *testing.T) {
	tests := []struct {
		name          string
		githubBaseRef string
		refs          []string // created at HEAD
		want          string
	}{
		{"pull request base", "release", []string{"refs/remotes/origin/release", "refs/remotes/origin/main"}, "origin/release"},
		{"pull request base not fetched", "release", []string{"refs/remotes/origin/main"}, "origin/main"},
		{"origin/main", "", []string{"refs/remotes/origin/main"}, "origin/main"},
		{"origin/main ignores other remote branches", "", []string{"refs/remotes/origin/release"}, "main"},
		{"local main", "", nil, "main"},
		{"GITHUB_BASE_REF without any origin ref", "release", nil, "main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRepo(t)
			t.Setenv("GITHUB_BASE_REF", tt.githubBaseRef)
			for _, ref := range tt.refs {
				r.git("update-ref", ref, "HEAD")
			}
			assert.Equal(t, tt.want, gitchange.DefaultBase(context.Background(), r.dir))
		})
	}
}

func TestDefaultBaseFallsBackToMainWhenNothingResolves(t *testing.T) {
	r := newRepo(t)
	r.git("branch", "-q", "-m", "main", "trunk")
	assert.Equal(t, "main", gitchange.DefaultBase(context.Background(), r.dir))
}

func TestDefaultBaseFromSubdirectory(t *testing.T) {
	r := newRepo(t)
	r.git("update-ref", "refs/remotes/origin/main", "HEAD")
	assert.Equal(t, "origin/main", gitchange.DefaultBase(context.Background(), filepath.Join(r.dir, "terraform")))
}

func TestBaseCandidatesPutThePullRequestBaseFirst(t *testing.T) {
	assert.Equal(t, []string{"origin/main", "main"}, gitchange.BaseCandidates(""))
	assert.Equal(t, []string{"origin/release", "origin/main", "main"}, gitchange.BaseCandidates("release"))
	assert.Equal(t, []string{"origin/main", "main"}, gitchange.BaseCandidates("main"), "no ref twice")
	assert.Equal(t, []string{"rev-parse", "--verify", "--quiet", "origin/main^{commit}"}, gitchange.VerifyArgs("origin/main"))
}

// pairedGit runs the host's git with the history of one directory and the work
// tree of another, as a container does with --git-dir mounted over a --source.
func pairedGit(gitDir, workTree string) gitchange.Git {
	return func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir", gitDir, "--work-tree", workTree}, args...)...)
		cmd.Dir = workTree
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", gitchange.Fail(args, stderr.String())
		}
		return string(out), err
	}
}

func TestCheckOwnRefusesAnotherRepositorysHistory(t *testing.T) {
	r := newRepo(t)
	ctx := context.Background()

	// The checkout itself, with uncommitted work (a file deleted, one added): its own.
	require.NoError(t, os.Remove(filepath.Join(r.dir, "modules/m/main.tf")))
	r.write("terraform/3.data/main.tf", "locals {}\n")
	require.NoError(t, gitchange.CheckOwn(ctx, pairedGit(filepath.Join(r.dir, ".git"), r.dir)))

	// Another tree (a fixture elsewhere) with this .git: not its history.
	other := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(other, "terraform/1.base"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(other, "terraform/1.base/main.tf"), []byte("locals {}\n"), 0o644))
	err := gitchange.CheckOwn(ctx, pairedGit(filepath.Join(r.dir, ".git"), other))
	var foreign *gitchange.ForeignGitError
	require.ErrorAs(t, err, &foreign)
	assert.Equal(t, 4, foreign.Tracked)
	assert.Equal(t, 4, foreign.Missing)
	assert.Contains(t, err.Error(), "pass that repository's .git as --git-dir")
}

func TestChangedWithAnyGitFindsWhatTheHostGitFinds(t *testing.T) {
	r := newRepo(t)
	r.git("checkout", "-q", "-b", "feature")
	r.write("terraform/2.platform/main.tf", "locals { a = 1 }\n")
	ctx := context.Background()
	viaHost, err := gitchange.ChangedFiles(ctx, r.dir, "main")
	require.NoError(t, err)
	viaPair, err := gitchange.Changed(ctx, pairedGit(filepath.Join(r.dir, ".git"), r.dir), "x", "main")
	require.NoError(t, err)
	assert.Equal(t, []string{"terraform/2.platform/main.tf"}, viaHost)
	assert.Equal(t, viaHost, viaPair)
	assert.Equal(t, "main", gitchange.DefaultBaseWith(ctx, pairedGit(filepath.Join(r.dir, ".git"), r.dir), ""))
}
