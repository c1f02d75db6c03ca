package layers

import (
	"fmt"
	"io/fs"
	"sort"
)

// CheckHCL parses every file of the given layers and of the local modules they call
// with the HCL parser and records the errors as each layer's Problems (a module's
// count for every layer calling it), with a warning on a layer whose own files do
// not parse. Discovery skims files and does not see every error; this is the
// complete check, for the layers about to be validated.
func (s *Set) CheckHCL(fsys fs.FS, ls []*Layer) error {
	dirs := map[string]string{} // directory -> its real path
	for _, l := range ls {
		dirs[l.Path] = l.WorkDir()
		for _, m := range l.Modules {
			dirs[m] = m
		}
	}
	list := sortedKeys(dirs)
	bases := make([]string, len(list))
	for i, d := range list {
		bases[i] = dirs[d]
	}
	scans, errs := scanDirs(fsys, list, bases, true)
	byDir := map[string]*dirScan{}
	for i, dir := range list {
		if errs[i] != nil {
			return inputErrorf("reading %s: %v", dir, errs[i])
		}
		byDir[dir] = scans[i]
	}
	for _, l := range ls {
		l.Problems = append([]Problem{}, byDir[l.Path].problems...)
		for _, m := range l.Modules {
			l.Problems = append(l.Problems, byDir[m].problems...)
		}
		sort.SliceStable(l.Problems, func(i, j int) bool { return l.Problems[i].File < l.Problems[j].File })
		before := len(l.Warnings)
		l.warnBroken(byDir[l.Path].broken)
		s.Warnings = append(s.Warnings, l.Warnings[before:]...)
	}
	return nil
}

// warnBroken notes the files of the layer that do not parse, once each.
func (l *Layer) warnBroken(files []string) {
	for _, f := range files {
		w := fmt.Sprintf("%s does not parse; the dependencies of %s are read from its blocks that do", f, l.Dir)
		if !contains(l.Warnings, w) {
			l.Warnings = append(l.Warnings, w)
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
