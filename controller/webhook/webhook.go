// Package webhook receives GitHub webhook deliveries: it caps the body,
// streams the X-Hub-Signature-256 HMAC over it as it arrives and compares it
// in constant time before anything is parsed, bounds what unauthenticated
// senders can make it hold (memory, spool files, time), drops duplicate
// deliveries (same X-GitHub-Delivery, or a known body replayed under a new
// one) with bounded memory, and parses the
// events relgate acts on, JSON or form-encoded, into this package's own types.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Errors a receiver returns; the server maps them to HTTP status codes.
var (
	ErrNoSignature  = errors.New("no X-Hub-Signature-256 header (SHA-1 signatures are not accepted)")
	ErrBadSignature = errors.New("X-Hub-Signature-256 does not match the body")
	ErrTooLarge     = errors.New("body over the size limit")
	ErrDuplicate    = errors.New("delivery already received")
	ErrMalformed    = errors.New("malformed event")
	// ErrBusy: the bytes in flight are at their budget; the sender should
	// retry later (503 with Retry-After).
	ErrBusy = errors.New("too many webhook bytes in flight")
	// ErrSlow: the body arrived slower than the floor or not within the
	// body timeout (408).
	ErrSlow = errors.New("webhook body arrived too slowly")
)

// DefaultMaxBody is GitHub's own cap on a webhook payload (25 MB).
const DefaultMaxBody = 25 << 20

// Verify checks a body against its X-Hub-Signature-256 header value in constant time.
func Verify(secret, body []byte, header string) error {
	want, err := signature(header)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), want) {
		return ErrBadSignature
	}
	return nil
}

// signature decodes a signature header: sha256= and 64 hex digits.
func signature(header string) ([]byte, error) {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if header == "" || !ok {
		return nil, ErrNoSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return nil, ErrBadSignature
	}
	return got, nil
}

// Forget drops a delivery id and its signature, so that a redelivery of it
// is accepted (the server could not take the work).
func (r *Receiver) Forget(id string) { r.dedupe.Forget(id) }

// Sign returns the X-Hub-Signature-256 value of a body, as GitHub computes it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Dedupe remembers the last N deliveries: their ids and, for a receiver,
// their signatures. The id is not signed, so a captured body replayed under
// a fresh id is caught by its signature; GitHub's own redelivery keeps the
// id and the body, and distinct events have distinct bodies.
type Dedupe struct {
	mu sync.Mutex
	// ids and sigs map a key to the ring slot that recorded it: a slot
	// evicts a key only if it still owns it (after Forget and a re-add,
	// another slot does).
	ids  map[string]int
	sigs map[string]int
	ring []seen
	next int
}

type seen struct{ id, sig string }

// NewDedupe remembers up to n deliveries.
func NewDedupe(n int) *Dedupe {
	if n <= 0 {
		n = 10000
	}
	return &Dedupe{ids: make(map[string]int, n), sigs: make(map[string]int, n), ring: make([]seen, n)}
}

// First records id and reports whether it is new.
func (d *Dedupe) First(id string) bool { return d.FirstDelivery(id, "") }

// FirstDelivery records a delivery's id and signature (raw or hex; "" for
// none) and reports whether neither was among the remembered ones. A
// delivery that is not new records nothing.
func (d *Dedupe) FirstDelivery(id, sig string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.ids[id]; ok {
		return false
	}
	if _, ok := d.sigs[sig]; ok && sig != "" {
		return false
	}
	slot := d.next
	old := d.ring[slot]
	if s, ok := d.ids[old.id]; ok && s == slot {
		delete(d.ids, old.id)
	}
	if s, ok := d.sigs[old.sig]; ok && s == slot {
		delete(d.sigs, old.sig)
	}
	d.ring[slot] = seen{id: id, sig: sig}
	d.ids[id] = slot
	if sig != "" {
		d.sigs[sig] = slot
	}
	d.next = (slot + 1) % len(d.ring)
	return true
}

// Forget removes id, and the signature recorded with it, from the
// remembered deliveries.
func (d *Dedupe) Forget(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	slot, ok := d.ids[id]
	if !ok {
		return
	}
	delete(d.ids, id)
	if sig := d.ring[slot].sig; sig != "" && d.sigs[sig] == slot {
		delete(d.sigs, sig)
	}
	// The slot keeps its entry; it no longer owns the keys, so its
	// eviction leaves a re-added id alone.
}

// Header bounds. GitHub's delivery ids are GUIDs and its event names are
// short snake_case words; neither header is signed, and the id is
// remembered, so anything else is refused before the body is read.
const (
	maxDeliveryID = 64
	maxEventName  = 64
)

