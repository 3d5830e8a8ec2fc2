package loader

import (
	"sort"
	"time"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/yamldoc"
)

// Lang is the language of the snapshot's messages: Options.Lang when set,
// else the policy's language, else zh (the procedure's language).
func (s *Snapshot) Lang() string { return s.Hints().Lang }

// Hints are what the policy tells the messages of this snapshot: their
// language, its people, the names of its gates, roles and release types, and
// its timezone. They are read from relgate.yaml as written, valid or not, so
// a policy with a mistake still gets its messages in its own language.
func (s *Snapshot) Hints() docschema.Hints {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hints != nil && (s.hintsFromPolicy || s.PolicyDoc == nil) {
		return *s.hints
	}
	h := docschema.Hints{Lang: s.lang}
	if s.PolicyDoc != nil {
		s.hintsFromPolicy = true
		if data, err := s.Tree.Read(document.PolicyPath); err == nil {
			policyHints(data, &h)
		}
	}
	if h.Lang != "en" {
		h.Lang = "zh"
	}
	s.hints = &h
	return h
}

func policyHints(data []byte, h *docschema.Hints) {
	root, _, err := yamldoc.ParseAll(data)
	if err != nil {
		return
	}
	v, err := yamldoc.Value(root)
	if err != nil {
		return
	}
	m, _ := v.(map[string]any)
	if h.Lang == "" {
		h.Lang, _ = m["language"].(string)
	}
	if tz, ok := m["timezone"].(string); ok {
		if loc, err := time.LoadLocation(tz); err == nil {
			h.Location = loc
		}
	}
	people, _ := m["people"].([]any)
	for _, p := range people {
		if pm, ok := p.(map[string]any); ok {
			if l, ok := pm["login"].(string); ok && l != "" {
				h.Logins = append(h.Logins, l)
			}
		}
	}
	names := map[string]bool{}
	for _, g := range policy.Defaults() {
		names[g.ID] = true
	}
	for _, r := range policy.BuiltinRoles {
		names[r] = true
	}
	for _, t := range policy.DefaultReleaseTypes {
		names[t] = true
	}
	if roles, ok := m["roles"].(map[string]any); ok {
		for r := range roles {
			names[r] = true
		}
	}
	if types, ok := m["releaseTypes"].([]any); ok {
		for _, t := range types {
			if s, ok := t.(string); ok {
				names[s] = true
			}
		}
	}
	if gates, ok := m["gates"].([]any); ok {
		for _, g := range gates {
			if gm, ok := g.(map[string]any); ok {
				if id, ok := gm["id"].(string); ok {
					names[id] = true
				}
			}
		}
	}
	for n := range names {
		h.Names = append(h.Names, n)
	}
	sort.Strings(h.Names)
}
