package gitrepo

import (
	"io"

	git "github.com/go-git/go-git/v5"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// SSHSigner signs commits as git does with gpg.format=ssh (an SSHSIG
// signature in the "git" namespace), which GitHub verifies too.
type SSHSigner struct{ Key ssh.Signer }

var _ git.Signer = SSHSigner{}

// Sign implements go-git's Signer.
func (s SSHSigner) Sign(message io.Reader) ([]byte, error) {
	sig, err := sshsig.Sign(message, s.Key, sshsig.HashSHA512, "git")
	if err != nil {
		return nil, err
	}
	return sshsig.Armor(sig), nil
}
