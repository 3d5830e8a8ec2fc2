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
)

type reconcileOptions struct {
	repoFlags
	remote, branch, mirror, lang string
	signKey, now                 string
	push, dryRun                 bool
}

func runReconcile(args []string, stdout, stderr io.Writer) error {
	var o reconcileOptions
	fs := flag.NewFlagSet("relgate reconcile", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.remote, "remote", "", "work on this remote `URL` (or remote name with --push) instead of a local branch")
	fs.StringVar(&o.branch, "branch", "", "`BRANCH` to write (default: the current branch)")
	fs.StringVar(&o.mirror, "mirror", "", "local mirror `DIR` for --remote URL (default: the user cache dir)")
	fs.StringVar(&o.lang, "lang", "", "language of release reports: zh or en (default: the policy's)")
	fs.BoolVar(&o.push, "push", false, "push the commits to the remote (never forced) instead of committing locally")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the writes that are due without committing")
	fs.StringVar(&o.now, "now", "", "the time, RFC 3339, for commit dates and which quarters are complete (default: now)")
	fs.StringVar(&o.signKey, "sign-key", "", "sign relgate's commits with the armored OpenPGP private key in `FILE`")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if o.lang != "" {
		if err := oneOf("lang", o.lang, "zh", "en"); err != nil {
			return err
		}
	}
	var r *gitrepo.Repo
	prefix := ""
	if o.remote != "" && isURL(o.remote) {
		if len(pos) > 0 || o.repo != "" {
			return usagef("give either DIR or --remote URL")
		}
		if o.branch == "" {
			return usagef("--remote URL needs --branch")
		}
		o.push = true
		if r, err = openMirror(o.remote, o.mirror); err != nil {
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
	opts := reconcile.Options{Lang: o.lang, DryRun: o.dryRun, Push: o.push, Remote: o.remote, Branch: o.branch, Out: stdout}
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

func isURL(s string) bool {
	return filepath.IsAbs(s) || len(s) > 3 && (s[:3] == "../" || containsScheme(s))
}

func containsScheme(s string) bool {
	for _, p := range []string{"file://", "http://", "https://", "ssh://", "git@"} {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

// openMirror opens (creating it the first time) a bare mirror of a remote.
func openMirror(url, dir string) (*gitrepo.Repo, error) {
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
	return gitrepo.Open(dir)
}
