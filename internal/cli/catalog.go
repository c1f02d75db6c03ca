package cli

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/infra-flash/infra/internal/catalog"
	"github.com/infra-flash/infra/internal/repofs"
	"github.com/infra-flash/infra/internal/report"
)

func (a *app) catalogCommand() *cobra.Command {
	var (
		format, file string
		check, write bool
	)
	c := &cobra.Command{
		Use:   "catalog",
		Short: "list the services catalog; --check compares it with the README and the terraform hosts",
		Long: `catalog reads the services catalog (services.hcl), the one list of documented
services that dig probes. --check compares it with the README's generated services
table and with the hosts the layers build from the base domain variable: a host with
no entry, an entry with no host, or a stale table is a finding (exit 1). --write
regenerates the README's table, then checks.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if format != "text" && format != "markdown" && format != "json" {
				return a.badInput("unknown --format %q: use text, markdown or json", format)
			}
			set, _, err := a.discover()
			if err != nil {
				return err
			}
			fsys := repofs.Dir(a.source)
			cat, err := catalog.Open(fsys, file, set)
			if err != nil {
				return a.badInput("%v", err)
			}
			if write {
				if err := a.writeReadme(cat); err != nil {
					return err
				}
			}
			res := &catalog.CheckResult{Catalog: cat}
			checked := check || write
			if checked {
				if res, err = catalog.Check(fsys, set, cat); err != nil {
					return a.badInput("%v", err)
				}
			}
			if err := catalog.Render(a.stdout, res, checked, format); err != nil {
				return a.toolError(err)
			}
			if len(res.Findings) > 0 {
				return exit(report.ExitFailed)
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "text", "text, markdown (the README table) or json")
	c.Flags().StringVar(&file, "catalog", catalog.FileName, "the services catalog, relative to --source")
	c.Flags().BoolVar(&check, "check", false, "compare with the README's services table and the terraform hosts; exit 1 on a difference")
	c.Flags().BoolVar(&write, "write", false, "regenerate the README's services table, then check")
	return c
}

func (a *app) writeReadme(cat *catalog.Catalog) error {
	name := filepath.Join(a.source, catalog.ReadmeFile)
	readme, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return a.badInput("no %s to write the services table into", catalog.ReadmeFile)
	}
	if err != nil {
		return a.toolError(err)
	}
	out, changed, err := catalog.WriteReadme(catalog.ReadmeFile, readme, cat)
	if err != nil {
		return a.badInput("%v", err)
	}
	if !changed {
		a.progress("infra: %s's services table is up to date", catalog.ReadmeFile)
		return nil
	}
	if err := os.WriteFile(name, out, 0o644); err != nil {
		return a.toolError(err)
	}
	a.progress("infra: wrote the services table of %s from %s", catalog.ReadmeFile, cat.File)
	return nil
}
