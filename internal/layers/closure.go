package layers

import "io/fs"

// ModuleClosure lists the local modules that the module in dir calls, directly or
// not, dir itself left out: what linting that module alone reads, as Layer.Modules
// is for a layer.
func ModuleClosure(fsys fs.FS, dir string) ([]string, error) {
	start := []string{dir}
	c, err := moduleClosure(start, scanModules(fsys, start))
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, m := range c.modules {
		if m != dir {
			out = append(out, m)
		}
	}
	return out, nil
}