// checkHeaders refuses a delivery id or event name that is not GitHub's
// shape. The value is not echoed: it is the sender's, and may be large.
func checkHeaders(h http.Header) error {
	ids, names := h.Values("X-GitHub-Delivery"), h.Values("X-GitHub-Event")
	if len(ids) == 0 || len(names) == 0 || ids[0] == "" || names[0] == "" {
		return fmt.Errorf("%w: X-GitHub-Delivery and X-GitHub-Event are required", ErrMalformed)
	}
	if len(ids) > 1 || len(names) > 1 {
		return fmt.Errorf("%w: more than one X-GitHub-Delivery or X-GitHub-Event header", ErrMalformed)
	}
	if id := ids[0]; len(id) > maxDeliveryID || !all(id, deliveryIDByte) {
		return fmt.Errorf("%w: X-GitHub-Delivery (%d bytes) is not a delivery id: at most %d printable ASCII characters (GitHub sends a GUID)",
			ErrMalformed, len(id), maxDeliveryID)
	}
	if name := names[0]; len(name) > maxEventName || !all(name, eventNameByte) {
		return fmt.Errorf("%w: X-GitHub-Event (%d bytes) is not an event name: at most %d characters of a-z and _",
			ErrMalformed, len(name), maxEventName)
	}
	return nil
}

// deliveryIDByte admits printable ASCII. GitHub's ids are hex digits and
// dashes; the wider set is what the server's tests send today, and the
// length bound is what keeps the remembered ids small.
func deliveryIDByte(c byte) bool { return c >= 0x20 && c <= 0x7e }

func eventNameByte(c byte) bool { return c >= 'a' && c <= 'z' || c == '_' }

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// Event kinds relgate acts on.
const (
	KindPing              = "ping"
	KindPullRequest       = "pull_request"
	KindPullRequestReview = "pull_request_review"
	KindPush              = "push"
	KindCheckSuite        = "check_suite"
	KindCheckRun          = "check_run"
	// KindDeploymentProtectionRule asks a GitHub App that is a custom
	// deployment protection rule of an environment to approve or reject a
	// workflow job's deployment.
	KindDeploymentProtectionRule = "deployment_protection_rule"
	// KindDeploymentStatus reports a deployment's progress; relgate reads
	// the final states as the deployment's receipt.
	KindDeploymentStatus = "deployment_status"
)

// Repository names the repository an event is about.
type Repository struct {
	Owner, Name   string
	DefaultBranch string
	CloneURL      string
}

// PullRequest is the part of a pull request event relgate reads. Handlers
// re-read the pull request from the API: an event only says what to look at.
type PullRequest struct {
	Number  int
	State   string
	Merged  bool
	HeadSHA string
	BaseRef string
	Author  string
}

// Review is a submitted, edited or dismissed review.
type Review struct {
	ID       int64
	Login    string
	IsBot    bool
	State    string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	CommitID string
	At       time.Time
}

// Push is a push to a branch.
type Push struct {
	Ref, Before, After string
	Deleted            bool
}

// Event is one parsed delivery.
type Event struct {
	Delivery     string
	Kind         string
	Action       string
	Repo         Repository
	Installation int64
	Sender       string
	PullRequest  *PullRequest
	// BaseChangedFrom is the previous base branch of an edited pull request.
	BaseChangedFrom string
	Review          *Review
	Push            *Push
	// PullNumbers are the pull requests a check suite or run belongs to.
	PullNumbers []int
	HeadSHA     string
	// ProtectionRule is set on a deployment_protection_rule event.
	ProtectionRule *ProtectionRule
	// DeploymentStatus is set on a deployment_status event.
	DeploymentStatus *DeploymentStatus
}

// Acts reports whether relgate acts on the event.
func (e *Event) Acts() bool {
	switch e.Kind {
	case KindPullRequest:
		switch e.Action {
		case "opened", "synchronize", "reopened", "edited", "closed", "ready_for_review":
			return true
		}
	case KindPullRequestReview:
		return e.Action == "submitted" || e.Action == "edited" || e.Action == "dismissed"
	case KindPush:
		return e.Push != nil && !e.Push.Deleted
	case KindCheckSuite:
		return e.Action == "rerequested" || e.Action == "requested"
	case KindCheckRun:
		return e.Action == "rerequested"
	case KindDeploymentProtectionRule:
		return e.Action == "requested" && e.ProtectionRule != nil
	case KindDeploymentStatus:
		// Only the states that end a deployment make a receipt.
		return e.DeploymentStatus != nil && e.DeploymentStatus.Final()
	}
	return false
}

type wireUser struct {
	Login string `json:"login"`
	Type  string `json:"type"`
}

