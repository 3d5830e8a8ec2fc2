package reconcile

import (
	"context"
	"fmt"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/writeback"
)

// Writer is the write-back a long-running server uses: every call fetches the
// branch into a private mirror, computes what is due and pushes it without
// forcing. Calls are serialised: one mirror, one writer at a time; several
// replicas are safe because each push names the branch's old value.
type Writer struct {
	Mirror *gitrepo.Repo
	Prefix string
	// Remote is the release repository's URL.
	Remote string
	// Auth returns credentials for each call (installation tokens expire).
	Auth func(ctx context.Context) (transport.AuthMethod, error)
	// Options carry the language, signing key, clock, network timeout and
	// the repair hook (Options.OnRepair).
	Options Options
	// Pushed, when set, is told each run's pushed commits (for the log:
	// "pushed <sha> <files> <why>").
	Pushed func(branch string, commits []Commit)
	mu     sync.Mutex
}

func (w *Writer) run(ctx context.Context, branch string, extra func(*loader.Snapshot) ([]writeback.Write, error)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	opts := w.Options
	opts.Push, opts.Remote, opts.Branch, opts.Extra = true, w.Remote, branch, extra
	if w.Auth != nil {
		a, err := w.Auth(ctx)
		if err != nil {
			return fmt.Errorf("credentials for %s: %w", redactURL(w.Remote), err)
		}
		opts.Auth = a
	}
	res, err := Run(ctx, w.Mirror, w.Prefix, opts)
	if res != nil && len(res.Commits) > 0 && w.Pushed != nil {
		w.Pushed(branch, res.Commits)
	}
	return err
}

// Plan fetches branch and returns the commits a reconcile would push now,
// without pushing: the plan a server logs before its first push.
func (w *Writer) Plan(ctx context.Context, branch string) ([]Commit, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	opts := w.Options
	opts.Push, opts.DryRun, opts.Remote, opts.Branch = true, true, w.Remote, branch
	if w.Auth != nil {
		a, err := w.Auth(ctx)
		if err != nil {
			return nil, fmt.Errorf("credentials for %s: %w", redactURL(w.Remote), err)
		}
		opts.Auth = a
	}
	res, err := Run(ctx, w.Mirror, w.Prefix, opts)
	if err != nil {
		return nil, err
	}
	return res.Planned, nil
}

// Reconcile makes every write that is due on branch.
func (w *Writer) Reconcile(ctx context.Context, branch string) error { return w.run(ctx, branch, nil) }

// RecordApprovals writes approvals the forge authenticated as approval
// files, then everything else that is due, as commits on branch.
func (w *Writer) RecordApprovals(ctx context.Context, branch string, recs []writeback.ApprovalRecord) error {
	return w.run(ctx, branch, func(s *loader.Snapshot) ([]writeback.Write, error) {
		return writeback.ApprovalWrites(s, recs)
	})
}

// QuarterlyReport writes the reports of completed quarters that are missing
// (reconcile computes them from the clock); quarter names the one the
// schedule expects, for the log.
func (w *Writer) QuarterlyReport(ctx context.Context, branch, quarter string) error {
	return w.run(ctx, branch, nil)
}
