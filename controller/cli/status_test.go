package cli_test

import (
	"encoding/json"
	"testing"

	"github.com/relgate/relgate/controller/present"
)

// TestStatusExamples: each example release's derived state and what its next
// gate misses, as text and as the JSON change management reads.
func TestStatusExamples(t *testing.T) {
	examples := exampleRepo(t).Dir
	code, text, errs := run(t, "status", examples)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	golden(t, "testdata/status-examples.txt", text)
	_, js, _ := run(t, "status", examples, "--format", "json")
	golden(t, "testdata/status-examples.json", js)
	var rep present.StatusReport
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"REL-2026-0041": "confirmed", "REL-2026-0042": "confirmed", "REL-2026-0043": "plan-review"}
	for _, r := range rep.Releases {
		if want[r.Release] != r.State {
			t.Errorf("%s: state %s, want %s", r.Release, r.State, want[r.Release])
		}
	}
	// One release, by id.
	_, one, _ := run(t, "status", "REL-2026-0043", examples, "--format", "json")
	var rep1 present.StatusReport
	if err := json.Unmarshal([]byte(one), &rep1); err != nil || len(rep1.Releases) != 1 || rep1.Releases[0].Next != "plan-review" {
		t.Errorf("status REL-2026-0043: %v %+v", err, rep1.Releases)
	}
	if code, _, _ := run(t, "status", "REL-2026-0999", examples); code != 2 {
		t.Errorf("unknown release: exit %d, want 2", code)
	}
}
