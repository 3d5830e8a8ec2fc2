package writeback

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/deploy"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/source"
)

// DecisionRecord is one deployment decision to keep in the release's
// deployment log, reports/deployments/<release>.yaml, so the release's audit
// trail shows every deployment that asked to proceed, allowed or refused,
// with what it asked.
type DecisionRecord struct {
	Decision deploy.Decision
	At       time.Time
	// Source is github (a deployment protection rule) or ci.
	Source string
	// Run is the URL of the pipeline run that asked.
	Run          string
	DeploymentID int64
	// Requester is the forge login that started the deployment.
	Requester string
	// Key identifies the request: the log holds one entry per key, so a
	// replayed event adds nothing. Default: source/deploymentID/at.
	Key string
}

// DeploymentLogPath is where the bot keeps a release's deployment decisions.
func DeploymentLogPath(release string) string { return document.DeploymentLogPath(release) }

// DeploymentLog and LoggedDecision are the deployment log's format (package
// document, which every reader of the log shares).
type (
	DeploymentLog  = document.DeploymentLog
	LoggedDecision = document.LoggedDecision
)

// maxLogEntries bounds a release's deployment log; a release that has asked
// this often is stuck, and the server's log keeps the rest.
const maxLogEntries = 1000

const maxLogBytes = document.MaxDeploymentLog

// DecisionWrite is the commit that adds rec to its release's deployment log.
// ok is false when there is nothing to write: the key is logged already (a
// replay), or the decision names no release of the repository (only the
// server's log keeps those).
func DecisionWrite(t source.Tree, rec DecisionRecord) (w Write, ok bool, err error) {
	d := rec.Decision
	if !document.ReleaseIDPattern.MatchString(d.Release) {
		return Write{}, false, nil
	}
	if _, err := t.Stat(document.ReleaseDir(d.Release) + "/release.yaml"); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Write{}, false, nil
		}
		return Write{}, false, err
	}
	log, err := ReadDeploymentLog(t, d.Release)
	if err != nil {
		return Write{}, false, err
	}
	if rec.Key == "" {
		rec.Key = fmt.Sprintf("%s/%d/%s", rec.Source, rec.DeploymentID, rec.At.UTC().Format(time.RFC3339))
	}
	if slices.ContainsFunc(log.Decisions, func(e LoggedDecision) bool { return e.Key == rec.Key }) {
		return Write{}, false, nil
	}
	if len(log.Decisions) >= maxLogEntries {
		return Write{}, false, fmt.Errorf("%s holds %d decisions, the most relgate keeps; the server's log has this one", DeploymentLogPath(d.Release), maxLogEntries)
	}
	e := LoggedDecision{Key: rec.Key, At: rec.At.Format(time.RFC3339), Environment: d.Environment, Allowed: d.Allowed,
		Source: rec.Source, Run: rec.Run, DeploymentID: rec.DeploymentID, Requester: rec.Requester,
		Revision: d.Revision, State: d.State, Artifacts: d.Artifacts}
	for _, r := range d.Failed() {
		e.Refused = append(e.Refused, document.DecisionRule{ID: r.ID, Clause: r.Clause, OK: r.OK, Message: r.Message})
	}
	if e.Artifacts == nil {
		e.Artifacts = []document.VersionRef{}
	}
	log.Decisions = append(log.Decisions, e)
	body, err := yaml.Marshal(log)
	if err != nil {
		return Write{}, false, err
	}
	verdict := "refused"
	if d.Allowed {
		verdict = "allowed"
	}
	content := append([]byte("# Written by relgate: every deployment of this release that asked to proceed, allowed or refused (R-3.1, R-3.2).\n"+
		"# 由 relgate 写入：本发布每一次请求部署的判定，无论放行或拒绝（R-3.1、R-3.2）。\n"), body...)
	return Write{Kind: "deployment-decision", Release: d.Release,
		Subject: fmt.Sprintf("deployment of %s to %s %s", d.Release, d.Environment, verdict),
		Body:    decisionBody(e),
		Files:   []File{{Path: DeploymentLogPath(d.Release), Content: content}}}, true, nil
}

func decisionBody(e LoggedDecision) string {
	s := "Requested by " + orDash(e.Requester) + " (" + e.Source + "), run " + orDash(e.Run) + ", decided at " + e.Revision + ".\n"
	for _, r := range e.Refused {
		s += "- " + r.ID + " (" + r.Clause + "): " + r.Message + "\n"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ReadDeploymentLog reads a release's deployment log; an absent log is empty.
func ReadDeploymentLog(t source.Tree, release string) (*DeploymentLog, error) {
	p := DeploymentLogPath(release)
	e, err := t.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &DeploymentLog{APIVersion: document.APIVersion, Kind: "DeploymentLog", Release: release}, nil
	}
	if err != nil {
		return nil, err
	}
	if e.Size > maxLogBytes {
		return nil, fmt.Errorf("%s: %w (%d bytes, the most is %d)", p, source.ErrTooLarge, e.Size, maxLogBytes)
	}
	data, err := t.Read(p)
	if err != nil {
		return nil, err
	}
	log, err := document.ParseDeploymentLog(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return log, nil
}

// ParseDeploymentLog decodes a deployment log's bytes.
func ParseDeploymentLog(data []byte) (*DeploymentLog, error) {
	return document.ParseDeploymentLog(data)
}

// AllowedArtifacts are the artifacts of the last allowed decision logged for
// a forge deployment: what a receipt of that deployment says was deployed
// when the deployment itself names none.
func AllowedArtifacts(t source.Tree, release string, deploymentID int64) ([]document.VersionRef, bool, error) {
	log, err := ReadDeploymentLog(t, release)
	if err != nil {
		return nil, false, err
	}
	for i := len(log.Decisions) - 1; i >= 0; i-- {
		if e := log.Decisions[i]; e.Allowed && e.DeploymentID == deploymentID && deploymentID != 0 {
			return e.Artifacts, true, nil
		}
	}
	return nil, false, nil
}
