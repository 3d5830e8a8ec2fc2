// Package deploy decides whether a deployment may proceed: the one decision
// behind the server's GitHub deployment protection rule, `relgate
// deploy-check` in any CI, and the records both leave. A deployment goes
// ahead only for a release whose go-live approval passed, inside
// its window and outside every blackout window, with no
// other approved release deploying the same system or item at the same time,
// and with exactly the artifacts its test report tested. Whether an
// approval counts is not decided here: the release's state comes from
// package evaluate, like every other command's.
package deploy

import (
	"errors"
	"fmt"
	"github.com/relgate/relgate/controller/calendar"
	"io/fs"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// Rule ids, stable: they appear in JSON, in comments on GitHub and in the
// decision records.
const (
	RuleEnvironment = "environment"      // the environment is one the policy gates
	RuleRelease     = "release"          // the release exists and can be read
	RuleGoLive      = "go-live-approved"
	RuleNotDeployed = "not-yet-deployed" // no deployment is recorded yet
	RuleWindow      = "window"           // now is inside the release window
	RuleFreeze      = "freeze"           // now is outside every blackout window
	RuleConflict    = "conflict"         // no other release deploys the same system or item
	RuleArtifacts   = "artifacts"        // exactly the tested artifacts
	RuleEvaluation  = "evaluation"       // the decision could be evaluated at all
)

// Request is one deployment asking to proceed.
type Request struct {
	Release     string
	Environment string
	// Artifacts are what the deployment says it installs. None: the items
	// release.yaml installs stand in, unless the policy requires them.
	Artifacts []document.VersionRef
	Now       time.Time
	// Lang is the language of the messages: zh or en (default: the policy's).
	Lang string
}

// Rule is one condition of the decision.
type Rule struct {
	ID      string `json:"id"`
	Clause  string `json:"clause,omitempty"`
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// Decision is the answer to a Request; its JSON shape is stable
// (apiVersion relgate.dev/v1, kind DeploymentDecision).
type Decision struct {
	APIVersion  string `json:"apiVersion"`
	Kind        string `json:"kind"`
	Revision    string `json:"revision,omitempty"`
	Release     string `json:"release"`
	Environment string `json:"environment"`
	Now         string `json:"now"`
	// Lang is the language of the messages: zh or en.
	Lang    string `json:"lang"`
	Allowed bool   `json:"allowed"`
	// State is the release's lifecycle state at Revision ("" when unknown).
	State string `json:"state,omitempty"`
	// Artifacts are those checked: the request's, or the release's items
	// standing in for them (ArtifactsFrom says which).
	Artifacts     []document.VersionRef `json:"artifacts"`
	ArtifactsFrom string                `json:"artifactsFrom"`
	Rules         []Rule                `json:"rules"`
}

// Artifact sources.
const (
	FromRequest = "request"
	FromRelease = "release.yaml"
)

// Failed are the rules that refuse the deployment.
func (d Decision) Failed() []Rule {
	var out []Rule
	for _, r := range d.Rules {
		if !r.OK {
			out = append(out, r)
		}
	}
	return out
}

// Refused is the decision when it could not be evaluated: never allowed.
func Refused(req Request, err error) Decision {
	d := newDecision(req)
	d.Rules = []Rule{{ID: RuleEvaluation, Message: text(req.Lang,
		"relgate could not evaluate this deployment, so it does not proceed: "+err.Error()+"; fix the cause and retry the deployment",
		"relgate 无法评估本次部署，因此不予放行："+err.Error()+"；排除原因后重新发起部署")}}
	return d
}

func newDecision(req Request) Decision {
	lang := "en"
	if req.Lang == "zh" {
		lang = "zh"
	}
	return Decision{APIVersion: document.APIVersion, Kind: "DeploymentDecision", Release: req.Release,
		Environment: req.Environment, Now: req.Now.Format(time.RFC3339), Lang: lang, Artifacts: []document.VersionRef{}, Rules: []Rule{}}
}

// Decide evaluates req against the release repository as snap has it (the
// protected branch: policy and approvals come from there, never from what is
// being deployed). snap must hold every release whose window may overlap
// req.Now, for the conflict rule; prov attributes the documents to commits,
// as for `status`. Every rule is evaluated, so a refusal lists every reason.
func Decide(pol *policy.Policy, snap *loader.Snapshot, prov evaluate.Provenance, req Request) (Decision, error) {
	if req.Lang == "" {
		req.Lang = pol.Language
		if req.Lang == "" {
			req.Lang = "zh" // the policy's default language
		}
	}
	d := newDecision(req)
	d.Revision = snap.Tree.Name()
	add := func(id, clause string, ok bool, en, zh string) {
		d.Rules = append(d.Rules, Rule{ID: id, Clause: clause, OK: ok, Message: text(req.Lang, en, zh)})
	}
	envs := strings.Join(pol.Environments(), ", ")
	if pol.GatesEnvironment(req.Environment) {
		add(RuleEnvironment, "R-3.1", true, "environment "+req.Environment+" is gated by relgate", "环境 "+req.Environment+" 由 relgate 管控")
	} else {
		add(RuleEnvironment, "R-3.1", false,
			fmt.Sprintf("environment %q is not one the policy gates (relgate.yaml deployments.environments: %s); name the environment exactly, or add it to the policy", req.Environment, envs),
			fmt.Sprintf("环境 %q 不在策略管控的环境中（relgate.yaml deployments.environments：%s）；请准确填写环境名称，或将其加入策略", req.Environment, envs))
	}
	r := snap.Releases[req.Release]
	if r == nil || r.Release == nil {
		add(RuleRelease, "R-3.3", false,
			fmt.Sprintf("release %q does not exist (or its release.yaml is invalid) at %s; deploy only a release of the release repository", req.Release, d.Revision),
			fmt.Sprintf("在 %s 中不存在发布 %q（或其 release.yaml 无效）；只能部署发布仓库中的发布", d.Revision, req.Release))
		d.Allowed = false
		return d, nil
	}
	add(RuleRelease, "R-3.3", true, "release "+req.Release+": "+r.Release.Title, "发布 "+req.Release+"："+r.Release.Title)
	st, err := evaluate.Release(pol, snap, req.Release, evaluate.Options{Provenance: prov})
	if err != nil {
		return Decision{}, fmt.Errorf("evaluate %s: %w", req.Release, err)
	}
	d.State = st.State
	golive, _ := st.Gate(policy.GateGoLiveApproval)
	if slices.Contains(st.Passed, policy.GateGoLiveApproval) {
		add(RuleGoLive, "R-5.1.6", true, "the go-live approval passed", "上线审批已通过")
	} else {
		why := strings.Join(golive.Missing(), "; ")
		add(RuleGoLive, "R-5.1.6", false,
			"the go-live approval has not passed (the release is in "+st.State+"): "+orDash(why),
			"上线审批尚未通过（发布处于 "+st.State+" 阶段）："+orDash(why))
	}
	if _, recorded := r.Files["deployment.yaml"]; recorded && r.Deployment == nil {
		// A record relgate cannot read is still a record: fail closed.
		add(RuleNotDeployed, "R-5.1.8", false,
			"releases/"+r.ID+"/deployment.yaml exists but cannot be read (run relgate validate); a release with a deployment record is not deployed again",
			"releases/"+r.ID+"/deployment.yaml 已存在但无法读取（请运行 relgate validate）；已有部署记录的发布不得再次部署")
	} else if r.Deployment == nil {
		add(RuleNotDeployed, "R-5.1.8", true, "no deployment is recorded yet", "尚无部署记录")
	} else {
		add(RuleNotDeployed, "R-5.1.8", false,
			"a deployment is already recorded ("+r.Deployment.Outcome+", deployment.yaml); a new deployment needs a new release",
			"已有部署记录（"+r.Deployment.Outcome+"，deployment.yaml）；再次部署须另建发布")
	}
	d.window(add, pol, r.Release.Window, req.Now)
	_, exempt := checkOK(golive, gate.ConflictCheck)
	d.freeze(add, pol, r.Release.Systems, req.Now, exempt && slices.Contains(st.Passed, policy.GateGoLiveApproval))
	if err := d.conflicts(add, pol, snap, prov, r, req.Now); err != nil {
		return Decision{}, err
	}
	d.artifacts(add, pol, r, req)
	d.Allowed = len(d.Failed()) == 0
	return d, nil
}

func (d *Decision) window(add func(id, clause string, ok bool, en, zh string), pol *policy.Policy, w document.Period, now time.Time) {
	start, err1 := document.ParseTime(w.Start)
	end, err2 := document.ParseTime(w.End)
	if err1 != nil || err2 != nil {
		add(RuleWindow, "R-5.1.5", false, "the release window in release.yaml cannot be read", "release.yaml 中的发布窗口无法读取")
		return
	}
	span := start.In(pol.Location).Format(time.RFC3339) + " – " + end.In(pol.Location).Format(time.RFC3339)
	switch {
	case now.Before(start):
		add(RuleWindow, "R-5.1.5", false, "the release window "+span+" has not begun; deploy inside it",
			"发布窗口 "+span+" 尚未开始；请在窗口内部署")
	case !now.Before(end):
		add(RuleWindow, "R-5.1.5", false, "the release window "+span+" is over; plan a new window and have it approved again",
			"发布窗口 "+span+" 已结束；请重新规划窗口并重新审批")
	default:
		add(RuleWindow, "R-5.1.5", true, "inside the release window "+span, "在发布窗口 "+span+" 内")
	}
}

// checkOK finds a check of a gate result.
func checkOK(g gate.Result, name string) (gate.Check, bool) {
	for _, c := range g.Checks {
		if c.Name == name && c.OK {
			return c, true
		}
	}
	return gate.Check{}, false
}

// freeze: no release of a frozen system is deployed during a freeze (the
// policy's freezes and its blackoutWindows), and it fails closed: a freeze
// whose times cannot be read freezes. exempt: the go-live approval passed
// with the exception the calendar conflict of its window needed,
// so that release may deploy in it.
func (d *Decision) freeze(add func(id, clause string, ok bool, en, zh string), pol *policy.Policy, systems []string, now time.Time, exempt bool) {
	if frozen := calendar.FreezesAt(pol.Calendar().Freezes, systems, now); len(frozen) > 0 {
		f := frozen[0]
		kind, kindZh := "freeze", "冻结期"
		if f.Blackout {
			kind, kindZh = "blackout window", "封网窗口"
		}
		switch {
		case f.Unreadable:
			add(RuleFreeze, "R-5.1.6", false, "the "+kind+" "+f.Name+" cannot be read, so it freezes every deployment",
				kindZh+" "+f.Name+" 的时间无法读取，因此冻结所有部署")
		case exempt:
			add(RuleFreeze, "R-5.1.6", true, "inside the "+kind+" "+f.Name+", which the exception approver approved for this release at its go-live approval",
				"处于"+kindZh+" "+f.Name+" 内，例外审批人已在上线审批时批准本发布在此期间部署")
		default:
			add(RuleFreeze, "R-5.1.6", false, "inside the "+kind+" "+f.Name+" (until "+f.End.In(pol.Location).Format(time.RFC3339)+"): "+f.Reason+"; no release of its systems is deployed now",
				"处于"+kindZh+" "+f.Name+" 内（至 "+f.End.In(pol.Location).Format(time.RFC3339)+"）："+f.Reason+"；此时不得部署其所涉系统的发布")
		}
		return
	}
	add(RuleFreeze, "R-5.1.6", true, "outside every freeze and blackout window", "不在任何冻结期或封网窗口内")
}

// conflicts: another release approved to deploy (ready-to-deploy) whose
// window contains now and that shares a system or an item is deploying the
// same thing: neither knows which version ends up in production. Both are
// refused until one of them moves its window or records its deployment.
func (d *Decision) conflicts(add func(id, clause string, ok bool, en, zh string), pol *policy.Policy, snap *loader.Snapshot, prov evaluate.Provenance, r *loader.Release, now time.Time) error {
	var clash, unreadable []string
	for _, id := range snap.ReleaseIDs() {
		o := snap.Releases[id]
		if id == r.ID {
			continue
		}
		if o.Release == nil {
			// Its scope cannot be known, so it may share ours: fail closed.
			unreadable = append(unreadable, id)
			continue
		}
		if o.Deployment != nil {
			continue
		}
		if _, recorded := o.Files["deployment.yaml"]; recorded {
			continue // recorded, if unreadably: not deploying now
		}
		shared := sharedScope(r.Release, o.Release)
		if len(shared) == 0 {
			continue
		}
		s, err1 := document.ParseTime(o.Release.Window.Start)
		e, err2 := document.ParseTime(o.Release.Window.End)
		if err1 != nil || err2 != nil {
			unreadable = append(unreadable, id)
			continue
		}
		if now.Before(s) || !now.Before(e) {
			continue
		}
		deploying, err := allowedUnfinished(snap, id)
		if err != nil {
			return err
		}
		if deploying {
			clash = append(clash, id+" ("+strings.Join(shared, ", ")+")")
			continue
		}
		st, err := evaluate.Release(pol, snap, id, evaluate.Options{Provenance: prov})
		if err != nil {
			return fmt.Errorf("evaluate %s: %w", id, err)
		}
		if st.State == gate.StateReadyToDeploy {
			clash = append(clash, id+" ("+strings.Join(shared, ", ")+")")
		}
	}
	switch {
	case len(clash) == 0 && len(unreadable) == 0:
		add(RuleConflict, "R-5.1.5", true, "no other approved release deploys the same system or item now", "此时没有其他已批准的发布在部署相同的系统或配置项")
	case len(clash) > 0:
		add(RuleConflict, "R-5.1.5", false,
			"other approved releases deploy the same system or item in this window: "+strings.Join(clash, "; ")+"; one of them must move its window (and be approved again) or record its deployment first",
			"以下已批准的发布在同一窗口内部署相同的系统或配置项："+strings.Join(clash, "；")+"；须有一方调整发布窗口（并重新审批）或先记录其部署")
	default:
		add(RuleConflict, "R-5.1.5", false,
			"relgate cannot tell whether these releases deploy the same system now, because their release.yaml or its window cannot be read: "+strings.Join(unreadable, ", ")+"; fix them (relgate validate) on the protected branch",
			"以下发布的 release.yaml 或其发布窗口无法读取，relgate 无法判断它们此时是否部署相同的系统："+strings.Join(unreadable, "、")+"；请在受保护分支上修正（relgate validate）")
	}
	return nil
}

// allowedUnfinished reports whether a release's deployment log (the bot's,
// reports/deployments/<id>.yaml) holds an allowed decision: the release is
// deploying, or has deployed without its record yet, whatever its state
// says now (an approval gone stale does not stop a deployment under way).
func allowedUnfinished(snap *loader.Snapshot, id string) (bool, error) {
	p := document.DeploymentLogPath(id)
	e, err := snap.Tree.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if e.Size > document.MaxDeploymentLog {
		return true, nil // a log too large to read: fail closed
	}
	data, err := snap.Tree.Read(p)
	if err != nil {
		return false, err
	}
	log, err := document.ParseDeploymentLog(data)
	if err != nil {
		return true, nil // not the bot's format: fail closed
	}
	for _, dc := range log.Decisions {
		if dc.Allowed {
			return true, nil
		}
	}
	return false, nil
}

func sharedScope(a, b *document.Release) []string {
	var out []string
	for _, s := range a.Systems {
		if slices.Contains(b.Systems, s) {
			out = append(out, s)
		}
	}
	for _, it := range a.Items {
		if slices.ContainsFunc(b.Items, func(o document.Item) bool { return o.ID == it.ID }) {
			out = append(out, it.ID)
		}
	}
	return out
}

// artifacts: every artifact the deployment names is one the release installs
// (release.yaml items) and its test report tested, item, version and digest
// alike. A deployment that names none is checked as the release's
// items, unless the policy requires them named.
func (d *Decision) artifacts(add func(id, clause string, ok bool, en, zh string), pol *policy.Policy, r *loader.Release, req Request) {
	arts := req.Artifacts
	d.ArtifactsFrom = FromRequest
	if len(arts) == 0 {
		if pol.RequireArtifacts() {
			add(RuleArtifacts, "R-3.1", false,
				"the deployment names no artifact and the policy requires it (deployments.requireArtifacts); name each item=version@sha256:digest it installs",
				"部署未列明制品，而策略要求列明（deployments.requireArtifacts）；请以 配置项=版本@sha256:摘要 的形式列出要安装的每个制品")
			return
		}
		d.ArtifactsFrom = FromRelease
		for _, it := range r.Release.Items {
			if it.Action != "retire" {
				arts = append(arts, document.VersionRef{Item: it.ID, Version: it.Version, Digest: it.Digest})
			}
		}
	}
	d.Artifacts = append(d.Artifacts, arts...)
	var tested []document.VersionRef
	if r.TestReport != nil {
		tested = r.TestReport.Artifacts
	}
	var bad []string
	for _, a := range arts {
		switch {
		case a.Digest == "":
			bad = append(bad, text(req.Lang, a.Item+" "+a.Version+" names no digest", a.Item+" "+a.Version+" 未给出摘要"))
		case !slices.ContainsFunc(r.Release.Items, func(it document.Item) bool {
			return it.ID == a.Item && it.Version == a.Version && it.Digest == a.Digest && it.Action != "retire"
		}):
			bad = append(bad, text(req.Lang, a.Item+" "+a.Version+" "+short(a.Digest)+" is not what release.yaml installs",
				a.Item+" "+a.Version+" "+short(a.Digest)+" 不是 release.yaml 要安装的版本"))
		case !slices.Contains(tested, a):
			bad = append(bad, text(req.Lang, a.Item+" "+a.Version+" "+short(a.Digest)+" was not tested (test-report.yaml artifacts)",
				a.Item+" "+a.Version+" "+short(a.Digest)+" 未经测试（test-report.yaml artifacts）"))
		}
	}
	switch {
	case len(arts) == 0:
		add(RuleArtifacts, "R-3.1", false, "the deployment installs nothing relgate can check", "本次部署没有可核对的制品")
	case len(bad) == 0:
		add(RuleArtifacts, "R-3.1", true, "every artifact is one the release installs and its test report tested",
			"每个制品都是发布要安装且测试报告测试过的")
	default:
		add(RuleArtifacts, "R-3.1", false,
			"only tested, approved versions enter production: "+strings.Join(bad, "; ")+"; deploy exactly the item, version and digest of test-report.yaml",
			"只有经过测试和批准的版本才能进入生产："+strings.Join(bad, "；")+"；请严格部署 test-report.yaml 中的配置项、版本和摘要")
	}
}

// ParseArtifact reads ITEM=VERSION@sha256:HEX, the form deploy-check and
// record-deployment take and a deployment payload may carry.
func ParseArtifact(s string) (document.VersionRef, error) {
	item, rest, ok := strings.Cut(s, "=")
	version, dig, ok2 := strings.Cut(rest, "@")
	if !ok || !ok2 || item == "" || version == "" {
		return document.VersionRef{}, fmt.Errorf("artifact %q: write ITEM=VERSION@sha256:DIGEST, for example payment-interface=3.2.0@sha256:6cad…", s)
	}
	if len(version) > maxVersion || strings.ContainsFunc(version, unicode.IsControl) {
		return document.VersionRef{}, fmt.Errorf("artifact %q: the version must be at most %d characters, with no control characters", truncate(s, 80), maxVersion)
	}
	if !document.DigestPattern.MatchString(dig) {
		return document.VersionRef{}, fmt.Errorf("artifact %q: the digest must be sha256: followed by 64 lowercase hex digits", s)
	}
	if !document.ItemIDPattern.MatchString(item) {
		return document.VersionRef{}, fmt.Errorf("artifact %q: %q is not a CMDB item id (lowercase letters, digits and -)", s, item)
	}
	return document.VersionRef{Item: item, Version: version, Digest: dig}, nil
}

// maxVersion bounds a version as a request names it.
const maxVersion = 128

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19] + "…"
	}
	return d
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func text(lang, en, zh string) string {
	if lang == "zh" {
		return zh
	}
	return en
}
