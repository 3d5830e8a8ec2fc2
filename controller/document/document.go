// Package document defines the typed documents of a release repository and
// where each lives. It is the one description of the format: the JSON Schemas
// in schemas/ describe the same shapes for editors and validation, and the
// loader decodes validated YAML into these types.
package document

// APIVersion is the only document version this relgate understands.
const APIVersion = "relgate.dev/v1"

// Kind names a document type; it selects the schema (schemas/<kind>.schema.json).
type Kind string

// The document kinds of a release repository.
const (
	KindPolicy        Kind = "Policy"
	KindChange        Kind = "Change"
	KindRelease       Kind = "Release"
	KindPlan          Kind = "Plan"
	KindTestReport    Kind = "TestReport"
	KindGoLive        Kind = "GoLive"
	KindCommunication Kind = "Communication"
	KindDeployment    Kind = "Deployment"
	KindApproval      Kind = "Approval"
	KindClosure       Kind = "Closure"
	KindCMDBItem      Kind = "CMDBItem"
	KindReview        Kind = "Review"
)

// Kinds lists every kind, in the order documents are described.
var Kinds = []Kind{KindPolicy, KindChange, KindRelease, KindPlan, KindTestReport, KindGoLive,
	KindCommunication, KindDeployment, KindApproval, KindClosure, KindCMDBItem, KindReview}

// Header is common to every document.
type Header struct {
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	Kind       Kind   `yaml:"kind" json:"kind"`
}

// Person is someone the policy knows, identified by their forge login.
type Person struct {
	Login string `yaml:"login" json:"login"`
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email" json:"email"`
	// SigningKeys are armored OpenPGP public keys; a signed commit that adds an
	// approval authenticates it when it verifies with one of them.
	SigningKeys []string `yaml:"signingKeys,omitempty" json:"signingKeys,omitempty"`
	Bot         bool     `yaml:"bot,omitempty" json:"bot,omitempty"`
}

// Department is an organisational unit whose head reviews plans that touch it.
type Department struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	Head string `yaml:"head" json:"head"`
}

// Requirement is one approval a gate needs: Count distinct people holding Role.
// The role "department-head" means the head of every department the release involves.
type Requirement struct {
	Role  string `yaml:"role" json:"role"`
	Count int    `yaml:"count,omitempty" json:"count,omitempty"`
}

// GateSpec is a gate as the policy states it; the defaults of the procedure are
// filled in for the built-in gates a policy does not mention.
type GateSpec struct {
	ID       string        `yaml:"id" json:"id"`
	Requires []Requirement `yaml:"requires,omitempty" json:"requires,omitempty"`
	// Covers lists the release documents whose content an approval of this gate binds to
	// (file names inside the release folder, e.g. plan.yaml).
	Covers []string `yaml:"covers,omitempty" json:"covers,omitempty"`
	// SeparationOfDuties forbids approving a document one wrote; nil means on.
	SeparationOfDuties *bool `yaml:"separationOfDuties,omitempty" json:"separationOfDuties,omitempty"`
	// Before names the built-in gate that a team's own gate must pass ahead of.
	// A team's own gate needs it; a built-in gate ignores it.
	Before string `yaml:"before,omitempty" json:"before,omitempty"`
}

// Window is a period of time, used for blackout windows.
type Window struct {
	Name  string `yaml:"name" json:"name"`
	Start string `yaml:"start" json:"start"`
	End   string `yaml:"end" json:"end"`
}

// MaintenanceWindow is a recurring period in which the systems it names may
// be changed: a release window of such a system lies inside
// one of its occurrences. It opens by Weekly or by RRule (exactly one), at
// wall-clock times in the policy's timezone, for Duration.
type MaintenanceWindow struct {
	Name string `yaml:"name" json:"name"`
	// Systems the window is for; none means every system.
	Systems []string          `yaml:"systems,omitempty" json:"systems,omitempty"`
	Weekly  *WeeklyRecurrence `yaml:"weekly,omitempty" json:"weekly,omitempty"`
	// RRule is an RFC 5545 RRULE in relgate's subset (package calendar).
	RRule string `yaml:"rrule,omitempty" json:"rrule,omitempty"`
	// Duration is elapsed time such as 6h or 1h30m, at most 7 days.
	Duration string `yaml:"duration" json:"duration"`
	// From is the date (YYYY-MM-DD) the recurrence begins; INTERVAL and
	// COUNT count from it.
	From string `yaml:"from,omitempty" json:"from,omitempty"`
}

