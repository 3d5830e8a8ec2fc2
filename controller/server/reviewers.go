// This file asks, as GitHub's requested reviewers of a pull request, the
// people who may supply an approval the change still lacks, and withdraws
// the requests relgate made once they are no longer wanted (the gate passed,
// the pull request closed). Who may supply an approval is what the gate
// report says (gate.Requirement.Eligible: holders of the role in the base
// policy, the excluded ones removed); this file decides nothing about gates.
//
// Which requests are relgate's is read from GitHub itself — the pull
// request's timeline names who made each request — not from a record of
// relgate's own: every replica and every restart then agree, nothing has to
// be kept in step with GitHub, and a request a person made (or made again
// after relgate) is never taken for relgate's. A request whose maker
// relgate cannot read is not withdrawn.

package server

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/ghapi"
)

// reviewerAPI is what reviewer requests need of GitHub; the server's
// GitHub interface carries it, so its calls go through watchedGitHub.
type reviewerAPI interface {
	Self(ctx context.Context) (string, error)
	RequestedReviewers(ctx context.Context, r ghapi.Repo, n int) ([]string, error)
	ReviewRequests(ctx context.Context, r ghapi.Repo, n int) (map[string]ghapi.ReviewRequest, error)
	RequestReviewers(ctx context.Context, r ghapi.Repo, n int, logins []string) ([]ghapi.ReviewerRefusal, error)
	RemoveRequestedReviewers(ctx context.Context, r ghapi.Repo, n int, logins []string) error
}

var _ reviewerAPI = (*ghapi.Client)(nil)

// reviewerTimeout bounds one pull request's reviewer requests: they run
// before its result is posted, which they must not hold up for long.
const reviewerTimeout = 20 * time.Second

// reviewers is the GitHub client's reviewer requests (through the health
// wrapper, so /readyz shows their failures), nil when requests are off or
// there is no client.
func (s *Server) reviewers() reviewerAPI {
	if !s.cfg.RequestReviewers || s.cfg.GitHub == nil {
		return nil
	}
	return s.cfg.GitHub
}

// wantedReviewers are the people to ask for a change: for every gate the
// change needs that does not pass (the policy change, the repository gates,
// each touched release's required gates that are not withdrawn), the people
// who may still supply each missing approval, in the report's order; not
// the author, nor anyone in skip; at most ghapi.MaxRequestedReviewers.
func wantedReviewers(rep *evaluate.GateReport, author string, skip []string) []string {
	if rep == nil || rep.Passed {
		return nil
	}
	var out []string
	add := func(g gate.Result) {
		if g.Passed {
			return
		}
		for _, q := range g.Requirements {
			if q.Missing <= 0 {
				continue
			}
			for _, p := range q.Eligible {
				if strings.EqualFold(p, author) || containsFold(skip, p) || containsFold(out, p) {
					continue
				}
				out = append(out, p)
			}
		}
	}
	if rep.Policy != nil {
		add(*rep.Policy)
	}
	for _, g := range rep.Repository {
		add(g)
	}
	for _, r := range rep.Releases {
		for _, g := range r.Gates {
			if slices.Contains(r.Required, g.Gate) && !slices.Contains(r.Withdrawn, g.Gate) {
				add(g)
			}
		}
	}
	if len(out) > ghapi.MaxRequestedReviewers {
		out = out[:ghapi.MaxRequestedReviewers]
	}
	return out
}

func containsFold(s []string, x string) bool {
	return slices.ContainsFunc(s, func(v string) bool { return strings.EqualFold(v, x) })
}

// reviewedAt are the people who already reviewed head: asking them again
// would only repeat the question they answered. A review of an earlier
// commit does not count; the change moved since.
func reviewedAt(reviews []ghapi.Review, head string) []string {
	var out []string
	for _, rv := range reviews {
		if rv.CommitID == head && rv.State != "PENDING" && !containsFold(out, rv.Login) {
			out = append(out, rv.Login)
		}
	}
	return out
}

// syncReviewers brings pull request pr's review requests in line with its
// evaluation rep: it asks the wanted people not yet requested and
// withdraws relgate's requests of people no longer wanted. rep is nil for
// a pull request that closed (everything relgate asked is withdrawn). Only
// an evaluated pull request comes here, never an error or pending one. A
// failure is logged and counted and changes nothing else: the check is
// about the gate, not the requests.
func (s *Server) syncReviewers(ctx context.Context, pr ghapi.PullRequest, rep *evaluate.GateReport, reviews []ghapi.Review) {
	api := s.reviewers()
	if api == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, reviewerTimeout)
	defer cancel()
	n, repo := pr.Number, s.cfg.Repo
	fail := func(op string, err error) {
		s.metrics.Inc(mAPIErrors, "op", op)
		s.log.Warn("reviewer requests not updated", "pr", n, "op", op, "err", err)
	}
	self, err := api.Self(ctx)
	if err != nil {
		// Without knowing its own login relgate could not tell its requests
		// from people's later, so it makes none.
		fail("self", err)
		return
	}
	current, err := api.RequestedReviewers(ctx, repo, n)
	if err != nil {
		fail("list-requested-reviewers", err)
		return
	}
	var wanted []string
	if pr.State == "open" {
		wanted = wantedReviewers(rep, pr.Author, append(reviewedAt(reviews, pr.HeadSHA), self))
	}
	// Withdraw first, so the room under GitHub's limit is known.
	var unwanted []string
	for _, l := range current {
		if !containsFold(wanted, l) {
			unwanted = append(unwanted, l)
		}
	}
	removed := 0
	if len(unwanted) > 0 {
		byWho, err := api.ReviewRequests(ctx, repo, n)
		if err != nil {
			fail("list-review-requests", err)
		} else {
			var ours []string
			for _, l := range unwanted {
				if rq, ok := byWho[strings.ToLower(l)]; ok && strings.EqualFold(rq.Requester, self) {
					ours = append(ours, l)
				}
			}
			if len(ours) > 0 {
				if err := api.RemoveRequestedReviewers(ctx, repo, n, ours); err != nil {
					fail("remove-requested-reviewers", err)
				} else {
					removed = len(ours)
					s.log.Info("reviewer requests withdrawn", "pr", n, "reviewers", ours)
				}
			}
		}
	}
	if pr.State != "open" || pr.Draft {
		return // a draft is not ready for review: nobody new is asked
	}
	var ask []string
	for _, l := range wanted {
		if !containsFold(current, l) {
			ask = append(ask, l)
		}
	}
	room := ghapi.MaxRequestedReviewers - (len(current) - removed)
	if len(ask) > room {
		ask = ask[:max(room, 0)]
	}
	if len(ask) == 0 {
		return
	}
	refused, err := api.RequestReviewers(ctx, repo, n, ask)
	if err != nil {
		fail("request-reviewers", err)
		return
	}
	for _, r := range refused {
		// GitHub would not have them (not a collaborator, say): the policy
		// names someone the repository does not know.
		s.metrics.Inc(mAPIErrors, "op", "request-reviewer-refused")
		s.log.Warn("GitHub refused a reviewer request", "pr", n, "reviewer", r.Login, "reason", r.Message)
	}
	var asked []string
	for _, l := range ask {
		if !slices.ContainsFunc(refused, func(r ghapi.ReviewerRefusal) bool { return strings.EqualFold(r.Login, l) }) {
			asked = append(asked, l)
		}
	}
	if len(asked) > 0 {
		s.log.Info("reviewers requested", "pr", n, "reviewers", asked)
	}
}
