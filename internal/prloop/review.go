package prloop

import (
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/review"
)

// ReviewGate decides from the target's event whether the AI review runs.
func ReviewGate(t Target, bot string) (review.Decision, error) {
	if t.Event == nil {
		return review.Decision{}, &forge.InputError{Msg: "review-gate needs an event: pass --event FILE and --event-name NAME (or run in GitHub Actions)"}
	}
	return review.Decide(t.Event, bot), nil
}
