// This file gathers what a pull request's evaluation needs from GitHub and the
// mirror (reviews as forge votes, base and head), asks engine.EvaluateChange —
// the one evaluation every command shares — and posts the result. It decides
// nothing itself.

package server

import (
	"context"
	"errors"
	"fmt"
	"path"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/present"
	"github.com/relgate/relgate/controller/source"
)

type (
	gateVote   = gate.Vote
	gateResult = gate.Result
)

func (v forgeVote) gateVote() gate.Vote {
	return gate.Vote{Person: v.Person, Role: v.Role, Decision: v.Decision, Digest: v.Digest,
		At: v.At.UTC().Format(time.RFC3339), Comment: fmt.Sprintf("GitHub review %d on %s", v.ReviewID, shortSHA(v.Commit)),
		Release: v.Release, AuthVia: "forge"}
}

// transientError marks a failure worth retrying: GitHub or the git remote
// did not answer. The result posted meanwhile is pending.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

func isTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

// evalMemo remembers the base a pull request's head was last evaluated
// against, so a merge records the approvals of exactly that evaluation.
type evalMemo struct {
	head string
	base plumbing.Hash
}

// evalResult is one evaluation of a pull request.
type evalResult struct {
	report *evaluate.GateReport
	base   plumbing.Hash
	votes  []forgeVote
	notes  []reviewNote
}

func (s *Server) work(ctx context.Context) {
	for {
		k, ok := s.queue.pop()
		if !ok {
			return
		}
		s.do(ctx, k)
		s.queue.done(k)
	}
}

func (s *Server) do(ctx context.Context, k workKey) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
				s.log.Error("work panicked", "kind", k.kind, "pr", k.n, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if k.kind == kindPull {
					// Whatever stood before the failed evaluation must not stay green.
					for _, sub := range s.subjectsOf(k.n) {
						if perr := s.markPending(ctx, sub, ghapi.PullRequest{Number: k.n}, "relgate failed while evaluating this pull request (its log says why) / relgate 评估此拉取请求时出错（见其日志）"); perr != nil {
							s.log.Error("posting pending failed", "pr", k.n, "err", perr)
						}
					}
				}
			}
		}()
		switch k.kind {
		case kindPull:
			err = s.evaluatePull(ctx, k.n)
		case kindMerged:
			err = s.recordMerge(ctx, k.n)
		case kindPush:
			err = s.onPush(ctx)
		case kindResync:
			err = s.resync(ctx)
		case kindDeploy:
			err = s.reviewDeployment(ctx, k)
		case kindReceipt:
			err = s.recordReceipt(ctx, k)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	if k.kind == kindMerged && err == nil {
		delete(s.pendingMerges, k.n)
	}
	if err == nil || !isTransient(err) || ctx.Err() != nil && s.stopping.Load() {
		delete(s.retries, k)
		if err != nil {
			delete(s.deployEvents, k) // given up: the event must not hold a place
			s.log.Error("work failed", "kind", k.kind, "pr", k.n, "err", err)
		}
		return
	}
	i := s.retries[k]
	if i >= len(s.cfg.RetryDelays) {
		delete(s.retries, k)
		delete(s.deployEvents, k) // given up: the event must not hold a place
		if k.kind == kindMerged {
			s.pendingMerges[k.n] = true
		}
		s.log.Error("work failed; the resync job will try again", "kind", k.kind, "pr", k.n, "err", err)
		return
	}
	s.retries[k] = i + 1
	s.log.Warn("work failed; retrying", "kind", k.kind, "pr", k.n, "err", err, "retry_in", s.cfg.RetryDelays[i])
	time.AfterFunc(s.cfg.RetryDelays[i], func() {
		if !s.stopping.Load() {
			s.queue.push(k)
		}
	})
}

