// Package reconcile makes the writes that package writeback finds due and
// records each as a commit, built from objects with no work tree, authored by
// the policy's bot identity. Pushing never forces: it names the branch's
// expected old value, and when another writer got there first it fetches,
// recomputes from the new state (never a textual rebase) and tries again, a
// bounded number of times with jitter. A rejection that is not contention
// (a protected branch, a declining hook) stops with the remote's message.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/redact"
	"github.com/relgate/relgate/controller/writeback"
)

// Options adjust a run.
type Options struct {
	// Lang of release reports (zh, en); empty for the policy's.
	Lang string
	// DryRun computes and prints the writes without committing.
	DryRun bool
	// Push publishes the commits to Remote's Branch instead of committing
	// on the local branch.
	Push bool
	// Remote is a remote name of the repository (default origin) or a URL.
	Remote string
	// Branch to write; default the current branch.
	Branch string
	// MaxAttempts bounds the fetch-recompute-push cycles (default 20).
	MaxAttempts int
	// Now gives commit times; default time.Now.
	Now func() time.Time
	// Out receives one line per commit.
	Out io.Writer
	// Auth authenticates fetch and push to an HTTPS remote.
	Auth transport.AuthMethod
	// SignKey signs relgate's commits (recommended when the policy requires signatures).
	SignKey *openpgp.Entity
	// Extra adds writes beyond those the documents call for (approval records from the forge).
	Extra func(*loader.Snapshot) ([]writeback.Write, error)
}

// Commit is one commit a run made.
type Commit struct {
	Hash      string `json:"hash"`
	Subject   string `json:"subject"`
	Operation string `json:"operation"`
}

// Result says what a run did.
type Result struct {
	Writes   []writeback.Write `json:"-"`
	Commits  []Commit          `json:"commits"`
	Attempts int               `json:"attempts"`
}

// ErrRejected is a push the remote refused for a reason other than contention.
var ErrRejected = errors.New("push rejected")

// Run reconciles the release repository at prefix inside r.
func Run(ctx context.Context, r *gitrepo.Repo, prefix string, opts Options) (*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 20
	}
	if opts.Branch == "" {
		head, err := r.Git.Head()
		if err != nil || !head.Name().IsBranch() {
			return nil, fmt.Errorf("HEAD is not on a branch; give --branch")
		}
		opts.Branch = head.Name().Short()
	}
	if !opts.Push {
		return runLocal(r, prefix, opts)
	}
	if opts.Remote == "" {
		opts.Remote = "origin"
	}
	res := &Result{}
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		tip, err := fetch(ctx, r, opts)
		if err != nil {
			return res, err
		}
		writes, newTip, commits, err := commitWrites(r, prefix, tip, opts)
		if err != nil {
			return res, err
		}
		res.Writes = writes
		if opts.DryRun || newTip == tip {
			return res, nil
		}
		failpoint("before-push")
		err = push(ctx, r, opts, tip, newTip)
		if err == nil {
			failpoint("after-push")
			res.Commits = commits
			for _, c := range commits {
				fmt.Fprintf(opts.Out, "%s %s\n", c.Hash[:12], c.Subject)
			}
			return res, nil
		}
		if !isContention(err) {
			return res, fmt.Errorf("push %s to %s: %w: %v", opts.Branch, redactURL(opts.Remote), ErrRejected, err)
		}
		if attempt >= opts.MaxAttempts {
			return res, fmt.Errorf("push %s to %s: another writer kept moving the branch; gave up after %d attempts: %w", opts.Branch, redactURL(opts.Remote), attempt, err)
		}
		// Jittered exponential backoff keeps competing controllers from retrying in step.
		backoff := time.Duration(10<<min(attempt, 6)) * time.Millisecond
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(backoff/2 + rand.N(backoff)):
		}
	}
}

