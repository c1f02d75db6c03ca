// Package planstore keeps the plans a /plan comment made until the /apply
// comment that applies them, in the state backend's bucket, keyed by pull
// request and commit. What is fetched is checked on use as any saved plan
// is (plan.Verify: the plan's hash, the commit, the source's hash).
package planstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/plan"
	"github.com/infra-flash/infra/internal/repoconfig"
)

// Objects is the bucket: read (nil when absent), write, delete.
type Objects interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, data []byte) error
	Delete(ctx context.Context, key string) error
}

// Bucket keeps plans under Prefix/pr-N/COMMIT/ (Prefix/pr-N/env-NAME/COMMIT/
// for an environment's) and the commit of a pull request's latest plans in
// Prefix/pr-N/latest.
type Bucket struct {
	Objects Objects
	Prefix  string // e.g. infra-plans/owner/repo
}

func (b Bucket) dir(pr int, env, commit string) string {
	return path.Join(b.Prefix, fmt.Sprintf("pr-%d", pr), EnvDir(env), commit)
}

// EnvDir is the directory an environment's plans are kept under, beside the
// commits' directories: "" for none.
func EnvDir(env string) string {
	if env == "" {
		return ""
	}
	return "env-" + env
}

func checkEnv(env string) error {
	if env != "" && !repoconfig.ValidEnvName(env) {
		return fmt.Errorf("%q is not an environment's name", env)
	}
	return nil
}

func checkCommit(commit string) error {
	if !forge.ValidSHA(commit) {
		return fmt.Errorf("%q is not a full commit SHA", commit)
	}
	return nil
}

// Keep uploads the plans of layers saved in dir and records commit as the
// pull request's latest.
func (b Bucket) Keep(ctx context.Context, pr int, env, commit, dir string, layers []string) error {
	if err := errors.Join(checkCommit(commit), checkEnv(env)); err != nil {
		return err
	}
	for _, l := range layers {
		for _, name := range []string{plan.FileName(l), plan.MetaName(l)} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if errors.Is(err, os.ErrNotExist) {
				continue // no plan of this layer (it failed)
			}
			if err != nil {
				return err
			}
			if err := b.Objects.Put(ctx, path.Join(b.dir(pr, env, commit), name), data); err != nil {
				return err
			}
		}
	}
	return b.Objects.Put(ctx, path.Join(b.Prefix, fmt.Sprintf("pr-%d", pr), "latest"), []byte(commit))
}

// Fetch downloads into dir the plans of layers kept for commit; a layer
// without one is left out.
func (b Bucket) Fetch(ctx context.Context, pr int, env, commit, dir string, layers []string) error {
	if err := errors.Join(checkCommit(commit), checkEnv(env)); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, l := range layers {
		meta, err := b.Objects.Get(ctx, path.Join(b.dir(pr, env, commit), plan.MetaName(l)))
		if err != nil {
			return err
		}
		if meta == nil {
			continue
		}
		data, err := b.Objects.Get(ctx, path.Join(b.dir(pr, env, commit), plan.FileName(l)))
		if err != nil {
			return err
		}
		if data == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, plan.FileName(l)), data, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, plan.MetaName(l)), meta, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Latest is the commit of the pull request's latest kept plans, "" when none.
func (b Bucket) Latest(ctx context.Context, pr int) (string, error) {
	data, err := b.Objects.Get(ctx, path.Join(b.Prefix, fmt.Sprintf("pr-%d", pr), "latest"))
	if err != nil || data == nil {
		return "", err
	}
	commit := strings.TrimSpace(string(data))
	if checkCommit(commit) != nil {
		return "", fmt.Errorf("%s/pr-%d/latest does not hold a commit", b.Prefix, pr)
	}
	return commit, nil
}
