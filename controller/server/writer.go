package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/reconcile"
	"github.com/relgate/relgate/controller/writeback"
)

// ApprovalRecord is one GitHub review that counted for a gate when a pull
// request merged: write-back records it as an approval document on the
// branch. It maps one to one onto writeback.ApprovalRecord (Forge:
// document.ForgeReview{Provider: "github", Repository, PullNumber:
// PullRequest, ReviewID, HeadCommit}).
type ApprovalRecord struct {
	Release  string `json:"release"` // "" for the repository's policy-change gate
	Gate     string `json:"gate"`
	Person   string `json:"person"`
	Role     string `json:"role"`
	Decision string `json:"decision"` // always "approve": only approvals gate a merge
	// Digest is the digest of the gate's documents the review approved.
	Digest   string `json:"digest"`
	ReviewID int64  `json:"reviewId"`
	// ReviewedCommit is the commit the review was submitted on; HeadCommit
	// the pull request's head when it merged (equal, or with the same digest).
	ReviewedCommit string    `json:"reviewedCommit"`
	HeadCommit     string    `json:"headCommit"`
	Repository     string    `json:"repository"` // OWNER/NAME
	PullRequest    int       `json:"pullRequest"`
	At             time.Time `json:"at"`
}

// Writer writes to the protected branch (package writeback implements it).
// Its writes are compare-and-swap pushes of deterministic paths, so calling
// it twice for the same merge, or from two replicas, has one effect.
type Writer interface {
	RecordApprovals(ctx context.Context, branch string, approvals []ApprovalRecord) error
	Reconcile(ctx context.Context, branch string) error
}

// DeploymentRecorder is a Writer that keeps deployments on the branch: the
// decisions in the release's deployment log, a finished deployment's
// receipt as its deployment.yaml. Both are idempotent by key.
type DeploymentRecorder interface {
	RecordDecision(ctx context.Context, branch string, rec writeback.DecisionRecord) error
	RecordReceipt(ctx context.Context, branch string, rc writeback.Receipt) error
}

var _ DeploymentRecorder = (*WriteBack)(nil)
var _ DeploymentRecorder = (*reconcile.Writer)(nil)

// QuarterlyReporter writes the quarterly report of a quarter ("2026Q4") if it
// is not there yet. A Writer may implement it.
type QuarterlyReporter interface {
	QuarterlyReport(ctx context.Context, branch, quarter string) error
}

// WriteBack adapts the write-back (reconcile.Writer) to the server's Writer.
// Before its first write it logs what it is about to push, so an admin
// reading the first start's log sees the commits before they land.
type WriteBack struct {
	// Log gets the plan before the first write (default: discarded).
	Log   *slog.Logger
	Inner interface {
		RecordApprovals(ctx context.Context, branch string, recs []writeback.ApprovalRecord) error
		Reconcile(ctx context.Context, branch string) error
	}
	planned sync.Once
}

// NewWriteBack is the server's write-back through w: it logs the plan
// before the first push and a line for every commit pushed.
func NewWriteBack(log *slog.Logger, w *reconcile.Writer) *WriteBack {
	w.Pushed = func(branch string, commits []reconcile.Commit) {
		for _, c := range commits {
			log.Info("write-back pushed", "branch", branch, "commit", c.Hash, "why", c.Subject, "files", c.Files)
		}
	}
	return &WriteBack{Log: log, Inner: w}
}

// planner is a write-back that can say what it would push now.
type planner interface {
	Plan(ctx context.Context, branch string) ([]reconcile.Commit, error)
}

// plan logs, once, the commits due on branch before anything is pushed.
func (w *WriteBack) plan(ctx context.Context, branch string) {
	w.planned.Do(func() {
		p, ok := w.Inner.(planner)
		if !ok || w.Log == nil {
			return
		}
		commits, err := p.Plan(ctx, branch)
		if err != nil {
			w.Log.Warn("write-back plan unavailable; pushing what is due", "branch", branch, "err", err)
			return
		}
		if len(commits) == 0 {
			w.Log.Info("write-back: nothing due on the branch", "branch", branch)
			return
		}
		w.Log.Info("write-back will push what is due on the branch", "branch", branch, "commits", len(commits))
		for i, c := range commits {
			w.Log.Info("write-back will push", "branch", branch, "n", i+1, "why", c.Subject, "files", c.Files)
		}
	})
}

// RecordApprovals implements Writer.
func (w *WriteBack) RecordApprovals(ctx context.Context, branch string, approvals []ApprovalRecord) error {
	w.plan(ctx, branch)
	recs := make([]writeback.ApprovalRecord, len(approvals))
	for i, a := range approvals {
		recs[i] = writeback.ApprovalRecord{Release: a.Release, Gate: a.Gate, Person: a.Person, Role: a.Role,
			Decision: a.Decision, Digest: a.Digest, At: a.At.Format(time.RFC3339),
			Comment: fmt.Sprintf("GitHub review %d on pull request #%d", a.ReviewID, a.PullRequest),
			Forge: document.ForgeReview{Provider: "github", Repository: a.Repository, PullNumber: a.PullRequest,
				ReviewID: a.ReviewID, HeadCommit: a.HeadCommit}}
	}
	return w.Inner.RecordApprovals(ctx, branch, recs)
}

// Reconcile implements Writer.
func (w *WriteBack) Reconcile(ctx context.Context, branch string) error {
	w.plan(ctx, branch)
	return w.Inner.Reconcile(ctx, branch)
}

// QuarterlyReport implements QuarterlyReporter when the inner writer does.
func (w *WriteBack) QuarterlyReport(ctx context.Context, branch, quarter string) error {
	w.plan(ctx, branch)
	if q, ok := w.Inner.(QuarterlyReporter); ok {
		return q.QuarterlyReport(ctx, branch, quarter)
	}
	return w.Inner.Reconcile(ctx, branch)
}

// RecordDecision implements DeploymentRecorder when the inner writer does.
func (w *WriteBack) RecordDecision(ctx context.Context, branch string, rec writeback.DecisionRecord) error {
	dr, ok := w.Inner.(DeploymentRecorder)
	if !ok {
		return errors.New("this write-back does not record deployment decisions")
	}
	w.plan(ctx, branch)
	return dr.RecordDecision(ctx, branch, rec)
}

// RecordReceipt implements DeploymentRecorder when the inner writer does.
func (w *WriteBack) RecordReceipt(ctx context.Context, branch string, rc writeback.Receipt) error {
	dr, ok := w.Inner.(DeploymentRecorder)
	if !ok {
		return errors.New("this write-back does not record deployment receipts")
	}
	w.plan(ctx, branch)
	return dr.RecordReceipt(ctx, branch, rc)
}