// runLocal commits on the local branch and brings the work tree along.
func runLocal(r *gitrepo.Repo, prefix string, opts Options) (*Result, error) {
	tip, err := r.Resolve("refs/heads/" + opts.Branch)
	if err != nil {
		return nil, err
	}
	writes, newTip, commits, err := commitWrites(r, prefix, tip, opts)
	res := &Result{Writes: writes, Attempts: 1}
	if err != nil || opts.DryRun || newTip == tip {
		return res, err
	}
	onBranch := false
	if head, err := r.Git.Head(); err == nil && head.Name().Short() == opts.Branch {
		onBranch = true
	}
	if onBranch && r.WorkDir != "" {
		if err := checkClean(r, prefix, tip, writes); err != nil {
			return res, err
		}
	}
	if err := r.SetBranch(opts.Branch, tip, newTip); err != nil {
		return res, err
	}
	failpoint("after-ref")
	if onBranch && r.WorkDir != "" {
		if err := syncWorkTree(r, prefix, writes); err != nil {
			return res, fmt.Errorf("committed, but updating the work tree failed (run git checkout -- . to refresh it): %w", err)
		}
	}
	res.Commits = commits
	for _, c := range commits {
		fmt.Fprintf(opts.Out, "%s %s\n", c.Hash[:12], c.Subject)
	}
	return res, nil
}

// commitWrites plans on top of tip and writes one commit per write, chained.
func commitWrites(r *gitrepo.Repo, prefix string, tip plumbing.Hash, opts Options) ([]writeback.Write, plumbing.Hash, []Commit, error) {
	tree, err := r.TreeAt(tip, prefix)
	if err != nil {
		return nil, tip, nil, err
	}
	snap, err := loader.LoadAll(tree, loader.Options{})
	if err != nil {
		return nil, tip, nil, err
	}
	if snap.Policy == nil {
		return nil, tip, nil, fmt.Errorf("relgate.yaml at %s is missing or invalid; run relgate validate", tree.Name())
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		return nil, tip, nil, err
	}
	led, err := provenance.Open(r, prefix, tip)
	if err != nil {
		return nil, tip, nil, err
	}
	// The policy in force, not relgate.yaml as it stands: one pushed past its
	// gate vouches for nothing.
	if pol, _, err = engine.PolicyInForce(r, prefix, led.Index(), tip); err != nil {
		return nil, tip, nil, err
	}
	writes, err := writeback.Plan(snap, pol, writeback.Options{Lang: opts.Lang, Now: opts.Now(), Provenance: led})
	if err != nil {
		return nil, tip, nil, err
	}
	if opts.Extra != nil {
		more, err := opts.Extra(snap)
		if err != nil {
			return nil, tip, nil, err
		}
		writes = append(more, writes...)
	}
	if opts.DryRun {
		for _, w := range writes {
			fmt.Fprintf(opts.Out, "would commit: %s\n", w.Subject)
			for _, f := range w.Files {
				fmt.Fprintf(opts.Out, "  %s\n", f.Path)
			}
		}
		return writes, tip, nil, nil
	}
	who := gitrepo.Author{Name: pol.Bot.Name, Email: pol.Bot.Email, When: opts.Now().In(pol.Location), SignKey: opts.SignKey}
	cur := tip
	var commits []Commit
	for _, w := range writes {
		changes := make([]gitrepo.Change, len(w.Files))
		for i, f := range w.Files {
			changes[i] = gitrepo.Change{Path: f.Path, Content: f.Content}
		}
		h, err := r.CommitFiles(cur, prefix, changes, w.Message(), who)
		if err != nil {
			return writes, tip, nil, fmt.Errorf("commit %q: %w", w.Subject, err)
		}
		failpoint("after-commit")
		cur = h
		commits = append(commits, Commit{Hash: h.String(), Subject: w.Subject, Operation: w.OperationID()})
	}
	return writes, cur, commits, nil
}

// checkClean refuses to run over uncommitted edits of the files it writes.
func checkClean(r *gitrepo.Repo, prefix string, tip plumbing.Hash, writes []writeback.Write) error {
	tree, err := r.TreeAt(tip, prefix)
	if err != nil {
		return err
	}
	for _, w := range writes {
		for _, f := range w.Files {
			disk, derr := os.ReadFile(filepath.Join(r.WorkDir, filepath.FromSlash(join(prefix, f.Path))))
			committed, cerr := tree.Read(f.Path)
			if (derr == nil) != (cerr == nil) || string(disk) != string(committed) {
				return fmt.Errorf("%s has uncommitted changes; commit or stash them before relgate reconcile writes it", f.Path)
			}
		}
	}
	return nil
}

func join(prefix, p string) string {
	if prefix == "" {
		return p
	}
	return prefix + "/" + p
}

