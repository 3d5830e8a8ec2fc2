package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds on the deployment events' fields. GitHub's environment names are
// at most 255 characters and its logins 39; the rest are generous for what
// GitHub sends. A field over its bound is not GitHub's shape: the event is
// malformed. The deployment payload is the workflow author's, so a payload
// relgate cannot read is not malformed: it is reported (Payload.Err) and
// the deployment is rejected with that reason.
const (
	maxEnvironment  = 255
	maxLogin        = 100
	maxRef          = 1024
	maxSHA          = 64
	maxURL          = 2048
	maxEventField   = 64
	maxState        = 32
	MaxPayload      = 64 << 10 // bytes of a deployment payload
	MaxReleaseField = 64       // bytes of payload.release
	MaxArtifacts    = 100      // entries of payload.artifacts
	MaxArtifact     = 512      // bytes of one artifact
)

// Deployment is a GitHub deployment as its events carry it.
type Deployment struct {
	ID          int64
	Environment string
	Creator     string
	SHA, Ref    string
	CreatedAt   time.Time
	Payload     DeployPayload
}

// DeployPayload is what relgate reads of a deployment's payload: the
// release it deploys and the artifacts it installs.
type DeployPayload struct {
	// Release is payload.release ("" when absent).
	Release string
	// Artifacts is payload.artifacts, each ITEM=VERSION@sha256:DIGEST as
	// written (package deploy parses them).
	Artifacts []string
	// Err says why the payload could not be read ("" when it could, or
	// when there is none); such a deployment is rejected with it.
	Err string
}

// ProtectionRule is a deployment_protection_rule "requested" event: a
// workflow job waits for relgate to approve or reject its deployment.
type ProtectionRule struct {
	Environment string
	// Event is what started the workflow run (push, workflow_dispatch, ...).
	Event    string
	SHA, Ref string
	// CallbackURL is deployment_callback_url: where GitHub takes the
	// answer. It is the sender's text: the server takes only the run id
	// from it, and posts to its own API root.
	CallbackURL string
	// Deployment is nil when the event carries none.
	Deployment *Deployment
}

// DeploymentStatus is a deployment_status event.
type DeploymentStatus struct {
	// State is success, failure, error, inactive, in_progress, queued or pending.
	State       string
	Environment string
	// TargetURL is the status's target_url, or its log_url when it has none.
	TargetURL  string
	CreatedAt  time.Time
	Deployment Deployment
}

// Final reports whether the status ends the deployment (a receipt is due).
func (d *DeploymentStatus) Final() bool {
	return d.State == "success" || d.State == "failure" || d.State == "error"
}

var deploymentStates = []string{"success", "failure", "error", "inactive", "in_progress", "queued", "pending"}

type wireDeployment struct {
	ID          int64           `json:"id"`
	Environment string          `json:"environment"`
	SHA         string          `json:"sha"`
	Ref         string          `json:"ref"`
	Creator     *wireUser       `json:"creator"`
	CreatedAt   string          `json:"created_at"`
	Payload     json.RawMessage `json:"payload"`
}

type wireDeployStatus struct {
	State       string `json:"state"`
	Environment string `json:"environment"`
	TargetURL   string `json:"target_url"`
	LogURL      string `json:"log_url"`
	CreatedAt   string `json:"created_at"`
}

func protectionRule(w *wire) (*ProtectionRule, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s %s payload: %s", ErrMalformed, KindDeploymentProtectionRule, w.Action, fmt.Sprintf(format, args...))
	}
	if w.Environment == "" || w.CallbackURL == "" {
		return nil, bad("without environment or deployment_callback_url")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"environment", w.Environment, maxEnvironment}, {"event", w.TriggerEvent, maxEventField}, {"sha", w.SHA, maxSHA},
		{"ref", w.Ref, maxRef}, {"deployment_callback_url", w.CallbackURL, maxURL}, {"sender.login", w.Sender.Login, maxLogin}} {
		if err := bounded(f.name, f.v, f.max); err != nil {
			return nil, bad("%v", err)
		}
	}
	pr := &ProtectionRule{Environment: w.Environment, Event: w.TriggerEvent, SHA: w.SHA, Ref: w.Ref, CallbackURL: w.CallbackURL}
	if w.Deployment != nil {
		d, err := deployment(w.Deployment)
		if err != nil {
			return nil, bad("%v", err)
		}
		pr.Deployment = &d
	}
	return pr, nil
}

