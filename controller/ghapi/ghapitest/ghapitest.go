// Package ghapitest is a fake GitHub REST API for tests: an httptest server
// that implements the endpoints relgate calls (pull requests get and list,
// reviews list, an issue's timeline (reviews and their dismissals), check
// runs create and update, commit statuses create, deployment protection
// rule reviews, review requests (request, remove, list, and their timeline
// events), the App itself and its installation tokens), keeps their state, records every request, checks
// request shapes against GitHub's documented ones and can inject faults: 5xx,
// 429 with Retry-After, 403 secondary rate limits and slow responses.
package ghapitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PR is a pull request held by the fake.
type PR struct {
	Number         int
	State          string // open, closed
	Merged         bool
	MergeCommitSHA string
	Title          string
	Author         string
	AuthorType     string // User, Bot
	HeadSHA        string
	HeadRef        string
	BaseRef        string
	BaseSHA        string
}

// Review is a review held by the fake.
type Review struct {
	ID       int64
	Login    string
	UserType string // User, Bot
	// State is APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED.
	State       string
	CommitID    string
	SubmittedAt time.Time
}

// CheckRun is a check run as posted.
type CheckRun struct {
	ID          int64
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	Title       string
	Summary     string
	ExternalID  string
	DetailsURL  string
	Annotations []map[string]any
}

// Status is a commit status as posted.
type Status struct {
	SHA, State, Context, Description, TargetURL string
}

// DeploymentReview is a deployment protection rule review as posted.
type DeploymentReview struct {
	Repo        string // owner/name
	RunID       int64
	Environment string
	State       string
	Comment     string
}

// Request is one recorded request.
type Request struct {
	Method, Path, Query string
	Body                []byte
	Header              http.Header
	At                  time.Time
}

// Fault is an injected failure: the next Times requests matching Method
// (empty: any) and Path (a substring) get Status with Header and Body
// instead of their answer, after Delay. Status 0 with a Delay only slows.
type Fault struct {
	Method, Path string
	// Query, when set, must be a substring of the request's raw query.
	Query  string
	Status int
	Header map[string]string
	Body   string
	Delay  time.Duration
	Times  int
}

// Server is the fake.
type Server struct {
	*httptest.Server
	// Prefix is the API root path: "" like api.github.com, "/api/v3" like GitHub Enterprise.
	Prefix string

	mu         sync.Mutex
	pulls      map[string]map[int]*PR
	reviews    map[string]map[int][]Review
	timeline   map[string]map[int][]map[string]any
	checkRuns  []CheckRun
	statuses   []Status
	deployRevs []DeploymentReview
	// requested are the pending review requests of people, by repository
	// and pull request, in the order made; collaborators the logins that
	// may be requested (lower case; none set: anyone); appSlug the App's.
	requested     map[string]map[int][]RequestedReviewer
	collaborators map[string]map[string]bool
	appSlug       string
	requests      []Request
	violations    []string
	faults        []*Fault
	nextID        int64
	// Tokens a request may carry ("Bearer X" or "token X"); empty accepts any.
	tokens []string
	// oauth is the sign-in's state (oauth.go).
	oauth oauthState
}

// New starts a fake. Close it when done (t.Cleanup(s.Close)).
func New() *Server {
	s := &Server{pulls: map[string]map[int]*PR{}, reviews: map[string]map[int][]Review{},
		timeline: map[string]map[int][]map[string]any{}, nextID: 1000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL of the API root, for ghapi.Config.BaseURL.
func (s *Server) APIURL() string { return s.Server.URL + s.Prefix + "/" }

// AcceptTokens limits the tokens the fake accepts.
func (s *Server) AcceptTokens(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = tokens
}

// SetPull adds or replaces a pull request of repo ("owner/name").
func (s *Server) SetPull(repo string, pr PR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pulls[repo] == nil {
		s.pulls[repo] = map[int]*PR{}
	}
	if pr.State == "" {
		pr.State = "open"
	}
	if pr.AuthorType == "" {
		pr.AuthorType = "User"
	}
	cp := pr
	s.pulls[repo][pr.Number] = &cp
}

// Pull returns a pull request.
func (s *Server) Pull(repo string, n int) (PR, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pulls[repo][n]
	if p == nil {
		return PR{}, false
	}
	return *p, true
}

// AddReview adds a review to a pull request and returns its id.
func (s *Server) AddReview(repo string, n int, r Review) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reviews[repo] == nil {
		s.reviews[repo] = map[int][]Review{}
	}
	s.nextID++
	r.ID = s.nextID
	if r.UserType == "" {
		r.UserType = "User"
	}
	if r.SubmittedAt.IsZero() {
		r.SubmittedAt = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC).Add(time.Duration(r.ID) * time.Second)
	}
	s.reviews[repo][n] = append(s.reviews[repo][n], r)
	// A review answers its request: GitHub no longer lists the reviewer as
	// requested (and records no removal event).
	if pending := s.requested[repo][n]; len(pending) > 0 {
		s.requested[repo][n] = slices.DeleteFunc(pending, func(q RequestedReviewer) bool { return strings.EqualFold(q.Login, r.Login) })
	}
	return r.ID
}

// DismissReview dismisses a review as a person with write access does on
// GitHub: the review's state becomes DISMISSED and the pull request's
// timeline records a review_dismissed event with the state it had and the
// actor. GitHub refuses to dismiss a review that is not an approval or a
// change request, and so does this.
func (s *Server) DismissReview(repo string, n int, reviewID int64, actor string) error {
	return s.dismiss(repo, n, reviewID, actor, "", "not what we agreed")
}

