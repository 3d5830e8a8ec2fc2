package reconcile

import (
	"context"
	"fmt"

	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/writeback"
)

// RecordReceipt writes a pipeline's report of a finished deployment as the
// release's deployment.yaml on branch (then makes everything else that is
// due). A receipt already recorded (a replayed event, a second replica)
// writes nothing; a release with a different record, or none at all, is an
// error, and nothing is overwritten.
func (w *Writer) RecordReceipt(ctx context.Context, branch string, rc writeback.Receipt) error {
	return w.run(ctx, branch, func(s *loader.Snapshot) ([]writeback.Write, error) {
		t, ok := s.Tree.(*gitrepo.Tree)
		if !ok {
			return nil, fmt.Errorf("receipt of %s: the snapshot is not of a commit", rc.Release)
		}
		// The policy in force names the bot and the implementers, not
		// relgate.yaml as it stands.
		led, err := provenance.Open(w.Mirror, w.Prefix, t.Commit())
		if err != nil {
			return nil, err
		}
		pol, _, err := engine.PolicyInForce(w.Mirror, w.Prefix, led.Index(), t.Commit())
		if err != nil {
			return nil, err
		}
		wr, ok, err := writeback.ReceiptWrite(s, pol, rc)
		if err != nil || !ok {
			return nil, err
		}
		return []writeback.Write{wr}, nil
	})
}
