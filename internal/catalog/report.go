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
	// Undetectable are names the layers build from the domain variable that a
	// static reading cannot tell: reported, not failed on.
	Undetectable []Finding
}

// Check compares the catalog with the README's services table and with the hosts
// the layers define. Findings are differences; errors are unreadable input.
func Check(fsys fs.FS, set *layers.Set, c *Catalog) (*CheckResult, error) {
	res := &CheckResult{Catalog: c}
	readme, err := fs.ReadFile(fsys, ReadmeFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		res.Findings = append(res.Findings, Finding{ReadmeFile, "no " + ReadmeFile + " at the repository root to hold the services table"})
	case err != nil:
		return nil, inputErrorf("reading %s: %v", ReadmeFile, err)
	default:
		findings, present, err := CheckReadme(ReadmeFile, readme, c)
		if err != nil {
			return nil, err
		}
		res.ReadmeTable = present
		if !present { // deleted, markers and all: as stale as a wrong row
			findings = []Finding{{ReadmeFile, "no services table: put " + BeginMarker + " and " + EndMarker + " on their own lines where it goes, then run `infra catalog --write`"}}
		}
		res.Findings = append(res.Findings, findings...)
	}
	if res.Hosts, res.Undetectable, err = TerraformHosts(fsys, set, c.DomainVariable); err != nil {
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
		for _, list := range []struct {
			title    string
			findings []Finding
		}{{"Findings", res.Findings}, {"Not checked", res.Undetectable}} {
			if len(list.findings) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n**%s**\n\n", list.title)
			for _, f := range list.findings {
				fmt.Fprintf(&b, "- `%s`: %s\n", f.Pos, strings.ReplaceAll(f.Message, "\n", " "))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "json":
		doc := map[string]any{"catalog": c.File, "domain_variable": c.DomainVariable, "services": c.Services, "non_http": orEmpty(c.NonHTTP)}
		if checked {
			doc["findings"], doc["readme_table"], doc["hosts"] = orEmpty(res.Findings), res.ReadmeTable, res.Hosts
			doc["undetectable"] = orEmpty(res.Undetectable)
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
			for _, f := range res.Undetectable {
				b.WriteString("not checked: " + f.String() + "\n")
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
		readme = ReadmeFile + " (no services table)"
	}
	var s string
	if len(res.Findings) == 0 {
		s = fmt.Sprintf("%s: %d services; %s and the %d terraform hosts agree", res.Catalog.File, len(res.Catalog.Services), readme, len(res.Hosts))
	} else {
		s = fmt.Sprintf("%s: %d finding(s) against %s and the %d terraform hosts", res.Catalog.File, len(res.Findings), readme, len(res.Hosts))
	}
	if n := len(res.Undetectable); n > 0 {
		s += fmt.Sprintf("; %d name(s) built at run time not checked", n)
	}
	return s
}

// orEmpty keeps an empty list a list in JSON.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
