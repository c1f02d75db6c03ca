package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/infra-flash/infra/internal/layers"
)

// LayerFormats are the formats of the layers command.
var LayerFormats = []string{"text", "json", "mermaid"}

// RenderLayers writes the layer model: the apply-order list (text), the model as
// JSON, or the graph as mermaid. The CLI and the Dagger module both print it.
func RenderLayers(w io.Writer, set *layers.Set, format string) error {
	switch format {
	case "text":
		return LayerList(w, set.Layers)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"layers_dir": set.Config.LayersDir, "layers": set.Layers})
	case "mermaid":
		return Mermaid(w, set.Layers, nil)
	}
	return fmt.Errorf("unknown --format %q for layers: use text, json or mermaid", format)
}
