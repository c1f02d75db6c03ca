package layers

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/infra-flash/infra/internal/repoconfig"
	"github.com/infra-flash/infra/internal/repofs"
)

// numbered collects the candidate layers of the default layout: the numbered
// directories (N.name, NN-name, NN_name) of the layers directory. Without a
// layers directory chosen, numbered directories at the repository root count
// too when terraform/ holds none.
func (s *Set) numbered(fsys fs.FS) ([]*Layer, error) {
	cfg := s.Config
	ls, err := s.numberedIn(fsys, cfg.LayersDir)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return nil, inputErrorf("reading layers directory %q: %v", cfg.LayersDir, err)
	}
	if len(ls) > 0 || cfg.LayersDirSet || cfg.LayersDir != repoconfig.Defaults().LayersDir {
		if missing {
			return nil, inputErrorf("no layers directory %q in the repository: pass --layers-dir or set layers_dir in %s", cfg.LayersDir, repoconfig.FileName)
		}
		return ls, nil
	}
	root, err := s.numberedIn(fsys, ".")
	if err != nil {
		return nil, inputErrorf("reading the repository root: %v", err)
	}
	s.noLayersDir = missing && len(root) == 0
	return root, nil
}

// numberedIn lists the numbered directories of dir as candidate layers, and notes
// the entries that look numbered but are not layer names.
func (s *Set) numberedIn(fsys fs.FS, dir string) ([]*Layer, error) {
	listing, err := repofs.ReadFiles(fsys, dir, func(string) bool { return false })
	if err != nil {
		return nil, err
	}
	var out []*Layer
	realDir, _, _ := realPath(fsys, dir)
	for _, e := range listing.Entries {
		index, name, ok := parseDir(e.Name())
		if !ok {
			if looksNumbered(e.Name()) && (e.IsDir() || e.Type()&fs.ModeSymlink != 0) {
				s.Skipped = append(s.Skipped, Skipped{Path: path.Join(dir, e.Name()),
					Reason: "not a layer name: a layer directory is named N.name, NN-name or NN_name, the name of letters, digits, - and _"})
			}
			continue
		}
		p := path.Join(dir, e.Name())
		isDir := e.IsDir()
		real := path.Join(realDir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			if target, out := leavesRepo(fsys, p); out {
				s.Skipped = append(s.Skipped, Skipped{Path: p, Reason: "a symlink to " + target + ", outside the repository"})
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
			out = append(out, l)
		}
	}
	return out, nil
}

// declared collects the layers infra.hcl lists by directory or glob. A layer's
// key is its directory name for a plain directory, else the part of its path the
// glob matched ("envs/*/data" gives "staging-data"); numbered names keep their
// number as the order hint and the ID.
func (s *Set) declared(fsys fs.FS) ([]*Layer, error) {
	var out []*Layer
	seen := map[string]bool{}
	for _, pattern := range s.Config.Layers {
		matches := []string{pattern}
		wild := strings.ContainsAny(pattern, `*?[\`)
		if wild {
			var err error
			if matches, err = fs.Glob(fsys, pattern); err != nil {
				return nil, inputErrorf("%s: layers: %q: %v", repoconfig.FileName, pattern, err)
			}
		}
		n := 0
		for _, p := range matches {
			if seen[p] || hidden(p) {
				continue
			}
			if target, out := leavesRepo(fsys, p); out {
				s.Skipped = append(s.Skipped, Skipped{Path: p, Reason: "a symlink to " + target + ", outside the repository"})
				continue
			}
			if st, err := fs.Stat(fsys, p); err != nil || !st.IsDir() {
				continue
			}
			seen[p] = true
			n++
			base := path.Base(p)
			l := &Layer{Path: p, Dir: base, Name: base, Unnumbered: true}
			if index, name, ok := parseDir(base); ok {
				l.Unnumbered = false
				l.Index, l.Name = index, name
			} else if wild {
				l.Dir = globKey(pattern, p)
			}
			if real, _, _ := realPath(fsys, p); real != p {
				l.Real = real
			}
			out = append(out, l)
		}
		if n == 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%s: layers: %q matches no directory", repoconfig.FileName, pattern))
		}
	}
	return out, uniqueKeys(out)
}

// globKey is the part of p from the pattern's first wildcard segment on, joined
// with "-": stable, and unique among the pattern's matches.
func globKey(pattern, p string) string {
	pat, segs := strings.Split(pattern, "/"), strings.Split(p, "/")
	i := 0
	for i < len(pat) && !strings.ContainsAny(pat[i], `*?[\`) {
		i++
	}
	return strings.Join(segs[min(i, len(segs)-1):], "-")
}

// uniqueKeys gives layers whose keys collide their whole path, joined with "-".
func uniqueKeys(ls []*Layer) error {
	count := map[string]int{}
	for _, l := range ls {
		count[l.Dir]++
	}
	for _, l := range ls {
		if count[l.Dir] > 1 {
			l.Dir = strings.ReplaceAll(l.Path, "/", "-")
		}
	}
	byKey := map[string]*Layer{}
	for _, l := range ls {
		if o, ok := byKey[l.Dir]; ok {
			return inputErrorf("layers %s and %s would both be called %q: rename one of the directories", o.Path, l.Path, l.Dir)
		}
		byKey[l.Dir] = l
	}
	return nil
}

func hidden(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, ".") && seg != "." && seg != ".." {
			return true
		}
	}
	return false
}

// noLayers is the error when no layer was found: it lists the directories that
// hold Terraform files and the infra.hcl line that would make them layers.
func (s *Set) noLayers(fsys fs.FS) error {
	var msg string
	if len(s.Config.Layers) > 0 {
		msg = fmt.Sprintf("no layers: %s lists layers = [%s], and no directory it names holds .tf files", repoconfig.FileName, quoted(s.Config.Layers))
	} else if s.noLayersDir {
		msg = fmt.Sprintf("no layers directory %q in the repository, and no numbered layer directories (01-vpc) at its root: pass --layers-dir or set layers_dir or layers in %s", s.Config.LayersDir, repoconfig.FileName)
	} else {
		msg = fmt.Sprintf("no layers in %q: a layer is a directory named N.name, NN-name or NN_name (such as 1.bootstrap or 01-vpc) holding .tf files", s.Config.LayersDir)
		if !s.Config.LayersDirSet && s.Config.LayersDir == repoconfig.Defaults().LayersDir {
			msg += ", there or at the repository root"
		}
	}
	for _, sk := range s.Skipped {
		msg += fmt.Sprintf("; %s is not one: %s", sk.Path, sk.Reason)
	}
	if dirs := terraformDirs(fsys, 20); len(dirs) > 0 {
		msg += fmt.Sprintf(".\nDirectories holding .tf files: %s.\nTo make them layers, add to %s:\n  layers = [%s]", strings.Join(dirs, ", "), repoconfig.FileName, quoted(dirs))
	}
	return &InputError{Msg: msg}
}

func quoted(list []string) string {
	q := make([]string, len(list))
	for i, v := range list {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// terraformDirs lists up to max directories that hold .tf files directly, not
// under a directory that does (a module of a layer) nor a hidden or dependency
// directory, nor named "modules".
func terraformDirs(fsys fs.FS, max int) []string {
	var out []string
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "modules") {
			return fs.SkipDir
		}
		if len(out) >= max || strings.Count(p, "/") > 4 {
			return fs.SkipDir
		}
		entries, err := fs.ReadDir(fsys, p)
		if err != nil {
			return nil
		}
		for _, e := range entries {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".tf") || e.Name() == terragruntFile) {
				if p != "." {
					out = append(out, p)
				}
				return fs.SkipDir
			}
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// assignEnvironments places each layer in the environment whose directory holds
// it, and notes the environments that apply a shared layer with their own files.
// Two environments keeping a layer's state in the same place is bad input.
func (s *Set) assignEnvironments(fsys fs.FS, ls []*Layer) error {
	envs := s.Config.Environments
	if len(envs) == 0 {
		return nil
	}
	for _, l := range ls {
		for _, e := range envs {
			if e.Dir != "" && (within(l.Path, e.Dir) || l.Path == e.Dir) {
				l.Env = e.Name
			}
		}
	}
	type owner struct {
		l   *Layer
		env string
	}
	byState := map[stateRef]owner{}
	for _, l := range ls {
		if l.Env != "" {
			continue
		}
		for _, e := range envs {
			if len(e.VarFiles) == 0 && e.BackendConfig == "" {
				continue
			}
			has := true
			for _, f := range append(append([]string{}, e.VarFiles...), e.BackendConfig) {
				if f == "" {
					continue
				}
				if _, err := fs.Stat(fsys, path.Join(l.Path, f)); err != nil {
					has = false
				}
			}
			if !has {
				continue
			}
			l.PerEnv = append(l.PerEnv, e.Name)
			if e.BackendConfig == "" {
				continue
			}
			ref := backendConfigState(fsys, path.Join(l.Path, e.BackendConfig))
			if ref.key == "" {
				continue
			}
			if o, dup := byState[ref]; dup && o.l == l {
				return inputErrorf("environments %s and %s keep the state of %s in the same place (bucket %q, key %q in %s and %s): give each environment its own backend key",
					o.env, e.Name, l.Path, ref.bucket, ref.key, s.Config.Environment(o.env).BackendConfig, e.BackendConfig)
			} else if dup {
				return inputErrorf("layers %s (environment %s) and %s (environment %s) keep their state in the same place (bucket %q, key %q): give each its own backend key",
					o.l.Path, o.env, l.Path, e.Name, ref.bucket, ref.key)
			}
			byState[ref] = owner{l, e.Name}
			s.envStates = append(s.envStates, stateOwner{l, ref})
		}
	}
	return nil
}

// backendConfigState reads the literal bucket and key of a backend config file
// (key = "..." lines, as -backend-config takes).
func backendConfigState(fsys fs.FS, name string) stateRef {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return stateRef{}
	}
	facts := &dirScan{}
	facts.parseFile(append([]byte("terraform {\n  backend \"x\" {\n"), append(src, []byte("\n  }\n}\n")...)...), name, path.Dir(name), false)
	ref := facts.state
	ref.backend = ""
	return ref
}

// ForEnv returns the layers of an environment, in apply order: the shared layers
// and the environment's own. An unknown name is bad input naming the known ones.
func (s *Set) ForEnv(name string) ([]*Layer, error) {
	if s.Config.Environment(name) == nil {
		if len(s.Config.Environments) == 0 {
			return nil, inputErrorf("--env %s: %s declares no environments", name, repoconfig.FileName)
		}
		return nil, inputErrorf("unknown environment %q (environments: %s)", name, strings.Join(s.Config.EnvironmentNames(), ", "))
	}
	var out []*Layer
	for _, l := range s.Layers {
		if l.Env == "" || l.Env == name {
			out = append(out, l)
		}
	}
	return out, nil
}

// InEnv narrows selected layers to an environment (--env): the shared layers
// and the environment's own. Commands that work on real infrastructure
// (needsEnv) need one when a selected layer differs by environment. Without
// --env it is inferred when that is unambiguous: the selected layers that differ
// are all one environment's own (envs/staging/data), none applied per
// environment with files (which would be any of them). No command may name one
// when infra.hcl declares none. env is the environment the layers are for.
func (s *Set) InEnv(selected []*Layer, env string, needsEnv bool) (_ []*Layer, inferred string, _ error) {
	declared := len(s.Config.Environments) > 0
	if env == "" {
		if !needsEnv || !declared {
			return selected, "", nil
		}
		var own []string
		for _, l := range selected {
			switch {
			case len(l.PerEnv) > 0:
				return nil, "", inputErrorf("%s differs by environment (%s declares %s): pass --env with one of them", l.Path, repoconfig.FileName, strings.Join(s.Config.EnvironmentNames(), ", "))
			case l.Env != "" && !slices.Contains(own, l.Env):
				own = append(own, l.Env)
			}
		}
		switch len(own) {
		case 0:
			return selected, "", nil
		case 1:
			env = own[0]
		default:
			return nil, "", inputErrorf("the selected layers belong to environments %s: pass --env with one of them", strings.Join(own, " and "))
		}
	} else if !declared {
		return nil, "", inputErrorf("--env %s: %s declares no environments; leave --env out", env, repoconfig.FileName)
	}
	in, err := s.ForEnv(env)
	if err != nil {
		return nil, "", err
	}
	return Within(selected, in), env, nil
}

// EnvFiles are the files a layer is planned and applied with in an environment
// (-var-file, -backend-config), relative to the layer's directory as the engine
// takes them: the environment's when the layer is applied per environment with
// them, else none.
func (s *Set) EnvFiles(l *Layer, env string) (varFiles []string, backendConfig string) {
	e := s.Config.Environment(env)
	if e == nil || !slices.Contains(l.PerEnv, env) {
		return nil, ""
	}
	return append([]string(nil), e.VarFiles...), e.BackendConfig
}

// Within keeps the layers of selected that are also in allowed, in order.
func Within(selected, allowed []*Layer) []*Layer {
	ok := make(map[*Layer]bool, len(allowed))
	for _, a := range allowed {
		ok[a] = true
	}
	var out []*Layer
	for _, l := range selected {
		if ok[l] {
			out = append(out, l)
		}
	}
	return out
}

// orderHints warns where the derived order contradicts the directory numbers:
// the graph wins, since a layer must come after the state it reads.
func orderHints(ordered []*Layer, byDir map[string]*Layer) []string {
	var out []string
	for _, l := range ordered {
		if l.Unnumbered {
			continue
		}
		for _, d := range l.DependsOn {
			if dep := byDir[d]; dep != nil && !dep.Unnumbered && dep.Index > l.Index {
				out = append(out, fmt.Sprintf("%s is numbered before %s but reads its state: applying %s first", l.Path, dep.Path, dep.Dir))
			}
		}
	}
	return out
}

const terragruntFile = "terragrunt.hcl"
