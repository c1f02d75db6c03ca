package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/atlantisyaml"
	"github.com/infra-flash/infra/internal/report"
)

func (a *app) atlantisConfigCommand() *cobra.Command {
	var check bool
	c := &cobra.Command{
		Use:   "atlantis-config",
		Short: "write (or --check) atlantis.yaml from the layer model",
		Long: `Writes atlantis.yaml at the repository root from the layer model: one Atlantis
project per layer, with the local modules it calls, planned and applied in
dependency order through the native CLI. With --check, writes nothing and exits 1
when the committed file differs from what the layers produce.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error { return a.atlantisConfig(check) },
	}
	c.Flags().BoolVar(&check, "check", false, "compare with the committed file instead of writing it")
	return c
}

func (a *app) atlantisConfig(check bool) error {
	set, _, err := a.discover()
	if err != nil {
		return err
	}
	out, err := atlantisyaml.Render(set)
	if err != nil {
		return a.badInput("%v", err)
	}
	target := filepath.Join(a.source, atlantisyaml.FileName)
	if !check {
		if err := os.WriteFile(target, out, 0o644); err != nil {
			return a.toolError(err)
		}
		fmt.Fprintf(a.stdout, "wrote %s (%d projects)\n", target, len(set.Layers))
		return nil
	}
	committed, err := os.ReadFile(target)
	if errors.Is(err, fs.ErrNotExist) {
		committed = nil
	} else if err != nil {
		return a.toolError(err)
	}
	if err := atlantisyaml.Check(committed, out); err != nil {
		return &exitError{code: report.ExitFailed, msg: "infra atlantis-config: " + err.Error()}
	}
	fmt.Fprintf(a.stdout, "%s matches the layers (%d projects)\n", atlantisyaml.FileName, len(set.Layers))
	return nil
}
