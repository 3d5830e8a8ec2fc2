package writeback

import (
	"fmt"
	"sort"
	"time"

	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/quarter"
)

// quarterlyWrites writes the report of each completed quarter that had
// releases, once: a quarter whose report file exists is done.
// The report is as of the quarter's end, so whoever writes it, whenever,
// writes the same bytes; several replicas racing land it once.
func quarterlyWrites(snap *loader.Snapshot, pol *policy.Policy, lang string, now time.Time, prov evaluate.Provenance) ([]Write, error) {
	current := quarter.Of(now, pol.Location)
	seen := map[quarter.Quarter]bool{}
	for _, id := range snap.ReleaseIDs() {
		r := snap.Releases[id]
		at := ""
		switch {
		case r.Deployment != nil:
			at = r.Deployment.FinishedAt
		case r.Release != nil:
			at = r.Release.Window.Start
		}
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			continue
		}
		if q := quarter.Of(t, pol.Location); q.Start(pol.Location).Before(current.Start(pol.Location)) {
			seen[q] = true
		}
	}
	var qs []quarter.Quarter
	for q := range seen {
		qs = append(qs, q)
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].String() < qs[j].String() })
	var out []Write
	for _, q := range qs {
		if _, err := snap.Tree.Stat(quarter.Path(q, lang, "md")); err == nil {
			continue
		}
		var files []File
		for _, format := range []string{"md", "svg", "json"} {
			data, err := quarter.Render(snap, q, lang, format, quarter.Options{Provenance: prov, Policy: pol})
			if err != nil {
				return nil, fmt.Errorf("quarterly report %s: %w", q, err)
			}
			files = append(files, File{Path: quarter.Path(q, lang, format), Content: data})
		}
		sortFiles(files)
		out = append(out, Write{Kind: "quarterly-report", Files: files,
			Subject: fmt.Sprintf("reports: the release management report of %s", q),
			Body:    "R-3.5, R-6, R-7, R-10: number of releases, success rate against the target, failed releases, lead times."})
	}
	return out, nil
}
