package layers

import (
	"errors"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/infra-flash/infra/internal/repoconfig"
)

// Set is every layer of a repository, in apply order.
type Set struct {
	Config repoconfig.Config
	Layers []*Layer // topological order; ties broken by index, then directory name

	byDir map[string]*Layer
}

// Discover finds the layers under cfg.LayersDir in fsys (rooted at the repository),
// reads their dependencies from the HCL and from cfg, and orders them.
func Discover(fsys fs.FS, cfg repoconfig.Config) (*Set, error) {
	entries, err := fs.ReadDir(fsys, cfg.LayersDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, inputErrorf("no layers directory %q in the repository: pass --layers-dir or set layers_dir in %s", cfg.LayersDir, repoconfig.FileName)
	}
	if err != nil {
		return nil, inputErrorf("reading layers directory %q: %v", cfg.LayersDir, err)
	}
	set := &Set{Config: cfg, byDir: map[string]*Layer{}}
	var found []*Layer
	for _, e := range entries {
		index, name, ok := parseDir(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		l := &Layer{Dir: e.Name(), Path: path.Join(cfg.LayersDir, e.Name()), Index: index, Name: name, Title: title(name)}
		found = append(found, l)
		set.byDir[l.Dir] = l
	}
	if len(found) == 0 {
		return nil, inputErrorf("no layers in %q: a layer is a directory named N.name, such as 1.bootstrap", cfg.LayersDir)
	}
	scans, err := scanLayers(fsys, found)
	if err != nil {
		return nil, err
	}
	moduleScans := map[string]*dirScan{}
	for _, l := range found {
		scan := scans[l.Path]
		mods, parts, err := moduleClosure(fsys, scan.modules, moduleScans)
		if err != nil {
			return nil, err
		}
		l.Modules = mods
		l.HasLockFile = scan.hasLock
		l.LintConfig = lintConfig(fsys, l.Path)
		l.InitKey = digest(append(append([]string{}, scan.initParts...), parts...))
		l.DependsOn = set.remoteStateDeps(l, scan, scans)
	}
	for dir, deps := range cfg.DependsOn {
		l, ok := set.byDir[dir]
		if !ok {
			return nil, inputErrorf("%s declares dependencies for layer %q, which does not exist (layers: %s)", repoconfig.FileName, dir, set.dirList(found))
		}
		for _, d := range deps {
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

// remoteStateDeps maps each terraform_remote_state block to the layer whose state it
// reads: by the literal key against each layer's backend key, else by a layer
// directory named as a path segment of the config. Unmatched blocks read external state.
func (s *Set) remoteStateDeps(l *Layer, scan *dirScan, scans map[string]*dirScan) []string {
	var deps []string
	for _, rs := range scan.remoteStates {
		target := ""
		if rs.key != "" {
			for _, other := range s.byDir {
				if k := scans[other.Path].stateKey; k != "" && k == rs.key {
					target = other.Dir
				}
			}
		}
		if target == "" {
			target = s.dirNamedIn(rs.text, l.Dir)
		}
		if target != "" && target != l.Dir {
			deps = appendUnique(deps, target)
		}
	}
	return deps
}

// dirNamedIn returns the layer directory that appears as a whole path segment in text.
func (s *Set) dirNamedIn(text, self string) string {
	segments := strings.FieldsFunc(text, func(r rune) bool {
		return r == '/' || r == '"' || r == '\\' || r == ' ' || r == '\n' || r == '\t' || r == '=' || r == '{' || r == '}' || r == ','
	})
	for _, seg := range segments {
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

func lintConfig(fsys fs.FS, layerPath string) string {
	for _, p := range []string{path.Join(layerPath, tflintConfig), tflintConfig} {
		if st, err := fs.Stat(fsys, p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// scanLayers parses the layers in parallel (parsing is most of discovery's time);
// the error reported is the first layer's, in directory order, as a serial scan would.
func scanLayers(fsys fs.FS, ls []*Layer) (map[string]*dirScan, error) {
	scans := make([]*dirScan, len(ls))
	errs := make([]error, len(ls))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				scans[i], errs[i] = scanDir(fsys, ls[i].Path)
			}
		}()
	}
	for i := range ls {
		next <- i
	}
	close(next)
	wg.Wait()
	out := make(map[string]*dirScan, len(ls))
	for i, l := range ls {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out[l.Path] = scans[i]
	}
	return out, nil
}
