package prloop

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/infra-flash/infra/internal/actions"
	"github.com/infra-flash/infra/internal/atlantis"
	"github.com/infra-flash/infra/internal/flash"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/layers"
	"github.com/infra-flash/infra/internal/report"
	"github.com/infra-flash/infra/internal/slash"
	"github.com/infra-flash/infra/internal/stage"
)

// CommentMarker marks the one infra-flash comment of a PR.
const CommentMarker forge.Marker = "pr"

// summaryLimit keeps the job summary inside the step's 1 MiB with room to spare.
const summaryLimit = actions.SummaryLimit - 64<<10

// FlashInput is one flash run: the checks' report and where it goes.
type FlashInput struct {
	Target Target
	Report *report.Report
	Layers []*layers.Layer // the whole tree, for the graph
	// AtlantisUsers are the accounts whose comments are read as Atlantis's;
	// empty: any bot account.
	AtlantisUsers []string
	// CommentMode: pull requests plan and apply from comments (infra.hcl's
	// pr_automation = "comments"); the comment shows a Plans section in place
	// of Atlantis's.
	CommentMode bool
	Log         func(string)
}

// FlashResult is what a flash run did and what it leaves for the runner.
type FlashResult struct {
	Comment     *forge.UpsertResult // nil without a PR
	Checks      string              // "check runs" or "commit statuses"; "" when none were set
	CommentText string              // the comment's text as rendered (for --format markdown)
	Summary     string              // the job summary (markdown)
	Annotations []actions.Annotation
}

// Facts reads what the comment says about the commit: its subject and date, and
// the branch when the event did not name it. In a dry run without access it
// carries on with what it knows.
func Facts(ctx context.Context, c *forge.Client, t *Target, logf func(string)) (flash.Commit, forge.Stamp, error) {
	var prErr error
	if t.PR > 0 && (t.SHA == "" || t.Branch == "") {
		pr, err := c.PullRequest(ctx, t.PR)
		if err != nil && !forge.IsDryRead(err) {
			return flash.Commit{}, forge.Stamp{}, err
		}
		prErr = err
		if t.SHA == "" {
			t.SHA = pr.HeadSHA
		}
		if t.Branch == "" && (pr.HeadSHA == t.SHA || pr.HeadSHA == "") {
			t.Branch = pr.HeadRef
		}
	}
	if t.SHA == "" {
		msg := "no commit: pass --sha (or --pr, or an event)"
		switch {
		case t.PR > 0 && prErr != nil:
			msg = fmt.Sprintf("no commit: the head of PR #%d could not be read (%v); pass --sha", t.PR, errors.Unwrap(prErr))
		case t.PR > 0:
			msg = fmt.Sprintf("no commit: PR #%d names no head commit; pass --sha", t.PR)
		}
		return flash.Commit{}, forge.Stamp{}, &forge.InputError{Msg: msg}
	}
	fc := flash.Commit{SHA: t.SHA, Branch: t.Branch}
	stamp := forge.Stamp{SHA: t.SHA}
	if t.Event != nil && t.Event.Commit != nil && t.Event.Commit.SHA == t.SHA {
		fc.Subject, stamp.Time = t.Event.Commit.Subject, t.Event.Commit.Time
		return fc, stamp, nil
	}
	// The subject and date only label the comment and order racing runs (the
	// PR's head decides without them): a commit the API cannot show is no
	// reason to fail after every check has run.
	cm, err := c.Commit(ctx, t.SHA)
	if err != nil && !forge.IsDryRead(err) {
		logf(fmt.Sprintf("infra-flash: commit %s: %v; the comment goes without its subject", short(t.SHA), err))
	}
	fc.Subject, stamp.Time = cm.Subject, cm.Time
	return fc, stamp, nil
}

