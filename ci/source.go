package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing/fstest"

	"github.com/infra-flash/infra/ci/internal/dagger"
	"github.com/infra-flash/infra/internal/gitchange"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/toolchain"
)

// discover reads the HCL the layer model needs into memory and runs the same
// discovery as the native CLI on it.
func (m *Infra) discover(ctx context.Context) (*layers.Set, repoconfig.Config, error) {
	fsys, err := hclFiles(ctx, m.Source)
	if err != nil {
		return nil, repoconfig.Config{}, err
	}
	return m.discoverIn(fsys)
}

// discoverIn runs the discovery on files already read.
func (m *Infra) discoverIn(fsys fstest.MapFS) (*layers.Set, repoconfig.Config, error) {
	cfg, err := repoconfig.Load(fsys)
	if err != nil {
		return nil, cfg, err
	}
	if m.LayersDir != "" {
		cfg.LayersDir = m.LayersDir
	}
	set, err := layers.Discover(fsys, cfg)
	return set, cfg, err
}

// hclFiles loads every Terraform and HCL file of the directory.
func hclFiles(ctx context.Context, dir *dagger.Directory) (fstest.MapFS, error) {
	var names []string
	for _, pattern := range []string{"**/*.tf", "**/*.tf.json", "**/*.hcl"} {
		found, err := dir.Glob(ctx, pattern)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", pattern, err)
		}
		names = append(names, found...)
	}
	fsys := fstest.MapFS{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(names))
	sem := make(chan struct{}, 16)
	for _, name := range names {
		if strings.HasPrefix(name, ".git/") {
			continue
		}
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			contents, err := dir.File(name).Contents(ctx)
			if err != nil {
				errs <- fmt.Errorf("reading %s: %w", name, err)
				return
			}
			mu.Lock()
			fsys[name] = &fstest.MapFile{Data: []byte(contents)}
			mu.Unlock()
		}(name)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return fsys, nil
}

// changedFiles runs the git commands the native CLI runs, in a container holding
// the repository with its .git directory.
func (m *Infra) changedFiles(ctx context.Context, base string) ([]string, error) {
	if strings.HasPrefix(base, "-") || base == "" {
		return nil, &gitchange.BadRefError{Ref: base, Detail: "not a ref"}
	}
	// The terraform image ships git (terraform fetches modules with it).
	ctr := dag.Container().From(toolchain.Pinned().Image("terraform")).
		WithMountedDirectory("/src", m.Source).
		WithWorkdir("/src").
		WithEnvVariable("GIT_CONFIG_COUNT", "1").
		WithEnvVariable("GIT_CONFIG_KEY_0", "safe.directory").
		WithEnvVariable("GIT_CONFIG_VALUE_0", "*")
	var outputs []string
	for _, args := range [][]string{gitchange.DiffArgs(base), gitchange.UntrackedArgs()} {
		out, err := ctr.WithExec(append([]string{"git"}, args...)).Stdout(ctx)
		if err != nil {
			return nil, &gitchange.BadRefError{Ref: base, Detail: "git failed (is .git in the source, and the base ref fetched?): " + err.Error()}
		}
		outputs = append(outputs, out)
	}
	return gitchange.ParseNames(outputs...), nil
}
