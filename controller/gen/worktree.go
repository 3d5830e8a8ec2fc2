package gen

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"sort"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/index"
)

// checkoutWorkers write the work tree in parallel: creating a file costs
// most of a millisecond of system time on some file systems, and 50,000 of
// them one after the other would take longer than generating the history.
const checkoutWorkers = 4

// writeWorkTree writes the files of HEAD under dir and an index that matches
// them, so that the work tree is clean. It returns the paths, sorted.
func writeWorkTree(dir string, files map[string]plumbing.Hash, content map[string][]byte) ([]string, error) {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	// One job per directory, so that a directory is created before its files.
	type job struct{ first, last int }
	var jobs []job
	for i := 0; i < len(paths); {
		j := i + 1
		for j < len(paths) && path.Dir(paths[j]) == path.Dir(paths[i]) {
			j++
		}
		jobs = append(jobs, job{i, j})
		i = j
	}
	entries := make([]*index.Entry, len(paths))
	errs := make([]error, len(jobs))
	ch := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < checkoutWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range ch {
				for i := jobs[k].first; i < jobs[k].last && errs[k] == nil; i++ {
					entries[i], errs[k] = writeFile(dir, paths[i], files[paths[i]], content[paths[i]])
				}
			}
		}()
	}
	for k := range jobs {
		ch <- k
	}
	close(ch)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	f, err := os.Create(filepath.Join(dir, ".git", "index"))
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	if err := index.NewEncoder(w).Encode(&index.Index{Version: 2, Entries: entries}); err != nil {
		f.Close()
		return nil, err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return paths, f.Close()
}

// writeFile writes one file and returns its index entry.
func writeFile(dir, p string, h plumbing.Hash, data []byte) (*index.Entry, error) {
	name := filepath.Join(dir, filepath.FromSlash(p))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if os.IsNotExist(err) {
		if err = os.MkdirAll(filepath.Dir(name), 0o755); err == nil {
			f, err = os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		}
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	e := &index.Entry{Name: p, Hash: h, Mode: filemode.Regular, Size: uint32(fi.Size()), ModifiedAt: fi.ModTime()}
	fillStat(e, fi)
	return e, nil
}