// DismissStaleReview dismisses an approval the way branch protection's
// "dismiss stale pull request approvals when new commits are pushed" does:
// the actor is the pusher and the event names the pushed commit.
func (s *Server) DismissStaleReview(repo string, n int, reviewID int64, pusher, commit string) error {
	return s.dismiss(repo, n, reviewID, pusher, commit, "")
}

func (s *Server) dismiss(repo string, n int, reviewID int64, actor, commit, message string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.reviews[repo][n]
	i := slices.IndexFunc(rs, func(r Review) bool { return r.ID == reviewID })
	if i < 0 {
		return fmt.Errorf("review %d of %s#%d: not found", reviewID, repo, n)
	}
	state := rs[i].State
	if state != "APPROVED" && state != "CHANGES_REQUESTED" {
		return fmt.Errorf("review %d of %s#%d: GitHub cannot dismiss a %s review", reviewID, repo, n, state)
	}
	rs[i].State = "DISMISSED"
	s.nextID++
	var msg, cid any
	if message != "" {
		msg = message
	}
	if commit != "" {
		cid = commit
	}
	s.addEvent(repo, n, map[string]any{"id": s.nextID, "node_id": fmt.Sprintf("RDE_%d", s.nextID), "event": "review_dismissed",
		"actor": user(actor, "User"), "commit_id": nil, "commit_url": nil, "performed_via_github_app": nil,
		"created_at": time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC).Add(time.Duration(s.nextID) * time.Second).Format(time.RFC3339),
		"url":        fmt.Sprintf("https://api.github.com/repos/%s/issues/events/%d", repo, s.nextID),
		"dismissed_review": map[string]any{"state": strings.ToLower(state), "review_id": reviewID,
			"dismissal_message": msg, "dismissal_commit_id": cid}})
	return nil
}

// AddTimelineEvent appends a raw event to a pull request's timeline (for
// events relgate must survive or refuse).
func (s *Server) AddTimelineEvent(repo string, n int, ev map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addEvent(repo, n, ev)
}

func (s *Server) addEvent(repo string, n int, ev map[string]any) {
	if s.timeline[repo] == nil {
		s.timeline[repo] = map[int][]map[string]any{}
	}
	s.timeline[repo][n] = append(s.timeline[repo][n], ev)
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Requests returns the recorded requests.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Violations returns the requests whose shape GitHub would refuse.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// CheckRuns returns every check run, in the order posted (updates applied).
func (s *Server) CheckRuns() []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.checkRuns)
}

// Statuses returns every status posted, in order.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// DeploymentReviews returns every deployment protection rule review GitHub
// accepted, in order.
func (s *Server) DeploymentReviews() []DeploymentReview {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deployRevs)
}

// LatestCheckRun is the check run GitHub would show for a commit and name:
// the most recently created.
func (s *Server) LatestCheckRun(sha, name string) (CheckRun, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.checkRuns) - 1; i >= 0; i-- {
		if c := s.checkRuns[i]; c.HeadSHA == sha && c.Name == name {
			return c, true
		}
	}
	return CheckRun{}, false
}

// LatestStatus is the commit status GitHub would show for a commit and context.
func (s *Server) LatestStatus(sha, context string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.statuses) - 1; i >= 0; i-- {
		if st := s.statuses[i]; st.SHA == sha && st.Context == context {
			return st, true
		}
	}
	return Status{}, false
}

