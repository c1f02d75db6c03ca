package cli

import (
	"slices"

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
			if !slices.Contains(report.LayerFormats, format) {
				return a.badInput("unknown --format %q for layers: use text, json or mermaid", format)
			}
			set, _, err := a.discover()
			if err != nil {
				return err
			}
			if err := report.RenderLayers(a.stdout, set, format); err != nil {
				return a.toolError(err)
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "text", "text, json or mermaid (the graph, for GitHub's markdown)")
	return c
}
