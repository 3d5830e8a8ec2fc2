package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"

	"github.com/relgate/relgate/controller/source"
)

// MaxRangeCommits bounds the commits a pull request's range may hold before
// relgate refuses to search it for the commits that added approvals.
const MaxRangeCommits = 5000

// Introduction is the commit that gave a file its current content.
type Introduction struct {
	Commit      string
	AuthorName  string
	AuthorEmail string
	Signed      bool
	commit      *object.Commit
}

// CommitID is the introducing commit's id.
func (i *Introduction) CommitID() string { return i.Commit }

// AuthorEmailAddress is the introducing commit's author email.
func (i *Introduction) AuthorEmailAddress() string { return i.AuthorEmail }

// VerifiedBy reports whether the commit carries a valid signature by one of
// the keys: armored OpenPGP public keys, or SSH public keys in
// authorized_keys form (git's gpg.format=ssh, which GitHub also verifies).
func (i *Introduction) VerifiedBy(keys []string) bool {
	if i == nil || i.commit == nil {
		return false
	}
	return VerifyCommit(i.commit, keys)
}

// VerifyCommit checks a commit's signature against the keys.
func VerifyCommit(c *object.Commit, keys []string) bool {
	if c.PGPSignature == "" || len(keys) == 0 {
		return false
	}
	if strings.HasPrefix(strings.TrimSpace(c.PGPSignature), "-----BEGIN SSH SIGNATURE-----") {
		return verifySSH(c, keys)
	}
	var pgp []string
	for _, k := range keys {
		if strings.Contains(k, "BEGIN PGP PUBLIC KEY BLOCK") {
			pgp = append(pgp, k)
		}
	}
	if len(pgp) == 0 {
		return false
	}
	_, err := c.Verify(strings.Join(pgp, "\n"))
	return err == nil
}

// verifySSH checks an SSHSIG signature (namespace "git") over the commit as
// git signs it: its encoding without the signature header.
func verifySSH(c *object.Commit, keys []string) bool {
	sig, err := sshsig.Unarmor([]byte(c.PGPSignature))
	if err != nil {
		return false
	}
	obj := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(obj); err != nil {
		return false
	}
	for _, k := range keys {
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k))
		if err != nil {
			continue
		}
		rd, err := obj.Reader()
		if err != nil {
			return false
		}
		if sshsig.Verify(rd, sig, pub, sig.HashAlgorithm, "git") == nil {
			return true
		}
	}
	return false
}

// RangeCommits returns the commits reachable from head and not from base
// (git's base..head), newest first. It walks both sides at once by commit
// time, as git rev-list does, and stops when every commit left to visit is
// reachable from base: a merge of an old commit of base brings nothing of
// base into the range.
func (r *Repo) RangeCommits(base, head plumbing.Hash) ([]*object.Commit, error) {
	const fromHead, fromBase = 1, 2
	flags := map[plumbing.Hash]int{}
	commits := map[plumbing.Hash]*object.Commit{}
	var queue []plumbing.Hash
	push := func(h plumbing.Hash, f int) error {
		old, seen := flags[h]
		if seen && old|f == old {
			return nil
		}
		flags[h] = old | f
		if _, ok := commits[h]; !ok {
			c, err := r.Git.CommitObject(h)
			if err != nil {
				return fmt.Errorf("read commit %s: %w", h, err)
			}
			commits[h] = c
		}
		queue = append(queue, h)
		return nil
	}
	if err := push(head, fromHead); err != nil {
		return nil, err
	}
	if err := push(base, fromBase); err != nil {
		return nil, err
	}
	for visited := 0; len(queue) > 0; visited++ {
		if visited > 4*MaxRangeCommits {
			return nil, fmt.Errorf("more than %d commits between base and head", MaxRangeCommits)
		}
		// Newest first; a commit reachable from base marks its ancestors so.
		sort.SliceStable(queue, func(i, j int) bool {
			return commits[queue[i]].Committer.When.After(commits[queue[j]].Committer.When)
		})
		interesting := false
		for _, h := range queue {
			if flags[h]&fromBase == 0 {
				interesting = true
				break
			}
		}
		if !interesting {
			break
		}
		h := queue[0]
		queue = queue[1:]
		for _, p := range commits[h].ParentHashes {
			if err := push(p, flags[h]); err != nil {
				return nil, err
			}
		}
	}
	var out []*object.Commit
	for h, f := range flags {
		if f == fromHead {
			out = append(out, commits[h])
		}
	}
	if len(out) > MaxRangeCommits {
		return nil, fmt.Errorf("more than %d commits between base and head", MaxRangeCommits)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Committer.When.After(out[j].Committer.When) })
	return out, nil
}

