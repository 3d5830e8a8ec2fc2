package validate

import (
	"path"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
)

// Options tune the checks.
type Options struct {
	// Now is the time dates are compared with (--now); zero means the clock.
	Now time.Time
}

// The sentences of the date checks, keyed by check, in English and Chinese.
var dateTemplates = map[string][2]string{
	"accepted-before-tested": {
		`the test acceptance is dated %[1]s, before testing ended (testedTo %[2]s in test-report.yaml); accept after the results are in, or correct the dates`,
		`测试验收时间 %[1]s 早于测试结束时间（test-report.yaml 中 testedTo 为 %[2]s）；请在测试结果出来后验收，或更正时间`},
	"confirmed-before-deployed": {
		`the deployment is confirmed at %[1]s, before it finished (finishedAt %[2]s in deployment.yaml); confirm after the deployment, or correct the dates`,
		`部署确认时间 %[1]s 早于部署完成时间（deployment.yaml 中 finishedAt 为 %[2]s）；请在部署完成后确认，或更正时间`},
	"closed-in-future": {
		`the release is closed at %[1]s, which is in the future (now %[2]s); write the time it was closed`,
		`发布关闭时间 %[1]s 晚于当前时间（现在为 %[2]s）；请填写实际关闭时间`},
}

var datePrinters = func() map[string]*message.Printer {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for key, t := range dateTemplates {
		_ = b.SetString(language.English, key, t[0])
		_ = b.SetString(language.Chinese, key, t[1])
	}
	return map[string]*message.Printer{
		"en": message.NewPrinter(language.English, message.Catalog(b)),
		"zh": message.NewPrinter(language.Chinese, message.Catalog(b)),
	}
}()

func (c *checker) say(key string, args ...any) string {
	p, ok := datePrinters[c.lang]
	if !ok {
		p = datePrinters["zh"]
	}
	return p.Sprintf(key, args...)
}

// checkDates compares the dates of a release's documents with each other and
// with now: warnings, since the procedure orders the steps (R-5.1.4,
// ) but a wrong date is a clerical mistake more often than
// a step done out of order, and the gates decide on the approvals themselves.
// (A deployment that finishes before it starts and a window that ends before
// it starts are errors: checkRelease and checkHeader.)
func (c *checker) checkDates(r *loader.Release) {
	dir := document.ReleaseDir(r.ID)
	for _, a := range r.Approvals {
		if a.Approval == nil || a.Decision != document.DecisionApprove {
			continue
		}
		at, err := document.ParseTime(a.At)
		if err != nil {
			continue
		}
		switch a.Gate {
		case policy.GateTestAcceptance:
			if tr := r.TestReport; tr != nil {
				if to, err := document.ParseTime(tr.TestedTo); err == nil && at.Before(to) {
					c.warnAt(a.Doc.Path, "R-5.1.4", "dates", c.say("accepted-before-tested", a.At, tr.TestedTo), "at")
				}
			}
		case policy.GateDeploymentConfirmation:
			if d := r.Deployment; d != nil {
				if fin, err := document.ParseTime(d.FinishedAt); err == nil && at.Before(fin) {
					c.warnAt(a.Doc.Path, "R-5.1.8", "dates", c.say("confirmed-before-deployed", a.At, d.FinishedAt), "at")
				}
			}
		}
	}
	if cl := r.Closure; cl != nil {
		if at, err := document.ParseTime(cl.ClosedAt); err == nil && at.After(c.now) {
			now := c.now.In(at.Location()).Format(time.RFC3339)
			c.warnAt(path.Join(dir, "closure.yaml"), "R-5.1.10", "dates", c.say("closed-in-future", cl.ClosedAt, now), "closedAt")
		}
	}
}
