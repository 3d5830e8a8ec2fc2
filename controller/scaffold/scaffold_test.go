package scaffold_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/relgate/relgate/controller/scaffold"
)

// TestExampleSchemasCurrent: the schemas committed beside the example
// repository for editors are the ones built into relgate.
func TestExampleSchemasCurrent(t *testing.T) {
	files, err := scaffold.SchemaFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join("../../examples/release-repo", f.Path))
		if err != nil {
			t.Fatalf("%v; run: go run ./controller/cmd/relgate schemas examples/release-repo", err)
		}
		if string(got) != string(f.Content) {
			t.Errorf("examples/release-repo/%s is out of date; run: go run ./controller/cmd/relgate schemas examples/release-repo", f.Path)
		}
	}
}
