package writeback

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/yamldoc"
)

// cmdbWrite brings the CMDB in line with a confirmed deployment: each item
// deployed gets its new version and digest and a history entry naming the
// release; after a rollback the items show the restored versions and the
// history says so; retired items are marked retired, never deleted; new
// items enter the CMDB. An item whose history already names the release for
// that action is left alone, which makes the write idempotent.
func cmdbWrite(snap *overlay, r *loader.Release) (*Write, error) {
	d := r.Deployment
	type edit struct {
		item, action, version, digest, note, at string
	}
	var edits []edit
	if d.Outcome == document.OutcomeSucceeded {
		for _, v := range d.Deployed {
			action := "update"
			if it := releaseItem(r, v.Item); it != nil && it.Action == "add" {
				action = "add"
			}
			edits = append(edits, edit{v.Item, action, v.Version, v.Digest, fmt.Sprintf("%s 部署成功 / deployed by %s", r.ID, r.ID), d.FinishedAt})
		}
		for _, it := range r.Release.Items {
			if it.Action == "retire" {
				edits = append(edits, edit{it.ID, "retire", "", "", fmt.Sprintf("%s 退役 / retired by %s", r.ID, r.ID), d.FinishedAt})
			}
		}
	} else if d.Rollback != nil {
		at := d.Rollback.CompletedAt
		for _, v := range d.Rollback.Restored {
			deployed := ""
			for _, x := range d.Deployed {
				if x.Item == v.Item {
					deployed = x.Version
				}
			}
			note := fmt.Sprintf("%s 发布失败，已按回退方案恢复 / %s failed and was rolled back", r.ID, r.ID)
			if deployed != "" {
				note = fmt.Sprintf("%s 发布失败（%s 未保留），已按回退方案恢复 / %s failed (%s not kept) and was rolled back", r.ID, deployed, r.ID, deployed)
			}
			edits = append(edits, edit{v.Item, "restore", v.Version, v.Digest, note, at})
		}
	}
	var files []File
	var lines []string
	for _, e := range edits {
		p := document.CMDBPath(e.item)
		if !document.ItemIDPattern.MatchString(e.item) {
			return nil, fmt.Errorf("%s: configuration item id %q is not a valid id", r.ID, e.item)
		}
		it, exists, err := snap.CMDBItem(e.item)
		if err != nil {
			return nil, err
		}
		if exists && it == nil {
			return nil, fmt.Errorf("%s is invalid; fix it before relgate updates it (run relgate validate)", p)
		}
		if it != nil && hasEntry(it, r.ID, e.action) {
			continue
		}
		entry := document.HistoryEntry{At: e.at, Release: r.ID, Action: e.action, Version: e.version, Digest: e.digest, Note: e.note}
		var content []byte
		if it == nil {
			content, err = newItem(p, r, e.item, entry)
		} else {
			var data []byte
			if data, err = snap.read(p); err == nil {
				content, err = editItem(data, entry)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("update %s: %w", p, err)
		}
		files = append(files, File{Path: p, Content: content})
		lines = append(lines, fmt.Sprintf("- %s: %s %s", e.item, e.action, e.version))
	}
	if len(files) == 0 {
		return nil, nil
	}
	sortFiles(files)
	return &Write{Kind: "cmdb-update", Release: r.ID, Files: files,
		Subject: fmt.Sprintf("%s: update the CMDB after the %s deployment", r.ID, d.Outcome),
		Body:    "R-3.4, R-5.1.9:\n" + strings.Join(lines, "\n")}, nil
}

func releaseItem(r *loader.Release, id string) *document.Item {
	for i := range r.Release.Items {
		if r.Release.Items[i].ID == id {
			return &r.Release.Items[i]
		}
	}
	return nil
}

func hasEntry(it *document.CMDBItem, release, action string) bool {
	for _, h := range it.History {
		if h.Release == release && h.Action == action {
			return true
		}
	}
	return false
}

// editItem changes a CMDB file in place through its YAML tree, so comments
// and the order of fields stay as people wrote them.
func editItem(data []byte, e document.HistoryEntry) ([]byte, error) {
	root, err := yamldoc.Parse(data)
	if err != nil {
		return nil, err
	}
	switch e.Action {
	case "retire":
		setScalar(root, "status", "retired", 0)
	default:
		setScalar(root, "version", e.Version, yaml.DoubleQuotedStyle)
		if e.Digest != "" {
			setScalar(root, "digest", e.Digest, 0)
		}
		setScalar(root, "status", "active", 0)
	}
	seq, key := yamldoc.Find(root, []string{"history"})
	if key == nil || seq.Kind != yaml.SequenceNode {
		seq = &yaml.Node{Kind: yaml.SequenceNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "history"}, seq)
	}
	var n yaml.Node
	if err := n.Encode(e); err != nil {
		return nil, err
	}
	quoteVersions(&n)
	seq.Content = append(seq.Content, &n)
	return encode(leadingComments(data), root)
}