// WeeklyRecurrence is the readable form of a weekly window: on Days (mon …
// sun) at Start (HH:MM, 24-hour).
type WeeklyRecurrence struct {
	Days  []string `yaml:"days" json:"days"`
	Start string   `yaml:"start" json:"start"`
}

// Freeze is a period in which no release of its systems may go live
// no systems means every system. Start and End are RFC 3339;
// End is the first moment after the freeze.
type Freeze struct {
	Name    string   `yaml:"name" json:"name"`
	Reason  string   `yaml:"reason" json:"reason"`
	Start   string   `yaml:"start" json:"start"`
	End     string   `yaml:"end" json:"end"`
	Systems []string `yaml:"systems,omitempty" json:"systems,omitempty"`
}

// Identity is the author of commits relgate writes.
type Identity struct {
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email" json:"email"`
}

// Policy is relgate.yaml: people, roles, departments, gates and settings. It is
// always read from the protected base branch when a change is gated.
type Policy struct {
	Header       `yaml:",inline" json:",inline"`
	Organization string              `yaml:"organization" json:"organization"`
	Timezone     string              `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	Language     string              `yaml:"language,omitempty" json:"language,omitempty"`
	Bot          Identity            `yaml:"bot" json:"bot"`
	People       []Person            `yaml:"people" json:"people"`
	Departments  []Department        `yaml:"departments" json:"departments"`
	Roles        map[string][]string `yaml:"roles" json:"roles"`
	Gates        []GateSpec          `yaml:"gates,omitempty" json:"gates,omitempty"`
	// TrustCommitAuthor lets an approval count when the commit that added it was
	// authored by the approver, without a signature. Every report warns about it.
	TrustCommitAuthor    bool     `yaml:"trustCommitAuthor,omitempty" json:"trustCommitAuthor,omitempty"`
	MaxChangesPerRelease int      `yaml:"maxChangesPerRelease,omitempty" json:"maxChangesPerRelease,omitempty"`
	ReleaseTypes         []string `yaml:"releaseTypes,omitempty" json:"releaseTypes,omitempty"`
	// BlackoutWindows are global freezes by their older name; package
	// calendar reads them as freezes of every system.
	BlackoutWindows    []Window            `yaml:"blackoutWindows,omitempty" json:"blackoutWindows,omitempty"`
	MaintenanceWindows []MaintenanceWindow `yaml:"maintenanceWindows,omitempty" json:"maintenanceWindows,omitempty"`
	Freezes            []Freeze            `yaml:"freezes,omitempty" json:"freezes,omitempty"`
	Deployments        *Deployments        `yaml:"deployments,omitempty" json:"deployments,omitempty"`
	// ExceptionRole approves a release window that conflicts with the change
	// calendar (outside its systems' maintenance windows, inside a freeze, or
	// overlapping another release on a system or item); default
	// process-approver.
	ExceptionRole string `yaml:"exceptionRole,omitempty" json:"exceptionRole,omitempty"`
	// TypeRules say, per release type, what the type changes in the
	// procedure; a type without a rule follows the whole procedure.
	TypeRules map[string]TypeRule `yaml:"typeRules,omitempty" json:"typeRules,omitempty"`
	// Notices configure the channels reminders and notices go to.
	Notices   *Notices  `yaml:"notices,omitempty" json:"notices,omitempty"`
	KPI       KPI       `yaml:"kpi,omitempty" json:"kpi,omitempty"`
	Schedules Schedules `yaml:"schedules,omitempty" json:"schedules,omitempty"`
}

// Release type kinds (TypeRule.Kind).
const (
	TypeNormal    = "normal"
	TypeStandard  = "standard"
	TypeEmergency = "emergency"
)

// TypeRule is what one release type changes in the procedure.
// Normal follows the whole procedure. Standard is pre-approved and
// repeatable: a release of it cites an approved change request of type
// standard, and then Waive and Requires apply. Emergency may go live on one
// approval of Approver; the gates listed in Retrospective are then due
// within RetrospectiveDays after the deployment.
type TypeRule struct {
	Kind string `yaml:"kind" json:"kind"`
	// Waive lists gates a standard release does not need.
	Waive []string `yaml:"waive,omitempty" json:"waive,omitempty"`
	// Requires replaces, per gate id, the approvals a standard release needs.
	Requires map[string][]Requirement `yaml:"requires,omitempty" json:"requires,omitempty"`
	// Approver is the role whose one approval lets an emergency release go live.
	Approver string `yaml:"approver,omitempty" json:"approver,omitempty"`
	// Retrospective lists the gates an emergency release may pass after it went live.
	Retrospective []string `yaml:"retrospective,omitempty" json:"retrospective,omitempty"`
	// RetrospectiveDays is how many days after the deployment they are due.
	RetrospectiveDays int `yaml:"retrospectiveDays,omitempty" json:"retrospectiveDays,omitempty"`
}

// Notices configure where relgate sends reminders and notices (R-5.1.2,
// Secrets are never here: a channel names the environment
// variables that hold them.
type Notices struct {
	Channels []NoticeChannel `yaml:"channels" json:"channels"`
	// ApprovalReminderHours: an approval still missing this long after it was
	// requested is reminded (default 24).
	ApprovalReminderHours int `yaml:"approvalReminderHours,omitempty" json:"approvalReminderHours,omitempty"`
	// LeadHours: how long before a window, freeze or phase starts people are
	// told (default 24).
	LeadHours int `yaml:"leadHours,omitempty" json:"leadHours,omitempty"`
	// PerMinute bounds the messages sent to one channel a minute (default 20).
	PerMinute int `yaml:"perMinute,omitempty" json:"perMinute,omitempty"`
}

// Notice channel kinds.
const (
	ChannelWebhook  = "webhook"
	ChannelWeCom    = "wecom"
	ChannelDingTalk = "dingtalk"
	ChannelEmail    = "email"
)

// NoticeChannel is one place notices go.
type NoticeChannel struct {
	Name string `yaml:"name" json:"name"`
	// Kind is webhook, wecom, dingtalk or email.
	Kind string `yaml:"kind" json:"kind"`
	// URLEnv names the environment variable holding the webhook or robot
	// URL (a robot's URL carries its key).
	URLEnv string `yaml:"urlEnv,omitempty" json:"urlEnv,omitempty"`
	// SecretEnv names the environment variable holding DingTalk's signing
	// secret, or the SMTP password.
	SecretEnv string `yaml:"secretEnv,omitempty" json:"secretEnv,omitempty"`
	// SMTP is the mail server of an email channel.
	SMTP *SMTPServer `yaml:"smtp,omitempty" json:"smtp,omitempty"`
	// Language is zh or en (default the policy's).
	Language string `yaml:"language,omitempty" json:"language,omitempty"`
	// Events lists the events sent here (default all).
	Events []string `yaml:"events,omitempty" json:"events,omitempty"`
}

// SMTPServer is a mail submission server; relgate always uses STARTTLS.
type SMTPServer struct {
	// Address is host:port, usually port 587.
	Address  string `yaml:"address" json:"address"`
	From     string `yaml:"from" json:"from"`
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
}

// Deployments configure the deployment gate: which environments wait for
// relgate's decision, and whether a deployment must name its artifacts
//
type Deployments struct {
	Environments     []string `yaml:"environments,omitempty" json:"environments,omitempty"`
	RequireArtifacts bool     `yaml:"requireArtifacts,omitempty" json:"requireArtifacts,omitempty"`
}

// KPI holds the targets the quarterly evaluation compares against.
type KPI struct {
	// SuccessRateTarget is a percentage (95 means 95 %).
	SuccessRateTarget float64 `yaml:"successRateTarget,omitempty" json:"successRateTarget,omitempty"`
	// Success defines a successful release for R-10: "deployed" (outcome
	// succeeded), "confirmed" (and deployment confirmation passed; the
	// default) or "closed" (and the release closed).
	Success string `yaml:"success,omitempty" json:"success,omitempty"`
}

// Schedules are cron specifications for the server's jobs.
type Schedules struct {
	Resync          string `yaml:"resync,omitempty" json:"resync,omitempty"`
	Reconcile       string `yaml:"reconcile,omitempty" json:"reconcile,omitempty"`
	QuarterlyReport string `yaml:"quarterlyReport,omitempty" json:"quarterlyReport,omitempty"`
	Reminders       string `yaml:"reminders,omitempty" json:"reminders,omitempty"`
}

// Change is a change request known to this repository.
type Change struct {
	Header      `yaml:",inline" json:",inline"`
	ID          string `yaml:"id" json:"id"`
	Title       string `yaml:"title" json:"title"`
	Type        string `yaml:"type" json:"type"`     // normal, standard, emergency
	Status      string `yaml:"status" json:"status"` // submitted, approved, rejected, implemented, closed
	Requester   string `yaml:"requester" json:"requester"`
	ApprovedBy  string `yaml:"approvedBy,omitempty" json:"approvedBy,omitempty"`
	ApprovedAt  string `yaml:"approvedAt,omitempty" json:"approvedAt,omitempty"`
	Description string `yaml:"description" json:"description"`
}

// ChangeRef cites a change request; External marks one kept outside this repository.
type ChangeRef struct {
	ID       string `yaml:"id" json:"id"`
	External bool   `yaml:"external,omitempty" json:"external,omitempty"`
	URL      string `yaml:"url,omitempty" json:"url,omitempty"`
}

// ReleasePeople names who holds each role for one release.
type ReleasePeople struct {
	Owner                  string   `yaml:"owner" json:"owner"`
	Manager                string   `yaml:"manager" json:"manager"`
	Testers                []string `yaml:"testers" json:"testers"`
	Implementers           []string `yaml:"implementers" json:"implementers"`
	CustomerRepresentative string   `yaml:"customerRepresentative" json:"customerRepresentative"`
}

// Item is a configuration item a release touches, with its target version.
type Item struct {
	ID     string `yaml:"id" json:"id"`
	Action string `yaml:"action" json:"action"` // update, add, retire
	// Version and Digest are what the release installs (empty when retiring).
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	Digest  string `yaml:"digest,omitempty" json:"digest,omitempty"`
}

// Release is release.yaml, the header of one release.
type Release struct {
	Header      `yaml:",inline" json:",inline"`
	ID          string        `yaml:"id" json:"id"`
	Title       string        `yaml:"title" json:"title"`
	Type        string        `yaml:"type" json:"type"` // one of the policy's release types
	Systems     []string      `yaml:"systems" json:"systems"`
	Items       []Item        `yaml:"items" json:"items"`
	Changes     []ChangeRef   `yaml:"changes" json:"changes"`
	People      ReleasePeople `yaml:"people" json:"people"`
	Departments []string      `yaml:"departments" json:"departments"`
	Window      Period        `yaml:"window" json:"window"`
	CreatedAt   string        `yaml:"createdAt" json:"createdAt"`
}

// Period is a planned span of time.
type Period struct {
	Start string `yaml:"start" json:"start"`
	End   string `yaml:"end" json:"end"`
}

// Backup says what is backed up before deployment.
type Backup struct {
	Data          string `yaml:"data" json:"data"`
	Configuration string `yaml:"configuration" json:"configuration"`
	Applications  string `yaml:"applications" json:"applications"`
}

// Step is one step of a plan with its owner, people and schedule.
type Step struct {
	Name   string   `yaml:"name" json:"name"`
	Owner  string   `yaml:"owner" json:"owner"`
	People []string `yaml:"people" json:"people"`
	Start  string   `yaml:"start" json:"start"`
	End    string   `yaml:"end" json:"end"`
}

// Risk is a foreseeable problem and its solution.
type Risk struct {
	Problem  string `yaml:"problem" json:"problem"`
	Solution string `yaml:"solution" json:"solution"`
}

// VersionRef is a configuration item at a version and artifact digest.
type VersionRef struct {
	Item    string `yaml:"item" json:"item"`
	Version string `yaml:"version" json:"version"`
	Digest  string `yaml:"digest,omitempty" json:"digest,omitempty"`
}

// RollbackPlan is 回退方案.
type RollbackPlan struct {
	Systems         []string     `yaml:"systems" json:"systems"`
	PointInTime     string       `yaml:"pointInTime" json:"pointInTime"`
	DataObjects     []string     `yaml:"dataObjects" json:"dataObjects"`
	Configuration   []string     `yaml:"configuration" json:"configuration"`
	RestoreVersions []VersionRef `yaml:"restoreVersions" json:"restoreVersions"`
	Steps           []string     `yaml:"steps" json:"steps"`
	Notify          []string     `yaml:"notify" json:"notify"`
}

// Plan is plan.yaml, 发布方案 with its rollback plan.
type Plan struct {
	Header         `yaml:",inline" json:",inline"`
	Release        string       `yaml:"release" json:"release"`
	Author         string       `yaml:"author" json:"author"`
	PreparedAt     string       `yaml:"preparedAt" json:"preparedAt"`
	Purpose        string       `yaml:"purpose" json:"purpose"`
	Impact         string       `yaml:"impact" json:"impact"`
	Backup         Backup       `yaml:"backup" json:"backup"`
	Steps          []Step       `yaml:"steps" json:"steps"`
	Rollback       RollbackPlan `yaml:"rollback" json:"rollback"`
	Risks          []Risk       `yaml:"risks" json:"risks"`
	PostDeployment []string     `yaml:"postDeployment" json:"postDeployment"`
}

// Test categories that requires a test report to cover.
var TestCategories = []string{"technical", "functional", "operational", "performance", "compatibility", "installation-rollback"}

// TestResult is the outcome of one test category.
type TestResult struct {
	Category string `yaml:"category" json:"category"`
	Verdict  string `yaml:"verdict" json:"verdict"` // pass, fail
	Summary  string `yaml:"summary" json:"summary"`
	Cases    int    `yaml:"cases,omitempty" json:"cases,omitempty"`
	Failed   int    `yaml:"failed,omitempty" json:"failed,omitempty"`
}

// TestEnvironment is where the release was tested.
type TestEnvironment struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description"`
}

