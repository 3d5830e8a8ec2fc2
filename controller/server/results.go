// This file publishes results on GitHub. It decides nothing about releases:
// it takes the outcome of each pull request's evaluation and makes GitHub
// show it, with three rules that keep a stale or borrowed green away:
//
//   - What is posted for a head commit and base branch is the strictest
//     result of every open pull request with that head and base: branch
//     protection sees one name (relgate/<base>) per commit, so two pull
//     requests of different authors must not lend each other a success.
//   - One check run per (head, base, pull request): created once, updated
//     while it is in progress, and replaced by a new run only when a
//     completed result changes (GitHub does not reopen a completed run).
//   - Check runs or commit statuses are chosen at start from the
//     credentials and never switched by an error; an error is retried.

package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/relgate/relgate/controller/ghapi"
)

// subject is what a posted result is about: a head commit checked against a
// base branch.
type subject struct{ head, base string }

// prResult is the last result of one open pull request for a subject.
type prResult struct {
	pr      ghapi.PullRequest
	out     outcome
	title   string
	summary string
	anns    []ghapi.Annotation
	// missing lists every item the pull request waits for, for the status
	// description and the result page.
	missing []string
	// releases are the releases the change touches and lang the language
	// of its pages, for the link to the dashboard.
	releases []string
	lang     string
	at       time.Time
}

// runKey names one check run.
type runKey struct {
	sub subject
	pr  int
}

// runState is what GitHub holds for a check run relgate made.
type runState struct {
	id         int64
	completed  bool
	conclusion string
	title      string
	sum        uint64 // of the summary, when this process posted it
}

// maxSubjects bounds the results remembered for the result pages.
const maxSubjects = 2000

// maxGroup bounds the pull requests sharing one head that one evaluation
// takes into account; more are an error (posted as such), not a success.
const maxGroup = 20

// results holds what was published; guarded by Server.mu.
type results struct {
	bySubject map[subject]map[int]prResult
	order     []subject
	runs      map[runKey]runState
	statuses  map[subject]ghapi.Status
	hints     map[int]subject
}

func newResults() *results {
	return &results{bySubject: map[subject]map[int]prResult{}, runs: map[runKey]runState{},
		statuses: map[subject]ghapi.Status{}, hints: map[int]subject{}}
}

// setHint remembers the head and base an event named for a pull request, so
// that a result can be withdrawn even when GitHub cannot be asked.
func (s *Server) setHint(n int, sub subject) {
	if n <= 0 || sub.head == "" || sub.base == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.res.hints) >= 10*maxSubjects {
		clear(s.res.hints)
	}
	s.res.hints[n] = sub
}

// subjectsOf lists the subjects pull request n may have a result on: the
// one its latest event named and those it was evaluated on.
func (s *Server) subjectsOf(n int) []subject {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []subject
	if sub, ok := s.res.hints[n]; ok {
		out = append(out, sub)
	}
	for sub, m := range s.res.bySubject {
		if r, ok := m[n]; ok && r.out != outcomePending && !slices.Contains(out, sub) {
			out = append(out, sub)
		}
	}
	return out
}

// store records results for a subject, replacing those of the same pull requests.
func (s *Server) store(sub subject, rs []prResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.res.bySubject[sub]
	if !ok {
		m = map[int]prResult{}
		s.res.bySubject[sub] = m
		s.res.order = append(s.res.order, sub)
		for len(s.res.order) > maxSubjects {
			old := s.res.order[0]
			s.res.order = s.res.order[1:]
			delete(s.res.bySubject, old)
			delete(s.res.statuses, old)
			for k := range s.res.runs {
				if k.sub == old {
					delete(s.res.runs, k)
				}
			}
		}
	}
	for _, r := range rs {
		m[r.pr.Number] = r
	}
}

// keepOnly drops the results of pull requests that no longer share the subject.
func (s *Server) keepOnly(sub subject, numbers []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range s.res.bySubject[sub] {
		if !slices.Contains(numbers, n) {
			delete(s.res.bySubject[sub], n)
		}
	}
}

// group returns the results of a subject, by pull request number.
func (s *Server) group(sub subject) []prResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []prResult
	for _, r := range s.res.bySubject[sub] {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b prResult) int { return a.pr.Number - b.pr.Number })
	return out
}

