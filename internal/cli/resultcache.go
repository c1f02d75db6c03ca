package cli

import (
	"github.com/spf13/cobra"
)

// cacheFlags adds --no-cache to a check command.
func cacheFlags(c *cobra.Command, noCache *bool) {
	c.Flags().BoolVar(noCache, "no-cache", false,
		"compute every result again instead of reusing the ones whose inputs are unchanged (the fresh results are kept)")
}
