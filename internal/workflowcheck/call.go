package workflowcheck

import (
	"fmt"
	"strings"
)

// Call is a `dagger call` command line as a workflow writes it: constructor flags,
// a chain of functions with their flags (`github --token env://T flash --layer
// changed`), and any arguments after "--". Function and Flags are the last step's.
type Call struct {
	Global   []Flag
	Chain    []Step
	Function string
	Flags    []Flag
	Rest     []string
}

// Step is one function of a chained call and its flags.
type Step struct {
	Function string
	Flags    []Flag
}

// Flag is one --name [value]; Value is empty for a flag given alone (a boolean).
type Flag struct {
	Name  string
	Value string
}

// ParseCall splits a call input the way the shell will: words separated by blanks,
// single and double quotes grouping, backslash escaping. Variables stay unexpanded
// ("$GITHUB_EVENT_PATH" is the value). Without knowing which flags are booleans, a
// word after a flag is its value.
func ParseCall(s string) (Call, error) { return ParseCallFor(s, nil) }

// ParseCallFor is ParseCall knowing which flags take no value (isBool), so that a
// word after one is the next function of the chain.
func ParseCallFor(s string, isBool func(flag string) bool) (Call, error) {
	words, err := shellWords(s)
	if err != nil {
		return Call{}, err
	}
	var c Call
	target := &c.Global
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			if len(c.Chain) == 0 {
				return Call{}, fmt.Errorf("no function before -- in %q", s)
			}
			c.Rest = words[i+1:]
			i = len(words)
		case strings.HasPrefix(w, "--"):
			f := Flag{Name: w}
			if name, value, ok := strings.Cut(w, "="); ok {
				f = Flag{Name: name, Value: value}
			} else if i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") && (isBool == nil || !isBool(w)) {
				f.Value = words[i+1]
				i++
			}
			*target = append(*target, f)
		default:
			c.Chain = append(c.Chain, Step{Function: w})
			target = &c.Chain[len(c.Chain)-1].Flags
		}
	}
	if len(c.Chain) == 0 {
		return Call{}, fmt.Errorf("no function in %q", s)
	}
	last := c.Chain[len(c.Chain)-1]
	c.Function, c.Flags = last.Function, last.Flags
	return c, nil
}

// AllFlags are the flags of every step, in order.
func (c Call) AllFlags() []Flag {
	var out []Flag
	for _, st := range c.Chain {
		out = append(out, st.Flags...)
	}
	return out
}

func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(rs) && strings.ContainsRune(`"\$`+"`", rs[i+1]):
				i++
				cur.WriteRune(rs[i])
			default:
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote = r
			inWord = true
		case r == '\\' && i+1 < len(rs):
			i++
			cur.WriteRune(rs[i])
			inWord = true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
