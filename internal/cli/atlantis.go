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
	var check, server bool
	c := &cobra.Command{
		Use:   "atlantis-config",
		Short: "write (or --check) atlantis.yaml from the layer model",
		Long: `Writes atlantis.yaml at the repository root from the layer model: one Atlantis
project per layer, with the local modules it calls, planned and applied in
dependency order through the native CLI. With --check, writes nothing and exits 1
when the committed file differs from what the layers produce. With --server,
prints the Atlantis server-side repo config that defines the infra workflow the
projects run (the helm chart's repoConfig, Atlantis's --repo-config file).`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if server {
				if check {
					return a.badInput("--server and --check do not go together")
				}
				out, err := atlantisyaml.ServerConfig()
				if err != nil {
					return a.toolError(err)
				}
				_, err = a.stdout.Write(out)
				return err
			}
			return a.atlantisConfig(check)
		},
	}
	c.Flags().BoolVar(&check, "check", false, "compare with the committed file instead of writing it")
	c.Flags().BoolVar(&server, "server", false, "print the server-side repo config defining the infra workflow")
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
