package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/repofs"
)

// Set is every layer of a repository, in apply order.
type Set struct {
	Config repoconfig.Config
	Layers []*Layer // topological order; ties broken by index, then directory name
	// Skipped are N.name entries of the layers directory that are not layers, and why.
	Skipped []Skipped
	// Warnings say where the model may be incomplete (dependencies read from a
	// layer whose HCL does not fully parse, an ambiguous state key).
	Warnings []string

	byDir map[string]*Layer
}

// Skipped is an N.name entry that is not a layer.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Discover finds the layers under cfg.LayersDir in fsys (rooted at the repository),
// reads their dependencies from the HCL and from cfg, and orders them. HCL errors
// do not stop it: a layer's dependencies are read from the blocks that parse, and
// CheckHCL records the errors on the layers that are to be checked.
func Discover(fsys fs.FS, cfg repoconfig.Config) (*Set, error) {
	listing, err := repofs.ReadFiles(fsys, cfg.LayersDir, func(string) bool { return false })
	if errors.Is(err, fs.ErrNotExist) {
		return nil, inputErrorf("no layers directory %q in the repository: pass --layers-dir or set layers_dir in %s", cfg.LayersDir, repoconfig.FileName)
	}
	if err != nil {
		return nil, inputErrorf("reading layers directory %q: %v", cfg.LayersDir, err)
	}
	set := &Set{Config: cfg}
	var candidates []*Layer
	realDir, _, _ := realPath(fsys, cfg.LayersDir)
	for _, e := range listing.Entries {
		index, name, ok := parseDir(e.Name())
		if !ok {
			continue
		}
		p := path.Join(cfg.LayersDir, e.Name())
		isDir := e.IsDir()
		real := path.Join(realDir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			if target, out := leavesRepo(fsys, p); out {
				set.Skipped = append(set.Skipped, Skipped{Path: p, Reason: "a symlink to " + target + ", outside the repository"})
				continue
			}
			st, err := fs.Stat(fsys, p)
			isDir = err == nil && st.IsDir()
			real, _, _ = realPath(fsys, p)
		}
		if isDir {
			l := &Layer{Dir: e.Name(), Path: p, Index: index, Name: name}
			if real != p {
				l.Real = real
			}
			candidates = append(candidates, l)
		}
	}
	forEach(len(candidates), func(i int) { candidates[i].Title = title(candidates[i].Name) })
	scans, err := scanLayers(fsys, candidates)
	if err != nil {
		return nil, err
	}
	var found []*Layer
	set.byDir = make(map[string]*Layer, len(candidates))
	for i, l := range candidates {
		if !scans[i].hasConfig {
			set.Skipped = append(set.Skipped, Skipped{Path: l.Path, Reason: "no .tf or .tf.json files"})
			continue
		}
		found = append(found, l)
		set.byDir[l.Dir] = l
	}
	sort.Slice(set.Skipped, func(i, j int) bool { return set.Skipped[i].Path < set.Skipped[j].Path })
	if len(found) == 0 {
		msg := fmt.Sprintf("no layers in %q: a layer is a directory named N.name, such as 1.bootstrap, holding .tf files", cfg.LayersDir)
		for _, s := range set.Skipped {
			msg += fmt.Sprintf("; %s is not one: %s", s.Path, s.Reason)
		}
		return nil, &InputError{Msg: msg}
	}
	byPath := make(map[string]*dirScan, len(found))
	for i, l := range candidates {
		byPath[l.Path] = scans[i]
	}
	if err := set.checkSharedState(found, byPath); err != nil {
		return nil, err
	}
	rootLint := ""
	if st, err := fs.Stat(fsys, tflintConfig); err == nil && !st.IsDir() {
		rootLint = tflintConfig
	}
	lintKeys := lintKeys(fsys, found, byPath, rootLint)
	var calls []string
	for _, l := range found {
		calls = append(calls, byPath[l.Path].modules...)
	}
	moduleScans := scanModules(fsys, calls)
	index := set.stateIndex(found, byPath)
	// Each layer's model reads only what was scanned above, so layers are modelled
	// at once; the error reported is the first layer's, in order.
	errs := make([]error, len(found))
	forEach(len(found), func(i int) {
		errs[i] = set.model(found[i], byPath[found[i].Path], moduleScans, lintKeys, rootLint, index)
	})
	for i, l := range found {
		if errs[i] != nil {
			return nil, errs[i]
		}
		set.Warnings = append(set.Warnings, l.Warnings...)
	}
	set.Warnings = append(set.Warnings, sharedNumbers(found)...)
	for _, dir := range sortedKeys(cfg.DependsOn) {
		l, ok := set.byDir[dir]
		if !ok {
			return nil, inputErrorf("%s declares dependencies for layer %q, which does not exist (layers: %s)", repoconfig.FileName, dir, set.dirList(found))
		}
		for _, d := range cfg.DependsOn[dir] {
			if _, ok := set.byDir[d]; !ok {
				return nil, inputErrorf("%s: layer %q depends on %q, which does not exist (layers: %s)", repoconfig.FileName, dir, d, set.dirList(found))
			}
			l.DependsOn = appendUnique(l.DependsOn, d)
		}
	}
	for _, l := range found {
		sort.Strings(l.DependsOn)
		if l.DependsOn == nil {
			l.DependsOn = []string{}
		}
		if l.Modules == nil {
			l.Modules = []string{}
		}
	}
	ordered, err := topoSort(found)
	if err != nil {
		return nil, err
	}
	set.Layers = ordered
	return set, nil
}

