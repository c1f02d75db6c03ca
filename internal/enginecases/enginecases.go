// Package enginecases is the table both executors are held to: small fixture
// repositories (testdata/engine), a command per case, and what must come out. The
// ordinary test suite runs every case through the native CLI; scripts/engine-test
// runs the same cases through `dagger call` on a real engine.
package enginecases

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Case is one command on one fixture and its expected outcome.
type Case struct {
	Name    string `json:"name"`
	Fixture string `json:"fixture"`
	// Global flags: the module constructor's in Dagger, ordinary flags natively.
	Global []string `json:"global,omitempty"`
	// Args is the function and its flags, as `dagger call` takes them; "{fixture}"
	// in an argument stands for the fixture's directory, "{api}" for APIURL.
	Args []string `json:"args"`
	// NativeArgs replaces Args for the native CLI where its command differs.
	NativeArgs []string `json:"native_args,omitempty"`
	// Exit is the native exit code; the Dagger function fails exactly when it is
	// not 0, unless NeverFails (a report returns its findings).
	Exit       int      `json:"exit"`
	NeverFails bool     `json:"never_fails,omitempty"`
	Says       []string `json:"says"`
	// Never is text that must not appear (another environment's project, a secret).
	Never []string `json:"never,omitempty"`
	// Only names the one executor a case is for ("dagger" or "native"), for
	// behaviour one door has and the other cannot (the module's default .git).
	Only string `json:"only,omitempty"`
}

// For tells whether the case runs on the executor ("dagger" or "native").
func (c Case) For(executor string) bool { return c.Only == "" || c.Only == executor }

// Table is the file's content, with the directory its fixtures live in.
type Table struct {
	Dir   string `json:"-"`
	Cases []Case `json:"cases"`
	// APIURL replaces "{api}" in arguments: a GitHub API address that answers
	// nothing useful, so dry runs read nothing and send nothing. The default, a
	// loopback port nobody listens on, works inside an engine's containers too.
	APIURL string `json:"-"`
}

// RefusingAPI is the default APIURL.
const RefusingAPI = "http://127.0.0.1:9/"

// FileName is the table's name in the fixtures directory.
const FileName = "cases.json"

// Load reads and checks the table in dir.
func Load(dir string) (*Table, error) {
	src, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	return Parse(dir, src)
}

// Parse decodes a table and refuses one that could not hold an executor to anything.
func Parse(dir string, src []byte) (*Table, error) {
	t := &Table{Dir: dir, APIURL: RefusingAPI}
	dec := json.NewDecoder(strings.NewReader(string(src)))
	var raw struct {
		Comment string `json:"comment"`
		Cases   []Case `json:"cases"`
	}
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: %w", FileName, err)
	}
	t.Cases = raw.Cases
	if len(t.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases", FileName)
	}
	seen := map[string]bool{}
	for i, c := range t.Cases {
		switch {
		case c.Name == "":
			return nil, fmt.Errorf("%s: case %d has no name", FileName, i+1)
		case seen[c.Name]:
			return nil, fmt.Errorf("%s: two cases named %q", FileName, c.Name)
		case len(c.Args) == 0:
			return nil, fmt.Errorf("%s: case %q has no args", FileName, c.Name)
		case c.Exit < 0 || c.Exit > 3:
			return nil, fmt.Errorf("%s: case %q: exit %d is not 0-3", FileName, c.Name, c.Exit)
		case len(c.Says) == 0:
			return nil, fmt.Errorf("%s: case %q asserts nothing: add says", FileName, c.Name)
		case c.Only != "" && c.Only != "dagger" && c.Only != "native":
			return nil, fmt.Errorf("%s: case %q: only %q is neither dagger nor native", FileName, c.Name, c.Only)
		case c.Fixture == "" || strings.ContainsAny(c.Fixture, `/\`) || c.Fixture == "..":
			return nil, fmt.Errorf("%s: case %q: fixture %q is not a directory name", FileName, c.Name, c.Fixture)
		}
		if st, err := os.Stat(filepath.Join(dir, c.Fixture)); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("%s: case %q: no fixture directory %q", FileName, c.Name, c.Fixture)
		}
		seen[c.Name] = true
	}
	return t, nil
}

// FixtureDir is the case's fixture repository.
func (t *Table) FixtureDir(c Case) string { return filepath.Join(t.Dir, c.Fixture) }

// DaggerArgs is the dagger command line for the case (run from the repository root,
// where dagger.json names the module).
func (t *Table) DaggerArgs(c Case) []string {
	args := []string{"--progress=plain", "call", "--source", t.FixtureDir(c)}
	args = append(args, c.Global...)
	return append(args, t.expand(c, c.Args)...)
}

// NativeArgs is the native CLI's command line for the case.
func (t *Table) NativeArgs(c Case) []string {
	cmd := c.Args
	if len(c.NativeArgs) > 0 {
		cmd = c.NativeArgs
	}
	if strings.HasPrefix(cmd[0], "-") { // a root flag (--version): no command to take --source
		return append(append([]string{}, cmd...), c.Global...)
	}
	args := append([]string{cmd[0], "--source", t.FixtureDir(c)}, c.Global...)
	return append(args, t.expand(c, cmd[1:])...)
}

func (t *Table) expand(c Case, args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.NewReplacer("{fixture}", t.FixtureDir(c), "{api}", t.APIURL).Replace(a)
	}
	return out
}

// CheckNative returns what the native run got wrong (nothing when it matches).
func (c Case) CheckNative(exit int, output string) []string {
	var out []string
	if exit != c.Exit {
		out = append(out, fmt.Sprintf("exit code %d, want %d", exit, c.Exit))
	}
	return append(out, c.missing(output)...)
}

// CheckDagger returns what the Dagger run got wrong: dagger's own exit code only
// says whether the function failed.
func (c Case) CheckDagger(failed bool, output string) []string {
	var out []string
	wantFail := c.Exit != 0 && !c.NeverFails
	if failed != wantFail {
		out = append(out, fmt.Sprintf("function failed: %v, want %v", failed, wantFail))
	}
	return append(out, c.missing(output)...)
}

func (c Case) missing(output string) []string {
	// Whether a result was reused from a cache (the native result cache, Dagger's)
	// depends on what ran before, not on the case: the marks are not compared.
	output = strings.ReplaceAll(output, " <sub>cached</sub>", "")
	var out []string
	for _, s := range c.Says {
		if !strings.Contains(output, s) {
			out = append(out, fmt.Sprintf("output lacks %q", s))
		}
	}
	for _, s := range c.Never {
		if strings.Contains(output, s) {
			out = append(out, fmt.Sprintf("output has %q", s))
		}
	}
	return out
}
