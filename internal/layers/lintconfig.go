package layers

import (
	"io/fs"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

var lintSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "plugin", LabelNames: []string{"name"}}}}

// lintKey digests what "tflint --init" installs from a lint config: its plugin
// blocks, as written. A config that does not parse is keyed on its whole content,
// so fixing it runs the init again.
func lintKey(fsys fs.FS, name string) string {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "unreadable"
	}
	file, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return digest([]string{"raw:" + string(src)})
	}
	content, _, _ := file.Body.PartialContent(lintSchema)
	var parts []string
	for _, b := range content.Blocks {
		parts = append(parts, "plugin:"+rangeText(src, hcl.RangeBetween(b.DefRange, b.Body.(*hclsyntax.Body).SrcRange)))
	}
	return digest(parts)
}