// model fills in a layer from its scan: modules, lock file, lint config, init key,
// dependencies and warnings. It only reads the shared maps.
func (s *Set) model(l *Layer, scan *dirScan, moduleScans map[string]moduleScan, lintKeys map[string]string, rootLint string, index map[string][]stateOwner) error {
	c, err := moduleClosure(scan.modules, moduleScans)
	if err != nil {
		return err
	}
	l.Modules = c.modules
	for _, o := range c.outside {
		l.Warnings = append(l.Warnings, fmt.Sprintf("%s calls a local module at %s, outside the repository: the checks see the repository alone, so it reads as missing", l.Path, o))
	}
	l.LinkedOut = c.linkedOut
	for _, o := range c.linkedOut {
		l.Warnings = append(l.Warnings, fmt.Sprintf("%s calls the local module %s, a symlink to %s, outside the repository: the checks see the repository alone, so they do not check %s", l.Path, o.Module, o.Target, l.Path))
	}
	l.HasLockFile = scan.hasLock
	l.LintConfig = rootLint
	if scan.hasLint {
		l.LintConfig = path.Join(l.Path, tflintConfig)
	}
	l.LintKey = lintKeys[l.LintConfig]
	l.InitKey = digest(append(append([]string{}, scan.initParts...), c.parts...))
	l.warnBroken(scan.broken)
	l.DependsOn = s.remoteStateDeps(l, scan, index)
	return nil
}

// lintKeys reads each lint config the layers use, once.
func lintKeys(fsys fs.FS, found []*Layer, scans map[string]*dirScan, rootLint string) map[string]string {
	keys := map[string]string{}
	if rootLint != "" {
		keys[rootLint] = lintKey(fsys, rootLint)
	}
	var own []string
	for _, l := range found {
		if scans[l.Path].hasLint {
			own = append(own, path.Join(l.Path, tflintConfig))
		}
	}
	got := make([]string, len(own))
	forEach(len(own), func(i int) { got[i] = lintKey(fsys, own[i]) })
	for i, name := range own {
		keys[name] = got[i]
	}
	return keys
}

// checkSharedState fails when two layers keep their state in the same place: each
// would overwrite the other's, and which one another layer reads is undecidable.
func (s *Set) checkSharedState(found []*Layer, scans map[string]*dirScan) error {
	owner := make(map[stateRef]*Layer, len(found))
	for _, l := range found {
		ref := scans[l.Path].state
		if ref.key == "" {
			continue
		}
		if other, ok := owner[ref]; ok {
			return inputErrorf("layers %s and %s keep their state in the same place (%s): give each layer its own backend key", other.Path, l.Path, ref)
		}
		owner[ref] = l
	}
	return nil
}

// stateIndex maps each literal backend key to the layers that use it.
func (s *Set) stateIndex(found []*Layer, scans map[string]*dirScan) map[string][]stateOwner {
	index := make(map[string][]stateOwner, len(found))
	for _, l := range found {
		if ref := scans[l.Path].state; ref.key != "" {
			index[ref.key] = append(index[ref.key], stateOwner{l, ref})
		}
	}
	return index
}

type stateOwner struct {
	layer *Layer
	ref   stateRef
}

