package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// The progress file keeps what `audit verify` found up to a commit, so the
// next run of the same branch evaluates only the commits after it. It lives
// in the git directory beside the verified tip (never in the tree, where a
// commit could write it) and is bound to the relgate that wrote it: another
// build may judge differently, so it starts again. A file that is damaged,
// for another build or for other options is not used: the walk starts from
// the beginning, as if there were none.
const progressMagic = "relgate-verify-progress/v1"

// maxProgress bounds the progress file read.
const maxProgress = 256 << 20

type progressFile struct {
	Magic    string    `json:"magic"`
	Build    string    `json:"build"`
	Progress *Progress `json:"progress"`
}

// ProgressPath is the progress file kept beside a verified-tip state file.
func ProgressPath(state string) string { return state + ".progress" }

// ReadProgress returns the progress a file keeps for build; nil when there
// is none it may use.
func ReadProgress(p, build string) *Progress {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxProgress+1))
	if err != nil || len(data) > maxProgress {
		return nil
	}
	body, sum, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil
	}
	want := sha256.Sum256(body)
	if hex.EncodeToString(want[:]) != string(bytes.TrimSpace(sum)) {
		return nil
	}
	var pf progressFile
	if err := json.Unmarshal(body, &pf); err != nil || pf.Magic != progressMagic || pf.Build != build || build == "" || pf.Progress == nil {
		return nil
	}
	return pf.Progress
}

// WriteProgress keeps a walk's progress for build, atomically.
func WriteProgress(p, build string, pr *Progress) error {
	if pr == nil || build == "" {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
		return nil
	}
	body, err := json.Marshal(progressFile{Magic: progressMagic, Build: build, Progress: pr})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("keep the verified progress: %w", err)
	}
	if err := writeAtomic(p, append(append(body, '\n'), hex.EncodeToString(sum[:])+"\n"...)); err != nil {
		return fmt.Errorf("keep the verified progress in %s: %w", p, err)
	}
	return nil
}

var buildOnce struct {
	sync.Once
	id string
}

// BuildID names the running relgate: the SHA-256 of its executable, so a
// rebuilt relgate never trusts what another build verified. "" when the
// executable cannot be read (then no progress is kept).
func BuildID() string {
	buildOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			return
		}
		f, err := os.Open(exe)
		if err != nil {
			return
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return
		}
		buildOnce.id = hex.EncodeToString(h.Sum(nil))
	})
	return buildOnce.id
}
