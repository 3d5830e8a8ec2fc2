package server

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/policy"
)

// Review states.
const (
	stateApproved         = "APPROVED"
	stateChangesRequested = "CHANGES_REQUESTED"
	stateDismissed        = "DISMISSED"
	stateCommented        = "COMMENTED"
)

// reviewNote says what became of one reviewer's review, for the summary.
type reviewNote struct {
	Login    string
	ReviewID int64
	State    string
	Commit   string
	// Voted is true when the review became votes; Counted once a gate counted one.
	Voted, Counted bool
	Note           string
}

// forgeVote is a vote built from a review, remembered with its origin.
type forgeVote struct {
	Release, Gate, Person, Role, Decision, Digest string
	ReviewID                                      int64
	Commit                                        string
	At                                            time.Time
}

// digestFunc computes the digest of a gate of a release at a commit.
type digestFunc func(commit, release string, g policy.Gate) (string, error)

// latestReviews keeps each reviewer's latest review that decides something:
// an approval, a change request or a dismissal. A comment leaves an earlier
// decision standing, as on GitHub; comments themselves never count.
func latestReviews(reviews []ghapi.Review) (latest []ghapi.Review, commentOnly []ghapi.Review) {
	rs := slices.Clone(reviews)
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].SubmittedAt.Equal(rs[j].SubmittedAt) {
			return rs[i].SubmittedAt.Before(rs[j].SubmittedAt)
		}
		return rs[i].ID < rs[j].ID
	})
	byLogin := map[string]ghapi.Review{}
	commented := map[string]ghapi.Review{}
	for _, r := range rs {
		key := strings.ToLower(r.Login)
		switch strings.ToUpper(r.State) {
		case stateApproved, stateChangesRequested, stateDismissed:
			byLogin[key] = r
		case stateCommented:
			commented[key] = r
		}
	}
	for k, r := range byLogin {
		latest = append(latest, r)
		delete(commented, k)
	}
	for _, r := range commented {
		commentOnly = append(commentOnly, r)
	}
	sortReviews := func(xs []ghapi.Review) {
		sort.Slice(xs, func(i, j int) bool { return strings.ToLower(xs[i].Login) < strings.ToLower(xs[j].Login) })
	}
	sortReviews(latest)
	sortReviews(commentOnly)
	return latest, commentOnly
}

// rolesFor are the roles whose holders may vote on a gate: its
// requirements, and the process approver for go-live approval (a window in a
// blackout period needs them, R-5.1.6).
func rolesFor(g policy.Gate) []string {
	var out []string
	for _, q := range g.Requires {
		if !slices.Contains(out, q.Role) {
			out = append(out, q.Role)
		}
	}
	if g.ID == policy.GateGoLiveApproval && !slices.Contains(out, policy.RoleProcessApprover) {
		out = append(out, policy.RoleProcessApprover)
	}
	return out
}

// forgeVotes turns a pull request's reviews into votes: for each reviewer's
// latest deciding review by a human who is not the pull request's author
// and is a person of the base policy, one vote per role they hold that a gate
// of a touched release requires (and the policy-change gate when relgate.yaml
// changed), bound to the digest of the gate's documents at the reviewed
// commit. The engine then decides whether each counts (role for this
// release, separation of duties, digest still current).
func forgeVotes(pol *policy.Policy, pr ghapi.PullRequest, reviews []ghapi.Review, touched []string, changed []string, digestAt digestFunc) ([]forgeVote, []reviewNote) {
	latest, comments := latestReviews(reviews)
	var votes []forgeVote
	var notes []reviewNote
	for _, r := range comments {
		notes = append(notes, reviewNote{Login: r.Login, ReviewID: r.ID, State: stateCommented, Commit: r.CommitID,
			Note: "commented; comments never count as approvals"})
	}
	type target struct {
		release string
		g       policy.Gate
	}
	var targets []target
	for _, rel := range touched {
		for _, g := range pol.Gates() {
			if !g.Repository {
				targets = append(targets, target{rel, g})
			}
		}
	}
	for _, g := range pol.RepositoryGates() {
		if slices.ContainsFunc(changed, g.Guards) {
			targets = append(targets, target{"", g})
		}
	}
	for _, r := range latest {
		n := reviewNote{Login: r.Login, ReviewID: r.ID, State: strings.ToUpper(r.State), Commit: r.CommitID}
		person, known := personByLogin(pol, r.Login)
		decision, standing := document.DecisionApprove, ""
		switch n.State {
		case stateChangesRequested:
			decision = document.DecisionReject
		case stateDismissed:
			decision, standing, n.Note = dismissed(r)
		}
		switch {
		case n.Note != "":
		case r.IsBot:
			n.Note = "a bot's review never counts"
		case strings.EqualFold(r.Login, pr.Author):
			n.Note = "the pull request's author cannot approve it"
		case !known:
			n.Note = r.Login + " is not a person of the base policy (people[].login)"
		case person.Bot:
			n.Note = r.Login + " is a bot in the base policy"
		}
		if n.Note != "" {
			notes = append(notes, n)
			continue
		}
		var missing error
		for _, t := range targets {
			for _, role := range rolesFor(t.g) {
				if !pol.HasRole(person.Login, role) {
					continue
				}
				d, err := digestAt(r.CommitID, t.release, t.g)
				if err != nil {
					missing = err
					if decision != document.DecisionReject {
						// An approval binds to what was reviewed; unreadable, it counts for nothing.
						continue
					}
					// A rejection binds to no content (the gate never compares its
					// digest): a force-push that makes the reviewed commit
					// unreachable must not shed it.
					d = ""
				}
				votes = append(votes, forgeVote{Release: t.release, Gate: t.g.ID, Person: person.Login, Role: role, Decision: decision,
					Digest: d, ReviewID: r.ID, Commit: r.CommitID, At: r.SubmittedAt})
				n.Voted = true
			}
		}
		switch {
		case missing != nil && decision == document.DecisionReject && n.Voted:
			n.Note = strings.TrimPrefix(standing+"; ", "; ") +
				fmt.Sprintf("the reviewed commit cannot be read (%v); a change request blocks whatever the documents hold now", missing)
		case standing != "" && n.Voted:
			n.Note = standing
		case missing != nil && !n.Voted:
			n.Note = fmt.Sprintf("the reviewed commit cannot be read: %v", missing)
		case !n.Voted:
			n.Note = r.Login + " holds no role that a gate of this change requires"
		}
		notes = append(notes, n)
	}
	return votes, notes
}

