package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	git "github.com/go-git/go-git/v5"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/reconcile"
	"github.com/relgate/relgate/controller/remote"
)

type reconcileOptions struct {
	repoFlags
	remote, branch, mirror, lang string
	signKey, now                 string
	push, dryRun                 bool
	netTimeout                   time.Duration
}

func runReconcile(args []string, stdout, stderr io.Writer) error {
	var o reconcileOptions
	fs := flag.NewFlagSet("relgate reconcile", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.remote, "remote", "", "work on this remote `URL` (https://, ssh://, user@host:path, or a path) instead of a local branch; or, with --push, a remote name")
	fs.StringVar(&o.branch, "branch", "", "`BRANCH` to write (default: the current branch)")
	fs.StringVar(&o.mirror, "mirror", "", "local mirror `DIR` for --remote URL (default: the user cache dir)")
	fs.StringVar(&o.lang, "lang", "", "language of release reports: zh or en (default: the policy's)")
	fs.BoolVar(&o.push, "push", false, "push the commits to the remote (never forced) instead of committing locally")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the commits that are due without making them")
	fs.StringVar(&o.now, "now", "", "the time, RFC 3339, for commit dates and which quarters are complete (default: now)")
	fs.StringVar(&o.signKey, "sign-key", "", "sign relgate's commits with the armored OpenPGP private key in `FILE`")
	fs.DurationVar(&o.netTimeout, "net-timeout", gitrepo.DefaultNetTimeout, "give up on a fetch or push after this `DURATION`")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if o.lang != "" {
		if err := oneOf("lang", o.lang, "zh", "en"); err != nil {
			return err
		}
	}
	if o.netTimeout <= 0 {
		return usagef("--net-timeout must be positive")
	}
	var r *gitrepo.Repo
	prefix := ""
	if o.remote != "" && !reconcile.IsRemoteName(o.remote) {
		// Refused before a mirror is made or anything connects.
		if err := remote.Check(o.remote); err != nil {
			return usagef("--remote: %v", err)
		}
		if len(pos) > 0 || o.repo != "" {
			return usagef("give either DIR or --remote URL")
		}
		if o.branch == "" {
			return usagef("--remote URL needs --branch")
		}
		o.push = true
		if r, err = openMirrorReport(o.remote, o.mirror, stderr); err != nil {
			return err
		}
	} else {
		dir, err := o.dir(pos)
		if err != nil {
			return err
		}
		if r, err = gitrepo.Open(dir); err != nil {
			return err
		}
		if prefix, err = r.Prefix(dir); err != nil {
			r.Close()
			return err
		}
	}
	defer r.Close()
	opts := reconcile.Options{Lang: o.lang, DryRun: o.dryRun, Push: o.push, Remote: o.remote, Branch: o.branch, Out: stdout,
		NetTimeout: o.netTimeout,
		OnRepair: func(reason string) {
			fmt.Fprintf(stderr, "relgate: the mirror %s was damaged (%s); moved it aside and fetched it again\n", r.GitDir(), reason)
		}}
	if o.now != "" {
		t, err := parseNow(o.now)
		if err != nil {
			return err
		}
		opts.Now = func() time.Time { return t }
	}
	if o.signKey != "" {
		if opts.SignKey, err = readSigningKey(o.signKey); err != nil {
			return err
		}
	}
	res, err := reconcile.Run(context.Background(), r, prefix, opts)
	if err != nil {
		return err
	}
	switch {
	case o.dryRun && len(res.Writes) == 0, !o.dryRun && len(res.Commits) == 0:
		fmt.Fprintln(stdout, "nothing to do")
	case !o.dryRun:
		fmt.Fprintf(stdout, "%d commit(s)\n", len(res.Commits))
	}
	return nil
}

// openMirror opens (creating it the first time) a bare mirror of a remote.
// A mirror whose packs are damaged is moved aside and started again: all it
// holds comes back with the next fetch.
func openMirror(url, dir string) (*gitrepo.Repo, error) {
	return openMirrorReport(url, dir, io.Discard)
}

func openMirrorReport(url, dir string, warn io.Writer) (*gitrepo.Repo, error) {
	if err := remote.Check(url); err != nil {
		return nil, err
	}
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(url))
		dir = filepath.Join(cache, "relgate", "mirrors", hex.EncodeToString(sum[:8]))
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if _, err := git.PlainInit(dir, true); err != nil {
			return nil, fmt.Errorf("create mirror %s: %w", dir, err)
		}
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := r.CheckPacks(); err != nil {
		aside, rerr := r.Rebuild(time.Now())
		if rerr != nil {
			return nil, fmt.Errorf("mirror %s is damaged (%v) and could not be rebuilt: %w", dir, err, rerr)
		}
		fmt.Fprintf(warn, "relgate: the mirror %s was damaged (%v); moved it to %s and starting again\n", dir, err, aside)
	}
	return r, nil
}
