package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/remote"
)

// Mirror is a bare local copy of the release repository, fetched with
// go-git. A go-git repository is not safe for concurrent use, so every
// operation holds the mirror's lock (Do). Every fetch has a deadline, and a
// mirror found damaged (a truncated pack, a missing object) is moved aside
// and fetched again, since all it holds is on the remote.
type Mirror struct {
	mu      sync.Mutex
	remote  string
	repo    *gitrepo.Repo
	opts    MirrorOptions
	repairs int
}

// MirrorOptions configure a mirror.
type MirrorOptions struct {
	// Auth returns credentials for each fetch (installation tokens expire).
	Auth func(ctx context.Context) (transport.AuthMethod, error)
	// Timeout bounds each fetch (default gitrepo.DefaultNetTimeout).
	Timeout time.Duration
	// Logger receives a line for each repair (default slog.Default()).
	Logger *slog.Logger
	// OnRepair is called after a damaged mirror was moved aside and
	// rebuilt, with what was damaged: for a metric.
	OnRepair func(reason string)
	// Clock names the moved-aside copy (default time.Now).
	Clock func() time.Time
}

// OpenMirror opens (or creates) the mirror in dir fetching from remote (a
// URL or a local path), with default options.
func OpenMirror(dir, remote string, auth func(context.Context) (transport.AuthMethod, error)) (*Mirror, error) {
	return OpenMirrorWith(dir, remote, MirrorOptions{Auth: auth})
}

// OpenMirrorWith opens (or creates) the mirror in dir fetching from remote,
// which must pass the allow-list (package remote).
func OpenMirrorWith(dir, remoteURL string, o MirrorOptions) (*Mirror, error) {
	if err := remote.Check(remoteURL); err != nil {
		return nil, fmt.Errorf("release repository: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create mirror %s: %w", dir, err)
		}
		if _, err := git.PlainInit(dir, true); err != nil {
			return nil, fmt.Errorf("create mirror %s: %w", dir, err)
		}
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open mirror %s: %w", dir, err)
	}
	rem, err := r.Git.Remote("origin")
	switch {
	case errors.Is(err, git.ErrRemoteNotFound):
		_, err = r.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remoteURL}})
	case err == nil && (len(rem.Config().URLs) != 1 || rem.Config().URLs[0] != remoteURL):
		if err = r.Git.DeleteRemote("origin"); err == nil {
			_, err = r.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remoteURL}})
		}
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("mirror %s: remote %s: %w", dir, ghapi.Redact(remoteURL), err)
	}
	m := &Mirror{remote: remoteURL, repo: r, opts: o}
	if err := r.CheckPacks(); err != nil {
		if err := m.repair(context.Background(), err); err != nil {
			r.Close()
			return nil, err
		}
	}
	return m, nil
}

// Close releases the mirror's files.
func (m *Mirror) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.repo.Close()
}

// Repairs is how many times the mirror was found damaged and rebuilt.
func (m *Mirror) Repairs() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.repairs
}

// Do runs fn with the mirror locked. When fn fails reading objects and the
// mirror is indeed damaged (gitrepo.Verify, a pass over the history, so it
// runs only after such a failure), the mirror is rebuilt, the branches it
// had are fetched again, and fn runs once more.
func (m *Mirror) Do(fn func(r *gitrepo.Repo) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := fn(m.repo)
	if !gitrepo.LooksCorrupt(err) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	verr := m.repo.Verify()
	if verr == nil {
		return err
	}
	if rerr := m.repair(context.Background(), verr); rerr != nil {
		return fmt.Errorf("%w (and the mirror is damaged: %v)", err, rerr)
	}
	return fn(m.repo)
}

// repair moves the damaged mirror aside, starts it again and fetches the
// branches it had. The caller holds the lock.
func (m *Mirror) repair(ctx context.Context, damage error) error {
	var branches []string
	if names, err := m.repo.RefNames("refs/remotes/origin/"); err == nil {
		for _, n := range names {
			branches = append(branches, strings.TrimPrefix(n.String(), "refs/remotes/origin/"))
		}
	}
	dir := m.repo.GitDir()
	aside, err := m.repo.Rebuild(m.opts.Clock())
	if err != nil {
		m.opts.Logger.Error("mirror damaged and could not be rebuilt", "dir", dir, "reason", damage.Error(), "err", err)
		return fmt.Errorf("mirror %s is damaged (%v) and could not be rebuilt: %w", dir, damage, err)
	}
	m.repairs++
	m.opts.Logger.Warn("mirror damaged: moved aside and fetching again", "dir", dir, "moved_to", aside, "reason", damage.Error(), "branches", branches)
	if m.opts.OnRepair != nil {
		m.opts.OnRepair(damage.Error())
	}
	if len(branches) == 0 {
		return nil
	}
	return m.fetchOnce(ctx, m.repo, branches, nil)
}

