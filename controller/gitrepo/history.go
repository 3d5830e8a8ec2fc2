package gitrepo

import (
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

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
