package slash_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/infra-flash/infra/internal/slash"
)

func TestExamples(t *testing.T) {
	for _, ex := range slash.Examples {
		cmd, err := slash.Parse(ex.Body)
		if ex.Want == "" {
			assert.Nil(t, cmd, "%q", ex.Body)
		} else if assert.NoError(t, err, "%q", ex.Body) && assert.NotNil(t, cmd, "%q", ex.Body) {
			assert.Equal(t, ex.Want, cmd.String(), "%q", ex.Body)
		}
		assert.Equal(t, ex.Wakes, slash.Wakes(ex.Body), "%q", ex.Body)
	}
}

func TestParseFields(t *testing.T) {
	cmd, err := slash.Parse("/plan 2.platform 3.data -- -target=a.b -replace=c.d")
	require.NoError(t, err)
	assert.Equal(t, &slash.Command{Name: slash.Plan, Layers: []string{"2.platform", "3.data"},
		EngineArgs: []string{"-target=a.b", "-replace=c.d"}}, cmd)
	cmd, err = slash.Parse("/apply app --env staging")
	require.NoError(t, err)
	assert.Equal(t, &slash.Command{Name: slash.Apply, Layers: []string{"app"}, Env: "staging"}, cmd)
}

// A refusal says why, in words for the comment's author.
func TestParseReasons(t *testing.T) {
	for body, want := range map[string]string{
		"/PLAN":                        "commands are lower case: /plan",
		"/planet":                      "/planet is not a command; /help lists them",
		"/unlock a b":                  "/unlock takes at most one layer",
		"/help me":                     "/help takes no arguments",
		"/plan --":                     "nothing follows -- in /plan",
		"/apply -- -auto-approve":      "only /plan takes engine arguments after --",
		"/plan -- -var-file=x":         `not "-var-file=x"`,
		"/check ../x":                  `"../x" is not a layer name`,
		"/check --env staging":         "/check takes no --env",
		"/plan --env":                  "--env needs an environment's name",
		"/apply --env ../x":            `"../x" is not an environment's name`,
		"/plan --env a --env=b":        "one --env per command",
		"/" + strings.Repeat("x", 300): "/" + strings.Repeat("x", 40) + "… is not a command",
	} {
		cmd, err := slash.Parse(body)
		assert.Nil(t, cmd)
		var se *slash.Error
		if assert.True(t, errors.As(err, &se), body) {
			assert.Contains(t, se.Msg, want, body)
		}
	}
	_, err := slash.Parse("/planet")
	assert.True(t, err.(*slash.Error).Unknown)
	_, err = slash.Parse("/plan -- -x")
	assert.False(t, err.(*slash.Error).Unknown)
}

func TestHelpListsEveryCommand(t *testing.T) {
	help := slash.HelpText()
	for _, n := range slash.Names {
		assert.Contains(t, help, "`/"+string(n))
		cmd, err := slash.Parse(slash.Usage[n][0][:len(n)+1])
		require.NoError(t, err)
		assert.Equal(t, n, cmd.Name)
	}
}

// Parse never panics; whatever it accepts as a command comment.yml wakes
// for (but /dig, which dig.yml answers), and it parses its own printing back.
func FuzzParse(f *testing.F) {
	for _, ex := range slash.Examples {
		f.Add(ex.Body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmd, err := slash.Parse(body)
		if err != nil {
			require.Nil(t, cmd)
			var se *slash.Error
			require.True(t, errors.As(err, &se))
			require.NotEmpty(t, se.Msg)
			return
		}
		if cmd == nil {
			return
		}
		if cmd.Name != slash.Dig {
			require.True(t, slash.Wakes(body), "%q parses but does not wake", body)
		}
		again, err := slash.Parse(cmd.String())
		require.NoError(t, err)
		require.Equal(t, cmd, again)
		require.False(t, strings.ContainsAny(cmd.String(), "\r\n"))
	})
}
