package prloop

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/infra-flash/infra/internal/atlantis"
	"github.com/infra-flash/infra/internal/atlantisyaml"
	"github.com/infra-flash/infra/internal/forge"
	"github.com/infra-flash/infra/internal/layers"
)

// KickStatus is the commit status that records that Atlantis was asked to plan a
// commit, so reruns of the job do not ask again.
const KickStatus = "infra-flash/atlantis"

// KickResult is what kick-atlantis did.
type KickResult struct {
	Asked   []string // the directories (or environments' projects) Atlantis was asked to plan
	Skipped string   // why nothing was asked, when nothing was
	Failed  bool     // a layer's checks failed on this commit: no plan asked
}

// Kick asks Atlantis to plan each layer ("atlantis plan -d <dir>", one comment
// per layer: Atlantis ignores comments of several lines), once per commit: a
// commit status records the request and a rerun finds it. It refuses when this
// commit's per-layer check runs or statuses say a check failed. A layer planned
// per environment is asked by project ("atlantis plan -p <name>"), once for each
// environment atlantis-config declares it in, or only env's when env is set.
func Kick(ctx context.Context, c *forge.Client, t Target, ls []*layers.Layer, env string, log func(string)) (KickResult, error) {
	if log == nil {
		log = func(string) {}
	}
	if t.PR <= 0 {
		return KickResult{}, &forge.InputError{Msg: "kick-atlantis needs a pull request: pass --pr (or a pull_request event)"}
	}
	if t.SHA == "" {
		pr, err := c.PullRequest(ctx, t.PR)
		if err != nil && !forge.IsDryRead(err) {
			return KickResult{}, err
		}
		t.SHA = pr.HeadSHA
	}
	if t.SHA == "" {
		return KickResult{}, &forge.InputError{Msg: "no commit: pass --sha"}
	}
	if len(ls) == 0 {
		return KickResult{Skipped: "no layer changed: nothing for Atlantis to plan"}, nil
	}
	var cmds, asked []string
	for _, l := range ls {
		for _, p := range atlantisyaml.Instances(l, env) {
			cmd, err := atlantis.PlanCommand(l.Path)
			what := l.Path
			if p.Workspace != "" {
				cmd, err = atlantis.PlanProjectCommand(p.Name)
				what = l.Path + " (" + p.Workspace + ")"
			}
			if err != nil {
				return KickResult{}, &forge.InputError{Msg: err.Error()}
			}
			cmds, asked = append(cmds, cmd), append(asked, what)
		}
	}
	statuses, err := c.Statuses(ctx, t.SHA)
	if err != nil && !forge.IsDryRead(err) {
		return KickResult{}, err
	}
	if s, ok := statuses[KickStatus]; ok && s.State == "success" {
		return KickResult{Skipped: fmt.Sprintf("Atlantis was already asked to plan %s (%s)", short(t.SHA), s.Description)}, nil
	}
	// flash records each layer as a check run, or as a commit status where check
	// runs are not allowed: either one failing stops the kick.
	runs, err := c.CheckRunResults(ctx, t.SHA)
	if err != nil && !forge.IsDryRead(err) && forge.StatusOf(err) != http.StatusForbidden && forge.StatusOf(err) != http.StatusNotFound {
		return KickResult{}, err
	}
	var failed []string
	for _, l := range ls {
		s, ok := statuses[CheckName(l)]
		r, ran := runs[CheckName(l)]
		if (ok && s.State != "success") || (ran && r.State != "success" && r.State != "") {
			failed = append(failed, l.Label())
		}
	}
	if len(failed) > 0 {
		return KickResult{Failed: true, Skipped: "the checks failed on " + short(t.SHA) + " for " + strings.Join(failed, ", ") + ": not asking Atlantis to plan"}, nil
	}
	res := KickResult{}
	for i, cmd := range cmds {
		if _, err := c.CreateComment(ctx, t.PR, cmd); err != nil {
			return res, err
		}
		res.Asked = append(res.Asked, asked[i])
		log("kick-atlantis: commented " + cmd)
	}
	var ids []string
	for _, l := range ls {
		ids = append(ids, l.ID())
	}
	err = c.SetStatus(ctx, t.SHA, forge.Check{Name: KickStatus, State: "success", TargetURL: t.RunURL,
		Description: "asked Atlantis to plan " + strings.Join(ids, ", ")})
	return res, err
}