var (
	rePull      = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)$`)
	rePulls     = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls$`)
	reReviews   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews$`)
	reTimeline  = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/issues/(\d+)/timeline$`)
	reCheckRuns = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/check-runs$`)
	reCheckRun  = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/check-runs/(\d+)$`)
	reStatuses  = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/statuses/([^/]+)$`)
	reRefRuns   = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/commits/([^/]+)/check-runs$`)
	reDeployRev = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/actions/runs/(\d+)/deployment_protection_rule$`)
	reToken     = regexp.MustCompile(`^/app/installations/(\d+)/access_tokens$`)
	reRequested = regexp.MustCompile(`^/repos/([^/]+)/([^/]+)/pulls/(\d+)/requested_reviewers$`)
	reSHA       = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

func (s *Server) violate(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body,
		Header: r.Header.Clone(), At: time.Now()})
	var fault *Fault
	for _, f := range s.faults {
		if f.Times > 0 && (f.Method == "" || f.Method == r.Method) && strings.Contains(r.URL.Path, f.Path) && strings.Contains(r.URL.RawQuery, f.Query) {
			f.Times--
			fault = f
			break
		}
	}
	s.mu.Unlock()
	if fault != nil {
		if fault.Delay > 0 {
			select {
			case <-time.After(fault.Delay):
			case <-r.Context().Done():
				return
			}
		}
		if fault.Status != 0 {
			for k, v := range fault.Header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(fault.Status)
			io.WriteString(w, fault.Body)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.serveOAuth(w, r, body) { // oauth.go
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, s.Prefix)
	if !ok {
		s.violate("%s %s: not under the API root %q", r.Method, r.URL.Path, s.Prefix)
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
		return
	}
	if m := reToken.FindStringSubmatch(p); m != nil && r.Method == http.MethodPost {
		s.installationToken(w, r, m[1], body)
		return
	}
	if p == "/app" && r.Method == http.MethodGet {
		s.getApp(w, r)
		return
	}
	if !s.authorised(r) {
		writeJSON(w, 401, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/vnd.github") && !strings.Contains(r.Header.Get("Accept"), "application/json") {
		s.violate("%s %s: Accept %q is not a GitHub media type", r.Method, p, r.Header.Get("Accept"))
	}
	switch {
	case r.Method == http.MethodGet && rePull.MatchString(p):
		m := rePull.FindStringSubmatch(p)
		n, _ := strconv.Atoi(m[3])
		pr := s.pulls[m[1]+"/"+m[2]][n]
		if pr == nil {
			writeJSON(w, 404, map[string]any{"message": "Not Found"})
			return
		}
		writeJSON(w, 200, pullJSON(m[1], m[2], pr))
	case r.Method == http.MethodGet && rePulls.MatchString(p):
		m := rePulls.FindStringSubmatch(p)
		s.listPulls(w, r, m[1], m[2])
	case r.Method == http.MethodGet && reReviews.MatchString(p):
		m := reReviews.FindStringSubmatch(p)
		n, _ := strconv.Atoi(m[3])
		s.listReviews(w, r, m[1]+"/"+m[2], n)
	case r.Method == http.MethodGet && reTimeline.MatchString(p):
		m := reTimeline.FindStringSubmatch(p)
		n, _ := strconv.Atoi(m[3])
		s.listTimeline(w, r, m[1]+"/"+m[2], n)
	case r.Method == http.MethodPost && reCheckRuns.MatchString(p):
		s.createCheckRun(w, r, body)
	case r.Method == http.MethodPatch && reCheckRun.MatchString(p):
		m := reCheckRun.FindStringSubmatch(p)
		id, _ := strconv.ParseInt(m[3], 10, 64)
		s.updateCheckRun(w, r, id, body)
	case r.Method == http.MethodGet && reRefRuns.MatchString(p):
		m := reRefRuns.FindStringSubmatch(p)
		s.listCheckRuns(w, r, m[3])
	case r.Method == http.MethodPost && reDeployRev.MatchString(p):
		m := reDeployRev.FindStringSubmatch(p)
		id, _ := strconv.ParseInt(m[3], 10, 64)
		s.reviewDeployment(w, r, m[1]+"/"+m[2], id, body)
	case reRequested.MatchString(p) && (r.Method == http.MethodGet || r.Method == http.MethodPost || r.Method == http.MethodDelete):
		m := reRequested.FindStringSubmatch(p)
		n, _ := strconv.Atoi(m[3])
		s.requestedReviewers(w, r, m[1], m[2], n, body)
	case r.Method == http.MethodPost && reStatuses.MatchString(p):
		m := reStatuses.FindStringSubmatch(p)
		s.createStatus(w, r, m[3], body)
	default:
		s.violate("%s %s: relgate called an endpoint the fake does not implement", r.Method, p)
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
	}
}

func (s *Server) authorised(r *http.Request) bool {
	a := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(a, " ")
	if a == "" || (scheme != "Bearer" && scheme != "token") || tok == "" {
		s.violate("%s %s: Authorization %q is not Bearer/token", r.Method, r.URL.Path, scheme)
		return false
	}
	return len(s.tokens) == 0 || slices.Contains(s.tokens, tok)
}

func (s *Server) installationToken(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	scheme, jwt, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != "Bearer" || strings.Count(jwt, ".") != 2 {
		s.violate("POST /app/installations/%s/access_tokens: want a Bearer JWT signed by the App", id)
		writeJSON(w, 401, map[string]any{"message": "A JSON web token could not be decoded"})
		return
	}
	if len(body) > 0 {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || m == nil {
			s.violate("POST /app/installations/%s/access_tokens: body %q is not a JSON object", id, body)
		}
	}
	tok := "ghs_installation" + id
	s.tokens = append(s.tokens, tok)
	writeJSON(w, 201, map[string]any{"token": tok, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
}

func page(r *http.Request) (int, int) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	if per > 100 {
		per = 100
	}
	pg, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if pg <= 0 {
		pg = 1
	}
	return pg, per
}

func paginate(w http.ResponseWriter, r *http.Request, n int) (int, int) {
	pg, per := page(r)
	lo, hi := min((pg-1)*per, n), min(pg*per, n)
	if hi < n {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(pg+1))
		u.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next"`, r.Host, u.RequestURI()))
	}
	return lo, hi
}

func (s *Server) listPulls(w http.ResponseWriter, r *http.Request, owner, name string) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if !slices.Contains([]string{"open", "closed", "all"}, state) {
		s.violate("GET pulls: state %q not one of open, closed, all", state)
	}
	var ns []int
	for n, pr := range s.pulls[owner+"/"+name] {
		if (state == "all" || pr.State == state) && (q.Get("base") == "" || q.Get("base") == pr.BaseRef) {
			ns = append(ns, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(ns)))
	lo, hi := paginate(w, r, len(ns))
	out := []any{}
	for _, n := range ns[lo:hi] {
		out = append(out, pullJSON(owner, name, s.pulls[owner+"/"+name][n]))
	}
	writeJSON(w, 200, out)
}

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request, repo string, n int) {
	if s.pulls[repo][n] == nil {
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
		return
	}
	rs := s.reviews[repo][n]
	lo, hi := paginate(w, r, len(rs))
	out := []any{}
	for _, rv := range rs[lo:hi] {
		out = append(out, map[string]any{"id": rv.ID, "node_id": "PRR_" + strconv.FormatInt(rv.ID, 10),
			"user": user(rv.Login, rv.UserType), "body": "", "state": rv.State, "commit_id": rv.CommitID,
			"submitted_at": rv.SubmittedAt.UTC().Format(time.RFC3339), "author_association": "MEMBER",
			"html_url": fmt.Sprintf("https://github.com/%s/pull/%d#pullrequestreview-%d", repo, n, rv.ID)})
	}
	writeJSON(w, 200, out)
}

