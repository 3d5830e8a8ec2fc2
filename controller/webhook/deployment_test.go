package webhook_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/webhook"
)

const art = "payment-interface=3.2.0@sha256:6cad7cf8ab17f0ccd9dcf96839a56e614f9bee047a891affe7bbc98b3c3ed8f6"

func TestParseDeploymentEvents(t *testing.T) {
	repo := webhook.Repository{Owner: "Codertocat", Name: "Hello-World", DefaultBranch: "master", CloneURL: "https://github.com/Codertocat/Hello-World.git"}
	dep := webhook.Deployment{ID: 326191728, Environment: "production", Creator: "Codertocat", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
		Ref: "refs/tags/REL-2026-0042", CreatedAt: time.Date(2026, 11, 14, 12, 30, 0, 0, time.UTC)}
	ev, err := webhook.Parse("deployment_protection_rule", payload(t, "deployment_protection_rule.requested.json"))
	if err != nil {
		t.Fatal(err)
	}
	withPayload := dep
	withPayload.Payload = webhook.DeployPayload{Release: "REL-2026-0042", Artifacts: []string{art}}
	want := &webhook.Event{Kind: "deployment_protection_rule", Action: "requested", Sender: "Codertocat", Installation: 2, Repo: repo,
		ProtectionRule: &webhook.ProtectionRule{Environment: "production", Event: "workflow_dispatch", SHA: dep.SHA, Ref: dep.Ref,
			CallbackURL: "https://api.github.com/repos/Codertocat/Hello-World/actions/runs/1234567890/deployment_protection_rule", Deployment: &withPayload}}
	if d := cmp.Diff(want, ev); d != "" {
		t.Errorf("deployment_protection_rule (-want +got):\n%s", d)
	}
	if !ev.Acts() {
		t.Error("a requested deployment_protection_rule is not acted on")
	}

	// The payload as a string holding JSON (how GitHub keeps a payload sent as one).
	ev, err = webhook.Parse("deployment_status", payload(t, "deployment_status.created.json"))
	if err != nil {
		t.Fatal(err)
	}
	strPayload := dep
	strPayload.Payload = webhook.DeployPayload{Release: "REL-2026-0042"}
	wantSt := &webhook.Event{Kind: "deployment_status", Action: "created", Sender: "Codertocat", Installation: 2, Repo: repo,
		DeploymentStatus: &webhook.DeploymentStatus{State: "success", Environment: "production",
			TargetURL: "https://github.com/Codertocat/Hello-World/actions/runs/1234567890", CreatedAt: time.Date(2026, 11, 14, 13, 5, 0, 0, time.UTC),
			Deployment: strPayload}}
	if d := cmp.Diff(wantSt, ev); d != "" {
		t.Errorf("deployment_status (-want +got):\n%s", d)
	}
	if !ev.Acts() {
		t.Error("a successful deployment_status is not acted on")
	}
}