// evaluatePull evaluates an open pull request as it is now, together with
// every other open pull request that shares its head and base, and
// publishes the strictest result on that head.
func (s *Server) evaluatePull(ctx context.Context, n int) error {
	gh := s.cfg.GitHub
	if gh == nil {
		return nil
	}
	pr, err := gh.GetPull(ctx, s.cfg.Repo, n)
	if err != nil {
		s.metrics.Inc(mAPIErrors, "op", "get-pull")
		// Whatever stands on the head the event named, and on the head
		// last evaluated, is withdrawn at once, not after the retries.
		why := fmt.Sprintf("relgate could not read pull request #%d from GitHub; it will try again / relgate 无法从 GitHub 读取拉取请求 #%d，稍后重试", n, n)
		for _, sub := range s.subjectsOf(n) {
			if perr := s.markPending(ctx, sub, ghapi.PullRequest{Number: n}, why); perr != nil {
				s.log.Error("posting pending failed", "pr", n, "head", sub.head, "err", perr)
			}
		}
		return transient(err)
	}
	if pr.State != "open" {
		s.syncReviewers(ctx, pr, nil, nil) // reviewers.go: relgate's requests withdrawn
		return nil
	}
	sub := subject{head: pr.HeadSHA, base: pr.BaseRef}
	s.setHint(n, sub)
	// One evaluation of a subject at a time: a slow one must not publish
	// over a newer one's result (reviews read earlier, posted later).
	unlock := s.lockSubject(sub)
	defer unlock()
	group, err := s.members(ctx, pr)
	if err != nil {
		s.metrics.Inc(mAPIErrors, "op", "list-pulls")
		why := "relgate could not list the pull requests of this commit; it will try again / relgate 无法列出此提交的拉取请求，稍后重试"
		if perr := s.markPendingLocked(ctx, sub, pr, why); perr != nil {
			s.log.Error("posting pending failed", "pr", n, "err", perr)
		}
		return transient(err)
	}
	var numbers []int
	var rs []prResult
	var errs []error
	for i, m := range group {
		numbers = append(numbers, m.Number)
		if i >= maxGroup {
			rs = append(rs, prResult{pr: m, out: outcomeError, at: s.cfg.Clock(),
				title:   fmt.Sprintf("more than %d open pull requests share this commit; relgate does not evaluate them all", maxGroup),
				summary: fmt.Sprintf("## relgate: ⛔ not evaluated\n\nMore than %d open pull requests share this head commit. Close the duplicates. / 超过 %d 个拉取请求共用此提交，请关闭重复的拉取请求。\n", maxGroup, maxGroup)})
			continue
		}
		r, err := s.evaluateOne(ctx, m)
		rs = append(rs, r)
		if err != nil {
			errs = append(errs, err)
		}
	}
	s.keepOnly(sub, numbers)
	s.store(sub, rs)
	if err := s.publish(ctx, sub); err != nil {
		errs = append(errs, err)
	}
	unlock()
	if err := s.leaveOtherBases(ctx, pr); err != nil {
		errs = append(errs, err)
	}
	for _, err := range errs {
		if isTransient(err) {
			return transient(errors.Join(errs...))
		}
	}
	return errors.Join(errs...)
}