// listTimeline answers GET issues/{number}/timeline: a "reviewed" event
// per review (as GitHub lists them, state lower-case) and the recorded
// events (dismissals), oldest first, paginated.
func (s *Server) listTimeline(w http.ResponseWriter, r *http.Request, repo string, n int) {
	if s.pulls[repo][n] == nil {
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
		return
	}
	for _, k := range []string{"per_page", "page"} {
		if v := r.URL.Query().Get(k); v != "" {
			if i, err := strconv.Atoi(v); err != nil || i < 1 || (k == "per_page" && i > 100) {
				s.violate("GET timeline: %s=%q, want 1..100 (per_page) or ≥ 1 (page)", k, v)
			}
		}
	}
	var events []map[string]any
	for _, rv := range s.reviews[repo][n] {
		events = append(events, map[string]any{"event": "reviewed", "id": rv.ID, "node_id": "PRR_" + strconv.FormatInt(rv.ID, 10),
			"user": user(rv.Login, rv.UserType), "state": strings.ToLower(rv.State), "commit_id": rv.CommitID,
			"submitted_at": rv.SubmittedAt.UTC().Format(time.RFC3339), "author_association": "MEMBER"})
	}
	events = append(events, s.timeline[repo][n]...)
	at := func(e map[string]any) string {
		if v, ok := e["submitted_at"].(string); ok {
			return v
		}
		v, _ := e["created_at"].(string)
		return v
	}
	sort.SliceStable(events, func(i, j int) bool { return at(events[i]) < at(events[j]) })
	lo, hi := paginate(w, r, len(events))
	out := []any{}
	for _, e := range events[lo:hi] {
		out = append(out, e)
	}
	writeJSON(w, 200, out)
}

func user(login, typ string) map[string]any {
	return map[string]any{"login": login, "id": len(login) * 1000, "type": typ, "site_admin": false}
}

func pullJSON(owner, name string, pr *PR) map[string]any {
	repo := map[string]any{"id": 1, "name": name, "full_name": owner + "/" + name, "owner": user(owner, "Organization")}
	var mcs any
	if pr.MergeCommitSHA != "" {
		mcs = pr.MergeCommitSHA
	}
	return map[string]any{"id": 100000 + pr.Number, "number": pr.Number, "state": pr.State, "title": pr.Title,
		"user": user(pr.Author, pr.AuthorType), "draft": false, "merged": pr.Merged, "merge_commit_sha": mcs,
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d", owner, name, pr.Number),
		"head":     map[string]any{"ref": pr.HeadRef, "sha": pr.HeadSHA, "label": owner + ":" + pr.HeadRef, "repo": repo},
		"base":     map[string]any{"ref": pr.BaseRef, "sha": pr.BaseSHA, "label": owner + ":" + pr.BaseRef, "repo": repo}}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// decode decodes a JSON body into a map, recording a violation for a body
// that is not a JSON object or sent without a JSON content type.
func (s *Server) decode(r *http.Request, body []byte) (map[string]any, bool) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.violate("%s %s: Content-Type %q, want application/json", r.Method, r.URL.Path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		s.violate("%s %s: body is not a JSON object: %v", r.Method, r.URL.Path, err)
		return nil, false
	}
	return m, true
}

// Documented values (docs.github.com/rest/checks/runs, /rest/commits/statuses).
var (
	checkStatuses    = []string{"queued", "in_progress", "completed", "waiting", "requested", "pending"}
	checkConclusions = []string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
	annotationLevels = []string{"notice", "warning", "failure"}
	statusStates     = []string{"error", "failure", "pending", "success"}
	checkRunFields   = []string{"name", "head_sha", "details_url", "external_id", "status", "started_at", "conclusion",
		"completed_at", "output", "actions"}
	outputFields     = []string{"title", "summary", "text", "annotations", "images"}
	annotationFields = []string{"path", "start_line", "end_line", "start_column", "end_column", "annotation_level",
		"message", "title", "raw_details"}
)

