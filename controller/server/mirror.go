package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/relgate/relgate/controller/ghapi"
	"github.com/relgate/relgate/controller/gitrepo"
)

// Mirror is a bare local copy of the release repository, fetched with
// go-git. A go-git repository is not safe for concurrent use, so every
// operation holds the mirror's lock (Do).
type Mirror struct {
	mu     sync.Mutex
	remote string
	repo   *gitrepo.Repo
	auth   func(ctx context.Context) (transport.AuthMethod, error)
}

// OpenMirror opens (or creates) the mirror in dir fetching from remote (a
// URL or a local path).
func OpenMirror(dir, remote string, auth func(context.Context) (transport.AuthMethod, error)) (*Mirror, error) {
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
		_, err = r.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}})
	case err == nil && (len(rem.Config().URLs) != 1 || rem.Config().URLs[0] != remote):
		if err = r.Git.DeleteRemote("origin"); err == nil {
			_, err = r.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}})
		}
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("mirror %s: remote %s: %w", dir, ghapi.Redact(remote), err)
	}
	return &Mirror{remote: remote, repo: r, auth: auth}, nil
}

// Close releases the mirror's files.
func (m *Mirror) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.repo.Close()
}

// Do runs fn with the mirror locked.
func (m *Mirror) Do(fn func(r *gitrepo.Repo) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fn(m.repo)
}

// BranchRef is where the mirror keeps a fetched branch.
func BranchRef(branch string) plumbing.ReferenceName {
	return plumbing.ReferenceName("refs/remotes/origin/" + branch)
}

// PullRef is where the mirror keeps a fetched pull request head.
func PullRef(n int) plumbing.ReferenceName {
	return plumbing.ReferenceName(fmt.Sprintf("refs/remotes/pull/%d/head", n))
}

// Fetch fetches branches and pull request heads (0 for none) into the
// mirror. The caller holds the lock (inside Do).
func (m *Mirror) fetch(ctx context.Context, r *gitrepo.Repo, branches []string, pulls []int) error {
	var specs []config.RefSpec
	for _, b := range branches {
		specs = append(specs, config.RefSpec(fmt.Sprintf("+refs/heads/%s:%s", b, BranchRef(b))))
	}
	for _, n := range pulls {
		specs = append(specs, config.RefSpec(fmt.Sprintf("+refs/pull/%d/head:%s", n, PullRef(n))))
	}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("refspec %s: %w", s, err)
		}
	}
	opts := &git.FetchOptions{RemoteName: "origin", RefSpecs: specs, Force: true, Tags: git.NoTags}
	if m.auth != nil {
		a, err := m.auth(ctx)
		if err != nil {
			return fmt.Errorf("fetch from %s: credentials: %w", ghapi.Redact(m.remote), err)
		}
		opts.Auth = a
	}
	err := r.Git.FetchContext(ctx, opts)
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	if err != nil {
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