// evaluateOne evaluates one open pull request. A failure gives a pending
// (transient) or error result and the error; never a success.
func (s *Server) evaluateOne(ctx context.Context, pr ghapi.PullRequest) (prResult, error) {
	defer func(t0 time.Time) { s.metrics.Observe(mEvalSeconds, time.Since(t0).Seconds()) }(time.Now())
	n := pr.Number
	now := s.cfg.Clock()
	reviews, err := reviewsOf(ctx, s.cfg.GitHub, s.cfg.Repo, n)
	if err != nil {
		s.metrics.Inc(mAPIErrors, "op", "list-reviews")
		s.metrics.Inc(mEvaluations, "result", string(outcomePending))
		return pendingResult(pr, "relgate could not read the reviews from GitHub; it will try again / relgate 无法从 GitHub 读取评审，稍后重试", now), transient(err)
	}
	var res *evalResult
	err = s.mirror.Do(func(r *gitrepo.Repo) error {
		err := s.mirror.fetch(ctx, r, []string{pr.BaseRef}, []int{pr.Number})
		s.noteFetch(err)
		if err != nil {
			return transient(err)
		}
		ref, err := r.Git.Reference(BranchRef(pr.BaseRef), true)
		if err != nil {
			return fmt.Errorf("base branch %s: %w", pr.BaseRef, err)
		}
		head := plumbing.NewHash(pr.HeadSHA)
		if _, err := r.Git.CommitObject(head); err != nil {
			return transient(fmt.Errorf("head commit %s of #%d is not in the mirror yet: %w", shortSHA(pr.HeadSHA), n, err))
		}
		res, err = s.evaluateAt(r, ref.Hash(), head, pr, reviews)
		return err
	})
	switch {
	case isTransient(err):
		s.metrics.Inc(mEvaluations, "result", string(outcomePending))
		s.log.Warn("evaluation pending", "pr", n, "head", pr.HeadSHA, "err", err)
		return pendingResult(pr, "relgate could not fetch the change yet; it will try again / relgate 尚未取得此变更，稍后重试", now), err
	case err != nil:
		s.metrics.Inc(mEvaluations, "result", string(outcomeError))
		s.log.Error("evaluation failed", "pr", n, "head", pr.HeadSHA, "err", err)
		return prResult{pr: pr, out: outcomeError, at: now, title: "relgate could not evaluate this change / relgate 无法评估此变更",
			summary: "## relgate: ⛔ could not evaluate / 无法评估\n\n" + err.Error() +
				"\n\nFix the cause (usually the base branch's relgate.yaml), then push or re-run the check. / 请修正原因（通常是目标分支的 relgate.yaml），然后推送或重新运行检查。\n"}, err
	}
	s.mu.Lock()
	s.lastEval[n] = evalMemo{head: pr.HeadSHA, base: res.base}
	s.mu.Unlock()
	out := outcomeBlocked
	if res.report.Passed {
		out = outcomePassed
	}
	s.metrics.Inc(mEvaluations, "result", string(out))
	s.log.Info("evaluated", "pr", n, "head", pr.HeadSHA, "base", pr.BaseRef, "passed", res.report.Passed, "reviews", len(reviews))
	s.syncReviewers(ctx, pr, res.report, reviews) // reviewers.go
	return prResult{pr: pr, out: out, at: now, title: title(res.report), summary: s.summary(res), anns: s.annotations(res.report),
		missing: missingItems(res.report), releases: releaseIDs(res.report),
		lang: string(i18n.SelectEnv(s.cfg.Lang, res.report.Language, func(string) string { return "" }))}, nil
}

// releaseIDs are the releases a change touches (a check run links the
// release's page when there is one).
func releaseIDs(rep *evaluate.GateReport) []string {
	var out []string
	for _, r := range rep.Releases {
		out = append(out, r.Release)
	}
	return out
}

// missingItems lists everything a blocked change waits for, in the order
// the summary shows them.
func missingItems(rep *evaluate.GateReport) []string {
	if rep.Passed {
		return nil
	}
	var out []string
	out = append(out, rep.Problems...)
	if rep.Policy != nil && !rep.Policy.Passed {
		for _, m := range rep.Policy.Missing() {
			out = append(out, "relgate.yaml policy-change: "+m)
		}
	}
	for _, g := range rep.Repository {
		if !g.Passed {
			for _, m := range g.Missing() {
				out = append(out, g.Gate+": "+m)
			}
		}
	}
	for _, r := range rep.Releases {
		for _, p := range r.Problems {
			out = append(out, r.Release+": "+p)
		}
		for _, g := range r.Gates {
			if g.Passed {
				continue
			}
			m := g.Missing()
			if len(m) == 0 {
				out = append(out, r.Release+" "+g.Gate)
			}
			for _, x := range m {
				out = append(out, r.Release+" "+g.Gate+": "+x)
			}
		}
	}
	return out
}