// TestReport is test-report.yaml, 发布测试报告.
type TestReport struct {
	Header      `yaml:",inline" json:",inline"`
	Release     string          `yaml:"release" json:"release"`
	Author      string          `yaml:"author" json:"author"`
	TestedFrom  string          `yaml:"testedFrom" json:"testedFrom"`
	TestedTo    string          `yaml:"testedTo" json:"testedTo"`
	Environment TestEnvironment `yaml:"environment" json:"environment"`
	Artifacts   []VersionRef    `yaml:"artifacts" json:"artifacts"`
	Results     []TestResult    `yaml:"results" json:"results"`
	Verdict     string          `yaml:"verdict" json:"verdict"` // pass, fail
	Summary     string          `yaml:"summary" json:"summary"`
}

// Task is a scheduled piece of work in a go-live plan.
type Task struct {
	Task  string `yaml:"task" json:"task"`
	Owner string `yaml:"owner" json:"owner"`
	Start string `yaml:"start" json:"start"`
	End   string `yaml:"end" json:"end"`
}

// Phase is one stage of a phased rollout.
type Phase struct {
	Name  string   `yaml:"name" json:"name"`
	Items []string `yaml:"items" json:"items"`
	At    string   `yaml:"at" json:"at"`
}

// Duty is one person's assignment on the go-live day.
type Duty struct {
	Person string `yaml:"person" json:"person"`
	Duty   string `yaml:"duty" json:"duty"`
}

