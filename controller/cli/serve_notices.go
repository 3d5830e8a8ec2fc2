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

	"github.com/relgate/relgate/controller/notify"
	"github.com/relgate/relgate/controller/server"
)

// noticeFlags are serve's flags for notices.
type noticeFlags struct {
	on     bool
	ledger string
	fs     *flag.FlagSet // serve's, for --repo, --data-dir, --branch, --public-url
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

// config is the server's notice configuration; nil sends none.
func (f *noticeFlags) config(getenv env, log *slog.Logger) (*server.NoticeConfig, error) {
	if !f.on {
		return nil, nil
	}
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
		branch := f.flag("branch")
		if branch == "" {
			branch = "main"
		}
		l, err := notify.NewGitLedger(notify.GitLedgerOptions{Remote: f.flag("repo"), Dir: filepath.Join(data, "notices.git"),
			Protected: []string{branch}, Owner: host + "/" + strconv.Itoa(os.Getpid())})
		if err != nil {
			return nil, usagef("--notice-ledger git: %v", err)
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
