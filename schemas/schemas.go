// Package schemas holds the JSON Schemas (draft 2020-12) of relgate's
// documents, one file per kind, embedded in the binary. relgate validates every
// document against them before decoding it, and editors with the YAML language
// server use the same files for completion and bilingual hover help. Each
// schema cites the procedure clauses (R-x.y.z) its fields implement; the Go
// types in controller/document describe the same shapes.
package schemas

import "embed"

// FS holds every <kind>.schema.json file.
//
//go:embed *.schema.json
var FS embed.FS

// files maps a document kind to its schema file in FS.
var files = map[string]string{
	"Policy":        "policy.schema.json",
	"Change":        "change.schema.json",
	"Release":       "release.schema.json",
	"Plan":          "plan.schema.json",
	"TestReport":    "test-report.schema.json",
	"GoLive":        "golive.schema.json",
	"Communication": "communication.schema.json",
	"Deployment":    "deployment.schema.json",
	"Approval":      "approval.schema.json",
	"Closure":       "closure.schema.json",
	"CMDBItem":      "cmdb-item.schema.json",
	"Review":        "review.schema.json",
}

// FileFor returns the name in FS of the schema of a document kind, such as
// "test-report.schema.json" for "TestReport", or "" for an unknown kind.
func FileFor(kind string) string { return files[kind] }