// evaluateAt evaluates base..head with the reviews as forge votes. The
// caller holds the mirror lock.
func (s *Server) evaluateAt(r *gitrepo.Repo, base, head plumbing.Hash, pr ghapi.PullRequest, reviews []ghapi.Review) (*evalResult, error) {
	prefix := s.cfg.Prefix
	baseTree, err := r.TreeAt(base, prefix)
	if err != nil {
		return nil, err
	}
	baseSnap, err := loader.LoadReleases(baseTree, nil)
	if err != nil {
		return nil, err
	}
	if baseSnap.Policy == nil {
		return nil, fmt.Errorf("the base branch %s has no valid %s at %s; fix the protected branch first", pr.BaseRef, document.PolicyPath, baseTree.Name())
	}
	pol, err := policy.New(baseSnap.Policy)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", document.PolicyPath, err)
	}
	changed, err := r.ChangedPaths(base, head, prefix)
	if err != nil {
		return nil, err
	}
	if err := boundChange(r, head, prefix, changed); err != nil {
		return nil, err
	}
	touched := evaluate.TouchedReleases(changed)
	trees := map[string]source.Tree{}
	digestAt := func(commit, release string, g policy.Gate) (string, error) {
		t, ok := trees[commit]
		if !ok {
			h := plumbing.NewHash(commit)
			if len(commit) != 40 || h.String() != strings.ToLower(commit) {
				return "", fmt.Errorf("commit id %q", commit)
			}
			tt, err := r.TreeAt(h, prefix)
			if err != nil {
				return "", err
			}
			t, trees[commit] = tt, tt
		}
		d, _, err := evaluate.Digest(t, release, g)
		return d, err
	}
	votes, notes := forgeVotes(pol, pr, reviews, touched, changed, digestAt)
	rep, err := engine.EvaluateChange(r, prefix, base, head, engine.ChangeOptions{Authors: []string{pr.Author}, Forge: byRelease(votes), Lang: s.cfg.Lang, MergeAt: s.cfg.Clock()})
	if err != nil {
		return nil, err
	}
	cv := counted(rep, votes)
	why := ignoredReasons(rep)
	for i := range notes {
		n := &notes[i]
		n.Counted = slices.ContainsFunc(cv, func(v forgeVote) bool { return v.ReviewID == n.ReviewID })
		if n.Voted && !n.Counted && n.Note == "" {
			n.Note = why[n.Login]
		}
	}
	return &evalResult{report: rep, base: base, votes: votes, notes: notes}, nil
}

// Bounds of one pull request's evaluation: it runs under the mirror's
// lock, so a change of gigabytes must not hold every other evaluation.
const (
	maxChangedFiles = 2000
	maxChangedBytes = 8 << 20
)

// boundChange refuses a change over the bounds before anything of it is
// read: sizes come from the object headers.
func boundChange(r *gitrepo.Repo, head plumbing.Hash, prefix string, changed []string) error {
	if len(changed) > maxChangedFiles {
		return fmt.Errorf("the change touches %d files; relgate evaluates at most %d in one pull request / 此变更涉及 %d 个文件，relgate 每个拉取请求最多评估 %d 个：请拆分", len(changed), maxChangedFiles, len(changed), maxChangedFiles)
	}
	t, err := r.TreeAt(head, prefix)
	if err != nil {
		return err
	}
	var total int64
	for _, p := range changed {
		e, err := t.Stat(p)
		if err != nil {
			continue // deleted, or not a regular file: nothing to read
		}
		n, err := r.Git.Storer.EncodedObjectSize(plumbing.Hash(e.ID))
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if total += n; total > maxChangedBytes {
			return fmt.Errorf("the change adds more than %d MiB of files; relgate evaluates at most that in one pull request / 此变更的文件超过 %d MiB，超出 relgate 单个拉取请求的评估上限：请拆分", maxChangedBytes>>20, maxChangedBytes>>20)
		}
	}
	return nil
}