// severity orders outcomes: the strictest is shown.
func severity(o outcome) int {
	switch o {
	case outcomePassed:
		return 0
	case outcomePending:
		return 1
	case outcomeError:
		return 2
	}
	return 3 // blocked
}

// strictest is the result that stands for the whole group.
func strictest(rs []prResult) prResult {
	worst := rs[0]
	for _, r := range rs[1:] {
		if severity(r.out) > severity(worst.out) {
			worst = r
		}
	}
	return worst
}

// lockSubject serialises the evaluations and posts of one subject. The
// locks are striped (a fixed number, whatever the subjects), and nobody
// holds two at once.
func (s *Server) lockSubject(sub subject) (unlock func()) {
	h := fnv.New32a()
	h.Write([]byte(sub.head + "\x00" + sub.base))
	mu := &s.subjectLocks[h.Sum32()%uint32(len(s.subjectLocks))]
	mu.Lock()
	var once sync.Once
	return func() { once.Do(mu.Unlock) }
}

// members are the open pull requests with pr's head and base: those the
// open pull requests into the base list, pr itself, and any pull request
// known to share the subject that the list left out, read again (GitHub's
// lists lag); one that cannot be read stays in as pending.
func (s *Server) members(ctx context.Context, pr ghapi.PullRequest) ([]ghapi.PullRequest, error) {
	open, err := s.cfg.GitHub.ListOpenPulls(ctx, s.cfg.Repo, pr.BaseRef)
	if err != nil {
		return nil, err
	}
	group := []ghapi.PullRequest{pr}
	has := map[int]bool{pr.Number: true}
	for _, m := range open {
		if !has[m.Number] && m.BaseRef == pr.BaseRef && m.HeadSHA == pr.HeadSHA {
			group, has[m.Number] = append(group, m), true
		}
	}
	for _, known := range s.group(subject{pr.HeadSHA, pr.BaseRef}) {
		if has[known.pr.Number] {
			continue
		}
		m, err := s.cfg.GitHub.GetPull(ctx, s.cfg.Repo, known.pr.Number)
		switch {
		case errors.Is(err, ghapi.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		case m.State == "open" && m.HeadSHA == pr.HeadSHA && m.BaseRef == pr.BaseRef:
			group, has[m.Number] = append(group, m), true
		}
	}
	slices.SortFunc(group, func(a, b ghapi.PullRequest) int { return a.Number - b.Number })
	return group, nil
}

// leaveOtherBases withdraws pull request pr from the subjects of its head
// with another base (it was retargeted): what it showed there must not stay
// green under relgate/<old base>.
func (s *Server) leaveOtherBases(ctx context.Context, pr ghapi.PullRequest) error {
	s.mu.Lock()
	var old []subject
	for sub, m := range s.res.bySubject {
		if _, ok := m[pr.Number]; ok && sub.head == pr.HeadSHA && sub.base != pr.BaseRef {
			old = append(old, sub)
		}
	}
	s.mu.Unlock()
	var errs []error
	for _, sub := range old {
		unlock := s.lockSubject(sub)
		why := fmt.Sprintf("pull request #%d no longer targets %s / 拉取请求 #%d 已不再以 %s 为目标分支", pr.Number, sub.base, pr.Number, sub.base)
		gone := pr
		gone.BaseRef = sub.base
		s.store(sub, []prResult{{pr: gone, out: outcomeBlocked, title: "blocked: " + why, at: s.cfg.Clock(),
			summary: "## relgate: ⛔ " + why + "\n\nrelgate evaluates a pull request against the branch it targets; this result stands until it targets " + sub.base + " again. / relgate 按拉取请求的目标分支评估；在它重新以 " + sub.base + " 为目标之前，此结果保持不变。\n"}})
		if err := s.publish(ctx, sub); err != nil {
			errs = append(errs, err)
		}
		s.mu.Lock()
		delete(s.res.bySubject[sub], pr.Number)
		s.mu.Unlock()
		unlock()
	}
	return errors.Join(errs...)
}

// markPending withdraws whatever stands on a subject: pull request n could
// not be evaluated, so nothing on its head may stay green.
func (s *Server) markPending(ctx context.Context, sub subject, pr ghapi.PullRequest, why string) error {
	unlock := s.lockSubject(sub)
	defer unlock()
	return s.markPendingLocked(ctx, sub, pr, why)
}

// markPendingLocked is markPending for a caller that holds the subject's lock.
func (s *Server) markPendingLocked(ctx context.Context, sub subject, pr ghapi.PullRequest, why string) error {
	if pr.HeadSHA == "" {
		pr.HeadSHA, pr.BaseRef = sub.head, sub.base
	}
	s.store(sub, []prResult{pendingResult(pr, why, s.cfg.Clock())})
	return s.publish(ctx, sub)
}

func pendingResult(pr ghapi.PullRequest, why string, at time.Time) prResult {
	return prResult{pr: pr, out: outcomePending, title: "pending: " + why,
		summary: "## relgate: ⏳ pending / 等待中\n\n" + why + "\n\nNothing on this commit counts as passed until relgate has evaluated it. / 在 relgate 完成评估之前，此提交不视为通过。\n", at: at}
}

// publish posts a subject's strictest result on every pull request of the
// group (check runs) or once on the commit (statuses).
func (s *Server) publish(ctx context.Context, sub subject) error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	rs := s.group(sub)
	if len(rs) == 0 {
		return nil
	}
	worst := strictest(rs)
	if !s.cfg.CheckRuns {
		return s.postStatus(ctx, sub, worst, rs)
	}
	var errs []error
	for _, r := range rs {
		title, summary := r.title, r.summary
		out := r.out
		if worst.pr.Number != r.pr.Number && severity(worst.out) > severity(r.out) {
			out = worst.out
			title = fmt.Sprintf("%s (shown for pull request #%d by %s, which shares this commit)", worst.title, worst.pr.Number, worst.pr.Author)
		}
		if len(rs) > 1 {
			summary += groupTable(rs)
		}
		if err := s.upsertRun(ctx, runKey{sub, r.pr.Number}, out, title, summary, r.anns, s.detailsURL(sub, []prResult{r})); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// groupTable explains a shared head commit.
func groupTable(rs []prResult) string {
	var b strings.Builder
	b.WriteString("\n### Pull requests with this head commit / 共用此提交的拉取请求\n\n| pull request | author | result |\n|---|---|---|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| #%d | %s | %s |\n", r.pr.Number, r.pr.Author, strings.ReplaceAll(r.title, "|", `\|`))
	}
	b.WriteString("\nGitHub shows one relgate result per commit and base branch, so every pull request of this commit shows the strictest of them: one author's approvals cannot pass another author's change. / GitHub 对每个提交和目标分支只显示一个 relgate 结果，因此共用此提交的拉取请求都显示其中最严格的结果：一位作者获得的审批不能让另一位作者的变更通过。\n")
	return b.String()
}

func sum64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// upsertRun makes GitHub's check run for key show a result.
func (s *Server) upsertRun(ctx context.Context, key runKey, out outcome, title, summary string, anns []ghapi.Annotation, details string) error {
	name := "relgate/" + key.sub.base
	run := ghapi.CheckRun{Name: name, HeadSHA: key.sub.head, Title: title, Summary: summary, Annotations: anns,
		ExternalID: fmt.Sprintf("pr-%d", key.pr), DetailsURL: details, CompletedAt: s.cfg.Clock()}
	switch out {
	case outcomePassed:
		run.Status, run.Conclusion = "completed", "success"
	case outcomeBlocked, outcomeError:
		run.Status, run.Conclusion = "completed", "failure"
	default:
		run.Status = "in_progress"
	}
	s.mu.Lock()
	st, known := s.res.runs[key]
	s.mu.Unlock()
	if !known {
		// After a restart: find the run this server made before, so an
		// in-progress one is completed rather than left behind.
		runs, err := s.cfg.GitHub.ListCheckRuns(ctx, s.cfg.Repo, key.sub.head, name)
		if err != nil {
			s.metrics.Inc(mAPIErrors, "op", "list-check-runs")
			return transient(err)
		}
		for _, r := range runs {
			if r.ExternalID == run.ExternalID {
				st, known = runState{id: r.ID, completed: r.Status == "completed", conclusion: r.Conclusion, title: r.Title}, true
				break
			}
		}
	}
	sum := sum64(summary)
	switch {
	case known && st.completed && run.Conclusion == st.conclusion && title == st.title && (st.sum == 0 || st.sum == sum):
		return nil // GitHub already shows exactly this
	case known && !st.completed:
		if err := s.cfg.GitHub.UpdateCheckRun(ctx, s.cfg.Repo, st.id, run); err != nil {
			s.metrics.Inc(mAPIErrors, "op", "update-check-run")
			if errors.Is(err, ghapi.ErrNotFound) {
				s.forgetRun(key) // deleted on GitHub's side: the retry creates a new one
			}
			return transient(err)
		}
	default:
		id, err := s.cfg.GitHub.CreateCheckRun(ctx, s.cfg.Repo, run)
		if err != nil {
			s.metrics.Inc(mAPIErrors, "op", "create-check-run")
			if errors.Is(err, ghapi.ErrForbidden) {
				s.log.Error("GitHub refused to create a check run: the App needs the checks: write permission (relgate keeps posting check runs and retries)", "err", err)
			}
			return transient(err)
		}
		st.id = id
	}
	s.mu.Lock()
	s.res.runs[key] = runState{id: st.id, completed: run.Status == "completed", conclusion: run.Conclusion, title: title, sum: sum}
	s.mu.Unlock()
	s.metrics.Inc(mPosts, "kind", "check-run", "state", string(out))
	return nil
}

func (s *Server) forgetRun(key runKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.res.runs, key)
}

