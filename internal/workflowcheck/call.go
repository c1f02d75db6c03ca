package workflowcheck

import (
	"fmt"
	"strings"
)

// Call is a `dagger call` command line as a workflow writes it: constructor flags,
// the function, its flags, and any arguments after "--".
type Call struct {
	Global   []Flag
	Function string
	Flags    []Flag
	Rest     []string
}

// Flag is one --name [value]; Value is empty for a flag given alone (a boolean).
type Flag struct {
	Name  string
	Value string
}

// ParseCall splits a call input the way the shell will: words separated by blanks,
// single and double quotes grouping, backslash escaping. Variables stay unexpanded
// ("$GITHUB_EVENT_PATH" is the value).
func ParseCall(s string) (Call, error) {
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
			if c.Function == "" {
				return Call{}, fmt.Errorf("no function before -- in %q", s)
			}
			c.Rest = words[i+1:]
			return c, nil
		case strings.HasPrefix(w, "--"):
			f := Flag{Name: w}
			if name, value, ok := strings.Cut(w, "="); ok {
				f = Flag{Name: name, Value: value}
			} else if i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
				f.Value = words[i+1]
				i++
			}
			*target = append(*target, f)
		case c.Function == "":
			c.Function = w
			target = &c.Flags
		default:
			return Call{}, fmt.Errorf("unexpected word %q after %s (chained calls are not used here)", w, c.Function)
		}
	}
	if c.Function == "" {
		return Call{}, fmt.Errorf("no function in %q", s)
	}
	return c, nil
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
