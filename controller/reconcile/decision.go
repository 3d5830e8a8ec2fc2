package reconcile

import (
	"context"

	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/writeback"
)

// RecordDecision adds a deployment decision to its release's deployment log
// on branch (then makes everything else that is due). A decision already
// logged under its key, or about no release of the repository, writes
// nothing, so a replayed event or a second replica has one effect.
func (w *Writer) RecordDecision(ctx context.Context, branch string, rec writeback.DecisionRecord) error {
	return w.run(ctx, branch, func(s *loader.Snapshot) ([]writeback.Write, error) {
		wr, ok, err := writeback.DecisionWrite(s.Tree, rec)
		if err != nil || !ok {
			return nil, err
		}
		return []writeback.Write{wr}, nil
	})
}