// ignoredReasons says, per person, why a gate did not count their vote
// (the first gate that says so).
func ignoredReasons(rep *evaluate.GateReport) map[string]string {
	out := map[string]string{}
	add := func(where string, g gate.Result) {
		for _, ig := range g.Ignored {
			if _, seen := out[ig.Person]; !seen {
				out[ig.Person] = fmt.Sprintf("%s %s: %s: %s", where, g.Gate, ig.Reason, ig.Message)
			}
		}
		for _, j := range g.Rejections {
			if _, seen := out[j.Person]; !seen {
				out[j.Person] = fmt.Sprintf("%s %s: counts as a rejection", where, g.Gate)
			}
		}
	}
	if rep.Policy != nil {
		add("relgate.yaml", *rep.Policy)
	}
	for _, g := range rep.Repository {
		add("changes/", g)
	}
	for _, r := range rep.Releases {
		for _, g := range r.Gates {
			add(r.Release, g)
		}
	}
	return out
}

type outcome string

const (
	outcomePassed  outcome = "passed"
	outcomeBlocked outcome = "blocked"
	outcomeError   outcome = "error"
	outcomePending outcome = "pending"
)

// title is the one line GitHub shows: the verdict or the first thing missing.
func title(rep *evaluate.GateReport) string {
	if rep.Passed {
		n := len(rep.Releases)
		if rep.Policy != nil {
			n++
		}
		n += len(rep.Repository)
		return fmt.Sprintf("passed: every required gate of %d touched item(s) is satisfied", n)
	}
	for _, p := range rep.Problems {
		return "blocked: " + p
	}
	if rep.Policy != nil && !rep.Policy.Passed {
		if m := rep.Policy.Missing(); len(m) > 0 {
			return "blocked: relgate.yaml policy-change: " + firstMissing(m)
		}
	}
	for _, g := range rep.Repository {
		if m := g.Missing(); !g.Passed && len(m) > 0 {
			return "blocked: changes/ " + g.Gate + ": " + firstMissing(m)
		}
	}
	for _, r := range rep.Releases {
		for _, p := range r.Problems {
			return "blocked: " + r.Release + ": " + p
		}
		for _, g := range r.Gates {
			if !g.Passed {
				if m := g.Missing(); len(m) > 0 {
					return fmt.Sprintf("blocked: %s %s: %s", r.Release, g.Gate, firstMissing(m))
				}
				return fmt.Sprintf("blocked: %s %s", r.Release, g.Gate)
			}
		}
	}
	return "blocked"
}

// firstMissing picks the line to show first: a rejection, which only its
// author can lift, before what is merely missing.
func firstMissing(m []string) string {
	for _, x := range m {
		if strings.HasPrefix(x, "rejected by ") {
			return x
		}
	}
	return m[0]
}

// summary is the check run's Markdown: the gate report as `relgate gate
// --format markdown` writes it, and what became of each GitHub review.
func (s *Server) summary(res *evalResult) string {
	var b strings.Builder
	// The policy decides (or Config.Lang), never the server's locale.
	present.WriteGateMarkdownIn(&b, i18n.SelectEnv(s.cfg.Lang, res.report.Language, func(string) string { return "" }), res.report)
	if len(res.notes) > 0 {
		b.WriteString("### GitHub reviews\n\n| reviewer | review | state | counted | note |\n|---|---|---|---|---|\n")
		for _, n := range res.notes {
			counted := "no"
			if n.Counted {
				counted = "yes"
			}
			note := n.Note
			if note == "" && !n.Counted {
				note = "no gate this change requires needed it"
			}
			fmt.Fprintf(&b, "| %s | %d on `%s` | %s | %s | %s |\n", n.Login, n.ReviewID, shortSHA(n.Commit), n.State, counted,
				strings.ReplaceAll(note, "|", `\|`))
		}
		b.WriteString("\nA review counts for a reviewer's roles in the base policy only when it approves the documents as they are now (same digest), and never from the pull request's author or a bot.\n")
	}
	return b.String()
}

