package document

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// DeploymentLogPath is where the bot keeps a release's deployment decisions
// (allowed and refused), part of the release's audit trail.
func DeploymentLogPath(release string) string {
	return ReportsDir + "/deployments/" + release + ".yaml"
}

// MaxDeploymentLog bounds what is read of a deployment log (1,000 entries,
// the most the bot keeps, take about 1 MB).
const MaxDeploymentLog = 8 << 20

// DeploymentLog is the file at DeploymentLogPath: written by the bot only,
// read by the deployment gate (a release deploying now), the receipt check
// (was this deployment allowed) and the audit timeline.
type DeploymentLog struct {
	APIVersion string           `yaml:"apiVersion" json:"apiVersion"`
	Kind       string           `yaml:"kind" json:"kind"`
	Release    string           `yaml:"release" json:"release"`
	Decisions  []LoggedDecision `yaml:"decisions" json:"decisions"`
}

// LoggedDecision is one entry of a deployment log.
type LoggedDecision struct {
	Key          string       `yaml:"key" json:"key"`
	At           string       `yaml:"at" json:"at"`
	Environment  string       `yaml:"environment" json:"environment"`
	Allowed      bool         `yaml:"allowed" json:"allowed"`
	Source       string       `yaml:"source" json:"source"`
	Run          string       `yaml:"run,omitempty" json:"run,omitempty"`
	DeploymentID int64        `yaml:"deploymentId,omitempty" json:"deploymentId,omitempty"`
	Requester    string       `yaml:"requester,omitempty" json:"requester,omitempty"`
	Revision     string       `yaml:"revision" json:"revision"`
	State        string       `yaml:"state,omitempty" json:"state,omitempty"`
	Artifacts    []VersionRef `yaml:"artifacts" json:"artifacts"`
	// Refused are the rules that refused it (empty when allowed).
	Refused []DecisionRule `yaml:"refused,omitempty" json:"refused,omitempty"`
}

// DecisionRule is a rule of a deployment decision as the log keeps it.
type DecisionRule struct {
	ID      string `yaml:"id" json:"id"`
	Clause  string `yaml:"clause,omitempty" json:"clause,omitempty"`
	OK      bool   `yaml:"ok" json:"ok"`
	Message string `yaml:"message" json:"message"`
}

// ParseDeploymentLog decodes a deployment log's bytes.
func ParseDeploymentLog(data []byte) (*DeploymentLog, error) {
	if len(data) > MaxDeploymentLog {
		return nil, fmt.Errorf("deployment log of %d bytes: more than %d", len(data), MaxDeploymentLog)
	}
	log := &DeploymentLog{}
	if err := yaml.Unmarshal(data, log); err != nil {
		return nil, err
	}
	return log, nil
}
