package loader_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
)

// FuzzDecode feeds arbitrary bytes to the document decoder as every kind.
// It must never panic, and a decoded value implies no problems. The seed
// corpus is testdata/fuzz/FuzzDecode plus every example document.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("../../examples/release-repo/*/*.yaml")
	more, _ := filepath.Glob("../../examples/release-repo/releases/*/*.yaml")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	set, err := docschema.Embedded()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range document.Kinds {
			v, probs := loader.Decode(set, k, data)
			if (v == nil) == (len(probs) == 0) {
				t.Fatalf("kind %s: value %v with %d problems", k, v != nil, len(probs))
			}
		}
	})
}
