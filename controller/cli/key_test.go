package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// writeKey writes an unlocked armored private key for --sign-key.
func writeKey(t *testing.T, e *openpgp.Entity) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "key.asc")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, err := armor.Encode(f, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.Close()
	return p
}
