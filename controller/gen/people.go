package gen

import (
	"strings"

	"github.com/relgate/relgate/controller/document"
)

// staff are the people of the generated policy, by index.
var staff = []string{
	"Wang Fang", "Li Na", "Zhang Wei", "Liu Yang", "Chen Jing", "Yang Lei", "Zhao Min", "Huang Tao",
	"Zhou Xin", "Wu Hao", "Xu Li", "Sun Qiang", "Ma Jun", "Zhu Hong", "Hu Bin", "Guo Ying",
	"He Ping", "Lin Feng", "Luo Dan", "Gao Yan",
}

func login(i int) string { return strings.ToLower(strings.ReplaceAll(staff[i], " ", "-")) }

// roleHolders gives each role its people (indexes into staff). Some people
// hold two roles, as in a real team; the release's own people are drawn so
// that nobody approves their own documents.
var roleHolders = map[string][]int{
	"release-owner":           {0, 1, 2},
	"release-manager":         {3, 4, 5},
	"release-tester":          {6, 7, 8, 9},
	"implementer":             {10, 11, 12, 13, 14},
	"customer-representative": {15, 16},
	"configuration-manager":   {17, 18},
	"change-manager":          {19, 1},
	"process-approver":        {0, 19},
}

func holders(role string) []string {
	var out []string
	for _, i := range roleHolders[role] {
		out = append(out, login(i))
	}
	return out
}

// departments of the policy; Head indexes staff. No head is a release
// manager, who writes the plans the heads review.
var departments = []struct {
	id, name string
	head     int
}{
	{"ops", "IT Operations", 10},
	{"dev", "Application Development", 18},
	{"qa", "Quality Assurance", 6},
	{"biz", "Business Services", 15},
}

// releaseTypes are the policy's release types, with their weights.
var releaseTypes = []string{"normal", "minor", "emergency"}

func buildPolicy() *document.Policy {
	p := &document.Policy{
		Header:       document.Header{APIVersion: document.APIVersion, Kind: document.KindPolicy},
		Organization: "Example Financial Services",
		Timezone:     "Asia/Shanghai",
		Language:     "en",
		Bot:          document.Identity{Name: "relgate", Email: "relgate-bot@example.com"},
		Roles:        map[string][]string{},
		// The generated history has no signed commits.
		TrustCommitAuthor:    true,
		MaxChangesPerRelease: 5,
		ReleaseTypes:         releaseTypes,
		KPI:                  document.KPI{SuccessRateTarget: 95},
		Schedules: document.Schedules{Resync: "*/15 * * * *", Reconcile: "0 * * * *",
			QuarterlyReport: "0 9 1 1,4,7,10 *", Reminders: "0 9 * * 1-5"},
	}
	for i, name := range staff {
		p.People = append(p.People, document.Person{Login: login(i), Name: name,
			Email: strings.ReplaceAll(login(i), "-", ".") + "@example.com"})
	}
	for _, d := range departments {
		p.Departments = append(p.Departments, document.Department{ID: d.id, Name: d.name, Head: login(d.head)})
	}
	for role := range roleHolders {
		p.Roles[role] = holders(role)
	}
	return p
}

// systems are the business systems configuration items belong to.
var systems = []struct{ id, title string }{
	{"payments", "Payments"}, {"core-banking", "Core Banking"}, {"crm", "CRM"}, {"portal", "Customer Portal"},
	{"billing", "Billing"}, {"identity", "Identity"}, {"data-platform", "Data Platform"}, {"messaging", "Messaging"},
	{"mobile", "Mobile Banking"}, {"risk", "Risk Engine"}, {"reporting", "Regulatory Reporting"}, {"hr", "HR Suite"},
}

// components of a system, with the CMDB type of each.
var components = []struct{ id, title, typ string }{
	{"api", "API", "application"}, {"web", "Web Frontend", "application"}, {"worker", "Worker", "application"},
	{"db", "Database", "database"}, {"cache", "Cache", "middleware"}, {"gateway", "Gateway", "middleware"},
	{"batch", "Batch Jobs", "application"}, {"scheduler", "Scheduler", "application"}, {"search", "Search Index", "middleware"},
	{"queue", "Message Queue", "middleware"}, {"config", "Configuration Service", "service"}, {"auth", "Auth Adapter", "service"},
	{"etl", "ETL Pipeline", "application"}, {"report", "Report Service", "application"}, {"notify", "Notification Service", "service"},
	{"file", "File Transfer", "service"}, {"audit", "Audit Log", "service"}, {"admin", "Admin Console", "application"},
	{"sync", "Sync Agent", "application"}, {"ledger", "Ledger", "database"},
}

// features name what a release delivers.
var features = []string{
	"settlement batch performance fixes", "new fee calculation rules", "security patches", "TLS certificate rotation",
	"quarterly maintenance", "customer onboarding flow", "interest rate table update", "regulatory report format change",
	"database index tuning", "login throttling", "statement export to PDF", "retry policy for downstream calls",
	"monitoring and alerting improvements", "holiday calendar update", "address validation", "API rate limits",
	"archive job for closed accounts", "currency rounding fix", "notification templates", "session timeout change",
	"library upgrades", "dashboard query optimisation", "card limit management", "data retention rules",
}

var risks = []document.Risk{
	{Problem: "Deployment exceeds the window", Solution: "Stop at the last checkpoint and roll back"},
	{Problem: "Database migration is slow on production volume", Solution: "Migration rehearsed on a production-size copy"},
	{Problem: "Downstream systems reject the new interface", Solution: "Interface kept backward compatible for one release"},
	{Problem: "Cache warm-up causes high latency", Solution: "Pre-warm caches before opening traffic"},
	{Problem: "Configuration drift between environments", Solution: "Configuration applied from the CMDB baseline"},
	{Problem: "Batch jobs overlap the window", Solution: "Batch schedule paused during the window"},
}

var problems = []document.Problem{
	{Description: "Health check timed out on one node", Solution: "Node restarted and re-verified"},
	{Description: "Migration took longer than planned", Solution: "Window extended by the release manager"},
	{Description: "Stale cache entries after switch-over", Solution: "Cache flushed"},
	{Description: "Monitoring alert storm during restart", Solution: "Alerts silenced for the window"},
}