type wirePull struct {
	Number int      `json:"number"`
	State  string   `json:"state"`
	Merged bool     `json:"merged"`
	User   wireUser `json:"user"`
	Head   struct {
		SHA string `json:"sha"`
		Ref string `json:"ref"`
	} `json:"head"`
	Base struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

type wireSuite struct {
	HeadSHA      string     `json:"head_sha"`
	PullRequests []wirePull `json:"pull_requests"`
}

type wire struct {
	Action     string `json:"action"`
	Repository *struct {
		Name          string   `json:"name"`
		FullName      string   `json:"full_name"`
		Owner         wireUser `json:"owner"`
		DefaultBranch string   `json:"default_branch"`
		CloneURL      string   `json:"clone_url"`
	} `json:"repository"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
	Sender      wireUser  `json:"sender"`
	PullRequest *wirePull `json:"pull_request"`
	Changes     *struct {
		Base *struct {
			Ref struct {
				From string `json:"from"`
			} `json:"ref"`
		} `json:"base"`
	} `json:"changes"`
	Review *struct {
		ID          int64    `json:"id"`
		User        wireUser `json:"user"`
		State       string   `json:"state"`
		CommitID    string   `json:"commit_id"`
		SubmittedAt string   `json:"submitted_at"`
	} `json:"review"`
	Ref        string     `json:"ref"`
	Before     string     `json:"before"`
	After      string     `json:"after"`
	Deleted    bool       `json:"deleted"`
	CheckSuite *wireSuite `json:"check_suite"`
	CheckRun   *struct {
		HeadSHA      string     `json:"head_sha"`
		CheckSuite   *wireSuite `json:"check_suite"`
		PullRequests []wirePull `json:"pull_requests"`
	} `json:"check_run"`
	// deployment_protection_rule and deployment_status.
	Environment      string            `json:"environment"`
	TriggerEvent     string            `json:"event"`
	SHA              string            `json:"sha"`
	CallbackURL      string            `json:"deployment_callback_url"`
	Deployment       *wireDeployment   `json:"deployment"`
	DeploymentStatus *wireDeployStatus `json:"deployment_status"`
}

// Parse decodes a payload of the named event (X-GitHub-Event).
func Parse(name string, body []byte) (*Event, error) {
	ev := &Event{Kind: name}
	switch name {
	case KindPing, KindPullRequest, KindPullRequestReview, KindPush, KindCheckSuite, KindCheckRun,
		KindDeploymentProtectionRule, KindDeploymentStatus:
	default:
		return ev, nil // acknowledged, not acted on
	}
	var w wire
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %s payload: %v", ErrMalformed, name, err)
	}
	ev.Action, ev.Sender = w.Action, w.Sender.Login
	if w.Installation != nil {
		ev.Installation = w.Installation.ID
	}
	if w.Repository != nil {
		owner := w.Repository.Owner.Login
		if o, _, ok := strings.Cut(w.Repository.FullName, "/"); ok && owner == "" {
			owner = o
		}
		ev.Repo = Repository{Owner: owner, Name: w.Repository.Name, DefaultBranch: w.Repository.DefaultBranch, CloneURL: w.Repository.CloneURL}
	}
	need := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("%w: %s %s payload without %s", ErrMalformed, name, w.Action, what)
		}
		return nil
	}
	if name != KindPing {
		if err := need(ev.Repo.Owner != "" && ev.Repo.Name != "", "repository"); err != nil {
			return nil, err
		}
	}
	pull := func(p *wirePull) *PullRequest {
		return &PullRequest{Number: p.Number, State: p.State, Merged: p.Merged, HeadSHA: p.Head.SHA, BaseRef: p.Base.Ref, Author: p.User.Login}
	}
	switch name {
	case KindPullRequest, KindPullRequestReview:
		if err := need(w.PullRequest != nil && w.PullRequest.Number > 0, "pull_request.number"); err != nil {
			return nil, err
		}
		ev.PullRequest = pull(w.PullRequest)
		if w.Changes != nil && w.Changes.Base != nil {
			ev.BaseChangedFrom = w.Changes.Base.Ref.From
		}
		if name == KindPullRequestReview {
			if err := need(w.Review != nil, "review"); err != nil {
				return nil, err
			}
			at, _ := time.Parse(time.RFC3339, w.Review.SubmittedAt)
			ev.Review = &Review{ID: w.Review.ID, Login: w.Review.User.Login, IsBot: w.Review.User.Type == "Bot",
				State: strings.ToUpper(w.Review.State), CommitID: w.Review.CommitID, At: at}
		}
	case KindPush:
		if err := need(strings.HasPrefix(w.Ref, "refs/"), "ref"); err != nil {
			return nil, err
		}
		ev.Push = &Push{Ref: w.Ref, Before: w.Before, After: w.After, Deleted: w.Deleted}
	case KindCheckSuite, KindCheckRun:
		s := w.CheckSuite
		var prs []wirePull
		if w.CheckRun != nil {
			ev.HeadSHA = w.CheckRun.HeadSHA
			prs = w.CheckRun.PullRequests
			if s == nil {
				s = w.CheckRun.CheckSuite
			}
		}
		if s != nil {
			if ev.HeadSHA == "" {
				ev.HeadSHA = s.HeadSHA
			}
			prs = append(prs, s.PullRequests...)
		}
		for _, p := range prs {
			if p.Number > 0 && !containsInt(ev.PullNumbers, p.Number) {
				ev.PullNumbers = append(ev.PullNumbers, p.Number)
			}
		}
	case KindDeploymentProtectionRule:
		if w.Action != "requested" {
			return ev, nil
		}
		pr, err := protectionRule(&w)
		if err != nil {
			return nil, err
		}
		ev.ProtectionRule = pr
	case KindDeploymentStatus:
		ds, err := deploymentStatus(&w)
		if err != nil {
			return nil, err
		}
		ev.DeploymentStatus = ds
	}
	return ev, nil
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
