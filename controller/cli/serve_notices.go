package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/notify"
	"github.com/relgate/relgate/controller/server"
)

// noticeFlags are serve's flags for notices.
type noticeFlags struct {
	on     bool
	ledger string
	fs     *flag.FlagSet // serve's, for --repo, --data-dir, --public-url
}

func (f *noticeFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.BoolVar(&f.on, "notices", true, "send the notices and reminders of the policy's notices.channels (none when it has none); --notices=false turns them off")
	fs.StringVar(&f.ledger, "notice-ledger", "", "where the notice ledger remembers what was sent: a `DIR`, or git for the branch relgate/notices on the remote (for several replicas); default the data dir's notices folder")
}

func (f *noticeFlags) flag(name string) string {
	if f.fs == nil {
		return ""
	}
	if fl := f.fs.Lookup(name); fl != nil {
		return fl.Value.String()
	}
	return ""
}

// ledgerAuthor is who the git ledger's commits are by. The ledger's branch
// is not the release branch and holds no approval, so no person of the
// policy is named; .invalid (RFC 2606) is no one's mailbox.
var ledgerAuthor = gitrepo.Author{Name: "relgate notice ledger", Email: "notices@relgate.invalid"}

// config is the server's notice configuration; nil sends none. srv is the
// server's configuration as far as it is built: a git ledger uses its remote,
// credentials (GitAuth), network deadline (GitTimeout) and protected branch,
// so that it pushes where and as the server does and never to what the server
// gates; signKey, when set, signs the ledger's commits as it signs the server's.
func (f *noticeFlags) config(getenv env, log *slog.Logger, srv server.Config, signKey *openpgp.Entity) (*server.NoticeConfig, error) {
	nc := &server.NoticeConfig{Getenv: getenv, PublicURL: f.flag("public-url")}
	data := f.flag("data-dir")
	if data == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("no --data-dir and no user cache folder for the notice ledger: %w", err)
		}
		sum := sha256.Sum256([]byte(f.flag("repo")))
		data = filepath.Join(cache, "relgate", "serve", hex.EncodeToString(sum[:8]))
	}
	switch f.ledger {
	case "git":
		host, _ := os.Hostname()
		branch := srv.Branch
		if branch == "" {
			branch = "main"
		}
		who := ledgerAuthor
		who.SignKey = signKey
		l, err := notify.NewGitLedger(notify.GitLedgerOptions{Remote: srv.Remote, Dir: filepath.Join(data, "notices.git"),
			Protected: []string{branch}, Owner: host + "/" + strconv.Itoa(os.Getpid()),
			Auth: srv.GitAuth, Timeout: srv.GitTimeout, Author: who})
		if err != nil {
			return nil, usagef("--notice-ledger git: %v", err)
		}
		if srv.GitAuth == nil && !strings.Contains(srv.Remote, "@") && (strings.HasPrefix(srv.Remote, "https://") || strings.HasPrefix(srv.Remote, "http://")) {
			log.Warn("notices: the git ledger has no credentials for the remote (GITHUB_TOKEN or a GitHub App); a remote that wants them refuses every claim and no notice is sent")
		}
		nc.Ledger = l
	default:
		dir := f.ledger
		if dir == "" {
			dir = filepath.Join(data, "notices")
		}
		l, err := notify.NewFileLedger(dir)
		if err != nil {
			return nil, usagef("--notice-ledger: %v", err)
		}
		nc.Ledger = l
	}
	log.Info("notices on", "ledger", f.ledger)
	return nc, nil
}