// edit returns a real payload with fn applied to its decoded form.
func edit(t *testing.T, file string, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload(t, file), &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDeploymentPayloads(t *testing.T) {
	tests := []struct {
		name    string
		payload any
		want    webhook.DeployPayload
		wantErr string
	}{
		{"absent", nil, webhook.DeployPayload{}, ""},
		{"empty object", map[string]any{}, webhook.DeployPayload{}, ""},
		{"empty string", "", webhook.DeployPayload{}, ""},
		{"object", map[string]any{"release": "REL-2026-0042", "artifacts": []string{art}, "other": 1}, webhook.DeployPayload{Release: "REL-2026-0042", Artifacts: []string{art}}, ""},
		{"string holding an object", `{"release":"REL-2026-0042"}`, webhook.DeployPayload{Release: "REL-2026-0042"}, ""},
		{"attack: string that is not JSON", "deploy it", webhook.DeployPayload{}, "not a JSON object"},
		{"attack: a list", []int{1}, webhook.DeployPayload{}, "not a JSON object"},
		{"attack: release not a string", map[string]any{"release": 42}, webhook.DeployPayload{}, "payload.release is not a string"},
		{"attack: artifacts not strings", map[string]any{"artifacts": []int{1}}, webhook.DeployPayload{}, "payload.artifacts is not a list of strings"},
		{"attack: artifacts a string", map[string]any{"artifacts": art}, webhook.DeployPayload{}, "payload.artifacts is not a list of strings"},
		{"bound: long release", map[string]any{"release": strings.Repeat("R", 65)}, webhook.DeployPayload{}, "payload.release is 65 bytes"},
		{"bound: too many artifacts", map[string]any{"artifacts": make([]string, 101)}, webhook.DeployPayload{}, "101 artifacts"},
		{"bound: long artifact", map[string]any{"artifacts": []string{strings.Repeat("a", 513)}}, webhook.DeployPayload{}, "payload.artifacts[0] is 513 bytes"},
		{"bound: payload over 64 KiB", map[string]any{"pad": strings.Repeat("x", 64<<10)}, webhook.DeployPayload{}, "over relgate's limit of 65536"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := edit(t, "deployment_protection_rule.requested.json", func(m map[string]any) {
				d := m["deployment"].(map[string]any)
				if tc.payload == nil {
					delete(d, "payload")
				} else {
					d["payload"] = tc.payload
				}
			})
			ev, err := webhook.Parse("deployment_protection_rule", body)
			if err != nil {
				t.Fatalf("a payload problem is the deployment's, not a malformed event: %v", err)
			}
			got := ev.ProtectionRule.Deployment.Payload
			if tc.wantErr != "" {
				if !strings.Contains(got.Err, tc.wantErr) || got.Release != "" || got.Artifacts != nil {
					t.Errorf("payload %+v, want only Err containing %q", got, tc.wantErr)
				}
				return
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestDeploymentEventsMalformed(t *testing.T) {
	rule := func(fn func(m map[string]any)) []byte {
		return edit(t, "deployment_protection_rule.requested.json", fn)
	}
	status := func(fn func(m map[string]any)) []byte { return edit(t, "deployment_status.created.json", fn) }
	tests := []struct {
		name  string
		event string
		body  []byte
	}{
		{"no environment", "deployment_protection_rule", rule(func(m map[string]any) { delete(m, "environment") })},
		{"no callback URL", "deployment_protection_rule", rule(func(m map[string]any) { delete(m, "deployment_callback_url") })},
		{"bound: environment over 255 bytes", "deployment_protection_rule", rule(func(m map[string]any) { m["environment"] = strings.Repeat("e", 256) })},
		{"bound: callback URL over 2048 bytes", "deployment_protection_rule", rule(func(m map[string]any) { m["deployment_callback_url"] = strings.Repeat("u", 2049) })},
		{"bound: ref over 1024 bytes", "deployment_protection_rule", rule(func(m map[string]any) { m["ref"] = strings.Repeat("r", 1025) })},
		{"bound: creator login", "deployment_protection_rule", rule(func(m map[string]any) {
			m["deployment"].(map[string]any)["creator"].(map[string]any)["login"] = strings.Repeat("l", 101)
		})},
		{"deployment id 0", "deployment_protection_rule", rule(func(m map[string]any) { m["deployment"].(map[string]any)["id"] = 0 })},
		{"no repository", "deployment_protection_rule", rule(func(m map[string]any) { delete(m, "repository") })},
		{"status without deployment", "deployment_status", status(func(m map[string]any) { delete(m, "deployment") })},
		{"status without deployment_status", "deployment_status", status(func(m map[string]any) { delete(m, "deployment_status") })},
		{"status state unknown", "deployment_status", status(func(m map[string]any) { m["deployment_status"].(map[string]any)["state"] = "done" })},
		{"status created_at not a time", "deployment_status", status(func(m map[string]any) { m["deployment_status"].(map[string]any)["created_at"] = "yesterday" })},
		{"bound: target URL", "deployment_status", status(func(m map[string]any) {
			m["deployment_status"].(map[string]any)["target_url"] = strings.Repeat("u", 2049)
		})},
		{"not JSON", "deployment_status", []byte("{")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := webhook.Parse(tc.event, tc.body); !errors.Is(err, webhook.ErrMalformed) {
				t.Errorf("err %v, want ErrMalformed", err)
			}
		})
	}
}

func TestDeploymentEventsActedOn(t *testing.T) {
	for _, tc := range []struct {
		state string
		acts  bool
	}{{"success", true}, {"failure", true}, {"error", true}, {"inactive", false}, {"in_progress", false}, {"queued", false}, {"pending", false}} {
		body := edit(t, "deployment_status.created.json", func(m map[string]any) { m["deployment_status"].(map[string]any)["state"] = tc.state })
		ev, err := webhook.Parse("deployment_status", body)
		if err != nil {
			t.Fatalf("%s: %v", tc.state, err)
		}
		if ev.Acts() != tc.acts {
			t.Errorf("deployment_status %s: Acts %v, want %v", tc.state, ev.Acts(), tc.acts)
		}
	}
	// Only "requested" asks for an answer.
	body := edit(t, "deployment_protection_rule.requested.json", func(m map[string]any) { m["action"] = "other" })
	if ev, err := webhook.Parse("deployment_protection_rule", body); err != nil || ev.Acts() {
		t.Errorf("action other: %+v %v", ev, err)
	}
}
