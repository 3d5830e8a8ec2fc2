package cli

import (
	"flag"
	"fmt"
	"os"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/source"
)

// repoFlags are the flags every command shares to name a release repository
// and, optionally, a revision of it.
type repoFlags struct {
	repo string
	rev  string
}

func (f *repoFlags) register(fs *flag.FlagSet, withRev bool) {
	fs.StringVar(&f.repo, "repo", "", "release repository `DIR` (default: DIR argument or the current directory)")
	if withRev {
		fs.StringVar(&f.rev, "rev", "", "read documents at this git `REV` (commit, branch, tag) instead of the work tree")
	}
}

// dir picks the repository directory from --repo or the one positional argument.
func (f *repoFlags) dir(pos []string) (string, error) {
	switch {
	case len(pos) > 1:
		return "", usagef("too many arguments: %v", pos)
	case len(pos) == 1 && f.repo != "" && pos[0] != f.repo:
		return "", usagef("give the repository once: --repo %s or %s", f.repo, pos[0])
	case len(pos) == 1:
		return pos[0], nil
	case f.repo != "":
		return f.repo, nil
	}
	return ".", nil
}

// openTree returns the release repository at --rev, or its work tree. close
// releases what was opened.
func (f *repoFlags) openTree(dir string) (t source.Tree, close func(), err error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("release repository %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, nil, usagef("%s is not a directory", dir)
	}
	if f.rev == "" {
		return source.Dir{Root: dir}, func() {}, nil
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	prefix, err := r.Prefix(dir)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	commit, err := r.Resolve(f.rev)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	tree, err := r.TreeAt(commit, prefix)
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return tree, func() { r.Close() }, nil
}