func (s *Server) checkRunShape(where string, m map[string]any, create bool) []string {
	var bad []string
	for k := range m {
		if !slices.Contains(checkRunFields, k) {
			bad = append(bad, fmt.Sprintf("%s: unknown field %q", where, k))
		}
	}
	if name, _ := m["name"].(string); create && name == "" {
		bad = append(bad, where+": name is required")
	}
	if create {
		if sha, _ := m["head_sha"].(string); !reSHA.MatchString(sha) {
			bad = append(bad, fmt.Sprintf("%s: head_sha %q is not a commit id", where, sha))
		}
	}
	status, _ := m["status"].(string)
	if _, has := m["status"]; has && !slices.Contains(checkStatuses, status) {
		bad = append(bad, fmt.Sprintf("%s: status %q", where, status))
	}
	if c, has := m["conclusion"]; has {
		cs, _ := c.(string)
		if !slices.Contains(checkConclusions, cs) {
			bad = append(bad, fmt.Sprintf("%s: conclusion %q", where, cs))
		}
		if status != "" && status != "completed" {
			bad = append(bad, fmt.Sprintf("%s: conclusion with status %q (a conclusion completes the run)", where, status))
		}
		if _, ok := m["completed_at"]; !ok {
			bad = append(bad, where+": conclusion without completed_at")
		}
	} else if status == "completed" {
		bad = append(bad, where+": status completed requires a conclusion")
	}
	if ts, ok := m["completed_at"].(string); ok {
		if _, err := time.Parse(time.RFC3339, ts); err != nil {
			bad = append(bad, fmt.Sprintf("%s: completed_at %q is not ISO 8601", where, ts))
		}
	}
	if o, has := m["output"]; has {
		out, ok := o.(map[string]any)
		if !ok {
			return append(bad, where+": output is not an object")
		}
		for k := range out {
			if !slices.Contains(outputFields, k) {
				bad = append(bad, fmt.Sprintf("%s: output: unknown field %q", where, k))
			}
		}
		title, _ := out["title"].(string)
		summary, _ := out["summary"].(string)
		if title == "" || summary == "" {
			bad = append(bad, where+": output needs title and summary")
		}
		if len(summary) > 65535 {
			bad = append(bad, fmt.Sprintf("%s: output.summary is %d characters, over 65535", where, len(summary)))
		}
		anns, _ := out["annotations"].([]any)
		if len(anns) > 50 {
			bad = append(bad, fmt.Sprintf("%s: %d annotations in one request, over 50", where, len(anns)))
		}
		for i, a := range anns {
			am, _ := a.(map[string]any)
			for k := range am {
				if !slices.Contains(annotationFields, k) {
					bad = append(bad, fmt.Sprintf("%s: annotation %d: unknown field %q", where, i, k))
				}
			}
			p, _ := am["path"].(string)
			lvl, _ := am["annotation_level"].(string)
			msg, _ := am["message"].(string)
			sl, _ := am["start_line"].(float64)
			el, _ := am["end_line"].(float64)
			if p == "" || strings.HasPrefix(p, "/") || msg == "" || sl < 1 || el < sl || !slices.Contains(annotationLevels, lvl) {
				bad = append(bad, fmt.Sprintf("%s: annotation %d: needs path (relative), start_line ≥ 1, end_line ≥ start_line, annotation_level notice|warning|failure and message: %v", where, i, am))
			}
			if _, has := am["start_column"]; has && sl != el {
				bad = append(bad, fmt.Sprintf("%s: annotation %d: columns only when start_line equals end_line", where, i))
			}
		}
	}
	return bad
}

func (s *Server) applyCheckRun(c *CheckRun, m map[string]any) {
	if v, ok := m["name"].(string); ok && v != "" {
		c.Name = v
	}
	if v, ok := m["head_sha"].(string); ok {
		c.HeadSHA = v
	}
	if v, ok := m["status"].(string); ok {
		c.Status = v
	}
	if v, ok := m["external_id"].(string); ok {
		c.ExternalID = v
	}
	if v, ok := m["details_url"].(string); ok {
		c.DetailsURL = v
	}
	if v, ok := m["conclusion"].(string); ok {
		c.Conclusion = v
		c.Status = "completed"
	}
	if c.Status == "" {
		c.Status = "queued"
	}
	if o, ok := m["output"].(map[string]any); ok {
		c.Title, _ = o["title"].(string)
		c.Summary, _ = o["summary"].(string)
		if anns, ok := o["annotations"].([]any); ok {
			for _, a := range anns {
				if am, ok := a.(map[string]any); ok {
					c.Annotations = append(c.Annotations, am)
				}
			}
		}
	}
}

func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request, body []byte) {
	m, ok := s.decode(r, body)
	if !ok {
		writeJSON(w, 400, map[string]any{"message": "Problems parsing JSON"})
		return
	}
	if bad := s.checkRunShape("POST check-runs", m, true); len(bad) > 0 {
		s.violations = append(s.violations, bad...)
		writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": bad})
		return
	}
	s.nextID++
	c := CheckRun{ID: s.nextID}
	s.applyCheckRun(&c, m)
	s.checkRuns = append(s.checkRuns, c)
	writeJSON(w, 201, map[string]any{"id": c.ID, "name": c.Name, "head_sha": c.HeadSHA, "status": c.Status, "conclusion": nilIfEmpty(c.Conclusion)})
}