// CustomerCommunication is how the customer learns the business impact.
type CustomerCommunication struct {
	BusinessImpact string `yaml:"businessImpact" json:"businessImpact"`
	Channel        string `yaml:"channel" json:"channel"`
}

// GoLive is golive.yaml, 上线规划.
type GoLive struct {
	Header                `yaml:",inline" json:",inline"`
	Release               string                `yaml:"release" json:"release"`
	Author                string                `yaml:"author" json:"author"`
	GoLiveTime            string                `yaml:"goLiveTime" json:"goLiveTime"`
	Schedule              []Task                `yaml:"schedule" json:"schedule"`
	Resources             string                `yaml:"resources" json:"resources"`
	Procurement           string                `yaml:"procurement" json:"procurement"`
	Storage               string                `yaml:"storage" json:"storage"`
	RolloutMode           string                `yaml:"rolloutMode" json:"rolloutMode"` // all-at-once, phased
	Phases                []Phase               `yaml:"phases,omitempty" json:"phases,omitempty"`
	CustomerCommunication CustomerCommunication `yaml:"customerCommunication" json:"customerCommunication"`
	WorkArrangement       []Duty                `yaml:"workArrangement" json:"workArrangement"`
	Workflow              []string              `yaml:"workflow" json:"workflow"`
	Rollback              []string              `yaml:"rollback" json:"rollback"`
}