// Introductions finds, for each path, the commit in base..head that gave the
// path the content it has at head. Paths whose content at head equals that at
// base are not in the result: they were on the protected branch already. A
// path that differs from base but that no commit of the range introduced
// (the branch is behind base, or restores an older version) is in the result
// with a nil commit: nothing in the change vouches for it.
func (r *Repo) Introductions(base, head plumbing.Hash, prefix string, paths []string) (map[string]*Introduction, error) {
	out := map[string]*Introduction{}
	if len(paths) == 0 {
		return out, nil
	}
	headTree, err := r.TreeAt(head, prefix)
	if err != nil {
		return nil, err
	}
	baseTree, err := r.TreeAt(base, prefix)
	if err != nil {
		return nil, err
	}
	want := map[string]source.BlobID{}
	for _, p := range paths {
		h, err := headTree.Stat(p)
		if err != nil {
			continue
		}
		if b, err := baseTree.Stat(p); err == nil && b.ID == h.ID {
			continue
		}
		want[p] = h.ID
	}
	if len(want) == 0 {
		return out, nil
	}
	commits, err := r.RangeCommits(base, head)
	if err != nil {
		return nil, err
	}
	for _, c := range commits {
		t, err := r.TreeAt(c.Hash, prefix)
		if err != nil {
			return nil, err
		}
		var parents []*Tree
		for _, ph := range c.ParentHashes {
			pt, err := r.TreeAt(ph, prefix)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			if pt != nil {
				parents = append(parents, pt)
			}
		}
		for p, id := range want {
			e, err := t.Stat(p)
			if err != nil || e.ID != id {
				continue
			}
			inParent := false
			for _, pt := range parents {
				if pe, err := pt.Stat(p); err == nil && pe.ID == id {
					inParent = true
				}
			}
			if !inParent {
				out[p] = &Introduction{Commit: c.Hash.String(), AuthorName: c.Author.Name, AuthorEmail: c.Author.Email,
					Signed: c.PGPSignature != "", commit: c}
				delete(want, p)
			}
		}
	}
	for p := range want {
		out[p] = &Introduction{} // differs from base, introduced by no commit of the change
	}
	return out, nil
}

// ChangedPaths lists the files that differ between two commits under the
// given folders, comparing tree ids level by level so that an unchanged
// folder costs nothing however many files it holds.
func (r *Repo) ChangedPaths(base, head plumbing.Hash, prefix string) ([]string, error) {
	bt, err := r.TreeAt(base, prefix)
	if err != nil {
		return nil, err
	}
	ht, err := r.TreeAt(head, prefix)
	if err != nil {
		return nil, err
	}
	var out []string
	err = diffTrees(r, bt.dirs[""], ht.dirs[""], "", &out)
	sort.Strings(out)
	return out, err
}

func diffTrees(r *Repo, a, b *object.Tree, prefix string, out *[]string) error {
	entries := map[string][2]*object.TreeEntry{}
	if a != nil {
		for i := range a.Entries {
			e := &a.Entries[i]
			x := entries[e.Name]
			x[0] = e
			entries[e.Name] = x
		}
	}
	if b != nil {
		for i := range b.Entries {
			e := &b.Entries[i]
			x := entries[e.Name]
			x[1] = e
			entries[e.Name] = x
		}
	}
	for name, pair := range entries {
		ea, eb := pair[0], pair[1]
		if ea != nil && eb != nil && ea.Hash == eb.Hash && ea.Mode == eb.Mode {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "/" + name
		}
		sub := func(e *object.TreeEntry) (*object.Tree, error) {
			if e == nil || e.Mode != filemode.Dir {
				return nil, nil
			}
			return r.Git.TreeObject(e.Hash)
		}
		ta, err := sub(ea)
		if err != nil {
			return err
		}
		tb, err := sub(eb)
		if err != nil {
			return err
		}
		if ta != nil || tb != nil {
			if err := diffTrees(r, ta, tb, p, out); err != nil {
				return err
			}
		}
		if (ea != nil && ea.Mode != filemode.Dir) || (eb != nil && eb.Mode != filemode.Dir) {
			*out = append(*out, p)
		}
	}
	return nil
}