func (s *Server) updateCheckRun(w http.ResponseWriter, r *http.Request, id int64, body []byte) {
	m, ok := s.decode(r, body)
	if !ok {
		writeJSON(w, 400, map[string]any{"message": "Problems parsing JSON"})
		return
	}
	if bad := s.checkRunShape("PATCH check-runs", m, false); len(bad) > 0 {
		s.violations = append(s.violations, bad...)
		writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": bad})
		return
	}
	for i := range s.checkRuns {
		if s.checkRuns[i].ID == id {
			c := &s.checkRuns[i]
			_, st := m["status"]
			_, cl := m["conclusion"]
			if c.Status == "completed" && (st || cl) {
				// GitHub does not reopen or re-conclude a completed check run.
				bad := fmt.Sprintf("PATCH check-runs: check run %d is completed (%s); its status and conclusion cannot change", id, c.Conclusion)
				s.violations = append(s.violations, bad)
				writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": []string{bad}})
				return
			}
			c.Annotations = nil
			s.applyCheckRun(c, m)
			writeJSON(w, 200, map[string]any{"id": c.ID, "name": c.Name, "head_sha": c.HeadSHA, "status": c.Status, "conclusion": nilIfEmpty(c.Conclusion)})
			return
		}
	}
	writeJSON(w, 404, map[string]any{"message": "Not Found"})
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request, sha string, body []byte) {
	m, ok := s.decode(r, body)
	if !ok {
		writeJSON(w, 400, map[string]any{"message": "Problems parsing JSON"})
		return
	}
	var bad []string
	if !reSHA.MatchString(sha) {
		bad = append(bad, fmt.Sprintf("POST statuses: %q is not a commit id", sha))
	}
	for k := range m {
		if !slices.Contains([]string{"state", "target_url", "description", "context"}, k) {
			bad = append(bad, fmt.Sprintf("POST statuses: unknown field %q", k))
		}
	}
	state, _ := m["state"].(string)
	if !slices.Contains(statusStates, state) {
		bad = append(bad, fmt.Sprintf("POST statuses: state %q not one of error, failure, pending, success", state))
	}
	desc, _ := m["description"].(string)
	if len([]rune(desc)) > 140 {
		bad = append(bad, fmt.Sprintf("POST statuses: description of %d characters, over 140", len([]rune(desc))))
	}
	if len(bad) > 0 {
		s.violations = append(s.violations, bad...)
		writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": bad})
		return
	}
	ctx, _ := m["context"].(string)
	if ctx == "" {
		ctx = "default"
	}
	target, _ := m["target_url"].(string)
	s.statuses = append(s.statuses, Status{SHA: sha, State: state, Context: ctx, Description: desc, TargetURL: target})
	s.nextID++
	writeJSON(w, 201, map[string]any{"id": s.nextID, "state": state, "context": ctx, "description": desc})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func checkRunJSON(c CheckRun) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "head_sha": c.HeadSHA, "status": c.Status, "conclusion": nilIfEmpty(c.Conclusion),
		"external_id": c.ExternalID, "details_url": nilIfEmpty(c.DetailsURL), "output": map[string]any{"title": nilIfEmpty(c.Title), "summary": nilIfEmpty(c.Summary)}}
}

// listCheckRuns answers GET commits/{ref}/check-runs: check_name and
// filter=latest|all as documented; latest keeps the newest run per name.
func (s *Server) listCheckRuns(w http.ResponseWriter, r *http.Request, ref string) {
	q := r.URL.Query()
	filter := q.Get("filter")
	if filter == "" {
		filter = "latest"
	}
	if filter != "latest" && filter != "all" {
		s.violate("GET check-runs: filter %q not one of latest, all", filter)
	}
	var runs []CheckRun
	seen := map[string]bool{}
	for i := len(s.checkRuns) - 1; i >= 0; i-- {
		c := s.checkRuns[i]
		if c.HeadSHA != ref || (q.Get("check_name") != "" && c.Name != q.Get("check_name")) {
			continue
		}
		if filter == "latest" && seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		runs = append(runs, c)
	}
	lo, hi := paginate(w, r, len(runs))
	out := []any{}
	for _, c := range runs[lo:hi] {
		out = append(out, checkRunJSON(c))
	}
	writeJSON(w, 200, map[string]any{"total_count": len(runs), "check_runs": out})
}

// MaxDeploymentComment is the longest review comment the fake accepts, in
// characters (relgate's bound; GitHub documents none).
const MaxDeploymentComment = 1024

// reviewDeployment answers POST actions/runs/{run_id}/deployment_protection_rule
// (docs.github.com/rest/actions/workflow-runs): environment_name (string,
// required), state approved|rejected (required), comment (string). Like
// GitHub, a second review of the same run and environment is refused with
// 422; that is relgate's to handle, not a malformed request.
func (s *Server) reviewDeployment(w http.ResponseWriter, r *http.Request, repo string, run int64, body []byte) {
	m, ok := s.decode(r, body)
	if !ok {
		writeJSON(w, 400, map[string]any{"message": "Problems parsing JSON"})
		return
	}
	var bad []string
	for k := range m {
		if !slices.Contains([]string{"environment_name", "state", "comment"}, k) {
			bad = append(bad, fmt.Sprintf("POST deployment_protection_rule: unknown field %q", k))
		}
	}
	env, isStr := m["environment_name"].(string)
	if !isStr || env == "" {
		bad = append(bad, "POST deployment_protection_rule: environment_name is required and must be a string")
	}
	state, _ := m["state"].(string)
	if state != "approved" && state != "rejected" {
		bad = append(bad, fmt.Sprintf("POST deployment_protection_rule: state %v not one of approved, rejected", m["state"]))
	}
	comment, isStr := m["comment"].(string)
	if _, has := m["comment"]; has && !isStr {
		bad = append(bad, "POST deployment_protection_rule: comment must be a string")
	}
	if n := len([]rune(comment)); n > MaxDeploymentComment {
		bad = append(bad, fmt.Sprintf("POST deployment_protection_rule: comment of %d characters, over %d", n, MaxDeploymentComment))
	}
	if len(bad) > 0 {
		s.violations = append(s.violations, bad...)
		writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": bad})
		return
	}
	if slices.ContainsFunc(s.deployRevs, func(d DeploymentReview) bool { return d.Repo == repo && d.RunID == run && d.Environment == env }) {
		writeJSON(w, 422, map[string]any{"message": "Unprocessable Entity: this deployment protection rule was already reviewed for the environment",
			"documentation_url": "https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run"})
		return
	}
	s.deployRevs = append(s.deployRevs, DeploymentReview{Repo: repo, RunID: run, Environment: env, State: state, Comment: comment})
	w.WriteHeader(http.StatusNoContent)
}