// Session is a briefing or a training held before the release.
type Session struct {
	Audience  string   `yaml:"audience" json:"audience"`
	Topic     string   `yaml:"topic" json:"topic"`
	At        string   `yaml:"at" json:"at"`
	By        string   `yaml:"by" json:"by"`
	Attendees []string `yaml:"attendees" json:"attendees"`
	Feedback  string   `yaml:"feedback,omitempty" json:"feedback,omitempty"`
}

// Responsibility is a duty communicated to someone and acknowledged by them.
type Responsibility struct {
	Person         string `yaml:"person" json:"person"`
	Responsibility string `yaml:"responsibility" json:"responsibility"`
	Acknowledged   bool   `yaml:"acknowledged" json:"acknowledged"`
}

// CustomerNotification tells the customer when a phase and its items go live.
type CustomerNotification struct {
	Phase      string   `yaml:"phase" json:"phase"`
	Recipient  string   `yaml:"recipient" json:"recipient"`
	NotifiedAt string   `yaml:"notifiedAt" json:"notifiedAt"`
	Items      []string `yaml:"items" json:"items"`
	GoLiveAt   string   `yaml:"goLiveAt" json:"goLiveAt"`
}

// Communication is communication.yaml, 沟通和培训.
type Communication struct {
	Header                `yaml:",inline" json:",inline"`
	Release               string                 `yaml:"release" json:"release"`
	Author                string                 `yaml:"author" json:"author"`
	Briefings             []Session              `yaml:"briefings" json:"briefings"`
	Training              []Session              `yaml:"training" json:"training"`
	Responsibilities      []Responsibility       `yaml:"responsibilities" json:"responsibilities"`
	CustomerNotifications []CustomerNotification `yaml:"customerNotifications,omitempty" json:"customerNotifications,omitempty"`
}

