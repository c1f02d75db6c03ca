// Package stage defines the checks run on a layer (format, lint, validate): which
// commands each runs and how their output becomes a Result. Executors only run
// commands, so a container executor and a host executor behave the same.
package stage

import (
	"context"
	"strings"
	"time"
)

// Kind names a stage.
type Kind string

const (
	Format   Kind = "format"
	Lint     Kind = "lint"
	Validate Kind = "validate"
)

// Kinds lists the stages in the order they are reported.
var Kinds = []Kind{Format, Lint, Validate}

// Title is the column heading for a stage.
func (k Kind) Title() string {
	switch k {
	case Format:
		return "Format"
	case Lint:
		return "Lint"
	case Validate:
		return "Validate"
	}
	return string(k)
}

// Status is a stage outcome.
type Status string

const (
	Pass  Status = "pass"
	Fail  Status = "fail"  // the check ran and found problems in the code
	Skip  Status = "skip"  // the stage was not run
	Error Status = "error" // the tool could not run or answered in a way we cannot read
)

// Finding is one problem, located in the repository.
type Finding struct {
	File     string `json:"file"` // repository-relative; empty when the tool gave no location
	Line     int    `json:"line"`
	Column   int    `json:"column,omitempty"`
	Severity string `json:"severity,omitempty"` // "error", "warning", "notice"
	Rule     string `json:"rule,omitempty"`
	Message  string `json:"message"`
	Detail   string `json:"detail,omitempty"` // for format findings, the diff hunk
}

// Result is a stage's outcome on one layer.
type Result struct {
	Status   Status        `json:"status"`
	Findings []Finding     `json:"findings"`
	Duration time.Duration `json:"-"`
	// Cached says the result was not computed in this run: the native result cache
	// or Dagger's cache replayed it because nothing it reads changed.
	Cached bool `json:"cached,omitempty"`
}

// Tool is a logical tool; each executor maps it to a binary or an image.
type Tool string

const (
	Engine Tool = "engine" // terraform or tofu
	TFLint Tool = "tflint"
)

// Command is one tool invocation in a layer.
type Command struct {
	Tool Tool
	Args []string
	Dir  string // repository-relative working directory
	Env  map[string]string
	// Session groups commands that must see each other's file changes (init, then
	// validate); commands in different sessions never depend on each other.
	Session string
	// SkipKey, when set, lets an executor that keeps state between runs skip the
	// command if it already succeeded in that state with the same key.
	SkipKey string
	// InstallsProviders marks a command that may write into a shared provider plugin
	// cache (init): an executor sharing one runs such commands one at a time.
	InstallsProviders bool
}

// DataDir is the engine's data directory, relative to a command's Dir. Arguments
// naming a file in it ("-out=.terraform/x.tfplan", ".terraform/x.tfplan") name a
// file the run keeps for itself: an executor that moves the data directory
// (TF_DATA_DIR) maps them there, so they never land in the repository.
const DataDir = ".terraform"

// Output is what running a Command produced.
type Output struct {
	Stdout, Stderr string
	ExitCode       int
	Skipped        bool // a SkipKey matched and the command did not run
}

// Runner runs commands; the error is for failing to run at all (a missing binary,
// a cancelled context), never for a non-zero exit code.
type Runner interface {
	Run(ctx context.Context, cmd Command) (Output, error)
	// Root is the absolute path at which the tools see the repository, used to turn
	// absolute file names in tool output back into repository-relative ones.
	Root() string
}

// Target is what a stage runs on.
type Target struct {
	Path string // repository-relative directory of the layer
	// Real is Path with symlinks resolved, when they differ: the tools run there,
	// since the engine counts "../" from the directory a link points to.
	Real        string
	HasLockFile bool
	InitKey     string
	LintConfig  string   // repository-relative .tflint.hcl that applies, or "" for tflint's defaults
	LintKey     string   // changes when what tflint --init installs changes (the config's plugin blocks)
	Modules     []string // repository-relative local module directories the layer calls
	Shared      *Shared  // results shared between the layers of one run; nil shares nothing
	// SyntaxErrors are the HCL parser's errors in the layer and the modules it calls:
	// Validate reports them as its findings, since init and validate cannot load the
	// configuration, and Format uses them to place fmt's errors at their column.
	SyntaxErrors []Finding
	// LinkedOut names local modules the layer calls through symlinks that lead out
	// of the repository (as "modules/x -> /elsewhere"): the tools see the
	// repository alone, so no stage can check the layer.
	LinkedOut []string
	// Terragrunt marks a Terragrunt unit: its module source, backend and providers
	// come from files Terragrunt generates, so only the format is checked.
	Terragrunt bool
}

// atWorkDir is the target as the tools see it: in its real directory.
func (t Target) atWorkDir() Target {
	if t.Real != "" {
		t.Path = t.Real
	}
	return t
}

// fromWorkDir places findings that lie in the layer's real directory back under
// its path, where the user finds the layer.
func (t Target) fromWorkDir(res Result) Result {
	if t.Real == "" || t.Real == t.Path {
		return res
	}
	for i, f := range res.Findings {
		if f.File == t.Real {
			res.Findings[i].File = t.Path
		} else if rest, ok := strings.CutPrefix(f.File, t.Real+"/"); ok {
			res.Findings[i].File = t.Path + "/" + rest
		}
	}
	return res
}

// Run executes one stage on a target.
func Run(ctx context.Context, kind Kind, r Runner, t Target) Result {
	start := time.Now()
	var res Result
	w := t.atWorkDir()
	switch {
	case len(t.LinkedOut) > 0:
		res = linkedOut(t)
	case t.Terragrunt && kind != Format:
		res = Result{Status: Skip, Findings: []Finding{{File: t.Path, Severity: "notice", Message: terragruntNote}}}
	case kind == Format:
		res = runFormat(ctx, r, w)
	case kind == Lint:
		res = runLint(ctx, r, w)
	case kind == Validate:
		res = runValidate(ctx, r, w)
	default:
		res = errorResult(t, "unknown stage "+string(kind))
	}
	res = withoutRoot(t.fromWorkDir(res), r.Root())
	res.Duration = time.Since(start)
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	return res
}

// terragruntNote says why lint and validate do not run in a Terragrunt unit.
const terragruntNote = "not run in a Terragrunt unit: it needs the module, backend and provider files Terragrunt generates, which are not in the tree (terragrunt validate checks them)"

// linkedOut is the result of every stage on a layer calling a module through a
// symlink out of the repository: not a failure of its code, a check that cannot
// run where the checks run (a CI checkout, a Dagger container).
func linkedOut(t Target) Result {
	return errorResult(t, "not checked: it calls local modules through symlinks leading out of the repository ("+
		strings.Join(t.LinkedOut, ", ")+"); the checks see the repository alone: move the module into the repository or point the link inside it")
}

// withoutRoot removes the place the tools saw the repository at from messages,
// so no report names a workspace under a cache directory.
func withoutRoot(res Result, root string) Result {
	root = strings.TrimSuffix(root, "/")
	if root == "" {
		return res
	}
	for i, f := range res.Findings {
		res.Findings[i].Message = strings.ReplaceAll(f.Message, root+"/", "")
		res.Findings[i].Detail = strings.ReplaceAll(f.Detail, root+"/", "")
		res.Findings[i].Message = strings.ReplaceAll(res.Findings[i].Message, root, ".")
		res.Findings[i].Detail = strings.ReplaceAll(res.Findings[i].Detail, root, ".")
	}
	return res
}

func errorResult(t Target, msg string) Result {
	return Result{Status: Error, Findings: []Finding{{File: t.Path, Severity: "error", Message: msg}}}
}
