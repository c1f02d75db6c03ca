package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

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
				if err := enc.Encode(map[string]any{"layers_dir": set.Config.LayersDir, "layers": set.Layers}); err != nil {
					return a.toolError(err)
				}
				return nil
			}
			if err := report.LayerList(a.stdout, set.Layers); err != nil {
				return a.toolError(err)
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "text", "text or json")
	return c
}
