package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/notice"
	"github.com/relgate/relgate/controller/notify"
)

type notifyOptions struct {
	repoFlags
	now, format, lang, ledger, baseURL string
	dryRun                             bool
}

// notifyDeadline bounds one run of relgate notify: every message of every
// channel, retries included.
const notifyDeadline = 5 * time.Minute

// runNotify is relgate notify: the notices due now (package notice) at the
// committed state of --rev, printed (--dry-run) or sent through the
// policy's channels with a ledger so each is sent once (package notify).
func runNotify(args []string, stdout, stderr io.Writer) error {
	var o notifyOptions
	fs := flag.NewFlagSet("relgate notify", flag.ContinueOnError)
	o.register(fs, true)
	fs.StringVar(&o.now, "now", "", "decide what is due at this RFC 3339 `TIME` (default: the clock)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would be sent now; send nothing and leave the ledger as it is")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text or json")
	fs.StringVar(&o.ledger, "ledger", "", "the notice ledger `DIR` that remembers what was sent (default: relgate/notices/<repository> in the user cache folder)")
	fs.StringVar(&o.baseURL, "url", "", "the dashboard's public `URL`, for links in the notices")
	langFlag(fs, &o.lang)
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := oneOf("format", o.format, "text", "json"); err != nil {
		return err
	}
	if o.baseURL != "" && !strings.HasPrefix(o.baseURL, "https://") && !strings.HasPrefix(o.baseURL, "http://") {
		return usagef("--url %q: want an http(s) address such as https://relgate.example.com", o.baseURL)
	}
	ml, err := messageLang(o.lang)
	if err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	dir, err := o.dir(pos)
	if err != nil {
		return err
	}
	r, prefix, tip, err := openRevision("notify", dir, o.rev)
	if err != nil {
		return err
	}
	defer r.Close()
	b, err := engine.LoadBoard(r, prefix, tip, engine.BoardOptions{Cache: openCache(dir)})
	if err != nil {
		return err
	}
	lang := i18n.Select(ml, b.Policy.Language)
	msgs := notice.Due(notice.Input{Board: b, Requested: notice.Requested(b), Now: now, BaseURL: o.baseURL})
	if o.dryRun {
		if o.format == "json" {
			return writeJSON(stdout, map[string]any{"dryRun": true, "commit": tip.String(), "now": now, "messages": orEmpty(msgs)})
		}
		writeMessages(stdout, lang, msgs, nil)
		fmt.Fprintln(stdout, lang.T(fmt.Sprintf("dry run: %d notice(s) due; nothing sent, the ledger untouched", len(msgs)),
			fmt.Sprintf("演练：%d 条通知到期；未发送，通知台账未改动", len(msgs))))
		return nil
	}
	channels, chErr := notify.NewChannels(b.Policy.Notices, os.Getenv, notify.Options{})
	if chErr != nil {
		// The channels that can be made still send; the others' messages
		// are reported as not sent and the run fails.
		fmt.Fprintln(stderr, lang.T("relgate: some notice channels cannot be used: ", "relgate：部分通知渠道无法使用：")+chErr.Error())
	}
	ledgerDir := o.ledger
	if ledgerDir == "" {
		if ledgerDir, err = defaultLedgerDir(dir); err != nil {
			return err
		}
	}
	ledger, err := notify.NewFileLedger(ledgerDir)
	if err != nil {
		return err
	}
	perMinute := 0
	if b.Policy.Notices != nil {
		perMinute = b.Policy.Notices.PerMinute
	}
	ctx, cancel := context.WithTimeout(context.Background(), notifyDeadline)
	defer cancel()
	s := &notify.Sender{Channels: channels, Ledger: ledger, PerMinute: perMinute}
	rep := s.Send(ctx, msgs)
	if o.format == "json" {
		if err := writeJSON(stdout, map[string]any{"commit": tip.String(), "now": now, "messages": orEmpty(msgs), "report": rep}); err != nil {
			return err
		}
	} else {
		writeMessages(stdout, lang, msgs, rep.Outcomes)
		fmt.Fprintln(stdout, lang.T(
			fmt.Sprintf("%d sent, %d sent before, %d failed, %d not sent", rep.Count(notify.StatusSent), rep.Count(notify.StatusAlreadySent), rep.Count(notify.StatusFailed), rep.Count(notify.StatusSkipped)),
			fmt.Sprintf("已发送 %d 条，此前已发送 %d 条，失败 %d 条，未发送 %d 条", rep.Count(notify.StatusSent), rep.Count(notify.StatusAlreadySent), rep.Count(notify.StatusFailed), rep.Count(notify.StatusSkipped))))
	}
	if rep.Failed() || rep.Count(notify.StatusSkipped) > 0 || chErr != nil {
		return errFailed
	}
	return nil
}

func orEmpty(ms []notify.Message) []notify.Message {
	if ms == nil {
		return []notify.Message{}
	}
	return ms
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeMessages prints each message as its reader would get it, with
// where it goes and, after a send, what became of it.
func writeMessages(w io.Writer, lang i18n.Lang, msgs []notify.Message, outcomes []notify.Outcome) {
	for i, m := range msgs {
		var who []string
		for _, r := range m.Recipients {
			if r.Name != "" && r.Name != r.Login {
				who = append(who, r.Name+" ("+r.Login+")")
			} else {
				who = append(who, r.Login)
			}
		}
		to := strings.Join(who, ", ")
		if to == "" {
			to = lang.T("the channel", "渠道全体")
		}
		fmt.Fprintf(w, "[%s] %s → %s\n", m.Channel, m.Event, to)
		if i < len(outcomes) {
			o := outcomes[i]
			line := string(o.Status)
			if o.Reason != nil {
				line += ": " + o.Reason.In(string(lang))
			}
			fmt.Fprintf(w, "  %s%s\n", lang.T("result: ", "结果："), line)
		}
		fmt.Fprintf(w, "  %s%s\n", lang.T("key: ", "键："), m.Key)
		fmt.Fprintf(w, "  %s\n", m.Subject)
		for _, l := range strings.Split(m.Text, "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
		fmt.Fprintln(w)
	}
}

// defaultLedgerDir is the ledger of a repository in the user's cache
// folder, named by the repository's folder: each clone keeps its own (the
// ledger every replica shares is the server's).
func defaultLedgerDir(dir string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder for the notice ledger (give --ledger DIR): %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(cache, "relgate", "notices", hex.EncodeToString(sum[:8])), nil
}