// Deployment outcomes.
const (
	OutcomeSucceeded  = "succeeded"
	OutcomeFailed     = "failed"
	OutcomeRolledBack = "rolled-back"
)

// Problem is a problem met during the release and how it was solved.
type Problem struct {
	Description string `yaml:"description" json:"description"`
	Solution    string `yaml:"solution" json:"solution"`
	At          string `yaml:"at,omitempty" json:"at,omitempty"`
}

// RollbackRecord says that the rollback plan was carried out.
type RollbackRecord struct {
	Executed                   bool         `yaml:"executed" json:"executed"`
	CompletedAt                string       `yaml:"completedAt" json:"completedAt"`
	Restored                   []VersionRef `yaml:"restored" json:"restored"`
	SurroundingSystemsNotified bool         `yaml:"surroundingSystemsNotified" json:"surroundingSystemsNotified"`
	NotifiedSystems            []string     `yaml:"notifiedSystems" json:"notifiedSystems"`
}

// Deployment is deployment.yaml, the outcome of 分发和部署.
type Deployment struct {
	Header     `yaml:",inline" json:",inline"`
	Release    string          `yaml:"release" json:"release"`
	RecordedBy string          `yaml:"recordedBy" json:"recordedBy"`
	StartedAt  string          `yaml:"startedAt" json:"startedAt"`
	FinishedAt string          `yaml:"finishedAt" json:"finishedAt"`
	Outcome    string          `yaml:"outcome" json:"outcome"`
	Deployed   []VersionRef    `yaml:"deployed" json:"deployed"`
	Problems   []Problem       `yaml:"problems" json:"problems"`
	Rollback   *RollbackRecord `yaml:"rollback,omitempty" json:"rollback,omitempty"`
	// Receipt, when present, says the record was made from the pipeline's
	// own report of the deployment, for people to confirm.
	Receipt *Receipt `yaml:"receipt,omitempty" json:"receipt,omitempty"`
}

// Receipt sources.
const (
	ReceiptGitHubDeployment = "github-deployment"
	ReceiptCI               = "ci"
)

// Receipt is where a deployment record written from a pipeline's report came
// from: the pipeline run that reported it.
type Receipt struct {
	Source       string `yaml:"source" json:"source"`
	Run          string `yaml:"run" json:"run"`
	Environment  string `yaml:"environment" json:"environment"`
	DeploymentID int64  `yaml:"deploymentId,omitempty" json:"deploymentId,omitempty"`
}

