package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
)

func (a *app) layersCommand() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "layers",
		Short: "list the layers in apply order with their dependencies",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if format != "text" && format != "json" {
				return a.badInput("unknown --format %q for layers: use text or json", format)
			}
			set, _, err := a.discover()
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				skipped := append([]layers.Skipped{}, set.Skipped...)
				warnings := append([]string{}, set.Warnings...)
				if err := enc.Encode(map[string]any{"layers_dir": set.Config.LayersDir, "layers": set.Layers,
					"not_layers": skipped, "warnings": warnings}); err != nil {
					return a.toolError(err)
				}
				return nil
			}
			if err := report.LayerList(a.stdout, set.Layers); err != nil {
				return a.toolError(err)
			}
			for _, s := range set.Skipped {
				fmt.Fprintf(a.stderr, "infra: %s is not a layer: %s\n", s.Path, s.Reason)
			}
			a.warn(set)
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "text", "text or json")
	return c
}