// RequestedReviewer is a pending review request of a person.
type RequestedReviewer struct {
	Login string
	// By is the login that requested it: a person, or the App's bot
	// (SLUG[bot]) for a request made with an installation token.
	By string
}

// DefaultAppSlug is the App's slug GET /app answers unless SetAppSlug
// names another.
const DefaultAppSlug = "relgate"

// SetAppSlug sets the App's slug: its bot is SLUG[bot].
func (s *Server) SetAppSlug(slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appSlug = slug
}

func (s *Server) slug() string {
	if s.appSlug == "" {
		return DefaultAppSlug
	}
	return s.appSlug
}

// SetUserToken makes token login's personal access token: GET /user
// answers login, and what the token does is done by login.
func (s *Server) SetUserToken(token, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.init()
	s.oauth.users[login] = true
	s.oauth.userTokens[token] = login
}

// SetCollaborators limits who may be requested as a reviewer on repo
// ("owner/name"), as GitHub limits it to the repository's collaborators.
// Until it is called anyone may be.
func (s *Server) SetCollaborators(repo string, logins ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.collaborators == nil {
		s.collaborators = map[string]map[string]bool{}
	}
	s.collaborators[repo] = map[string]bool{}
	for _, l := range logins {
		s.collaborators[repo][strings.ToLower(l)] = true
	}
}

// RequestedReviewers are the people whose review is requested on a pull
// request now, in the order requested, with who requested each: what the
// pull request's page shows.
func (s *Server) RequestedReviewers(repo string, n int) []RequestedReviewer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requested[repo][n])
}

// RequestReviewersAs requests logins as a person (actor) does on the pull
// request's page, under GitHub's rules: never its author, only
// collaborators, at most 15 requested at once.
func (s *Server) RequestReviewersAs(repo string, n int, actor string, logins ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg := s.addRequests(repo, n, user(actor, "User"), nil, logins); msg != "" {
		return fmt.Errorf("request reviewers on %s#%d: %s", repo, n, msg)
	}
	return nil
}

// RemoveRequestedReviewersAs withdraws logins' requests as a person does.
func (s *Server) RemoveRequestedReviewersAs(repo string, n int, actor string, logins ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeRequests(repo, n, user(actor, "User"), nil, logins)
}

// caller is the account a request acts as: a registered user token's user,
// else for an installation token the App's bot (with the App, for
// performed_via_github_app), else a user named for the token.
func (s *Server) caller(r *http.Request) (actor, app map[string]any) {
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.oauth.init()
	if login, ok := s.oauth.userTokens[tok]; ok {
		return user(login, "User"), nil
	}
	if s.isInstallationToken(tok) {
		return user(s.slug()+"[bot]", "Bot"), s.appJSON()
	}
	return user("token-owner", "User"), nil
}

func (s *Server) appJSON() map[string]any {
	return map[string]any{"id": 12, "slug": s.slug(), "node_id": "A_12", "name": s.slug(),
		"owner": user("grid-it", "Organization"), "description": "", "external_url": "https://relgate.example",
		"html_url": "https://github.com/apps/" + s.slug(), "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
		"permissions": map[string]any{"pull_requests": "write", "checks": "write"}, "events": []any{"pull_request"}}
}

// getApp answers GET /app (docs.github.com/rest/apps/apps#get-the-authenticated-app):
// only with the App's JWT, never an installation or user token.
func (s *Server) getApp(w http.ResponseWriter, r *http.Request) {
	scheme, jwt, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if scheme != "Bearer" || strings.Count(jwt, ".") != 2 {
		s.violate("GET /app: want a Bearer JWT signed by the App")
		writeJSON(w, 401, map[string]any{"message": "A JSON web token could not be decoded"})
		return
	}
	writeJSON(w, 200, s.appJSON())
}

// eventTime orders the fake's events after the reviews and dismissals made
// before them (the same clock as AddReview's submitted_at).
func (s *Server) eventTime() string {
	s.nextID++
	return time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC).Add(time.Duration(s.nextID) * time.Second).Format(time.RFC3339)
}

// addRequests requests logins on behalf of actor; a message when GitHub
// would refuse the request (422), which then changes nothing. The caller
// holds the lock.
func (s *Server) addRequests(repo string, n int, actor, app map[string]any, logins []string) string {
	pr := s.pulls[repo][n]
	if pr == nil {
		return "Not Found"
	}
	pending := s.requested[repo][n]
	var add []string
	for _, l := range logins {
		switch {
		case strings.EqualFold(l, pr.Author):
			return "Review cannot be requested from pull request author."
		case s.collaborators[repo] != nil && !s.collaborators[repo][strings.ToLower(l)]:
			return fmt.Sprintf("Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the %s repository.", repo)
		}
		if !slices.ContainsFunc(pending, func(q RequestedReviewer) bool { return strings.EqualFold(q.Login, l) }) &&
			!slices.ContainsFunc(add, func(a string) bool { return strings.EqualFold(a, l) }) {
			add = append(add, l)
		}
	}
	if len(pending)+len(add) > 15 {
		return fmt.Sprintf("Reviews may be requested from at most 15 reviewers; %d are requested and %d more were asked", len(pending), len(add))
	}
	if s.requested == nil {
		s.requested = map[string]map[int][]RequestedReviewer{}
	}
	if s.requested[repo] == nil {
		s.requested[repo] = map[int][]RequestedReviewer{}
	}
	by, _ := actor["login"].(string)
	for _, l := range add {
		s.requested[repo][n] = append(s.requested[repo][n], RequestedReviewer{Login: l, By: by})
		s.addEvent(repo, n, s.requestEvent(repo, "review_requested", actor, app, l))
	}
	return ""
}

