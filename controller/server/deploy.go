// This file is the server's GitHub deployment protection rule: a workflow
// job deploying to an environment waits until relgate answers. relgate
// decides with the same decision as `relgate deploy-check` (package deploy,
// through engine.DeployDecision) on the protected branch's tip, never on the
// commit being deployed (policy and approvals come from the protected base),
// and approves only an allowed decision: an error, a timeout or a panic
// rejects. Every decision goes to the log, the metrics and the release's
// deployment log; a finished deployment's status becomes its receipt
// (deployment.yaml) through the write-back.

package server

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/webhook"
	"github.com/relgate/relgate/controller/writeback"
)

// Kinds of deployment work; workKey.id names the deployment.
const (
	kindDeploy  = "deploy"  // answer a deployment protection rule request
	kindReceipt = "receipt" // record a finished deployment's receipt
)

// maxDeployEvents bounds the deployment events waiting for a worker; more
// are refused with 503 and GitHub redelivers them.
const maxDeployEvents = 1000

// maxAnswered bounds the remembered answers (replays within a process are
// not answered twice; across restarts GitHub's 422 says so).
const maxAnswered = 10000

// DefaultDeployTimeout bounds one deployment decision (fetch and evaluate).
const DefaultDeployTimeout = time.Minute

// acceptDeployment queues a deployment event; handled reports whether ev
// was one.
func (s *Server) acceptDeployment(ev *webhook.Event) (k workKey, handled, ok bool) {
	switch {
	case ev.ProtectionRule != nil:
		k = workKey{kind: kindDeploy, id: ev.Delivery}
		if d := ev.ProtectionRule.Deployment; d != nil {
			// One work item per deployment: a replay while it waits is the
			// same item, and the answered set catches a later one.
			k.id = fmt.Sprintf("%d/%s", d.ID, ev.ProtectionRule.CallbackURL)
		}
	case ev.DeploymentStatus != nil:
		k = workKey{kind: kindReceipt, id: fmt.Sprintf("%d/%s", ev.DeploymentStatus.Deployment.ID, ev.DeploymentStatus.State)}
	default:
		return workKey{}, false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, waiting := s.deployEvents[k]; !waiting && len(s.deployEvents) >= maxDeployEvents {
		return k, true, false
	}
	s.deployEvents[k] = ev
	return k, true, true
}

// takeDeployment removes and returns the event of a work item (nil when a
// run of the same item already took it).
func (s *Server) takeDeployment(k workKey) *webhook.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.deployEvents[k]
	delete(s.deployEvents, k)
	return ev
}

// putBack returns an event for a retry, unless a newer one is waiting.
func (s *Server) putBack(k workKey, ev *webhook.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.deployEvents[k]; !ok {
		s.deployEvents[k] = ev
	}
}

// answered records a request key as answered and reports whether it was already.
func (s *Server) answered(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deployAnswered[key] {
		return true
	}
	if len(s.deployAnswered) >= maxAnswered {
		clear(s.deployAnswered)
	}
	s.deployAnswered[key] = true
	return false
}

func (s *Server) forgetAnswer(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.deployAnswered, key)
}

// deployRelease finds the release a deployment belongs to: payload.release,
// else a release id that is a whole segment of the ref (a tag REL-2026-0042,
// a branch release/REL-2026-0042). "" when neither names one: the decision's
// release rule refuses.
func deployRelease(p webhook.DeployPayload, refs ...string) string {
	if p.Release != "" {
		return p.Release
	}
	for _, ref := range refs {
		for _, seg := range strings.Split(ref, "/") {
			if document.ReleaseIDPattern.MatchString(seg) {
				return seg
			}
		}
	}
	return ""
}

