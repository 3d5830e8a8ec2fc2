package cli_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/relgate/relgate/controller/cli"
)

// TestProfiles: RELGATE_CPUPROFILE and RELGATE_MEMPROFILE leave pprof
// files (gzip) behind the command, whose result they do not change.
func TestProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	t.Setenv("RELGATE_CPUPROFILE", cpu)
	t.Setenv("RELGATE_MEMPROFILE", mem)
	var out bytes.Buffer
	if code := cli.Main([]string{"validate", "--no-cache", "../../examples/release-repo"}, &out, io.Discard); code != cli.ExitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: %d bytes, %v; want a gzip pprof file", filepath.Base(p), len(b), err)
		}
	}
}
