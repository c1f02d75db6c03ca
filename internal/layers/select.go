package layers

import (
	"path"
	"strconv"
	"strings"

	"github.com/infra-flash/infra/internal/repoconfig"
)

// Selector keywords accepted by Select besides layer names.
const (
	All     = "all"
	Changed = "changed"
)

// Select resolves --layer values: "all", "changed", a directory name ("2.platform"),
// a short name ("platform") or an ID ("L2"); values may also be comma-separated.
// changedFiles is called only for "changed" and returns repository-relative paths.
// The result keeps apply order and holds each layer once.
func (s *Set) Select(specs []string, changedFiles func() ([]string, error)) ([]*Layer, error) {
	want := map[string]bool{}
	var tokens []string
	for _, spec := range specs {
		for _, t := range strings.Split(spec, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	if len(tokens) == 0 {
		return nil, inputErrorf("no layer selected: pass --layer all, changed, or layer names (layers: %s)", s.dirList(s.Layers))
	}
	for _, t := range tokens {
		switch strings.ToLower(t) {
		case All:
			for _, l := range s.Layers {
				want[l.Dir] = true
			}
		case Changed:
			files, err := changedFiles()
			if err != nil {
				return nil, err
			}
			for _, d := range s.AffectedBy(files) {
				want[d] = true
			}
		default:
			matched := s.match(t)
			if len(matched) == 0 {
				return nil, inputErrorf("unknown layer %q (layers: %s; or all, changed)", t, s.dirList(s.Layers))
			}
			for _, l := range matched {
				want[l.Dir] = true
			}
		}
	}
	var out []*Layer
	for _, l := range s.Layers {
		if want[l.Dir] {
			out = append(out, l)
		}
	}
	return out, nil
}

func (s *Set) match(token string) []*Layer {
	var out []*Layer
	lower := strings.ToLower(token)
	for _, l := range s.Layers {
		if l.Dir == token || strings.ToLower(l.Name) == lower || l.Path == strings.TrimSuffix(token, "/") {
			out = append(out, l)
		}
	}
	if len(out) > 0 {
		return out
	}
	if len(lower) > 1 && lower[0] == 'l' {
		if n, err := strconv.Atoi(lower[1:]); err == nil {
			for _, l := range s.Layers {
				if !l.Unnumbered && l.Index == n {
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// AffectedBy returns the directories of the layers a change to files touches: layers
// containing a file, layers calling a changed local module, every dependent of those,
// and all layers when a file that configures every layer changed.
func (s *Set) AffectedBy(files []string) []string {
	direct := map[string]bool{}
	for _, f := range files {
		f = path.Clean(strings.TrimPrefix(f, "./"))
		if f == repoconfig.FileName || f == ".tflint.hcl" {
			for _, l := range s.Layers {
				direct[l.Dir] = true
			}
			continue
		}
		if gone := s.goneLayerOf(f); gone != "" {
			// A layer deleted (or renamed away): the layers that read its state.
			for _, l := range s.Layers {
				if contains(l.readsGone, gone) {
					direct[l.Dir] = true
				}
			}
		}
		for _, l := range s.Layers {
			if within(f, l.Path) || l.Real != "" && within(f, l.Real) {
				direct[l.Dir] = true
				continue
			}
			for _, m := range l.Modules {
				if within(f, m) {
					direct[l.Dir] = true
					break
				}
			}
		}
	}
	var dirs []string
	for _, l := range s.Layers {
		if direct[l.Dir] {
			dirs = append(dirs, l.Dir)
		}
	}
	for _, d := range s.Dependents(dirs) {
		direct[d] = true
	}
	var out []string
	for _, l := range s.Layers {
		if direct[l.Dir] {
			out = append(out, l.Dir)
		}
	}
	return out
}

// goneLayerOf returns the layer-like directory of the layers directory that file
// lies in when no layer has that directory any more; "" otherwise.
func (s *Set) goneLayerOf(file string) string {
	rel := file
	if d := s.Config.LayersDir; d != "." {
		if !within(file, d) {
			return ""
		}
		rel = strings.TrimPrefix(file, d+"/")
	}
	dir, _, found := strings.Cut(rel, "/")
	if !found || !dirPattern.MatchString(dir) {
		return ""
	}
	if _, ok := s.byDir[dir]; ok {
		return ""
	}
	return dir
}

// within reports whether file lies inside dir, at any depth.
func within(file, dir string) bool {
	return dir == "." || strings.HasPrefix(file, dir+"/")
}