// postStatus sets the commit status of a subject to the group's strictest result.
func (s *Server) postStatus(ctx context.Context, sub subject, worst prResult, rs []prResult) error {
	st := ghapi.Status{Context: "relgate/" + sub.base, Description: describe(worst, len(rs)), TargetURL: s.detailsURL(sub, rs)}
	switch worst.out {
	case outcomePassed:
		st.State = "success"
	case outcomeBlocked:
		st.State = "failure"
	case outcomeError:
		st.State = "error"
	default:
		st.State = "pending"
	}
	s.mu.Lock()
	last, ok := s.res.statuses[sub]
	s.mu.Unlock()
	if ok && last == st {
		return nil
	}
	if err := s.cfg.GitHub.CreateStatus(ctx, s.cfg.Repo, sub.head, st); err != nil {
		s.metrics.Inc(mAPIErrors, "op", "create-status")
		return transient(err)
	}
	s.mu.Lock()
	s.res.statuses[sub] = st
	s.mu.Unlock()
	s.metrics.Inc(mPosts, "kind", "status", "state", st.State)
	return nil
}

// describe fits as much of the reason as a status description holds
// (ghapi cuts it at GitHub's 140 characters).
func describe(r prResult, group int) string {
	d := r.title
	if len(r.missing) > 0 {
		// A rejection first: only its author can lift it.
		m := slices.Clone(r.missing)
		slices.SortStableFunc(m, func(a, b string) int {
			ra, rb := strings.Contains(a, "rejected by "), strings.Contains(b, "rejected by ")
			switch {
			case ra && !rb:
				return -1
			case rb && !ra:
				return 1
			}
			return 0
		})
		d = fmt.Sprintf("blocked (%d): %s", len(m), strings.Join(m, "; "))
	}
	if group > 1 && r.out != outcomePassed {
		d = fmt.Sprintf("#%d: %s", r.pr.Number, d)
	}
	return d
}

// resultToken authenticates a result page link: only those shown the
// status or check run (people with read access to the repository) get it.
func (s *Server) resultToken(sub subject) string {
	mac := hmac.New(sha256.New, s.cfg.Secret)
	fmt.Fprintf(mac, "relgate result\x00%s\x00%s\x00%s", s.cfg.Repo.String(), sub.head, sub.base)
	return hex.EncodeToString(mac.Sum(nil))[:32]
}

// detailsURL is where a check run or status for rs links: the release's
// dashboard page when the dashboard is on and they touch exactly one
// release, else the result page.
func (s *Server) detailsURL(sub subject, rs []prResult) string {
	if u := s.dashboardLink(rs); u != "" {
		return u
	}
	return s.resultURL(sub)
}

// resultURL is the page of a subject's result, or "" without a public URL.
func (s *Server) resultURL(sub subject) string {
	if s.cfg.PublicURL == "" {
		return ""
	}
	q := url.Values{"head": {sub.head}, "base": {sub.base}, "t": {s.resultToken(sub)}}
	return strings.TrimSuffix(s.cfg.PublicURL, "/") + "/result?" + q.Encode()
}