// removeRequests withdraws the pending requests of logins; a login not
// requested is passed over, as GitHub does. The caller holds the lock.
func (s *Server) removeRequests(repo string, n int, actor, app map[string]any, logins []string) {
	for _, l := range logins {
		pending := s.requested[repo][n]
		i := slices.IndexFunc(pending, func(q RequestedReviewer) bool { return strings.EqualFold(q.Login, l) })
		if i < 0 {
			continue
		}
		login := pending[i].Login
		s.requested[repo][n] = slices.Delete(pending, i, i+1)
		s.addEvent(repo, n, s.requestEvent(repo, "review_request_removed", actor, app, login))
	}
}

// requestEvent is a review_requested or review_request_removed issue event
// as GitHub's OpenAPI description shapes it (review-requested-issue-event,
// review-request-removed-issue-event).
func (s *Server) requestEvent(repo, event string, actor, app map[string]any, login string) map[string]any {
	at := s.eventTime()
	var via any
	if app != nil {
		via = app
	}
	return map[string]any{"id": s.nextID, "node_id": fmt.Sprintf("RRE_%d", s.nextID), "event": event,
		"url":   fmt.Sprintf("https://api.github.com/repos/%s/issues/events/%d", repo, s.nextID),
		"actor": actor, "review_requester": actor, "requested_reviewer": user(login, "User"),
		"commit_id": nil, "commit_url": nil, "created_at": at, "performed_via_github_app": via}
}

// reviewersBody checks a request or removal body against GitHub's OpenAPI
// description (pulls/request-reviewers: reviewers and team_reviewers,
// arrays of strings, at least one of them; pulls/remove-requested-reviewers:
// reviewers required) and returns the logins.
func (s *Server) reviewersBody(where string, m map[string]any, remove bool) ([]string, []string) {
	var bad []string
	for k := range m {
		if k != "reviewers" && k != "team_reviewers" {
			bad = append(bad, fmt.Sprintf("%s: unknown field %q", where, k))
		}
	}
	strs := func(k string) []string {
		v, has := m[k]
		if !has {
			return nil
		}
		arr, ok := v.([]any)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: %s must be an array of strings, not %T", where, k, v))
			return nil
		}
		var out []string
		for i, x := range arr {
			str, ok := x.(string)
			if !ok || str == "" {
				bad = append(bad, fmt.Sprintf("%s: %s[%d] must be a non-empty string", where, k, i))
				continue
			}
			out = append(out, str)
		}
		return out
	}
	users, _ := strs("reviewers"), strs("team_reviewers")
	_, hasUsers := m["reviewers"]
	_, hasTeams := m["team_reviewers"]
	switch {
	case remove && !hasUsers:
		bad = append(bad, where+": reviewers is required")
	case !remove && !hasUsers && !hasTeams:
		bad = append(bad, where+": one of reviewers or team_reviewers is required")
	}
	return users, bad
}

// requestedReviewers answers GET, POST and DELETE pulls/{n}/requested_reviewers
// (docs.github.com/rest/pulls/review-requests).
func (s *Server) requestedReviewers(w http.ResponseWriter, r *http.Request, owner, name string, n int, body []byte) {
	repo := owner + "/" + name
	pr := s.pulls[repo][n]
	if pr == nil {
		writeJSON(w, 404, map[string]any{"message": "Not Found"})
		return
	}
	users := func() []any {
		out := []any{}
		for _, q := range s.requested[repo][n] {
			out = append(out, user(q.Login, "User"))
		}
		return out
	}
	if r.Method == http.MethodGet {
		writeJSON(w, 200, map[string]any{"users": users(), "teams": []any{}})
		return
	}
	where := r.Method + " requested_reviewers"
	m, ok := s.decode(r, body)
	if !ok {
		writeJSON(w, 400, map[string]any{"message": "Problems parsing JSON"})
		return
	}
	logins, bad := s.reviewersBody(where, m, r.Method == http.MethodDelete)
	if len(bad) > 0 {
		s.violations = append(s.violations, bad...)
		writeJSON(w, 422, map[string]any{"message": "Validation Failed", "errors": bad})
		return
	}
	actor, app := s.caller(r)
	if r.Method == http.MethodDelete {
		s.removeRequests(repo, n, actor, app, logins)
		out := pullJSON(owner, name, pr)
		out["requested_reviewers"] = users()
		writeJSON(w, 200, out)
		return
	}
	if msg := s.addRequests(repo, n, actor, app, logins); msg != "" {
		writeJSON(w, 422, map[string]any{"message": msg,
			"documentation_url": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request"})
		return
	}
	out := pullJSON(owner, name, pr)
	out["requested_reviewers"] = users()
	writeJSON(w, 201, out)
}
