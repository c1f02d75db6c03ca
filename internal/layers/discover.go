package layers

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/infra-flash/infra/internal/repoconfig"
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
	// noLayersDir: the default layers directory is missing and the root holds no
	// numbered directories.
	noLayersDir bool
	// envStates are the states of layers applied per environment, from each
	// environment's backend config: a layer reading one depends on the layer.
	envStates []stateOwner
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
	set := &Set{Config: cfg}
	var candidates []*Layer
	var err error
	if len(cfg.Layers) > 0 {
		candidates, err = set.declared(fsys)
	} else {
		candidates, err = set.numbered(fsys)
	}
	if err != nil {
		return nil, err
	}
	forEach(len(candidates), func(i int) {
		if l := candidates[i]; !l.Unnumbered {
			l.Title = title(l.Name)
		} else {
			l.Title = title(l.Dir)
		}
	})
	scans, err := scanLayers(fsys, candidates)
	if err != nil {
		return nil, err
	}
	var found []*Layer
	set.byDir = make(map[string]*Layer, len(candidates))
	for i, l := range candidates {
		l.Terragrunt = scans[i].terragrunt
		if !scans[i].hasConfig && !l.Terragrunt {
			set.Skipped = append(set.Skipped, Skipped{Path: l.Path, Reason: "no .tf or .tf.json files"})
			continue
		}
		found = append(found, l)
		set.byDir[l.Dir] = l
	}
	sort.Slice(set.Skipped, func(i, j int) bool { return set.Skipped[i].Path < set.Skipped[j].Path })
	if len(found) == 0 {
		return nil, set.noLayers(fsys)
	}
	byPath := make(map[string]*dirScan, len(found))
	for i, l := range candidates {
		byPath[l.Path] = scans[i]
	}
	if err := set.assignEnvironments(fsys, found); err != nil {
		return nil, err
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
		l := set.declaredLayer(found, dir)
		if l == nil {
			return nil, inputErrorf("%s declares dependencies for layer %q, which does not exist (layers: %s)", repoconfig.FileName, dir, set.dirList(found))
		}
		for _, d := range cfg.DependsOn[dir] {
			dep := set.declaredLayer(found, d)
			if dep == nil {
				return nil, inputErrorf("%s: layer %q depends on %q, which does not exist (layers: %s)", repoconfig.FileName, dir, d, set.dirList(found))
			}
			l.DependsOn = appendUnique(l.DependsOn, dep.Dir)
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
	set.Warnings = append(set.Warnings, orderHints(ordered, set.byDir)...)
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
	if l.Terragrunt {
		l.Warnings = append(l.Warnings, l.Path+" is a Terragrunt unit: infra checks the format of its .tf files; lint and validate need the module, backend and provider files Terragrunt generates, which are not in the tree")
	}
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
			return inputErrorf("layers %s and %s keep their state in the same place (%s): give each layer its own backend key", withEnv(other), withEnv(l), ref)
		}
		owner[ref] = l
	}
	return nil
}

// withEnv is a layer's path, with its environment when it has one.
func withEnv(l *Layer) string {
	if l.Env != "" {
		return l.Path + " (environment " + l.Env + ")"
	}
	return l.Path
}

// stateIndex maps each literal backend key to the layers that use it.
func (s *Set) stateIndex(found []*Layer, scans map[string]*dirScan) map[string][]stateOwner {
	index := make(map[string][]stateOwner, len(found))
	for _, l := range found {
		if ref := scans[l.Path].state; ref.key != "" {
			index[ref.key] = append(index[ref.key], stateOwner{l, ref})
		}
	}
	for _, o := range s.envStates {
		index[o.ref.key] = append(index[o.ref.key], o)
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

// dirNamedIn returns the numbered layer directory that appears as a whole path
// segment in text; unnumbered names ("network") are too common to tell a layer.
func (s *Set) dirNamedIn(text, self string) string {
	for _, seg := range stateSegments(text) {
		if l, ok := s.byDir[seg]; ok && l.Dir != self && !l.Unnumbered {
			return l.Dir
		}
	}
	return ""
}

// declaredLayer finds the layer infra.hcl names in a layer block: by key, path
// or, when it names one layer alone, short name.
func (s *Set) declaredLayer(found []*Layer, name string) *Layer {
	if l := s.byDir[name]; l != nil {
		return l
	}
	var match []*Layer
	for _, l := range found {
		if l.Path == strings.TrimSuffix(name, "/") || l.Name == name {
			match = append(match, l)
		}
	}
	if len(match) == 1 {
		return match[0]
	}
	return nil
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
		if !l.Unnumbered {
			byIndex[l.Index] = append(byIndex[l.Index], l)
		}
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
