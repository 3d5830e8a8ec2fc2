package writeback

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// Receipt is a pipeline's report that a deployment finished: what it
// deployed, when, from which run, with the problems it met. ReceiptWrite turns
// it into the release's deployment.yaml, for people to confirm.
type Receipt struct {
	Release     string
	Environment string
	// Outcome is document.OutcomeSucceeded, OutcomeFailed or OutcomeRolledBack.
	Outcome    string
	Deployed   []document.VersionRef
	StartedAt  time.Time
	FinishedAt time.Time
	// RecordedBy is an implementer's login; "" means the policy's bot
	// (server receipts).
	RecordedBy string
	// Source is document.ReceiptGitHubDeployment or document.ReceiptCI.
	Source string
	// Run is the URL of the pipeline run.
	Run string
	// DeploymentID is the forge's deployment id, 0 when there is none.
	DeploymentID int64
	Problems     []document.Problem
}

// Bounds of a receipt (the schema's, and enough for any real deployment).
const (
	maxRunLen         = 2048
	maxEnvLen         = 255
	maxReceiptItems   = 1000
	maxReceiptProblem = 200
	maxProblemText    = 4096
)

// ErrInvalidReceipt is a receipt the schema would refuse (a bad outcome,
// times out of order, a bound exceeded): the caller's input is wrong.
var ErrInvalidReceipt = errors.New("invalid receipt")

// ErrRecordExists is a receipt for a release that already has a different
// deployment record: relgate never overwrites one.
var ErrRecordExists = errors.New("the release already has a deployment record")

// ReceiptWrite is the commit that writes rc as releases/<id>/deployment.yaml.
// ok is false (nothing to write) when the release already has exactly this
// receipt (a replayed event). It fails when the release does not exist or
// already has a different deployment record: a record is never overwritten.
func ReceiptWrite(snap *loader.Snapshot, pol *policy.Policy, rc Receipt) (w Write, ok bool, err error) {
	content, err := ReceiptContent(pol, rc)
	if err != nil {
		return Write{}, false, err
	}
	if _, err := snap.Tree.Stat(document.ReleaseDir(rc.Release) + "/release.yaml"); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Write{}, false, fmt.Errorf("release %s does not exist (no %s/release.yaml)", rc.Release, document.ReleaseDir(rc.Release))
		}
		return Write{}, false, err
	}
	p := DeploymentPath(rc.Release)
	old, err := snap.Tree.Read(p)
	switch {
	case err == nil:
		if bytes.Equal(old, content) || sameEvent(snap, rc) {
			return Write{}, false, nil
		}
		return Write{}, false, fmt.Errorf("%s: %w; correct it in a pull request instead", p, ErrRecordExists)
	case !errors.Is(err, fs.ErrNotExist):
		return Write{}, false, err
	}
	return Write{Kind: "deployment-receipt", Release: rc.Release,
		Subject: fmt.Sprintf("%s: record the %s deployment to %s from the pipeline's report", rc.Release, rc.Outcome, rc.Environment),
		Body:    receiptBody(rc),
		Files:   []File{{Path: p, Content: content}}}, true, nil
}

// DeploymentPath is the release's deployment record.
func DeploymentPath(release string) string { return document.ReleaseDir(release) + "/deployment.yaml" }

// sameEvent reports whether the release's record is a receipt of the very
// report rc is (same source, run, environment, forge id, outcome and
// artifacts), which people may have completed since (problems, the
// rollback): a replay of that event adds nothing. A receipt that names
// neither run nor deployment id cannot be told from another, so only
// identical bytes count as a replay for it.
func sameEvent(snap *loader.Snapshot, rc Receipt) bool {
	if rc.Run == "" && rc.DeploymentID == 0 {
		return false
	}
	r := snap.Releases[rc.Release]
	if r == nil || r.Deployment == nil || r.Deployment.Receipt == nil {
		return false
	}
	d := r.Deployment
	return *d.Receipt == receiptOf(rc) && d.Outcome == rc.Outcome && slices.Equal(d.Deployed, rc.Deployed)
}

func receiptOf(rc Receipt) document.Receipt {
	return document.Receipt{Source: rc.Source, Run: rc.Run, Environment: rc.Environment, DeploymentID: rc.DeploymentID}
}

func receiptBody(rc Receipt) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Reported by %s, run %s", rc.Source, orDash(rc.Run))
	if rc.DeploymentID != 0 {
		fmt.Fprintf(&b, ", deployment %d", rc.DeploymentID)
	}
	b.WriteString(". People confirm it through the deployment-confirmation gate (R-5.1.8).\n")
	for _, v := range rc.Deployed {
		fmt.Fprintf(&b, "- %s %s %s\n", v.Item, v.Version, orDash(v.Digest))
	}
	return b.String()
}

