package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	for _, c := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"no directory", nil, 2, ""},
		{"two directories", []string{"a", "b"}, 2, ""},
		{"unknown flag", []string{"-x", "a"}, 2, ""},
		{"no releases", []string{"-releases", "0", "a"}, 2, ""},
		{"negative commits", []string{"-commits", "-1", "a"}, 2, ""},
		{"generate", []string{"-releases", "5", "-commits", "12", "-seed", "3", dir}, 0, "5 releases"},
		{"directory not empty", []string{"-releases", "5", dir}, 1, ""},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(c.args, &stdout, &stderr); code != c.code {
			t.Errorf("%s: exit %d, want %d; stderr:\n%s", c.name, code, c.code, stderr.String())
		}
		if !strings.Contains(stdout.String(), c.out) {
			t.Errorf("%s: output %q does not mention %q", c.name, stdout.String(), c.out)
		}
	}
}