// dismissed decides what a dismissed review still says. A person's last
// decision stands until that person changes it (README): a change request
// dismissed by anyone else stays a rejection, one its reviewer dismissed is
// withdrawn, and a dismissed approval counts for nothing (GitHub dismisses
// stale approvals on push; that is no rejection). A dismissal whose origin
// is unknown (the timeline was not applied) counts as a rejection: fail
// closed. note is set when the review gives no vote; standing explains a
// rejection that stands.
func dismissed(r ghapi.Review) (decision, standing, note string) {
	by := r.DismissedBy
	switch orig := strings.ToUpper(r.OriginalState); {
	case orig == "" || by == "":
		return document.DecisionReject, "relgate could not learn what this dismissed review was or who dismissed it (the pull request's timeline); it counts as a change request", ""
	case orig == stateChangesRequested && !strings.EqualFold(by, r.Login):
		return document.DecisionReject, fmt.Sprintf("%s dismissed this change request; it stands until %s withdraws it (approve, or dismiss it themselves)", by, r.Login), ""
	case orig == stateChangesRequested:
		return "", "", r.Login + " withdrew their change request (dismissed it themselves)"
	default:
		return "", "", fmt.Sprintf("the %s review was dismissed by %s; a dismissed review never counts", strings.ToLower(orig), by)
	}
}

// applyDismissals returns the reviews with OriginalState and DismissedBy
// filled on each dismissed one from the timeline's dismissals (ghapi
// ListDismissals). A dismissed review the timeline does not explain is an
// error, never a guess: the caller reports pending and tries again.
func applyDismissals(reviews []ghapi.Review, dismissals map[int64]ghapi.Dismissal) ([]ghapi.Review, error) {
	out := slices.Clone(reviews)
	for i := range out {
		r := &out[i]
		if !strings.EqualFold(r.State, stateDismissed) {
			continue
		}
		d, ok := dismissals[r.ID]
		if !ok || d.State == "" || d.Actor == "" {
			return nil, fmt.Errorf("review %d by %s is dismissed, but the pull request's timeline does not say who dismissed it or what it was", r.ID, r.Login)
		}
		r.OriginalState, r.DismissedBy = strings.ToUpper(d.State), d.Actor
	}
	return out, nil
}

// reviewsOf reads a pull request's reviews with their dismissals applied
// (applyDismissals): every caller that turns reviews into votes reads them
// through this, so a dismissed change request is never read as withdrawn.
// Any failure is the caller's to report as pending.
func reviewsOf(ctx context.Context, gh GitHub, repo ghapi.Repo, n int) ([]ghapi.Review, error) {
	reviews, err := gh.ListReviews(ctx, repo, n)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(reviews, func(r ghapi.Review) bool { return strings.EqualFold(r.State, stateDismissed) }) {
		return reviews, nil // nothing to explain: spare the timeline call
	}
	ds, err := gh.ListDismissals(ctx, repo, n)
	if err != nil {
		return nil, err
	}
	return applyDismissals(reviews, ds)
}

// personByLogin finds a policy person by GitHub login; GitHub logins are
// case-insensitive.
func personByLogin(pol *policy.Policy, login string) (*document.Person, bool) {
	if p, ok := pol.Person(login); ok {
		return p, true
	}
	for i := range pol.People {
		if strings.EqualFold(pol.People[i].Login, login) {
			return &pol.People[i], true
		}
	}
	return nil, false
}

// byRelease arranges votes as engine.ChangeOptions.Forge wants them.
func byRelease(votes []forgeVote) map[string]map[string][]gateVote {
	out := map[string]map[string][]gateVote{}
	for _, v := range votes {
		if out[v.Release] == nil {
			out[v.Release] = map[string][]gateVote{}
		}
		out[v.Release][v.Gate] = append(out[v.Release][v.Gate], v.gateVote())
	}
	return out
}

// counted returns the votes a gate counted in the report: the person is
// among a requirement's approvers for the vote's role.
func counted(rep *evaluate.GateReport, votes []forgeVote) []forgeVote {
	type k struct{ release, gate, person, role string }
	approved := map[k]bool{}
	add := func(release string, res gateResult) {
		for _, q := range res.Requirements {
			for _, p := range q.Approved {
				approved[k{release, res.Gate, p, q.Role}] = true
			}
		}
	}
	if rep.Policy != nil {
		add("", *rep.Policy)
	}
	for _, g := range rep.Repository {
		add("", g)
	}
	for _, r := range rep.Releases {
		for _, g := range r.Gates {
			add(r.Release, g)
		}
	}
	var out []forgeVote
	for _, v := range votes {
		if v.Decision == document.DecisionApprove && approved[k{v.Release, v.Gate, v.Person, v.Role}] {
			out = append(out, v)
		}
	}
	return out
}