// ReceiptContent is deployment.yaml as relgate writes it for rc: the same
// bytes for the same receipt. It fails on a receipt the schema would refuse.
func ReceiptContent(pol *policy.Policy, rc Receipt) ([]byte, error) {
	if err := checkReceipt(rc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidReceipt, err)
	}
	by := rc.RecordedBy
	if by == "" {
		login, ok := evaluate.BotLogin(pol)
		if !ok {
			return nil, fmt.Errorf("relgate.yaml: no person has the bot's email %q, so a receipt cannot name who recorded it; add the bot to people with bot: true", pol.Bot.Email)
		}
		by = login
	} else if !pol.HasRole(by, policy.RoleImplementer) {
		return nil, fmt.Errorf("recordedBy %s does not hold the role %s in relgate.yaml (R-5.1.8)", by, policy.RoleImplementer)
	}
	loc := pol.Location
	if loc == nil {
		loc = time.UTC
	}
	deployed := slices.Clone(rc.Deployed)
	if deployed == nil {
		deployed = []document.VersionRef{}
	}
	problems := make([]document.Problem, len(rc.Problems))
	for i, p := range rc.Problems {
		problems[i] = document.Problem{Description: strings.TrimSpace(p.Description), Solution: strings.TrimSpace(p.Solution), At: p.At}
	}
	rec := receiptOf(rc)
	d := document.Deployment{
		Header:     document.Header{APIVersion: document.APIVersion, Kind: document.KindDeployment},
		Release:    rc.Release,
		RecordedBy: by,
		StartedAt:  rc.StartedAt.In(loc).Format(time.RFC3339),
		FinishedAt: rc.FinishedAt.In(loc).Format(time.RFC3339),
		Outcome:    rc.Outcome,
		Deployed:   deployed,
		Problems:   problems,
		Receipt:    &rec,
	}
	if rc.Outcome != document.OutcomeSucceeded {
		// The schema wants a rollback record; the pipeline knows only
		// whether it rolled back, not what it restored or whom it told.
		d.Rollback = &document.RollbackRecord{
			Executed:        rc.Outcome == document.OutcomeRolledBack,
			CompletedAt:     d.FinishedAt,
			Restored:        []document.VersionRef{},
			NotifiedSystems: []string{},
		}
	}
	var n yaml.Node
	if err := n.Encode(d); err != nil {
		return nil, err
	}
	quoteAllVersions(&n)
	if d.Rollback != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "rollback" {
				n.Content[i].HeadComment = "The pipeline reported only the outcome: complete restored, surroundingSystemsNotified and\n" +
					"notifiedSystems (R-5.1.2). 流水线只报告了结果：请补全 restored、surroundingSystemsNotified 和 notifiedSystems（R-5.1.2）。"
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("# yaml-language-server: $schema=../../.relgate/schemas/deployment.schema.json\n" +
		"# Written by relgate from the pipeline's report of the deployment: confirm it, or correct it in a\n" +
		"# pull request, before approving deployment-confirmation (R-5.1.8).\n" +
		"# 由 relgate 根据流水线的部署报告写入：请在批准 deployment-confirmation 前确认；如有出入，请通过拉取请求更正（R-5.1.8）。\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// quoteAllVersions quotes every version at any depth, as people write them
// ("1.10" is not the number 1.1).
func quoteAllVersions(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Value == "version" && v.Kind == yaml.ScalarNode {
				v.Style = yaml.DoubleQuotedStyle
			}
		}
	}
	for _, c := range n.Content {
		quoteAllVersions(c)
	}
}

func checkReceipt(rc Receipt) error {
	switch {
	case !document.ReleaseIDPattern.MatchString(rc.Release):
		return fmt.Errorf("release %q is not a release id (REL-<year>-<number>)", rc.Release)
	case rc.Outcome != document.OutcomeSucceeded && rc.Outcome != document.OutcomeFailed && rc.Outcome != document.OutcomeRolledBack:
		return fmt.Errorf("outcome %q is not succeeded, failed or rolled-back", rc.Outcome)
	case rc.Source != document.ReceiptGitHubDeployment && rc.Source != document.ReceiptCI:
		return fmt.Errorf("receipt source %q is not %s or %s", rc.Source, document.ReceiptGitHubDeployment, document.ReceiptCI)
	case rc.Environment == "" || len(rc.Environment) > maxEnvLen:
		return fmt.Errorf("environment %q: give the environment deployed to (at most %d bytes)", rc.Environment, maxEnvLen)
	case len(rc.Run) > maxRunLen:
		return fmt.Errorf("run URL is %d bytes, the most is %d", len(rc.Run), maxRunLen)
	case rc.DeploymentID < 0:
		return fmt.Errorf("deployment id %d is negative", rc.DeploymentID)
	case rc.StartedAt.IsZero() || rc.FinishedAt.IsZero():
		return fmt.Errorf("a receipt needs both the start and the finish of the deployment")
	case rc.FinishedAt.Before(rc.StartedAt):
		return fmt.Errorf("the deployment finishes (%s) before it starts (%s)", rc.FinishedAt.Format(time.RFC3339), rc.StartedAt.Format(time.RFC3339))
	case len(rc.Deployed) > maxReceiptItems:
		return fmt.Errorf("%d deployed artifacts, the most a receipt takes is %d", len(rc.Deployed), maxReceiptItems)
	case len(rc.Problems) > maxReceiptProblem:
		return fmt.Errorf("%d problems, the most a receipt takes is %d", len(rc.Problems), maxReceiptProblem)
	}
	for i, v := range rc.Deployed {
		if v.Item == "" || v.Version == "" {
			return fmt.Errorf("deployed[%d]: an artifact needs its item and version", i)
		}
	}
	for i, p := range rc.Problems {
		d, s := strings.TrimSpace(p.Description), strings.TrimSpace(p.Solution)
		if d == "" || s == "" {
			return fmt.Errorf("problems[%d]: a problem needs its description and its solution (\"description => solution\")", i)
		}
		if len(d) > maxProblemText || len(s) > maxProblemText {
			return fmt.Errorf("problems[%d]: at most %d bytes each for description and solution", i, maxProblemText)
		}
		if p.At != "" {
			if _, err := time.Parse(time.RFC3339, p.At); err != nil {
				return fmt.Errorf("problems[%d].at %q is not RFC 3339 with offset", i, p.At)
			}
		}
	}
	return nil
}