// annotations put validation findings and blocked gates on YAML lines.
func (s *Server) annotations(rep *evaluate.GateReport) []ghapi.Annotation {
	var out []ghapi.Annotation
	file := func(f string) string {
		if s.cfg.Prefix == "" || s.cfg.Prefix == "." {
			return f
		}
		return path.Join(s.cfg.Prefix, f)
	}
	for _, f := range rep.Findings {
		lvl := "warning"
		if f.Severity == finding.Error {
			lvl = "failure"
		}
		msg := f.Message
		if f.Field != "" {
			msg = f.Field + ": " + msg
		}
		t := "relgate " + f.Rule
		if f.Clause != "" {
			t += " " + f.Clause
		}
		out = append(out, ghapi.Annotation{Path: file(f.File), StartLine: max(f.Line, 1), EndLine: max(f.Line, 1), Level: lvl, Title: t, Message: msg})
	}
	for _, r := range rep.Releases {
		for _, g := range r.Gates {
			if g.Passed {
				continue
			}
			msg := strings.Join(g.Missing(), "\n")
			for _, ig := range g.Ignored {
				msg += fmt.Sprintf("\nnot counted: %s (%s): %s: %s", ig.Person, ig.Role, ig.Reason, ig.Message)
			}
			out = append(out, ghapi.Annotation{Path: file(document.ReleaseDir(r.Release) + "/release.yaml"), StartLine: 1, EndLine: 1,
				Level: "failure", Title: fmt.Sprintf("relgate gate %s (%s)", g.Gate, g.Clause), Message: strings.TrimSpace(msg)})
		}
	}
	if rep.Policy != nil && !rep.Policy.Passed {
		out = append(out, ghapi.Annotation{Path: file(document.PolicyPath), StartLine: 1, EndLine: 1, Level: "failure",
			Title: "relgate gate policy-change (R-7)", Message: strings.Join(rep.Policy.Missing(), "\n")})
	}

	if len(out) > ghapi.MaxAnnotations {
		out = out[:ghapi.MaxAnnotations]
	}
	return out
}

// recordMerge hands the approvals that gated a merged pull request to the
// write-back.
func (s *Server) recordMerge(ctx context.Context, n int) error {
	gh := s.cfg.GitHub
	if gh == nil {
		return nil
	}
	pr, err := gh.GetPull(ctx, s.cfg.Repo, n)
	if err != nil {
		s.metrics.Inc(mAPIErrors, "op", "get-pull")
		return transient(err)
	}
	if pr.State != "open" {
		s.syncReviewers(ctx, pr, nil, nil) // reviewers.go: relgate's requests withdrawn
	}
	if !pr.Merged {
		return nil
	}
	if pr.BaseRef != s.cfg.Branch {
		// Only the protected branch gets approval records and write-back.
		s.log.Info("merged into another branch; nothing recorded", "pr", n, "base", pr.BaseRef)
		return nil
	}
	reviews, err := reviewsOf(ctx, gh, s.cfg.Repo, n)
	if err != nil {
		s.metrics.Inc(mAPIErrors, "op", "list-reviews")
		return transient(err)
	}
	s.mu.Lock()
	memo, known := s.lastEval[n]
	s.mu.Unlock()
	var res *evalResult
	err = s.mirror.Do(func(r *gitrepo.Repo) error {
		err := s.mirror.fetch(ctx, r, []string{pr.BaseRef}, []int{pr.Number})
		s.noteFetch(err)
		if err != nil {
			return transient(err)
		}
		head := plumbing.NewHash(pr.HeadSHA)
		if _, err := r.Git.CommitObject(head); err != nil {
			return transient(fmt.Errorf("head commit %s of merged #%d: %w", shortSHA(pr.HeadSHA), n, err))
		}
		base := memo.base
		if !known || memo.head != pr.HeadSHA {
			// The merge commit's first parent is the branch as it was before the merge.
			mc, err := r.Git.CommitObject(plumbing.NewHash(pr.MergeCommitSHA))
			if err != nil || len(mc.ParentHashes) == 0 {
				return transient(fmt.Errorf("merge commit %s of #%d is not in the mirror: %v", shortSHA(pr.MergeCommitSHA), n, err))
			}
			base = mc.ParentHashes[0]
		}
		res, err = s.evaluateAt(r, base, head, pr, reviews)
		return err
	})
	if err != nil {
		return err
	}
	if !res.report.Passed {
		s.log.Warn("pull request merged while relgate blocked it", "pr", n, "head", pr.HeadSHA)
	}
	var records []ApprovalRecord
	for _, v := range counted(res.report, res.votes) {
		records = append(records, ApprovalRecord{Release: v.Release, Gate: v.Gate, Person: v.Person, Role: v.Role, Decision: v.Decision,
			Digest: v.Digest, ReviewID: v.ReviewID, ReviewedCommit: v.Commit, HeadCommit: pr.HeadSHA, Repository: s.cfg.Repo.String(),
			PullRequest: n, At: v.At})
	}
	s.mu.Lock()
	delete(s.lastEval, n)
	s.mu.Unlock()
	if len(records) == 0 {
		s.log.Info("merged; no GitHub review to record", "pr", n)
		return nil
	}
	if s.cfg.Writer == nil {
		s.log.Warn("merged; no write-back configured, approvals not recorded", "pr", n, "approvals", len(records))
		return nil
	}
	if err := s.cfg.Writer.RecordApprovals(ctx, pr.BaseRef, records); err != nil {
		s.metrics.Inc(mWriteback, "op", "record-approvals", "result", "error")
		return transient(fmt.Errorf("record %d approval(s) of #%d on %s: %w", len(records), n, pr.BaseRef, err))
	}
	s.metrics.Inc(mWriteback, "op", "record-approvals", "result", "ok")
	s.log.Info("approvals recorded", "pr", n, "approvals", len(records), "branch", pr.BaseRef)
	return nil
}

