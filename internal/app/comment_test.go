package app_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/infra-flash/infra/internal/actions"
	usecase "github.com/infra-flash/infra/internal/app"
)

// Who and what a comment event runs: outsiders, bots, issues and edits are
// refused silently; a known command used wrongly is answered; a word after a
// slash that is no command (maybe another bot's) is not.
func TestDecideComment(t *testing.T) {
	policy := usecase.DefaultCommentPolicy()
	ev := func(body, assoc string, mod ...func(*actions.Event)) *actions.Event {
		e := &actions.Event{Name: "issue_comment", Action: "created", PR: 7,
			Comment: &actions.Comment{Body: body, Author: "someone", AuthorType: "User", Association: assoc}}
		for _, m := range mod {
			m(e)
		}
		return e
	}
	for _, tc := range []struct {
		name    string
		ev      *actions.Event
		want    string // the command, or "" when refused
		refused string
		answer  bool
	}{
		{"owner plans", ev("/plan 2.platform", "OWNER"), "/plan 2.platform", "", false},
		{"collaborator applies", ev("/apply", "COLLABORATOR"), "/apply", "", false},
		{"outsider", ev("/apply", "CONTRIBUTOR"), "", "@someone is CONTRIBUTOR; comment commands run for OWNER, MEMBER, COLLABORATOR", false},
		{"no association", ev("/apply", ""), "", "@someone is unknown", false},
		{"bot", ev("/plan", "MEMBER", func(e *actions.Event) { e.Comment.AuthorType = "Bot" }), "", "the comment is a bot's", false},
		{"issue", ev("/plan", "MEMBER", func(e *actions.Event) { e.PR = 0 }), "", "on an issue, not a pull request", false},
		{"edited", ev("/plan", "MEMBER", func(e *actions.Event) { e.Action = "edited" }), "", "the comment was edited", false},
		{"push", &actions.Event{Name: "push"}, "", "a push event is not a comment", false},
		{"prose", ev("lgtm", "MEMBER"), "", "the comment is not a command", false},
		{"misused", ev("/unlock a b", "MEMBER"), "", "/unlock takes at most one layer", true},
		{"unknown", ev("/shrug", "MEMBER"), "", "/shrug is not a command", false},
		{"upper case", ev("/PLAN", "MEMBER"), "", "commands are lower case: /plan", true},
	} {
		cmd, refused, answer := usecase.Decide(tc.ev, policy)
		if tc.want == "" {
			assert.Nil(t, cmd, tc.name)
			assert.Contains(t, refused, tc.refused, tc.name)
			assert.Equal(t, tc.answer, answer, tc.name)
		} else if assert.NotNil(t, cmd, tc.name) {
			assert.Equal(t, tc.want, cmd.String(), tc.name)
			assert.Empty(t, refused, tc.name)
		}
	}
	narrow := usecase.CommentPolicy{Trusted: []string{"OWNER"}}
	cmd, refused, _ := usecase.Decide(ev("/plan", "MEMBER"), narrow)
	assert.Nil(t, cmd)
	assert.Contains(t, refused, "comment commands run for OWNER")
}
