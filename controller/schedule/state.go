package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// maxState bounds the state file read: four jobs need a few hundred bytes.
const maxState = 64 << 10

// stateFile is the state file's JSON.
type stateFile struct {
	// LastRun is each job's last successful run (or, for a job never run,
	// the first start that began counting).
	LastRun map[string]time.Time `json:"lastRun"`
}

// loadState reads the state file; a missing file (or no path) is no record.
// On error the returned map is empty, never nil.
func loadState(path string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return out, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxState+1))
	if err != nil {
		return out, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxState {
		return out, fmt.Errorf("%s is larger than %d bytes", path, maxState)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return out, fmt.Errorf("%s: %w", path, err)
	}
	for k, v := range st.LastRun {
		if len(out) >= 100 {
			break
		}
		out[k] = v
	}
	return out, nil
}

// saveState writes the state file atomically (temporary file, then rename).
func saveState(path string, st map[string]time.Time) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(stateFile{LastRun: st}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(b, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