// Approval decisions.
const (
	DecisionApprove = "approve"
	DecisionReject  = "reject"
)

// ForgeReview links an approval to the forge review it was recorded from.
type ForgeReview struct {
	Provider   string `yaml:"provider" json:"provider"`
	Repository string `yaml:"repository" json:"repository"`
	PullNumber int    `yaml:"pullNumber" json:"pullNumber"`
	ReviewID   int64  `yaml:"reviewId" json:"reviewId"`
	HeadCommit string `yaml:"headCommit" json:"headCommit"`
}

// Approval is approvals/<gate>.<person>.yaml: one person's decision on one gate,
// bound to the digest of the documents the gate covers.
type Approval struct {
	Header   `yaml:",inline" json:",inline"`
	Release  string       `yaml:"release,omitempty" json:"release,omitempty"` // empty for policy-change
	Gate     string       `yaml:"gate" json:"gate"`
	Person   string       `yaml:"person" json:"person"`
	Role     string       `yaml:"role" json:"role"`
	Decision string       `yaml:"decision" json:"decision"`
	Digest   string       `yaml:"digest" json:"digest"`
	At       string       `yaml:"at" json:"at"`
	Comment  string       `yaml:"comment,omitempty" json:"comment,omitempty"`
	Forge    *ForgeReview `yaml:"forge,omitempty" json:"forge,omitempty"`
}

// Closure is closure.yaml: the implementers close the release.
type Closure struct {
	Header   `yaml:",inline" json:",inline"`
	Release  string   `yaml:"release" json:"release"`
	ClosedBy string   `yaml:"closedBy" json:"closedBy"`
	ClosedAt string   `yaml:"closedAt" json:"closedAt"`
	Archived []string `yaml:"archived" json:"archived"`
	Comment  string   `yaml:"comment,omitempty" json:"comment,omitempty"`
}

// HistoryEntry is one recorded change of a configuration item.
type HistoryEntry struct {
	At      string `yaml:"at" json:"at"`
	Release string `yaml:"release,omitempty" json:"release,omitempty"`
	Action  string `yaml:"action" json:"action"` // add, update, retire, restore
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	Digest  string `yaml:"digest,omitempty" json:"digest,omitempty"`
	Note    string `yaml:"note,omitempty" json:"note,omitempty"`
}

// CMDBItem is cmdb/<id>.yaml, a configuration item.
type CMDBItem struct {
	Header      `yaml:",inline" json:",inline"`
	ID          string         `yaml:"id" json:"id"`
	Name        string         `yaml:"name" json:"name"`
	Type        string         `yaml:"type" json:"type"`
	System      string         `yaml:"system" json:"system"`
	Owner       string         `yaml:"owner" json:"owner"`
	Environment string         `yaml:"environment" json:"environment"`
	Status      string         `yaml:"status" json:"status"` // active, retired
	Version     string         `yaml:"version" json:"version"`
	Digest      string         `yaml:"digest" json:"digest"`
	History     []HistoryEntry `yaml:"history" json:"history"`
}

// Retrospective reviews one failed release.
type Retrospective struct {
	Release   string `yaml:"release" json:"release"`
	Summary   string `yaml:"summary" json:"summary"`
	RootCause string `yaml:"rootCause" json:"rootCause"`
	Lessons   string `yaml:"lessons" json:"lessons"`
}

// Action is an improvement action with its owner and due date.
type Action struct {
	ID          string `yaml:"id" json:"id"`
	Description string `yaml:"description" json:"description"`
	Owner       string `yaml:"owner" json:"owner"`
	Due         string `yaml:"due" json:"due"`
	Status      string `yaml:"status" json:"status"` // open, done
	DoneAt      string `yaml:"doneAt,omitempty" json:"doneAt,omitempty"`
}

// Review is reviews/<quarter>.yaml, the quarterly process review.
type Review struct {
	Header         `yaml:",inline" json:",inline"`
	Quarter        string          `yaml:"quarter" json:"quarter"`
	HeldAt         string          `yaml:"heldAt" json:"heldAt"`
	Participants   []string        `yaml:"participants" json:"participants"`
	Retrospectives []Retrospective `yaml:"retrospectives" json:"retrospectives"`
	Actions        []Action        `yaml:"actions" json:"actions"`
}