func deploymentStatus(w *wire) (*DeploymentStatus, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s %s payload: %s", ErrMalformed, KindDeploymentStatus, w.Action, fmt.Sprintf(format, args...))
	}
	if w.DeploymentStatus == nil || w.Deployment == nil {
		return nil, bad("without deployment_status or deployment")
	}
	st := w.DeploymentStatus
	state := strings.ToLower(st.State)
	if !containsString(deploymentStates, state) {
		return nil, bad("deployment_status.state %q is not one of %s", trimForMessage(st.State), strings.Join(deploymentStates, ", "))
	}
	target := st.TargetURL
	if target == "" {
		target = st.LogURL
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"deployment_status.environment", st.Environment, maxEnvironment}, {"deployment_status.target_url", target, maxURL},
		{"deployment_status.created_at", st.CreatedAt, maxState}} {
		if err := bounded(f.name, f.v, f.max); err != nil {
			return nil, bad("%v", err)
		}
	}
	d, err := deployment(w.Deployment)
	if err != nil {
		return nil, bad("%v", err)
	}
	out := &DeploymentStatus{State: state, Environment: st.Environment, TargetURL: target, Deployment: d}
	if out.Environment == "" {
		out.Environment = d.Environment
	}
	if st.CreatedAt != "" {
		at, err := time.Parse(time.RFC3339, st.CreatedAt)
		if err != nil {
			return nil, bad("deployment_status.created_at %q is not RFC 3339", st.CreatedAt)
		}
		out.CreatedAt = at
	}
	return out, nil
}

func deployment(w *wireDeployment) (Deployment, error) {
	if w.ID <= 0 {
		return Deployment{}, fmt.Errorf("deployment.id %d is not a deployment id", w.ID)
	}
	d := Deployment{ID: w.ID, Environment: w.Environment, SHA: w.SHA, Ref: w.Ref}
	if w.Creator != nil {
		d.Creator = w.Creator.Login
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"deployment.environment", d.Environment, maxEnvironment}, {"deployment.sha", d.SHA, maxSHA}, {"deployment.ref", d.Ref, maxRef},
		{"deployment.creator.login", d.Creator, maxLogin}, {"deployment.created_at", w.CreatedAt, maxState}} {
		if err := bounded(f.name, f.v, f.max); err != nil {
			return Deployment{}, err
		}
	}
	if w.CreatedAt != "" {
		at, err := time.Parse(time.RFC3339, w.CreatedAt)
		if err != nil {
			return Deployment{}, fmt.Errorf("deployment.created_at %q is not RFC 3339", w.CreatedAt)
		}
		d.CreatedAt = at
	}
	d.Payload = parsePayload(w.Payload)
	return d, nil
}

// parsePayload reads a deployment payload: a JSON object, a string holding
// one (GitHub keeps the payload as the creator sent it), or nothing.
func parsePayload(raw json.RawMessage) DeployPayload {
	raw = bytes.TrimSpace(raw)
	if len(raw) > MaxPayload {
		return DeployPayload{Err: fmt.Sprintf("the deployment payload is %d bytes, over relgate's limit of %d", len(raw), MaxPayload)}
	}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return DeployPayload{}
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return DeployPayload{Err: "the deployment payload is not a valid JSON string"}
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return DeployPayload{}
		}
		raw = []byte(s)
	}
	if raw[0] != '{' {
		return DeployPayload{Err: "the deployment payload is not a JSON object; give {\"release\": \"REL-…\", \"artifacts\": [\"ITEM=VERSION@sha256:DIGEST\"]}"}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return DeployPayload{Err: "the deployment payload is not a JSON object: " + trimForMessage(err.Error())}
	}
	var p DeployPayload
	if r, ok := m["release"]; ok && !bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
		if err := json.Unmarshal(r, &p.Release); err != nil {
			return DeployPayload{Err: "payload.release is not a string; give the release id, for example \"REL-2026-0042\""}
		}
		if err := bounded("payload.release", p.Release, MaxReleaseField); err != nil {
			return DeployPayload{Err: err.Error()}
		}
	}
	if a, ok := m["artifacts"]; ok && !bytes.Equal(bytes.TrimSpace(a), []byte("null")) {
		if err := json.Unmarshal(a, &p.Artifacts); err != nil {
			return DeployPayload{Err: "payload.artifacts is not a list of strings; give each artifact as \"ITEM=VERSION@sha256:DIGEST\""}
		}
		if len(p.Artifacts) > MaxArtifacts {
			return DeployPayload{Err: fmt.Sprintf("payload.artifacts lists %d artifacts, over relgate's limit of %d", len(p.Artifacts), MaxArtifacts)}
		}
		for i, s := range p.Artifacts {
			if err := bounded(fmt.Sprintf("payload.artifacts[%d]", i), s, MaxArtifact); err != nil {
				return DeployPayload{Err: err.Error()}
			}
		}
	}
	return p
}

// bounded refuses a field over max bytes or not valid UTF-8, without echoing it.
func bounded(name, v string, max int) error {
	if len(v) > max {
		return fmt.Errorf("%s is %d bytes, over the limit of %d", name, len(v), max)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	return nil
}

// trimForMessage keeps a sender's text short in an error.
func trimForMessage(s string) string {
	if len(s) <= 64 {
		return s
	}
	n := 64
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
