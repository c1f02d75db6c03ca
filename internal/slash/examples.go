package slash

// Example is a comment body and what the definition makes of it: Want is the
// parsed command as Command.String prints it, "" when the comment is not a
// command we run; Wakes is whether comment.yml starts a runner for it.
type Example struct {
	Body  string
	Want  string
	Wakes bool
}

// Examples pin the definition down; the tests of Parse and of comment.yml's
// condition both run them.
var Examples = []Example{
	{"/check", "/check", true},
	{"/check 2.platform 3.data", "/check 2.platform 3.data", true},
	{"/check\t2.platform  2.platform", "/check 2.platform", true},
	{"/plan", "/plan", true},
	{"/plan 2.platform", "/plan 2.platform", true},
	{"/plan 2.platform -- -target=module.db -refresh=false", "/plan 2.platform -- -target=module.db -refresh=false", true},
	{"/plan -- -destroy", "/plan -- -destroy", true},
	{"/plan --", "", true},
	{"/plan -- -var-file=/etc/passwd", "", true},
	{"/plan -- -chdir=..", "", true},
	{"/plan 2.platform\nplease, before lunch", "/plan 2.platform", true},
	{"/plan\r\nthanks", "/plan", true},
	{"/apply", "/apply", true},
	{"/apply 2.platform", "/apply 2.platform", true},
	{"/apply -- -auto-approve", "", true},
	{"/apply ../etc", "", true},
	{"/plan --env staging app", "/plan --env staging app", true},
	{"/plan app --env=prod -- -destroy", "/plan --env prod app -- -destroy", true},
	{"/plan --env", "", true},
	{"/plan --env Staging", "", true},
	{"/plan --env staging --env prod", "", true},
	{"/plan app -- --env staging", "", true},
	{"/apply --env staging", "/apply --env staging", true},
	{"/unlock --env prod app", "/unlock --env prod app", true},
	{"/check --env staging", "", true},
	{"/unlock", "/unlock", true},
	{"/unlock 2.platform", "/unlock 2.platform", true},
	{"/unlock 2.platform 3.data", "", true},
	{"/help", "/help", true},
	{"/help me", "", true},
	{"/dig", "/dig", false},
	{"/dig now", "", false},
	{"/PLAN", "", true},
	{"/Apply", "", true},
	{"/planet", "", true},
	{"/applyall", "", true},
	{"/plan2.platform", "", true},
	{"/plan\u200b", "", true},
	{" /plan", "", false},
	{"\n/plan", "", false},
	{"please /plan", "", false},
	{"> /plan", "", false},
	{"`/plan`", "", false},
	{"lgtm\n/apply", "", false},
	{"atlantis plan", "", false},
	{"/", "", false},
	{"/ plan", "", false},
	{"/shrug", "", false},
	{"", "", false},
}
