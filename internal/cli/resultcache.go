package cli

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/native"
	"github.com/infra-flash/infra/internal/pipeline"
	"github.com/infra-flash/infra/internal/resultcache"
	"github.com/infra-flash/infra/internal/toolchain"
)

// cacheFlags adds --no-cache to a check command.
func cacheFlags(c *cobra.Command, noCache *bool) {
	c.Flags().BoolVar(noCache, "no-cache", false,
		"compute every result again instead of reusing the ones whose inputs are unchanged (the fresh results are kept)")
}

// openResultCache opens the result cache for one run. A cache that cannot be
// opened (a read-only cache directory) only costs speed: the run goes on without it.
func (a *app) openResultCache(tools toolchain.Tools, exec *native.Executor, noCache bool) (pipeline.Cache, func()) {
	opts := resultcache.Options{Refresh: noCache}
	if mb, err := strconv.Atoi(os.Getenv("INFRA_RESULT_CACHE_MB")); err == nil && mb > 0 {
		opts.MaxBytes = int64(mb) << 20
	}
	c, err := resultcache.Open(filepath.Join(toolchain.CacheDir(), "results"),
		resultcache.Env{Engine: tools.Engine, TFLint: tools.TFLint, Environ: exec.Environ()}, opts)
	if err != nil {
		a.progress("infra: not using the result cache: %v", err)
		return nil, func() {}
	}
	return c, func() {
		if err := c.Close(); err != nil {
			a.progress("infra: trimming the result cache: %v", err)
		}
	}
}