// BranchRef is where the mirror keeps a fetched branch.
func BranchRef(branch string) plumbing.ReferenceName {
	return plumbing.ReferenceName("refs/remotes/origin/" + branch)
}

// PullRef is where the mirror keeps a fetched pull request head.
func PullRef(n int) plumbing.ReferenceName {
	return plumbing.ReferenceName(fmt.Sprintf("refs/remotes/pull/%d/head", n))
}

// fetch fetches branches and pull request heads (0 for none) into the
// mirror, within the deadline. A damaged mirror is rebuilt first (its packs
// are checked on every fetch: 60 bytes read per pack), or when the fetch
// fails reading local objects. The caller holds the lock (inside Do).
func (m *Mirror) fetch(ctx context.Context, r *gitrepo.Repo, branches []string, pulls []int) error {
	if err := r.CheckPacks(); err != nil {
		if err := m.repair(ctx, err); err != nil {
			return err
		}
	}
	err := m.fetchOnce(ctx, r, branches, pulls)
	if err == nil {
		// A fetch that finds the remote where our refs are fetches nothing,
		// even when what the refs name has gone.
		err = fetchedPresent(r, branches, pulls)
	}
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !gitrepo.LooksCorrupt(err) {
		return err
	}
	verr := r.Verify()
	if verr == nil {
		return err
	}
	if err := m.repair(ctx, verr); err != nil {
		return err
	}
	return m.fetchOnce(ctx, r, branches, pulls)
}

// fetchedPresent checks that the fetched refs name commits the mirror has.
func fetchedPresent(r *gitrepo.Repo, branches []string, pulls []int) error {
	names := make([]plumbing.ReferenceName, 0, len(branches)+len(pulls))
	for _, b := range branches {
		names = append(names, BranchRef(b))
	}
	for _, n := range pulls {
		names = append(names, PullRef(n))
	}
	for _, n := range names {
		ref, err := r.Git.Reference(n, true)
		if err != nil {
			continue // not on the remote: the caller finds out
		}
		if err := r.Git.Storer.HasEncodedObject(ref.Hash()); err != nil {
			return fmt.Errorf("%s names %s: %w", n, ref.Hash(), err)
		}
	}
	return nil
}

func (m *Mirror) fetchOnce(ctx context.Context, r *gitrepo.Repo, branches []string, pulls []int) error {
	var specs []config.RefSpec
	for _, b := range branches {
		specs = append(specs, config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", b, BranchRef(b))))
	}
	for _, n := range pulls {
		specs = append(specs, config.RefSpec(fmt.Sprintf("+refs/pull/%d/head:%s", n, PullRef(n))))
	}
	n := gitrepo.Net{URL: m.remote, Timeout: m.opts.Timeout}
	if m.opts.Auth != nil {
		a, err := m.opts.Auth(ctx)
		if err != nil {
			return fmt.Errorf("fetch from %s: credentials: %w", ghapi.Redact(m.remote), err)
		}
		n.Auth = a
	}
	if err := r.Fetch(ctx, n, specs); err != nil {
		return fmt.Errorf("fetch %v from %s: %w", specs, ghapi.Redact(m.remote), &redacted{err: err, raw: m.remote})
	}
	return nil
}

// redacted keeps a remote URL's credentials out of an error's message.
type redacted struct {
	err error
	raw string
}

func (r *redacted) Error() string {
	return strings.ReplaceAll(r.err.Error(), r.raw, ghapi.Redact(r.raw))
}

func (r *redacted) Unwrap() error { return r.err }

// Fetch fetches with the lock held.
func (m *Mirror) Fetch(ctx context.Context, branches []string, pulls []int) error {
	return m.Do(func(r *gitrepo.Repo) error { return m.fetch(ctx, r, branches, pulls) })
}
