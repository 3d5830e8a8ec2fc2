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
	"sort"
	"strings"
	"syscall"
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
	"github.com/relgate/relgate/controller/remote"
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
	// NetTimeout bounds each fetch and each push (default
	// gitrepo.DefaultNetTimeout), a remote that streams without end included.
	NetTimeout time.Duration
	// SignKey signs relgate's commits (recommended when the policy requires signatures).
	SignKey *openpgp.Entity
	// OnRepair is called when a damaged bare mirror was moved aside and
	// fetched again (reason says what was damaged), for a log line or a metric.
	OnRepair func(reason string)
	// Extra adds writes beyond those the documents call for (approval records from the forge).
	Extra func(*loader.Snapshot) ([]writeback.Write, error)
}

// Commit is one commit a run made (or, in a dry run, would make).
type Commit struct {
	// Hash is "" in a dry run.
	Hash string `json:"hash,omitempty"`
	// Subject is the write-back's reason ("REL-2026-0041: update the CMDB
	// after the succeeded deployment").
	Subject   string `json:"subject"`
	Operation string `json:"operation"`
	Kind      string `json:"kind"`
	Release   string `json:"release,omitempty"`
	// Files are the paths the commit writes or deletes, relative to the
	// release repository.
	Files []string `json:"files"`
}

// String is the commit as relgate prints and logs it: its short id (none in
// a dry run), why (the subject) and the files it writes.
func (c Commit) String() string {
	s := c.Subject + " [" + strings.Join(c.Files, ", ") + "]"
	if h := c.Hash; h != "" {
		return h[:min(12, len(h))] + ": " + s
	}
	return s
}

// Result says what a run did.
type Result struct {
	Writes []writeback.Write `json:"-"`
	// Commits are the commits made (committed locally, or pushed).
	Commits []Commit `json:"commits"`
	// Planned are the commits a dry run would make, in order.
	Planned  []Commit `json:"planned,omitempty"`
	Attempts int      `json:"attempts"`
}

func planned(writes []writeback.Write) []Commit {
	out := make([]Commit, len(writes))
	for i, w := range writes {
		out[i] = describe(w, "")
	}
	return out
}

func describe(w writeback.Write, hash string) Commit {
	files := make([]string, len(w.Files))
	for i, f := range w.Files {
		files[i] = f.Path
	}
	sort.Strings(files)
	return Commit{Hash: hash, Subject: w.Subject, Operation: w.OperationID(), Kind: w.Kind, Release: w.Release, Files: files}
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
	if r.WorkDir != "" {
		return runPush(ctx, r, prefix, opts)
	}
	// A bare repository is a mirror: all it holds comes back with a fetch,
	// so a damaged one is rebuilt rather than failing every run.
	if err := r.CheckPacks(); err != nil {
		if err := repair(r, opts, err); err != nil {
			return nil, err
		}
	}
	res, err := runPush(ctx, r, prefix, opts)
	if err != nil && gitrepo.LooksCorrupt(err) && !errors.Is(err, context.DeadlineExceeded) {
		if verr := r.Verify(); verr != nil {
			if err := repair(r, opts, verr); err != nil {
				return res, err
			}
			return runPush(ctx, r, prefix, opts)
		}
	}
	return res, err
}

func repair(r *gitrepo.Repo, opts Options, damage error) error {
	dir := r.GitDir()
	// The wall clock, not opts.Now (commit dates): it names a folder.
	if _, err := r.Rebuild(time.Now()); err != nil {
		return fmt.Errorf("mirror %s is damaged (%v) and could not be rebuilt: %w", dir, damage, err)
	}
	if opts.OnRepair != nil {
		opts.OnRepair(damage.Error())
	}
	return nil
}

