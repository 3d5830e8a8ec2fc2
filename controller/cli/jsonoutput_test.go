package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const outputSchemas = "../../schemas/output"

// outputSchema compiles schemas/output/<name>.schema.json.
func outputSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(outputSchemas, name+".schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "https://relgate.dev/schemas/v1/output/" + name + ".schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return sch
}

// checkOutput validates one JSON document against the schema its kind names.
func checkOutput(t *testing.T, what, out string) {
	t.Helper()
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(out), &head); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", what, err, out)
	}
	names := map[string]string{"ValidationReport": "validation-report", "StatusReport": "status-report", "GateReport": "gate-report",
		"AuditTimeline": "audit-timeline", "AuditVerifyReport": "audit-verify-report", "QuarterlyReport": "quarterly-report",
		"DeploymentDecision": "deployment-decision", "Version": "version", "Error": "error"}
	name, ok := names[head.Kind]
	if head.APIVersion != "relgate.dev/v1" || !ok {
		t.Fatalf("%s: apiVersion %q kind %q: every JSON output names both, and schemas/output describes the kind", what, head.APIVersion, head.Kind)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if err := outputSchema(t, name).Validate(v); err != nil {
		t.Errorf("%s does not match schemas/output/%s.schema.json: %v", what, name, err)
	}
}

// TestJSONOutputsMatchTheirSchemas runs every command that writes JSON, on
// the replayed example, in passing and failing cases, and checks each
// output against its schema in schemas/output: the shape tools rely on is
// the one documented.
func TestJSONOutputsMatchTheirSchemas(t *testing.T) {
	r := exampleRepo(t)
	d := deployRepo(t, false)
	broken := t.TempDir()
	if err := os.CopyFS(broken, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(broken, "releases", "REL-2026-0043", "plan.yaml"), []byte("apiVersion: relgate.dev/v1\nkind: Plan\nrelease: REL-2026-0043\npurpos: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"validate", examples},
		{"validate", broken},
		{"status", r.Dir},
		{"status", r.Dir, "REL-2026-0042"},
		{"gate", "--base", "HEAD~3", "--head", "HEAD", r.Dir},
		{"audit", "REL-2026-0042", r.Dir},
		{"audit", "verify", r.Dir, "--state", "-"},
		{"report", "quarter", "2026Q4", r.Dir, "--now", "2026-12-01T10:00:00+08:00"},
		{"deploy-check", "REL-2026-0042", "--env", "production", "--now", inWindow42, d.Dir},
		{"deploy-check", "REL-2026-0041", "--env", "production", "--now", inWindow42, d.Dir},
		{"deploy-check", "REL-2026-0042", "--env", "production", t.TempDir()},
		{"version"},
		{"status", filepath.Join(t.TempDir(), "missing")},
		{"validate", "--rev", "no-such-rev", r.Dir},
	} {
		t.Run(strings.Join(args[:min(2, len(args))], " "), func(t *testing.T) {
			code, out, errs := run(t, append(args, "--format", "json")...)
			if code == 2 && !strings.Contains(out, `"kind"`) {
				t.Fatalf("exit 2 with no JSON on stdout: %s", errs)
			}
			checkOutput(t, strings.Join(args, " "), out)
		})
	}
}
