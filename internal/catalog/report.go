package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"text/tabwriter"

	"github.com/infra-flash/infra/internal/layers"
)

// ReadmeFile holds the generated services table, at the repository root.
const ReadmeFile = "README.md"

// CheckResult is the catalog compared with its views.
type CheckResult struct {
	Catalog     *Catalog
	Hosts       []Host
	ReadmeTable bool // the README has a services table to compare
	Findings    []Finding
}

// Check compares the catalog with the README's services table and with the hosts
// the layers define. Findings are differences; errors are unreadable input.
func Check(fsys fs.FS, set *layers.Set, c *Catalog) (*CheckResult, error) {
	res := &CheckResult{Catalog: c}
	readme, err := fs.ReadFile(fsys, ReadmeFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, inputErrorf("reading %s: %v", ReadmeFile, err)
	default:
		findings, present, err := CheckReadme(ReadmeFile, readme, c)
		if err != nil {
			return nil, err
		}
		res.ReadmeTable = present
		res.Findings = append(res.Findings, findings...)
	}
	if res.Hosts, err = TerraformHosts(fsys, set, c.DomainVariable); err != nil {
		return nil, err
	}
	res.Findings = append(res.Findings, CheckHosts(c, res.Hosts)...)
	return res, nil
}

// Render writes the catalog and, when checked, the findings: text lists both,
// markdown is the README's table, json carries everything.
func Render(w io.Writer, res *CheckResult, checked bool, format string) error {
	c := res.Catalog
	switch format {
	case "markdown":
		var b strings.Builder
		b.WriteString(Table(c))
		if len(res.Findings) > 0 {
			b.WriteString("\n**Findings**\n\n")
			for _, f := range res.Findings {
				fmt.Fprintf(&b, "- `%s`: %s\n", f.Pos, strings.ReplaceAll(f.Message, "\n", " "))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "json":
		doc := map[string]any{"catalog": c.File, "domain_variable": c.DomainVariable, "services": c.Services}
		if checked {
			findings := res.Findings
			if findings == nil {
				findings = []Finding{}
			}
			doc["findings"], doc["readme_table"], doc["hosts"] = findings, res.ReadmeTable, res.Hosts
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	case "text":
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LAYER\tSERVICE\tPROBE\tHEALTHY")
		for _, s := range c.Services {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.LayerID, s.Name, s.URL(DomainPlaceholder), s.ExpectText())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if checked {
			b.WriteByte('\n')
			for _, f := range res.Findings {
				b.WriteString(f.String() + "\n")
			}
			b.WriteString(res.Summary() + "\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	return inputErrorf("unknown --format %q: use text, markdown or json", format)
}

// Summary is the check's one-line verdict.
func (res *CheckResult) Summary() string {
	readme := ReadmeFile + "'s services table"
	if !res.ReadmeTable {
		readme = ReadmeFile + " (no services table: put " + BeginMarker + " and " + EndMarker + " where one should go)"
	}
	if len(res.Findings) == 0 {
		return fmt.Sprintf("%s: %d services; %s and the %d terraform hosts agree", res.Catalog.File, len(res.Catalog.Services), readme, len(res.Hosts))
	}
	return fmt.Sprintf("%s: %d finding(s) against %s and the %d terraform hosts", res.Catalog.File, len(res.Findings), readme, len(res.Hosts))
}