func setScalar(m *yaml.Node, key, value string, style yaml.Style) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1].Kind = yaml.ScalarNode
			m.Content[i+1].Tag = "!!str"
			m.Content[i+1].Value = value
			m.Content[i+1].Style = style
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: style})
}

// quoteVersions keeps version strings quoted so "1.10" stays text.
func quoteVersions(n *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "version" || n.Content[i].Value == "at" {
			n.Content[i+1].Style = yaml.DoubleQuotedStyle
		}
	}
}

// leadingComments returns the comment lines at the top of a file (the schema
// modeline), which yaml.v3 would otherwise attach unpredictably.
func leadingComments(data []byte) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

func encode(header string, root *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	// The header comments were parsed onto the first node; write them once, on top.
	body := b.String()
	for strings.HasPrefix(body, "#") {
		_, body, _ = strings.Cut(body, "\n")
	}
	return []byte(header + body), nil
}

// newItem writes the file of a configuration item a release adds.
func newItem(p string, r *loader.Release, id string, e document.HistoryEntry) ([]byte, error) {
	system := ""
	if len(r.Release.Systems) > 0 {
		system = r.Release.Systems[0]
	}
	it := document.CMDBItem{Header: document.Header{APIVersion: document.APIVersion, Kind: document.KindCMDBItem},
		ID: id, Name: id, Type: "application", System: system, Owner: r.Release.People.Manager,
		Environment: "production", Status: "active", Version: e.Version, Digest: e.Digest, History: []document.HistoryEntry{e}}
	var n yaml.Node
	if err := n.Encode(it); err != nil {
		return nil, err
	}
	quoteVersions(&n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "history" {
			for _, h := range n.Content[i+1].Content {
				quoteVersions(h)
			}
		}
	}
	return encode(schemaLine(p, "cmdb-item.schema.json"), &n)
}

// approvalYAML renders an approval file with its schema modeline.
func approvalYAML(p string, a document.Approval) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(a); err != nil {
		return nil, err
	}
	quoteVersions(&n)
	return encode(schemaLine(p, "approval.schema.json"), &n)
}

// ApprovalYAML renders an approval file as relgate writes it.
func ApprovalYAML(p string, a document.Approval) ([]byte, error) { return approvalYAML(p, a) }

// overlay is the snapshot with the files of earlier writes applied.
type overlay struct {
	snap  *loader.Snapshot
	files map[string][]byte
}

func (o *overlay) read(p string) ([]byte, error) {
	if data, ok := o.files[p]; ok {
		return data, nil
	}
	return o.snap.Tree.Read(p)
}

// CMDBItem returns an item as earlier writes left it.
func (o *overlay) CMDBItem(id string) (*document.CMDBItem, bool, error) {
	data, ok := o.files[document.CMDBPath(id)]
	if !ok {
		return o.snap.CMDBItem(id)
	}
	set, err := docschema.Embedded()
	if err != nil {
		return nil, false, err
	}
	v, probs := loader.Decode(set, document.KindCMDBItem, data)
	if len(probs) > 0 {
		return nil, true, fmt.Errorf("%s as relgate would write it is invalid: %s", document.CMDBPath(id), probs[0].Message)
	}
	return v.(*document.CMDBItem), true, nil
}