// runPush fetches, commits on top of the remote's tip and pushes, again
// while another writer moved the branch.
func runPush(ctx context.Context, r *gitrepo.Repo, prefix string, opts Options) (*Result, error) {
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
		if opts.DryRun {
			res.Planned = planned(writes)
			for _, c := range res.Planned {
				fmt.Fprintf(opts.Out, "would push: %s\n", c)
			}
			return res, nil
		}
		if newTip == tip {
			return res, nil
		}
		failpoint("before-push")
		err = push(ctx, r, opts, tip, newTip)
		if err == nil {
			failpoint("after-push")
			res.Commits = commits
			for _, c := range commits {
				fmt.Fprintf(opts.Out, "pushed %s\n", c)
			}
			return res, nil
		}
		if errors.Is(err, gitrepo.ErrDeadline) {
			return res, fmt.Errorf("push %s: %w", opts.Branch, err)
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
	if r.WorkDir != "" && !opts.DryRun {
		if err := recoverSync(r); err != nil {
			return nil, err
		}
	}
	tip, err := r.Resolve("refs/heads/" + opts.Branch)
	if err != nil {
		return nil, err
	}
	writes, newTip, commits, err := commitWrites(r, prefix, tip, opts)
	res := &Result{Writes: writes, Attempts: 1}
	if errors.Is(err, syscall.ENOSPC) {
		return res, fmt.Errorf("%w; %s, the index and the work tree are unchanged: free space and run relgate reconcile again", err, opts.Branch)
	}
	if err != nil {
		return res, err
	}
	if opts.DryRun {
		res.Planned = planned(writes)
		for _, c := range res.Planned {
			fmt.Fprintf(opts.Out, "would commit: %s\n", c)
		}
		return res, nil
	}
	if newTip == tip {
		return res, nil
	}
	onBranch := false
	if head, err := r.Git.Head(); err == nil && head.Name() == plumbing.NewBranchReferenceName(opts.Branch) {
		onBranch = true
	}
	if !onBranch || r.WorkDir == "" {
		if err := r.SetBranch(opts.Branch, tip, newTip); err != nil {
			return res, err
		}
		return done(res, commits, opts), nil
	}
	if err := checkClean(r, prefix, tip, writes); err != nil {
		return res, err
	}
	// Files and index beside their place, then the journal, then the branch:
	// until the branch moves, nothing anyone sees has changed.
	paths := syncPaths(prefix, commits)
	unchanged := fmt.Sprintf("%s, the index and the work tree are unchanged (at %s)", opts.Branch, tip.String()[:12])
	plan, err := prepareSync(r, newTip, paths)
	if err != nil {
		return res, fmt.Errorf("write the work tree: %w; %s: free space and run relgate reconcile again", err, unchanged)
	}
	if err := writeJournal(r, syncJournal{Branch: opts.Branch, Old: tip.String(), New: newTip.String(), Paths: paths}); err != nil {
		plan.abort()
		return res, fmt.Errorf("write %s: %w; %s: free space and run relgate reconcile again", journalPath(r), err, unchanged)
	}
	if err := r.SetBranch(opts.Branch, tip, newTip); err != nil {
		plan.abort()
		os.Remove(journalPath(r))
		return res, fmt.Errorf("%w; %s: run relgate reconcile again", err, unchanged)
	}
	failpoint("after-ref")
	if err := plan.apply(); err != nil {
		return res, fmt.Errorf("%s moved to %s, but bringing the work tree along failed: %w; run relgate reconcile again to finish, or run: %s",
			opts.Branch, newTip.String()[:12], err, restoreCommand(r, newTip, paths))
	}
	if err := os.Remove(journalPath(r)); err != nil {
		return res, fmt.Errorf("remove %s: %w", journalPath(r), err)
	}
	return done(res, commits, opts), nil
}

func done(res *Result, commits []Commit, opts Options) *Result {
	res.Commits = commits
	for _, c := range commits {
		fmt.Fprintf(opts.Out, "committed %s\n", c)
	}
	return res
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
	if _, err := policy.New(snap.Policy); err != nil {
		return nil, tip, nil, err
	}
	led, err := provenance.Open(r, prefix, tip)
	if err != nil {
		return nil, tip, nil, err
	}
	// The policy in force, not relgate.yaml as it stands: one pushed past its
	// gate vouches for nothing.
	pol, _, err := engine.PolicyInForce(r, prefix, led.Index(), tip)
	if err != nil {
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
		commits = append(commits, describe(w, h.String()))
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

// remoteURL returns the URL to talk to: opts.Remote itself, or the URL of
// the repository's remote of that name. Either is checked against the
// allow-list (package remote) before anything connects.
func remoteURL(r *gitrepo.Repo, opts Options) (string, error) {
	if !IsRemoteName(opts.Remote) {
		return opts.Remote, remote.Check(opts.Remote)
	}
	rem, err := r.Git.Remote(opts.Remote)
	if err != nil {
		return "", fmt.Errorf("remote %s: %w", opts.Remote, err)
	}
	urls := rem.Config().URLs
	if len(urls) == 0 {
		return "", fmt.Errorf("remote %s has no URL", opts.Remote)
	}
	if err := remote.Check(urls[0]); err != nil {
		return "", fmt.Errorf("remote %s: %w", opts.Remote, err)
	}
	return urls[0], nil
}

// IsRemoteName tells a configured remote's name ("origin") from a URL or path.
func IsRemoteName(s string) bool {
	if s == "" || s[0] == '-' || s[0] == '.' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (o Options) net(url string) gitrepo.Net {
	return gitrepo.Net{URL: url, Auth: o.Auth, Timeout: o.NetTimeout}
}

// fetch brings the remote branch into a private ref and returns its tip.
func fetch(ctx context.Context, r *gitrepo.Repo, opts Options) (plumbing.Hash, error) {
	url, err := remoteURL(r, opts)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", opts.Branch, remoteRef(opts)))
	if err := r.Fetch(ctx, opts.net(url), []config.RefSpec{spec}); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s from %s: %w", opts.Branch, redactURL(url), err)
	}
	ref, err := r.Git.Reference(remoteRef(opts), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("fetch %s from %s: %w", opts.Branch, redactURL(url), err)
	}
	return ref.Hash(), nil
}

// push moves the remote branch from old to new, never forcing.
func push(ctx context.Context, r *gitrepo.Repo, opts Options, old, new plumbing.Hash) error {
	url, err := remoteURL(r, opts)
	if err != nil {
		return err
	}
	if err := r.Push(ctx, opts.net(url), new.String(), old.String(), "refs/heads/"+opts.Branch); err != nil {
		return err
	}
	// Remember the new tip, so a crash now recomputes from it after the next fetch.
	return r.Git.Storer.SetReference(plumbing.NewHashReference(remoteRef(opts), new))
}

// isContention tells a branch that moved from a refusal.
func isContention(err error) bool {
	if errors.Is(err, git.ErrNonFastForwardUpdate) {
		return true
	}
	// What a hook printed is not the outcome: judge go-git's error alone.
	var re *gitrepo.RemoteError
	if errors.As(err, &re) {
		err = re.Err
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