// onPush handles a push to the protected branch: fetch, reconcile, reload
// the schedule if the policy changed it, and re-evaluate every open pull
// request (a policy change can revoke approvals).
func (s *Server) onPush(ctx context.Context) error {
	err := s.mirror.Fetch(ctx, []string{s.cfg.Branch}, nil)
	s.noteFetch(err)
	if err != nil {
		return transient(err)
	}
	s.ready.Store(true)
	s.retryPendingMerges()
	if !s.cfg.DisableSchedule {
		if err := s.reloadSchedule(ctx); err != nil {
			s.log.Error("schedule not reloaded; the previous one stays", "err", err)
		}
	}
	var errs []error
	if s.cfg.Writer != nil {
		if err := s.cfg.Writer.Reconcile(ctx, s.cfg.Branch); err != nil {
			s.metrics.Inc(mWriteback, "op", "reconcile", "result", "error")
			errs = append(errs, fmt.Errorf("reconcile %s: %w", s.cfg.Branch, err))
		} else {
			s.metrics.Inc(mWriteback, "op", "reconcile", "result", "ok")
		}
	}
	if err := s.resync(ctx); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// resync queues every open pull request for evaluation.
func (s *Server) resync(ctx context.Context) error {
	if s.cfg.GitHub == nil {
		return nil
	}
	prs, err := s.cfg.GitHub.ListOpenPulls(ctx, s.cfg.Repo, "")
	if err != nil {
		s.metrics.Inc(mAPIErrors, "op", "list-pulls")
		return transient(err)
	}
	for _, pr := range prs {
		if !s.queue.push(workKey{kind: kindPull, n: pr.Number}) {
			s.metrics.Inc(mQueueDrops)
		}
	}
	s.retryPendingMerges()
	return nil
}

// retryPendingMerges queues the merged pull requests whose approvals are not recorded yet.
func (s *Server) retryPendingMerges() {
	s.mu.Lock()
	pending := make([]int, 0, len(s.pendingMerges))
	for n := range s.pendingMerges {
		pending = append(pending, n)
	}
	s.mu.Unlock()
	for _, n := range pending {
		if !s.queue.push(workKey{kind: kindMerged, n: n}) {
			s.metrics.Inc(mQueueDrops)
		}
	}
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