// Flash posts a report: the PR's infra-flash comment (one per PR, edited in
// place), a check per checked layer on the commit, and returns the job summary
// and the annotations for the runner to write.
func Flash(ctx context.Context, c *forge.Client, in FlashInput) (FlashResult, error) {
	logf := in.Log
	if logf == nil {
		logf = func(string) {}
	}
	t := in.Target
	commit, stamp, err := Facts(ctx, c, &t, logf)
	if err != nil {
		return FlashResult{}, err
	}
	var comments []forge.Comment
	if t.PR > 0 {
		if comments, err = c.ListComments(ctx, t.PR); err != nil && !forge.IsDryRead(err) {
			return FlashResult{}, err
		}
	}
	view := flash.Input{Report: in.Report, Layers: in.Layers, Commit: commit, RunURL: t.RunURL, FullText: "the run's job summary"}
	if in.CommentMode {
		view.Comments = commentPlans(ctx, c, t.SHA, logf)
	} else {
		view.Atlantis = atlantis.Latest(atlantisComments(comments, in.AtlantisUsers))
	}
	res := FlashResult{Annotations: actions.Annotations(in.Report)}
	full := view
	full.FullText = ""
	res.Summary = flash.Compose(full, summaryLimit)
	// The comment's footer must not call a cut summary the full report.
	view.FullCut = res.Summary != flash.Compose(full, math.MaxInt)

	if t.PR > 0 {
		head := func(ctx context.Context) (string, error) {
			pr, err := c.PullRequest(ctx, t.PR)
			return pr.HeadSHA, err
		}
		up, err := c.Upsert(ctx, t.PR, comments, CommentMarker, stamp, func(limit int) string {
			res.CommentText = flash.Compose(view, limit)
			return res.CommentText
		}, head)
		if err != nil {
			return res, err
		}
		res.Comment = &up
		if res.CommentText == "" { // kept: show what this run would have said
			res.CommentText = flash.Compose(view, forge.CommentLimit-1024)
		}
		switch up.Action {
		case forge.Kept:
			logf("infra-flash: comment left as it is: " + up.Reason)
		default:
			where := up.Comment.URL
			if where == "" {
				where = fmt.Sprintf("PR #%d", t.PR)
			}
			logf(fmt.Sprintf("infra-flash: comment %s (%s)", up.Action, where))
		}
		if len(up.Deleted) > 0 {
			logf(fmt.Sprintf("infra-flash: removed %d duplicate comment(s) left by racing runs", len(up.Deleted)))
		}
	} else {
		res.CommentText = flash.Compose(view, forge.CommentLimit-1024)
		logf("infra-flash: no pull request: the comment is skipped; checks are set on the commit")
	}

	checks := Checks(in.Report, t.RunURL)
	if len(checks) > 0 {
		kind, err := c.SetChecks(ctx, t.SHA, checks)
		if err != nil {
			return res, err
		}
		res.Checks = kind
		logf(fmt.Sprintf("infra-flash: %d %s set on %s", len(checks), kind, short(t.SHA)))
	}
	return res, nil
}

// commentPlans reads what /plan and /apply recorded on the commit. Not
// knowing is no reason to fail after the checks ran: the section then shows
// the commands only.
func commentPlans(ctx context.Context, c *forge.Client, sha string, logf func(string)) *flash.CommentPlans {
	st, err := c.Statuses(ctx, sha)
	if err != nil && !forge.IsDryRead(err) {
		logf(fmt.Sprintf("infra-flash: reading the /plan and /apply statuses of %s: %v; the Plans section shows the commands only", short(sha), err))
	}
	step := func(cmd slash.Name) flash.Step {
		ch := st[CommentStatus(cmd)]
		return flash.Step{State: ch.State, Description: ch.Description, URL: ch.TargetURL}
	}
	return &flash.CommentPlans{Plan: step(slash.Plan), Apply: step(slash.Apply)}
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// atlantisComments picks Atlantis's comments: from the named accounts, or from
// any bot when none are named. Our own marked comments never count.
func atlantisComments(cs []forge.Comment, users []string) []atlantis.Comment {
	var out []atlantis.Comment
	for _, c := range cs {
		if _, ours := CommentMarker.Read(c.Body); ours {
			continue
		}
		ok := c.AuthorType == "Bot"
		if len(users) > 0 {
			ok = false
			for _, u := range users {
				ok = ok || strings.EqualFold(u, c.Author)
			}
		}
		if ok {
			out = append(out, atlantis.Comment{Author: c.Author, Body: c.Body, Created: c.Created, URL: c.URL})
		}
	}
	return out
}

// CheckName is the per-layer check's name.
func CheckName(l *layers.Layer) string { return "infra-flash/" + l.Dir }

// Checks are the per-layer results for a commit: one per checked layer.
func Checks(r *report.Report, runURL string) []forge.Check {
	var out []forge.Check
	for _, l := range r.Layers {
		state := map[stage.Status]string{stage.Pass: "success", stage.Skip: "success", stage.Fail: "failure", stage.Error: "error"}[l.Worst()]
		var parts []string
		for _, k := range stage.Kinds {
			res := l.Result(k)
			p := k.Title() + " " + report.Mark(res.Status)
			if n := len(res.Findings); n > 0 && (res.Status == stage.Fail || res.Status == stage.Error) {
				p += fmt.Sprintf(" %d", n)
			}
			parts = append(parts, p)
		}
		one := &report.Report{Engine: r.Engine, Stages: r.Stages, Layers: []report.LayerResult{l}}
		var md strings.Builder
		_ = report.Markdown(&md, one, 60000)
		out = append(out, forge.Check{
			Name:        CheckName(l.Layer),
			State:       state,
			Description: l.Layer.Label() + ": " + strings.Join(parts, " · "),
			TargetURL:   runURL,
			Summary:     md.String(),
		})
	}
	return out
}