// remoteStateDeps maps each terraform_remote_state block to the layer whose state it
// reads: by the literal key (and bucket, when both name one) against each layer's
// backend, else by a layer directory named as a path segment of the config.
// Unmatched blocks read external state.
func (s *Set) remoteStateDeps(l *Layer, scan *dirScan, index map[string][]stateOwner) []string {
	var deps []string
	seen := map[string]bool{}
	for _, rs := range scan.remoteStates {
		target := ""
		if rs.state.key != "" {
			var match []*Layer
			for _, o := range index[rs.state.key] {
				if rs.state.bucket == "" || o.ref.bucket == "" || rs.state.bucket == o.ref.bucket {
					match = append(match, o.layer)
				}
			}
			switch {
			case len(match) == 1:
				target = match[0].Dir
			case len(match) > 1:
				if target = s.dirNamedIn(rs.text, l.Dir); target == "" {
					w := fmt.Sprintf("%s reads state key %q, which %s use in different buckets; name the bucket as a literal to make it a dependency", l.Path, rs.state.key, s.dirList(match))
					l.Warnings = append(l.Warnings, w)
				}
			}
		}
		if target == "" {
			target = s.dirNamedIn(rs.text, l.Dir)
		}
		if target == "" {
			if gone := goneDirNamedIn(s, rs.text, l.Dir); gone != "" && !contains(l.readsGone, gone) {
				l.readsGone = append(l.readsGone, gone)
			}
		}
		if target != "" && target != l.Dir && !seen[target] {
			seen[target] = true
			deps = append(deps, target)
		}
	}
	return deps
}

// goneDirNamedIn returns a path segment of text shaped like a layer directory
// (N.name) that is no layer of the set.
func goneDirNamedIn(s *Set, text, self string) string {
	for _, seg := range stateSegments(text) {
		if _, ok := s.byDir[seg]; !ok && seg != self && dirPattern.MatchString(seg) {
			return seg
		}
	}
	return ""
}

func stateSegments(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool {
		return r == '/' || r == '"' || r == '\\' || r == ' ' || r == '\n' || r == '\t' || r == '=' || r == '{' || r == '}' || r == ','
	})
}

// dirNamedIn returns the layer directory that appears as a whole path segment in text.
func (s *Set) dirNamedIn(text, self string) string {
	for _, seg := range stateSegments(text) {
		if l, ok := s.byDir[seg]; ok && l.Dir != self {
			return l.Dir
		}
	}
	return ""
}

// Get returns the layer in directory dir, or nil.
func (s *Set) Get(dir string) *Layer { return s.byDir[dir] }

// Dependents returns the layers that depend on any of dirs, directly or not.
func (s *Set) Dependents(dirs []string) []string {
	marked := map[string]bool{}
	for _, d := range dirs {
		marked[d] = true
	}
	// Layers are in topological order, so one pass sees every dependency first.
	var out []string
	for _, l := range s.Layers {
		if marked[l.Dir] {
			continue
		}
		for _, d := range l.DependsOn {
			if marked[d] {
				marked[l.Dir] = true
				out = append(out, l.Dir)
				break
			}
		}
	}
	return out
}

func (s *Set) dirList(ls []*Layer) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.Dir
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

const tflintConfig = ".tflint.hcl"

// scanLayers scans the layers' directories; the error reported is the first
// layer's, in directory order, as a serial scan would.
func scanLayers(fsys fs.FS, ls []*Layer) ([]*dirScan, error) {
	dirs := make([]string, len(ls))
	bases := make([]string, len(ls))
	for i, l := range ls {
		dirs[i], bases[i] = l.Path, l.WorkDir()
	}
	scans, errs := scanDirs(fsys, dirs, bases, false)
	for i, l := range ls {
		if errs[i] != nil {
			return nil, inputErrorf("reading layer %s: %v", l.Path, errs[i])
		}
	}
	return scans, nil
}

// sharedNumbers warns about layers whose directories carry the same number: they
// get the same ID (L1), so reports and --layer L1 cannot tell them apart.
func sharedNumbers(ls []*Layer) []string {
	byIndex := map[int][]*Layer{}
	for _, l := range ls {
		byIndex[l.Index] = append(byIndex[l.Index], l)
	}
	var out []string
	for _, same := range byIndex {
		if len(same) < 2 {
			continue
		}
		dirs := make([]string, len(same))
		for i, l := range same {
			dirs[i] = l.Dir
		}
		sort.Strings(dirs)
		out = append(out, fmt.Sprintf("%s share the number %d, so all are %s: select them by directory or name (--layer %s), not by ID",
			strings.Join(dirs, ", "), same[0].Index, same[0].ID(), dirs[0]))
	}
	sort.Strings(out)
	return out
}
