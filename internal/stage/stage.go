// Package stage defines the checks run on a layer (format, lint, validate): which
// commands each runs and how their output becomes a Result. Executors only run
// commands, so a container executor and a host executor behave the same.
package stage

import (
	"context"
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
	Path        string // repository-relative directory of the layer
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
}

// Run executes one stage on a target.
func Run(ctx context.Context, kind Kind, r Runner, t Target) Result {
	start := time.Now()
	var res Result
	switch kind {
	case Format:
		res = runFormat(ctx, r, t)
	case Lint:
		res = runLint(ctx, r, t)
	case Validate:
		res = runValidate(ctx, r, t)
	default:
		res = errorResult(t, "unknown stage "+string(kind))
	}
	res.Duration = time.Since(start)
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	return res
}

func errorResult(t Target, msg string) Result {
	return Result{Status: Error, Findings: []Finding{{File: t.Path, Severity: "error", Message: msg}}}
}
