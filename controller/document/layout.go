package document

import (
	"path"
	"regexp"
	"strings"
	"time"
)

// Paths of the release repository.
const (
	PolicyPath   = "relgate.yaml"
	ChangesDir   = "changes"
	ReleasesDir  = "releases"
	CMDBDir      = "cmdb"
	ReviewsDir   = "reviews"
	ReportsDir   = "reports"
	ApprovalsDir = "approvals"
)

// File names inside a release folder, with the kind each must hold.
var ReleaseFiles = map[string]Kind{
	"release.yaml":       KindRelease,
	"plan.yaml":          KindPlan,
	"test-report.yaml":   KindTestReport,
	"golive.yaml":        KindGoLive,
	"communication.yaml": KindCommunication,
	"deployment.yaml":    KindDeployment,
	"closure.yaml":       KindClosure,
}

// Identifier patterns. They keep every path relgate computes inside the repository.
var (
	ReleaseIDPattern = regexp.MustCompile(`^REL-[0-9]{4}-[0-9]{4,6}$`)
	ChangeIDPattern  = regexp.MustCompile(`^CHG-[0-9]{4}-[0-9]{4,6}$`)
	ItemIDPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	LoginPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`)
	GateIDPattern    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,40}$`)
	QuarterPattern   = regexp.MustCompile(`^[0-9]{4}Q[1-4]$`)
	DigestPattern    = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// ReleaseDir is the folder of a release.
func ReleaseDir(id string) string { return path.Join(ReleasesDir, id) }

// ChangePath is the file of a change request.
func ChangePath(id string) string { return path.Join(ChangesDir, id+".yaml") }

// CMDBPath is the file of a configuration item.
func CMDBPath(id string) string { return path.Join(CMDBDir, id+".yaml") }

// ApprovalPath is the file of one person's approval of one gate; release is
// empty for a repository-wide gate such as policy-change.
func ApprovalPath(release, gate, person string) string {
	if release == "" {
		return path.Join(ApprovalsDir, gate+"."+person+".yaml")
	}
	return path.Join(ReleasesDir, release, ApprovalsDir, gate+"."+person+".yaml")
}

// Location classifies a repository path: the kind it must hold, and the ids
// its place implies (the release folder, the file's own id).
type Location struct {
	Kind    Kind
	Release string // release folder, for release documents and approvals
	ID      string // id implied by the file name (change, CMDB item, review quarter)
	Gate    string // gate and person implied by an approval's file name
	Person  string
}

// Locate tells what a path must hold. ok is false for paths relgate does not
// manage (README files, reports it wrote, anything outside its folders).
func Locate(p string) (loc Location, ok bool) {
	if p == PolicyPath {
		return Location{Kind: KindPolicy}, true
	}
	parts := strings.Split(p, "/")
	if !strings.HasSuffix(p, ".yaml") {
		return Location{}, false
	}
	switch {
	case len(parts) == 2 && parts[0] == ChangesDir:
		return Location{Kind: KindChange, ID: strings.TrimSuffix(parts[1], ".yaml")}, true
	case len(parts) == 2 && parts[0] == CMDBDir:
		return Location{Kind: KindCMDBItem, ID: strings.TrimSuffix(parts[1], ".yaml")}, true
	case len(parts) == 2 && parts[0] == ReviewsDir:
		return Location{Kind: KindReview, ID: strings.TrimSuffix(parts[1], ".yaml")}, true
	case len(parts) == 3 && parts[0] == ReleasesDir:
		k, known := ReleaseFiles[parts[2]]
		if !known {
			return Location{Release: parts[1]}, true // unknown file in a release folder: reported
		}
		return Location{Kind: k, Release: parts[1]}, true
	case len(parts) == 2 && parts[0] == ApprovalsDir:
		// Approvals of repository-wide gates (policy-change) live at the root.
		gate, person, _ := strings.Cut(strings.TrimSuffix(parts[1], ".yaml"), ".")
		return Location{Kind: KindApproval, Gate: gate, Person: person}, true
	case len(parts) == 4 && parts[0] == ReleasesDir && parts[2] == ApprovalsDir:
		name := strings.TrimSuffix(parts[3], ".yaml")
		gate, person, _ := strings.Cut(name, ".")
		return Location{Kind: KindApproval, Release: parts[1], Gate: gate, Person: person}, true
	}
	return Location{}, false
}

// ParseTime reads an RFC 3339 timestamp as the schemas accept it, including
// the lower-case t and z that RFC 3339 allows and Go's parser does not.
func ParseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339, strings.NewReplacer("t", "T", "z", "Z").Replace(s))
}
