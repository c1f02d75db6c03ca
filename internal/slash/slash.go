// Package slash is the one definition of the pull-request comment commands
// (/check, /plan, /apply, /unlock, /dig, /help): what starts one, what may
// follow it, and the wider test that comment.yml's `if:` applies before a
// runner starts.
package slash

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/infra-flash/infra/internal/repoconfig"
)

// Name is a command's word, without the slash.
type Name string

const (
	Check  Name = "check"
	Plan   Name = "plan"
	Apply  Name = "apply"
	Unlock Name = "unlock"
	Dig    Name = "dig"
	Help   Name = "help"
)

// Names are the commands in the order /help lists them.
var Names = []Name{Check, Plan, Apply, Unlock, Dig, Help}

// Usage is each command's synopsis and what it does, for /help and errors.
var Usage = map[Name][2]string{
	Check:  {"/check [layer ...]", "format, lint and validate the layers (default: the changed ones)"},
	Plan:   {"/plan [--env NAME] [layer ...] [-- engine args]", "plan the layers against the real backend and keep the plans"},
	Apply:  {"/apply [--env NAME] [layer ...]", "apply the plans /plan made for the head commit (PR approved, checks passed)"},
	Unlock: {"/unlock [--env NAME] [layer]", "release the locks this pull request holds (all, or one layer's)"},
	Dig:    {"/dig", "probe every documented service"},
	Help:   {"/help", "list the commands"},
}

// Command is a parsed comment command.
type Command struct {
	Name       Name
	Layers     []string // as written, duplicates dropped; empty means the default set
	EngineArgs []string // /plan only: after "--"
	// Env is --env's environment (/plan, /apply, /unlock); "" when not given.
	Env string
}

func (c *Command) String() string {
	parts := []string{"/" + string(c.Name)}
	if c.Env != "" {
		parts = append(parts, "--env", c.Env)
	}
	parts = append(parts, c.Layers...)
	if len(c.EngineArgs) > 0 {
		parts = append(append(parts, "--"), c.EngineArgs...)
	}
	return strings.Join(parts, " ")
}

// Error is why a comment that looks like a command is not one we run: an
// unknown word after the slash, or a known command with arguments it does
// not take. The message is meant for the comment's author.
type Error struct {
	Unknown bool // the word after the slash is no command (in any case)
	Msg     string
}

func (e *Error) Error() string { return e.Msg }

func errorf(unknown bool, format string, args ...any) *Error {
	return &Error{Unknown: unknown, Msg: fmt.Sprintf(format, args...)}
}

// takesEnv are the commands that work on one environment's state.
var takesEnv = []Name{Plan, Apply, Unlock}

// layerPattern admits a layer directory's name ("2.platform") or its bare
// name ("platform"); which layers exist is the repository's business.
var layerPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// engineFlags are the plan flags a comment may pass on: they narrow or steer
// the plan, none reads a file or a variable from the runner.
var engineFlags = []string{"-target=", "-replace=", "-refresh=false", "-refresh=true", "-refresh-only", "-destroy", "-lock-timeout="}

// FirstLine is the part of a comment that can hold a command: up to the first
// line break, without a trailing carriage return.
func FirstLine(body string) string {
	line, _, _ := strings.Cut(body, "\n")
	return strings.TrimSuffix(line, "\r")
}

