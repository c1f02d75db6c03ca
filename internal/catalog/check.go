package catalog

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Finding is a difference between the catalog and one of its views.
type Finding struct {
	Pos     string `json:"pos"` // file:line
	Message string `json:"message"`
}

func (f Finding) String() string { return f.Pos + ": " + f.Message }

// DomainPlaceholder stands for the base domain wherever it is not published.
const DomainPlaceholder = "${BASE_DOMAIN}"

// CheckHosts compares the catalog (resolved) with the hosts the layers define: a
// host with no entry in its layer (unless it serves no HTTP: IsNonHTTP), an entry
// whose layer defines no such host, and a non_http name no layer builds are
// findings.
func CheckHosts(c *Catalog, hosts []Host) []Finding {
	type key struct{ layer, sub string }
	defined := map[key]Host{}
	bySub := map[string][]Host{}
	for _, h := range hosts {
		defined[key{h.LayerDir, h.Subdomain}] = h
		bySub[h.Subdomain] = append(bySub[h.Subdomain], h)
	}
	listed := map[key]bool{}
	listedSub := map[string]bool{}
	var out []Finding
	for _, s := range c.Services {
		listed[key{s.LayerDir, s.Subdomain}] = true
		listedSub[s.Subdomain] = true
		if _, ok := defined[key{s.LayerDir, s.Subdomain}]; ok {
			continue
		}
		host := s.Host(DomainPlaceholder)
		if elsewhere := bySub[s.Subdomain]; len(elsewhere) > 0 {
			out = append(out, Finding{s.Pos, fmt.Sprintf("service %q is in layer %s (%s), but %s is defined by layer %s (%s)",
				s.ID, s.LayerID, s.LayerDir, host, elsewhere[0].LayerDir, elsewhere[0].Pos)})
			continue
		}
		out = append(out, Finding{s.Pos, fmt.Sprintf("service %q (%s): no terraform file of %s builds the host %s from var.%s",
			s.ID, s.LayerID, s.LayerDir, host, c.DomainVariable)})
	}
	built := map[string]bool{}
	for _, h := range hosts {
		built[h.Subdomain] = true
		if listed[key{h.LayerDir, h.Subdomain}] || listedSub[h.Subdomain] {
			continue // listed, or already reported as listed under another layer
		}
		if c.IsNonHTTP(h.Subdomain) {
			continue
		}
		out = append(out, Finding{h.Pos, fmt.Sprintf("host %s (layer %s) has no entry in %s (a name that serves no HTTP goes in its non_http list)",
			Service{Subdomain: h.Subdomain}.Host(DomainPlaceholder), h.LayerDir, c.File)})
	}
	for _, sub := range c.NonHTTP {
		if !built[sub] {
			out = append(out, Finding{c.NonHTTPPos, fmt.Sprintf("non_http lists %s, which no layer builds from var.%s",
				Service{Subdomain: sub}.Host(DomainPlaceholder), c.DomainVariable)})
		}
	}
	return out
}

// README region markers: the services table between them is generated.
const (
	BeginMarker = "<!-- services:begin -->"
	EndMarker   = "<!-- services:end -->"
)

// Table is the README's services table.
func Table(c *Catalog) string {
	var b strings.Builder
	b.WriteString(tableHeader)
	for _, s := range c.Services {
		b.WriteString(row(s))
		b.WriteByte('\n')
	}
	return b.String()
}

const tableHeader = "| Layer | Service | Probe | Healthy answer |\n|---|---|---|---|\n"

func row(s Service) string {
	return fmt.Sprintf("| %s | %s | `%s` | %s |", s.LayerID, s.Name, s.URL(DomainPlaceholder), s.ExpectText())
}

// region returns the byte offsets of the text between the marker lines (each
// marker alone on its line, so prose may mention them), and the line of the begin
// marker; ok is false when the README has no region.
func region(readme []byte) (start, end, line int, ok bool, err error) {
	var begins, ends []int // line starts
	var beginLine int
	for off, n := 0, 1; off < len(readme); n++ {
		next := bytes.IndexByte(readme[off:], '\n')
		if next < 0 {
			next = len(readme) - off
		}
		switch string(bytes.TrimSpace(readme[off : off+next])) {
		case BeginMarker:
			begins, beginLine = append(begins, off), n
		case EndMarker:
			ends = append(ends, off)
		}
		off += next + 1
	}
	switch {
	case len(begins) == 0 && len(ends) == 0:
		return 0, 0, 0, false, nil
	case len(begins) != 1 || len(ends) != 1:
		return 0, 0, 0, false, fmt.Errorf("%s and %s must each be on a line of their own, once", BeginMarker, EndMarker)
	case ends[0] < begins[0]:
		return 0, 0, 0, false, fmt.Errorf("%s must come before %s", BeginMarker, EndMarker)
	}
	start = begins[0] + bytes.IndexByte(readme[begins[0]:], '\n') + 1
	return start, ends[0], beginLine, true, nil
}

// WriteReadme returns the README with its services table regenerated; changed is
// false when it already matched. A README without the markers is an error: where
// the table goes is the README author's choice.
func WriteReadme(name string, readme []byte, c *Catalog) (out []byte, changed bool, err error) {
	start, end, _, ok, err := region(readme)
	if err != nil {
		return nil, false, inputErrorf("%s: %v", name, err)
	}
	if !ok {
		return nil, false, inputErrorf("%s has no services table: put %s and %s on their own lines where it goes", name, BeginMarker, EndMarker)
	}
	table := Table(c)
	if string(readme[start:end]) == table {
		return readme, false, nil
	}
	out = append(append(append([]byte{}, readme[:start]...), table...), readme[end:]...)
	return out, true, nil
}

// CheckReadme compares the README's services table with the catalog, row by row,
// so a finding says which service was added or removed. present is false when the
// README has no services table (nothing to compare).
func CheckReadme(name string, readme []byte, c *Catalog) (findings []Finding, present bool, err error) {
	start, end, line, ok, err := region(readme)
	if err != nil {
		return nil, false, inputErrorf("%s: %v", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	got := string(readme[start:end])
	if got == Table(c) {
		return nil, true, nil
	}
	firstLine := line + 1
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	have := map[string]bool{}
	for _, l := range lines {
		have[l] = true
	}
	want := map[string]bool{}
	for _, h := range strings.Split(strings.TrimSuffix(tableHeader, "\n"), "\n") {
		want[h] = true
	}
	for _, s := range c.Services {
		r := row(s)
		want[r] = true
		if !have[r] {
			findings = append(findings, Finding{s.Pos, fmt.Sprintf("service %q is missing from %s's services table, or its row differs", s.ID, name)})
		}
	}
	for i, l := range lines {
		if !want[l] && strings.TrimSpace(l) != "" {
			findings = append(findings, Finding{name + ":" + strconv.Itoa(firstLine+i), fmt.Sprintf("row not generated from %s: %s", c.File, l)})
		}
	}
	if len(findings) == 0 { // same rows, another order or spacing
		findings = append(findings, Finding{name + ":" + strconv.Itoa(line), "the services table differs from " + c.File})
	}
	for i := range findings {
		findings[i].Message += " (run `infra catalog --write`)"
	}
	return findings, true, nil
}