// deployArtifacts parses payload.artifacts.
func deployArtifacts(p webhook.DeployPayload) ([]document.VersionRef, error) {
	var out []document.VersionRef
	for _, a := range p.Artifacts {
		v, err := deploy.ParseArtifact(a)
		if err != nil {
			return nil, fmt.Errorf("deployment payload.artifacts: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// reviewDeployment answers one deployment protection rule request.
func (s *Server) reviewDeployment(ctx context.Context, k workKey) error {
	ev := s.takeDeployment(k)
	gh := s.cfg.GitHub
	if ev == nil || gh == nil {
		return nil
	}
	pr := ev.ProtectionRule
	runID, err := gh.DeploymentRunID(pr.CallbackURL, s.cfg.Repo)
	if err != nil {
		// Nowhere to answer that relgate trusts: the job waits, and GitHub
		// rejects it when the rule times out. Never approved.
		s.metrics.Inc(mDeployDecisions, "environment", "unknown", "result", "unanswerable")
		s.log.Error("deployment protection rule request not answered", "delivery", ev.Delivery, "environment", pr.Environment, "err", err)
		return nil
	}
	var dep webhook.Deployment
	if pr.Deployment != nil {
		dep = *pr.Deployment
	}
	key := fmt.Sprintf("github/%d/%d", dep.ID, runID)
	if dep.ID == 0 {
		key += "/" + pr.Environment
	}
	requester := dep.Creator
	if requester == "" {
		requester = ev.Sender
	}
	if s.answered(key) {
		s.log.Info("deployment already answered; replay ignored", "key", key, "delivery", ev.Delivery, "run", runID, "environment", pr.Environment)
		return nil
	}
	// The same order as the receipt's (recordReceipt), so a deployment's
	// decision and its receipt always name one release.
	req := deploy.Request{Release: deployRelease(dep.Payload, dep.Ref, pr.Ref), Environment: pr.Environment, Now: s.cfg.Clock()}
	d := s.decideDeployment(ctx, req, dep.Payload)
	state, result := ghapi.DeploymentRejected, "rejected"
	if d.Allowed && len(d.Failed()) == 0 && len(d.Rules) > 0 {
		state, result = ghapi.DeploymentApproved, "approved"
	}
	if len(d.Rules) == 1 && d.Rules[0].ID == deploy.RuleEvaluation {
		result = "error"
	}
	err = gh.ReviewDeploymentProtectionRule(ctx, s.cfg.Repo, runID, pr.Environment, state, deploymentComment(d))
	switch {
	case errors.Is(err, ghapi.ErrAlreadyReviewed):
		// Answered before (by this server before a restart, or a replica):
		// the first answer stands, and was recorded then.
		s.log.Info("deployment already reviewed on GitHub; replay ignored", "key", key, "run", runID, "environment", pr.Environment)
		return nil
	case err != nil:
		s.forgetAnswer(key)
		s.putBack(k, ev)
		s.metrics.Inc(mAPIErrors, "op", "review-deployment")
		return transient(err)
	}
	var failed []string
	for _, r := range d.Failed() {
		failed = append(failed, r.ID)
	}
	// An environment the policy does not name is not a label value of its
	// own: the sender chooses it.
	envLabel := pr.Environment
	switch ok, found := ruleOK(d, deploy.RuleEnvironment); {
	case !found:
		envLabel = "unknown" // not evaluated
	case !ok:
		envLabel = "ungated"
	}
	s.metrics.Inc(mDeployDecisions, "environment", envLabel, "result", result)
	s.log.Info("deployment decision", "release", d.Release, "environment", pr.Environment, "allowed", state == ghapi.DeploymentApproved,
		"answer", state, "failed", failed, "run", runID, "deployment", dep.ID, "requester", requester, "revision", d.Revision, "key", key,
		"read_only", s.cfg.ReadOnly)
	s.recordDecision(ctx, writeback.DecisionRecord{Decision: d, At: req.Now, Source: "github", Run: s.runURL(runID),
		DeploymentID: dep.ID, Requester: requester, Key: key})
	return nil
}

func ruleOK(d deploy.Decision, id string) (ok, found bool) {
	for _, r := range d.Rules {
		if r.ID == id {
			return r.OK, true
		}
	}
	return false, false
}

// runURL is the workflow run's page.
func (s *Server) runURL(runID int64) string {
	return fmt.Sprintf("https://github.com/%s/actions/runs/%d", s.cfg.Repo, runID)
}

// decideDeployment decides within the deploy timeout. Whatever goes wrong
// (the payload cannot be read, the fetch fails, the evaluation errs, takes
// too long or panics) is a refusal, never an approval.
func (s *Server) decideDeployment(ctx context.Context, req deploy.Request, p webhook.DeployPayload) deploy.Decision {
	if p.Err != "" {
		return deploy.Refused(req, errors.New(p.Err))
	}
	arts, err := deployArtifacts(p)
	if err != nil {
		return deploy.Refused(req, err)
	}
	req.Artifacts = arts
	timeout := s.cfg.DeployTimeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		d   deploy.Decision
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("deployment decision panicked", "release", req.Release, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				ch <- result{err: errors.New("relgate failed while deciding (its log says why)")}
			}
		}()
		d, err := s.decideAt(ctx, req)
		ch <- result{d, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			s.log.Error("deployment not evaluated", "release", req.Release, "environment", req.Environment, "err", r.err)
			return deploy.Refused(req, r.err)
		}
		return r.d
	case <-ctx.Done():
		s.log.Error("deployment decision timed out", "release", req.Release, "environment", req.Environment, "timeout", timeout)
		return deploy.Refused(req, fmt.Errorf("the decision took longer than %s", timeout))
	}
}

// decideAt fetches the protected branch and decides at its tip.
func (s *Server) decideAt(ctx context.Context, req deploy.Request) (deploy.Decision, error) {
	if s.deployHook != nil {
		s.deployHook(req)
	}
	if err := s.mirror.Fetch(ctx, []string{s.cfg.Branch}, nil); err != nil {
		s.noteFetch(err)
		return deploy.Decision{}, fmt.Errorf("fetch the protected branch %s: %w", s.cfg.Branch, err)
	}
	s.noteFetch(nil)
	var d deploy.Decision
	err := s.mirror.Do(func(r *gitrepo.Repo) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ref, err := r.Git.Reference(BranchRef(s.cfg.Branch), true)
		if err != nil {
			return fmt.Errorf("branch %s is not fetched: %w", s.cfg.Branch, err)
		}
		d, err = engine.DeployDecision(r, s.cfg.Prefix, ref.Hash(), nil, req)
		return err
	})
	return d, err
}

// deploymentComment is the review's comment: the verdict, then each rule
// that refused it with its clause and what to do.
func deploymentComment(d deploy.Decision) string {
	rel := d.Release
	if rel == "" {
		rel = "(no release named)"
	}
	at := ""
	if d.Revision != "" {
		at = " (protected branch at " + shortID(d.Revision) + ")"
	}
	var b strings.Builder
	if d.Allowed && len(d.Failed()) == 0 {
		fmt.Fprintf(&b, "relgate approved the deployment of %s to %s%s: every rule holds / relgate 放行本次部署：各项规则均满足\n", rel, d.Environment, at)
		for _, r := range d.Rules {
			fmt.Fprintf(&b, "✓ %s (%s)\n", r.ID, r.Clause)
		}
		return b.String()
	}
	fmt.Fprintf(&b, "relgate rejected the deployment of %s to %s%s / relgate 拒绝本次部署\n", rel, d.Environment, at)
	for _, r := range d.Failed() {
		clause := ""
		if r.Clause != "" {
			clause = " (" + r.Clause + ")"
		}
		fmt.Fprintf(&b, "✗ %s%s: %s\n", r.ID, clause, r.Message)
	}
	b.WriteString("Fix what each line says, then re-run the deployment. / 按各条说明处理后重新发起部署。\n")
	return b.String()
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// recordDecision keeps the decision in the release's deployment log. In
// read-only mode nothing is written, and the log says so.
func (s *Server) recordDecision(ctx context.Context, rec writeback.DecisionRecord) {
	if s.cfg.ReadOnly {
		s.log.Info("read-only: the deployment decision is not written to the branch", "key", rec.Key, "release", rec.Decision.Release)
		return
	}
	dr, ok := s.cfg.Writer.(DeploymentRecorder)
	if !ok {
		s.log.Warn("no write-back records deployments: the decision is only in this log", "key", rec.Key, "release", rec.Decision.Release)
		return
	}
	if err := dr.RecordDecision(ctx, s.cfg.Branch, rec); err != nil {
		s.metrics.Inc(mWriteback, "op", "record-decision", "result", "error")
		s.log.Error("deployment decision not written to the branch; this log keeps it, and the deployment's receipt writes it first", "key", rec.Key, "release", rec.Decision.Release, "err", err)
		if rec.Decision.Allowed && rec.DeploymentID != 0 {
			s.mu.Lock()
			if len(s.unlogged) < maxDeployEvents {
				s.unlogged[rec.DeploymentID] = rec
			}
			s.mu.Unlock()
		}
		return
	}
	s.metrics.Inc(mWriteback, "op", "record-decision", "result", "ok")
}

// recordReceipt turns a finished deployment's status into its receipt.
func (s *Server) recordReceipt(ctx context.Context, k workKey) error {
	ev := s.takeDeployment(k)
	if ev == nil {
		return nil
	}
	ds := ev.DeploymentStatus
	dep := ds.Deployment
	rel := deployRelease(dep.Payload, dep.Ref)
	logAttrs := []any{"release", rel, "environment", ds.Environment, "deployment", dep.ID, "state", ds.State, "run", ds.TargetURL}
	if rel == "" || dep.Payload.Err != "" || !document.ReleaseIDPattern.MatchString(rel) {
		s.metrics.Inc(mReceipts, "result", "skipped")
		s.log.Warn("deployment receipt not recorded: the deployment names no release (payload.release or a release id in the ref)",
			append(logAttrs, "payload_error", dep.Payload.Err)...)
		return nil
	}
	if dep.Environment != "" && ds.Environment != "" && dep.Environment != ds.Environment {
		// A status may name an environment of its own; the deployment's is
		// the one its decision was about.
		s.metrics.Inc(mReceipts, "result", "skipped")
		s.log.Warn("deployment receipt not recorded: the status names another environment than its deployment",
			append(logAttrs, "deployment_environment", dep.Environment)...)
		return nil
	}
	if err := s.mirror.Fetch(ctx, []string{s.cfg.Branch}, nil); err != nil {
		s.noteFetch(err)
		s.putBack(k, ev)
		return transient(fmt.Errorf("receipt of %s: fetch %s: %w", rel, s.cfg.Branch, err))
	}
	st, err := s.branch()
	if err != nil {
		s.putBack(k, ev)
		return transient(fmt.Errorf("receipt of %s: %w", rel, err))
	}
	if !st.policy.GatesEnvironment(ds.Environment) {
		s.metrics.Inc(mReceipts, "result", "skipped")
		s.log.Info("deployment receipt not recorded: the policy does not gate this environment", logAttrs...)
		return nil
	}
	arts, err := deployArtifacts(dep.Payload)
	if err != nil {
		s.metrics.Inc(mReceipts, "result", "error")
		s.log.Error("deployment receipt not recorded", append(logAttrs, "err", err)...)
		return nil
	}
	s.mu.Lock()
	pending, unlogged := s.unlogged[dep.ID]
	s.mu.Unlock()
	if len(arts) == 0 && unlogged {
		arts = pending.Decision.Artifacts
	} else if len(arts) == 0 && dep.ID > 0 {
		// What the gate allowed for this deployment, from the deployment log.
		err := s.mirror.Do(func(r *gitrepo.Repo) error {
			tree, err := r.TreeAt(st.commit, s.cfg.Prefix)
			if err != nil {
				return err
			}
			arts, _, err = writeback.AllowedArtifacts(tree, rel, dep.ID)
			return err
		})
		if err != nil {
			s.log.Warn("deployment log unreadable; the receipt names no artifact", append(logAttrs, "err", err)...)
		}
	}
	outcome := document.OutcomeSucceeded
	if ds.State != "success" {
		outcome = document.OutcomeFailed
	}
	rc := writeback.Receipt{Release: rel, Environment: ds.Environment, Outcome: outcome, Deployed: arts,
		StartedAt: dep.CreatedAt, FinishedAt: ds.CreatedAt, Source: document.ReceiptGitHubDeployment, Run: ds.TargetURL, DeploymentID: dep.ID}
	if rc.FinishedAt.IsZero() {
		rc.FinishedAt = s.cfg.Clock()
	}
	if rc.StartedAt.IsZero() || rc.StartedAt.After(rc.FinishedAt) {
		rc.StartedAt = rc.FinishedAt
	}
	logAttrs = append(logAttrs, "outcome", outcome, "artifacts", len(arts))
	if s.cfg.ReadOnly {
		s.metrics.Inc(mReceipts, "result", "read-only")
		s.log.Info("read-only: the deployment receipt is not written to the branch", logAttrs...)
		return nil
	}
	dr, ok := s.cfg.Writer.(DeploymentRecorder)
	if !ok {
		s.metrics.Inc(mReceipts, "result", "skipped")
		s.log.Warn("no write-back records deployments: the receipt is only in this log", logAttrs...)
		return nil
	}
	if unlogged {
		// The gate allowed this deployment but its log entry was lost: the
		// receipt would read as never allowed (deployed-as-allowed).
		if err := dr.RecordDecision(ctx, s.cfg.Branch, pending); err != nil {
			s.putBack(k, ev)
			return transient(fmt.Errorf("receipt of %s: write its allowed decision first: %w", rel, err))
		}
		s.mu.Lock()
		delete(s.unlogged, dep.ID)
		s.mu.Unlock()
		s.log.Info("deployment decision written before its receipt", append(logAttrs, "key", pending.Key)...)
	}
	switch err := dr.RecordReceipt(ctx, s.cfg.Branch, rc); {
	case errors.Is(err, writeback.ErrRecordExists):
		s.metrics.Inc(mReceipts, "result", "refused")
		s.log.Warn("deployment receipt not recorded: the release already has a different deployment record", append(logAttrs, "err", err)...)
		return nil
	case errors.Is(err, writeback.ErrInvalidReceipt):
		// Retrying cannot make it valid.
		s.metrics.Inc(mReceipts, "result", "refused")
		s.log.Error("deployment receipt not recorded: it cannot be written as a deployment record", append(logAttrs, "err", err)...)
		return nil
	case err != nil:
		s.metrics.Inc(mReceipts, "result", "error")
		s.putBack(k, ev)
		return transient(fmt.Errorf("receipt of %s: %w", rel, err))
	}
	s.metrics.Inc(mReceipts, "result", "recorded")
	s.log.Info("deployment receipt recorded (a replay of one already there writes nothing)", logAttrs...)
	return nil
}