// Parse reads a comment body. A command is the first line only; it starts
// with "/" in the first column followed at once by a command's word in lower
// case, then nothing or blanks and arguments. (nil, nil): the comment is not
// a command at all (it does not start with "/"). (nil, *Error): it starts
// with "/" but is no command we run, with the reason.
func Parse(body string) (*Command, error) {
	line := FirstLine(body)
	if !strings.HasPrefix(line, "/") {
		return nil, nil
	}
	fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
	if fields[0] == "/" {
		return nil, errorf(true, "a command is a slash and a word; /help lists them")
	}
	word := fields[0][1:]
	name := Name(word)
	if !slices.Contains(Names, name) {
		if slices.Contains(Names, Name(strings.ToLower(word))) {
			return nil, errorf(false, "commands are lower case: /%s", strings.ToLower(word))
		}
		return nil, errorf(true, "/%s is not a command; /help lists them", clip(word))
	}
	cmd := &Command{Name: name}
	args := fields[1:]
	if name == Plan {
		if i := slices.Index(args, "--"); i >= 0 {
			cmd.EngineArgs = args[i+1:]
			args = args[:i]
			if len(cmd.EngineArgs) == 0 {
				return nil, errorf(false, "nothing follows -- in /plan; usage: %s", Usage[Plan][0])
			}
			for _, a := range cmd.EngineArgs {
				if !allowedEngineArg(a) {
					return nil, errorf(false, "/plan passes on only %s, not %q", strings.Join(engineFlags, " "), clip(a))
				}
			}
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil, errorf(false, "only /plan takes engine arguments after --")
		}
		if a == "--env" || strings.HasPrefix(a, "--env=") {
			if !slices.Contains(takesEnv, name) {
				return nil, errorf(false, "/%s takes no --env; usage: %s", name, Usage[name][0])
			}
			env, given := strings.CutPrefix(a, "--env=")
			if !given {
				if i+1 == len(args) {
					return nil, errorf(false, "--env needs an environment's name; usage: %s", Usage[name][0])
				}
				i++
				env = args[i]
			}
			if !repoconfig.ValidEnvName(env) {
				return nil, errorf(false, "%q is not an environment's name; usage: %s", clip(env), Usage[name][0])
			}
			if cmd.Env != "" && cmd.Env != env {
				return nil, errorf(false, "one --env per command; usage: %s", Usage[name][0])
			}
			cmd.Env = env
			continue
		}
		if !layerPattern.MatchString(a) {
			return nil, errorf(false, "%q is not a layer name; usage: %s", clip(a), Usage[name][0])
		}
		if !slices.Contains(cmd.Layers, a) {
			cmd.Layers = append(cmd.Layers, a)
		}
	}
	switch {
	case (name == Dig || name == Help) && len(cmd.Layers) > 0:
		return nil, errorf(false, "/%s takes no arguments", name)
	case name == Unlock && len(cmd.Layers) > 1:
		return nil, errorf(false, "/unlock takes at most one layer; usage: %s", Usage[Unlock][0])
	}
	return cmd, nil
}

func allowedEngineArg(a string) bool {
	for _, f := range engineFlags {
		if strings.HasSuffix(f, "=") {
			if v, ok := strings.CutPrefix(a, f); ok && v != "" && !strings.ContainsAny(v, "\x00") {
				return true
			}
		} else if a == f {
			return true
		}
	}
	return false
}

// clip keeps an echoed argument short: it goes back into a comment.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// Woken are the commands comment.yml starts a runner for; /dig has its own
// workflow (dig.yml), which answers it.
var Woken = []Name{Check, Plan, Apply, Unlock, Help}

// Wakes is what comment.yml's `if:` computes from the body: it starts with
// "/" and a woken command's word, in any letter case (workflow expressions
// compare ignoring case and cannot split lines). It is wider than Parse:
// every comment Parse accepts as a woken command wakes a runner, and the
// runner's Parse refuses the rest with the reason.
func Wakes(body string) bool {
	lower := strings.ToLower(body)
	for _, n := range Woken {
		if strings.HasPrefix(lower, "/"+string(n)) {
			return true
		}
	}
	return false
}

// HelpText is the /help answer.
func HelpText() string {
	var b strings.Builder
	b.WriteString("Commands (first line of a comment, lower case):\n\n")
	for _, n := range Names {
		fmt.Fprintf(&b, "- `%s`: %s\n", Usage[n][0], Usage[n][1])
	}
	return b.String()
}
