package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/relgate/relgate/controller/redact"
	"github.com/relgate/relgate/controller/remote"
)

// DefaultNetTimeout bounds one fetch or push when the caller sets none. A
// release repository's fetch takes seconds; minutes mean a stalled remote.
const DefaultNetTimeout = 2 * time.Minute

// ErrDeadline is returned (wrapping context.DeadlineExceeded) when a fetch or
// push did not finish within its deadline.
var ErrDeadline = fmt.Errorf("no answer in time: %w", context.DeadlineExceeded)

// Net is how one network operation runs.
type Net struct {
	// URL of the remote; checked against the allow-list (package remote)
	// before anything connects.
	URL  string
	Auth transport.AuthMethod
	// Timeout bounds the whole operation, a stream of progress messages
	// included; 0 means DefaultNetTimeout.
	Timeout time.Duration
}

func (n Net) timeout() time.Duration {
	if n.Timeout > 0 {
		return n.Timeout
	}
	return DefaultNetTimeout
}

// Fetch fetches specs from n.URL into r. A fetch with nothing new is not an
// error.
func (r *Repo) Fetch(ctx context.Context, n Net, specs []config.RefSpec) error {
	if err := remote.Check(n.URL); err != nil {
		return err
	}
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return fmt.Errorf("refspec %s: %w", s, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout())
	defer cancel()
	rem := git.NewRemote(r.Git.Storer, &config.RemoteConfig{Name: "relgate", URLs: []string{n.URL}})
	err := rem.FetchContext(ctx, &git.FetchOptions{RemoteName: "relgate", RefSpecs: specs, Auth: n.Auth, Force: true, Tags: git.NoTags})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return n.wrap(ctx, "fetch", err, nil)
}

// Push updates the remote's dst from its expected old value to the local
// commit src, never forcing: it fails when dst is not at old. The remote's
// own messages (a hook's "remote: …" lines) are kept in the error.
func (r *Repo) Push(ctx context.Context, n Net, src, old string, dst string) error {
	if err := remote.Check(n.URL); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout())
	defer cancel()
	msgs := &RemoteMessages{}
	rem := git.NewRemote(r.Git.Storer, &config.RemoteConfig{Name: "relgate", URLs: []string{n.URL}})
	err := rem.PushContext(ctx, &git.PushOptions{RemoteName: "relgate", Auth: n.Auth, Progress: msgs,
		RefSpecs:          []config.RefSpec{config.RefSpec(src + ":" + dst)},
		RequireRemoteRefs: []config.RefSpec{config.RefSpec(old + ":" + dst)}})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return n.wrap(ctx, "push", err, msgs)
}

// wrap names a deadline as such, keeps the remote's messages and strips
// credentials.
func (n Net) wrap(ctx context.Context, op string, err error, msgs *RemoteMessages) error {
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: stopped after %s: %w (the remote is stalled or streaming without end; the deadline is the timeout option)",
			op, redact.URL(n.URL), n.timeout(), ErrDeadline)
	}
	if lines := msgs.Lines(); len(lines) > 0 {
		return &RemoteError{Err: redact.Error(err, n.URL), Messages: lines}
	}
	return redact.Error(err, n.URL)
}

// RemoteError is a refusal with what the remote said about it (a hook's
// output, GitHub's "GH006: Protected branch update failed …").
type RemoteError struct {
	Err      error
	Messages []string
}

func (e *RemoteError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	for _, m := range e.Messages {
		b.WriteString("\nremote: ")
		b.WriteString(m)
	}
	return b.String()
}

func (e *RemoteError) Unwrap() error { return e.Err }

// Bounds on what RemoteMessages keeps: a remote can send messages without end.
const (
	maxRemoteLines    = 20
	maxRemoteLineSize = 300
)

// progressLine is git's own progress ("Resolving deltas: 100% (3/3), done."),
// which says nothing about a refusal.
var progressLine = regexp.MustCompile(`^[A-Za-z ]+: +[0-9]+% \([0-9]+/[0-9]+\)`)

// RemoteMessages collects the side-band messages of a remote, keeping the
// last maxRemoteLines lines (progress lines, which end in "\r", are
// dropped), each at most maxRemoteLineSize bytes, without control
// characters.
type RemoteMessages struct {
	mu    sync.Mutex
	cur   bytes.Buffer
	lines []string
}

// Write implements io.Writer (go-git's sideband.Progress).
func (m *RemoteMessages) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range p {
		switch c {
		case '\n':
			m.endLine(true)
		case '\r':
			m.endLine(false)
		default:
			if m.cur.Len() < maxRemoteLineSize {
				m.cur.WriteByte(c)
			}
		}
	}
	return len(p), nil
}

func (m *RemoteMessages) endLine(keep bool) {
	line := strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, m.cur.String()))
	m.cur.Reset()
	// Git's client prints what the remote sent after "remote: "; a hook
	// that echoes it itself gets it once.
	line = strings.TrimSpace(strings.TrimPrefix(line, "remote:"))
	if !keep || line == "" || progressLine.MatchString(line) {
		return
	}
	m.lines = append(m.lines, line)
	if len(m.lines) > maxRemoteLines {
		m.lines = m.lines[len(m.lines)-maxRemoteLines:]
	}
}

// Lines returns the complete lines received so far (and a last one without
// its newline).
func (m *RemoteMessages) Lines() []string {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cur.Len() > 0 {
		m.endLine(true)
	}
	return append([]string(nil), m.lines...)
}