// syncWorkTree writes the committed files to the work tree and the index, so
// the work tree stays clean after relgate committed on the checked-out branch.
func syncWorkTree(r *gitrepo.Repo, prefix string, writes []writeback.Write) error {
	wt, err := r.Git.Worktree()
	if err != nil {
		return err
	}
	for _, w := range writes {
		for _, f := range w.Files {
			rel := join(prefix, f.Path)
			full := filepath.Join(r.WorkDir, filepath.FromSlash(rel))
			if err := confined(r.WorkDir, full); err != nil {
				return err
			}
			if f.Content == nil {
				if err := os.Remove(full); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			} else {
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(full, f.Content, 0o644); err != nil {
					return err
				}
			}
			if _, err := wt.Add(rel); err != nil && f.Content != nil {
				return err
			}
		}
	}
	return nil
}

// confined refuses a path that would pass through a symlink.
func confined(root, full string) error {
	rel, err := filepath.Rel(root, full)
	if err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("%s is outside the work tree", full)
	}
	cur := root
	parts := strings.Split(rel, string(filepath.Separator))
	for _, p := range parts {
		cur = filepath.Join(cur, p)
		info, err := os.Lstat(cur)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symlink; relgate does not write through links", cur)
		}
	}
	return nil
}

func remoteRef(opts Options) plumbing.ReferenceName {
	return plumbing.ReferenceName("refs/relgate/remotes/" + opts.Branch)
}

// remote returns the remote to talk to: a configured one by name, or an
// anonymous one for a URL.
func remote(r *gitrepo.Repo, opts Options) (*git.Remote, error) {
	if strings.Contains(opts.Remote, "/") || strings.Contains(opts.Remote, ":") {
		return git.NewRemote(r.Git.Storer, &config.RemoteConfig{Name: "relgate", URLs: []string{opts.Remote}}), nil
	}
	rem, err := r.Git.Remote(opts.Remote)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", opts.Remote, err)
	}
	return rem, nil
}

// fetch brings the remote branch into a private ref and returns its tip.
func fetch(ctx context.Context, r *gitrepo.Repo, opts Options) (plumbing.Hash, error) {
	rem, err := remote(r, opts)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", opts.Branch, remoteRef(opts)))
	err = rem.FetchContext(ctx, &git.FetchOptions{RemoteName: rem.Config().Name, Auth: opts.Auth, RefSpecs: []config.RefSpec{spec}, Force: true, Tags: git.NoTags})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s from %s: %w", opts.Branch, redactURL(opts.Remote), redact.Error(err, opts.Remote))
	}
	ref, err := r.Git.Reference(remoteRef(opts), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s from %s: %w", opts.Branch, redactURL(opts.Remote), err)
	}
	return ref.Hash(), nil
}

// push moves the remote branch from old to new, never forcing.
func push(ctx context.Context, r *gitrepo.Repo, opts Options, old, new plumbing.Hash) error {
	rem, err := remote(r, opts)
	if err != nil {
		return err
	}
	dst := "refs/heads/" + opts.Branch
	err = rem.PushContext(ctx, &git.PushOptions{RemoteName: rem.Config().Name, Auth: opts.Auth,
		RefSpecs:          []config.RefSpec{config.RefSpec(new.String() + ":" + dst)},
		RequireRemoteRefs: []config.RefSpec{config.RefSpec(old.String() + ":" + dst)}})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return redact.Error(err, opts.Remote)
	}
	// Remember the new tip, so a crash now recomputes from it after the next fetch.
	return r.Git.Storer.SetReference(plumbing.NewHashReference(remoteRef(opts), new))
}

// isContention tells a branch that moved from a refusal.
func isContention(err error) bool {
	if errors.Is(err, git.ErrNonFastForwardUpdate) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"non-fast-forward", "fetch first", "required to be", "cannot lock ref", "failed to lock", "failed to update ref", "stale info"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// redactURL strips credentials from a remote URL before it reaches a message.
func redactURL(u string) string { return redact.URL(u) }

// failpoint ends the process abruptly at a named point when RELGATE_FAILPOINT
// selects it, so tests can prove a crash there loses and duplicates nothing.
func failpoint(name string) {
	if os.Getenv("RELGATE_FAILPOINT") == name {
		fmt.Fprintf(os.Stderr, "relgate: failpoint %s\n", name)
		os.Exit(86)
	}
}
