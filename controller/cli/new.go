package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/quarter"
	"github.com/relgate/relgate/controller/scaffold"
	"github.com/relgate/relgate/controller/source"
)

type newOptions struct {
	repoFlags
	title, typ, owner, manager string
	start, end                 string
	items, changes, depts      listFlag
	now                        string
}

func runNew(args []string, stdout, stderr io.Writer) error {
	var o newOptions
	fs := flag.NewFlagSet("relgate new", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.title, "title", "", "title of the release, change or item")
	fs.StringVar(&o.typ, "type", "normal", "release `TYPE`")
	fs.StringVar(&o.owner, "owner", "", "release owner, change requester, item owner, or the author of a release document (`LOGIN`)")
	fs.StringVar(&o.manager, "manager", "", "release manager `LOGIN`, the plan's author")
	fs.StringVar(&o.start, "start", "", "release window start, RFC 3339 or 2006-01-02T15:04 in the policy's timezone")
	fs.StringVar(&o.end, "end", "", "release window end, as --start")
	fs.Var(&o.items, "item", "a configuration item the release touches, `ID[=VERSION[@DIGEST]]` (repeat for each)")
	fs.Var(&o.changes, "change", "a change request the release implements, `CHG-ID` (repeat for each)")
	fs.Var(&o.depts, "department", "a department the release involves, `ID` (repeat for each)")
	fs.StringVar(&o.now, "now", "", "creation time, RFC 3339 (default: now)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate new KIND ID [flags] [--repo DIR]\n  KIND: cmdb-item ID, change CHG-ID, release REL-ID, review QUARTER (2026Q4),\n        or plan, test-report, golive, communication, deployment, closure REL-ID")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return usagef("new needs what to create and its id")
	}
	kind, id := pos[0], pos[1]
	if !slices.Contains(scaffold.Kinds, kind) {
		return usagef("new %s: want one of %s", kind, strings.Join(scaffold.Kinds, ", "))
	}
	dir, err := o.dir(nil)
	if err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	k, err := readKnown(dir)
	if err != nil {
		return err
	}
	v, err := o.values(k, kind, id, now)
	if err != nil {
		return err
	}
	var files []scaffold.File
	switch kind {
	case "release":
		files, err = scaffold.Release(v)
	case "change":
		files, err = scaffold.Change(v)
	case "cmdb-item":
		files, err = scaffold.CMDBItem(v)
	case "review":
		files, err = scaffold.Review(v)
	default:
		files, err = scaffold.Document(kind, v)
	}
	if err != nil {
		return usagef("%v", err)
	}
	if existing := scaffold.Existing(dir, files); len(existing) > 0 {
		return usagef("new %s: %s already exists; relgate new never overwrites", kind, strings.Join(existing, ", "))
	}
	if err := scaffold.Write(dir, files, false); err != nil {
		return err
	}
	schemaFiles, err := scaffold.SchemaFiles()
	if err != nil {
		return err
	}
	if err := scaffold.Write(dir, schemaFiles, true); err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "%s %s\n", msg(v.Lang, "已创建", "created"), f.Path)
	}
	fmt.Fprintln(stdout, msg(v.Lang, "填写标有 "+scaffold.Mark+" 的值，然后运行 relgate validate",
		"fill in the values marked "+scaffold.Mark+", then run: relgate validate"))
	return nil
}

// known is what the repository tells a template.
type known struct {
	snap *loader.Snapshot
	pol  *policy.Policy // nil without a readable policy: defaults apply
	loc  *time.Location
	lang string
	dir  string
}

// maxLenient bounds a document read past its findings.
const maxLenient = 1 << 20

// lenient decodes a document that has findings as far as it goes, so that
// the templates of a release can be written before its header is complete.
// It returns nil for a file that is missing, too large or not YAML.
func lenient[T any](dir, p string) (*T, error) {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxLenient+1))
	if err != nil || len(data) > maxLenient {
		return nil, fmt.Errorf("read %s: %v", p, err)
	}
	var v T
	var te *yaml.TypeError
	if err := yaml.Unmarshal(data, &v); err != nil && !errors.As(err, &te) {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return &v, nil
}

// readKnown reads the work tree. A repository with findings still gives
// templates: new is how the missing documents get written.
func readKnown(dir string) (*known, error) {
	snap, err := loader.LoadAll(source.Dir{Root: dir}, loader.Options{Workers: 1})
	if err != nil {
		return nil, err
	}
	k := &known{snap: snap, lang: "zh", dir: dir}
	k.loc, _ = time.LoadLocation(policy.DefaultTimezone)
	if snap.Policy != nil {
		if pol, err := policy.New(snap.Policy); err == nil {
			k.pol, k.loc = pol, pol.Location
			if pol.Language == "en" {
				k.lang = "en"
			}
		}
	}
	if k.loc == nil {
		k.loc = time.UTC
	}
	return k, nil
}

func (k *known) members(role string) []string {
	if k.pol == nil {
		return nil
	}
	return k.pol.Members(role)
}

// parseWhen reads a window time: RFC 3339, or a local time without offset
// in the policy's timezone (what a person types).
func (k *known) parseWhen(flagName, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if t, err := document.ParseTime(s); err == nil {
		return t.In(k.loc).Format(time.RFC3339), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, k.loc); err == nil {
			return t.Format(time.RFC3339), nil
		}
	}
	return "", usagef("--%s %q: want a time such as 2026-12-12T22:00:00+08:00 or 2026-12-12T22:00", flagName, s)
}

func (o *newOptions) values(k *known, kind, id string, now time.Time) (scaffold.Values, error) {
	local := now.In(k.loc)
	example := time.Date(local.Year(), local.Month(), local.Day(), 22, 0, 0, 0, k.loc).AddDate(0, 0, 7)
	v := scaffold.Values{ID: id, Title: o.title, Type: o.typ, Owner: o.owner, Manager: o.manager,
		Now: local.Format(time.RFC3339), Lang: k.lang, Example: example.Format(time.RFC3339),
		Choices: map[string][]string{}, Categories: document.TestCategories}
	for _, r := range policy.BuiltinRoles {
		v.Choices[r] = k.members(r)
	}
	if k.pol != nil {
		v.Types = k.pol.ReleaseTypes()
		for _, d := range k.pol.Departments {
			v.Choices["department"] = append(v.Choices["department"], d.ID)
		}
	} else {
		v.Types = policy.DefaultReleaseTypes
	}
	switch kind {
	case "change", "cmdb-item":
		return v, nil
	case "review":
		return k.review(v, id)
	case "release":
		if !slices.Contains(v.Types, v.Type) {
			return v, usagef("--type %q: want one of the policy's release types %s", v.Type, strings.Join(v.Types, ", "))
		}
		return o.release(k, v)
	}
	// A document of an existing release.
	r := k.snap.Releases[id]
	if !document.ReleaseIDPattern.MatchString(id) {
		return v, usagef("release id %q: want the form REL-2026-0042", id)
	}
	if r != nil && r.Release == nil {
		r.Release, _ = lenient[document.Release](k.dir, path.Join(document.ReleaseDir(id), "release.yaml"))
	}
	if r != nil && r.Plan == nil {
		r.Plan, _ = lenient[document.Plan](k.dir, path.Join(document.ReleaseDir(id), "plan.yaml"))
	}
	if r == nil || r.Release == nil {
		return v, usagef("new %s %s: %s is missing or does not decode; write it first (relgate new release %s) and run relgate validate",
			kind, id, path.Join(document.ReleaseDir(id), "release.yaml"), id)
	}
	rel := r.Release
	v.Release, v.Items, v.Title = rel, rel.Items, rel.Title
	for _, it := range rel.Items {
		if it.Action != "retire" {
			v.Installs = append(v.Installs, it)
		}
	}
	v.Manager = firstOf(o.manager, rel.People.Manager)
	v.Testers, v.Implementers = rel.People.Testers, rel.People.Implementers
	v.CustomerRepresentative = rel.People.CustomerRepresentative
	v.Start, v.End, v.Systems = rel.Window.Start, rel.Window.End, rel.Systems
	v.Plan = r.Plan
	if v.Plan == nil {
		v.Plan = &document.Plan{}
	}
	v.GoLive = r.GoLive
	v.Restore = k.restore(rel)
	v.Participants = participants(rel)
	switch kind {
	case "test-report":
		v.Owner = firstOf(o.owner, testerOf(rel))
	case "deployment", "closure":
		v.Owner = firstOf(o.owner, firstOf(rel.People.Implementers...))
		for _, name := range []string{"release.yaml", "plan.yaml", "test-report.yaml", "golive.yaml", "communication.yaml", "deployment.yaml"} {
			if _, ok := r.Files[name]; ok {
				v.Files = append(v.Files, path.Join(document.ReleaseDir(id), name))
			}
		}
	}
	return v, nil
}

// release fills a new release header and plan from the flags, the policy's
// role holders and the CMDB.
func (o *newOptions) release(k *known, v scaffold.Values) (scaffold.Values, error) {
	var err error
	if v.Start, err = k.parseWhen("start", o.start); err != nil {
		return v, err
	}
	if v.End, err = k.parseWhen("end", o.end); err != nil {
		return v, err
	}
	v.Owner = firstOf(o.owner, only(k.members(policy.RoleReleaseOwner)))
	v.Manager = firstOf(o.manager, only(k.members(policy.RoleReleaseManager)))
	for _, t := range k.members(policy.RoleReleaseTester) {
		if t != v.Manager {
			v.Testers = append(v.Testers, t)
		}
	}
	v.Implementers = k.members(policy.RoleImplementer)
	v.CustomerRepresentative = only(k.members(policy.RoleCustomerRepresentative))
	v.Changes, v.Depts = o.changes, o.depts
	for _, d := range o.depts {
		if k.pol != nil && !k.pol.HasDepartment(d) {
			return v, usagef("--department %s: not a department of the policy; want one of %s", d, strings.Join(v.Choices["department"], ", "))
		}
	}
	for _, c := range o.changes {
		if !document.ChangeIDPattern.MatchString(c) {
			return v, usagef("--change %q: want the form CHG-2026-0012", c)
		}
	}
	rel := &document.Release{}
	for _, spec := range o.items {
		id, version, _ := strings.Cut(spec, "=")
		version, digest, _ := strings.Cut(version, "@")
		if !document.ItemIDPattern.MatchString(id) || digest != "" && !document.DigestPattern.MatchString(digest) {
			return v, usagef("--item %q: want ID, ID=VERSION or ID=VERSION@sha256:<64 hex> with a configuration item id", spec)
		}
		it, exists, err := k.snap.CMDBItem(id)
		if err != nil {
			return v, err
		}
		action := "update"
		if !exists {
			action = "add"
		} else if it != nil && it.System != "" && !slices.Contains(v.Systems, it.System) {
			v.Systems = append(v.Systems, it.System)
		}
		v.Items = append(v.Items, document.Item{ID: id, Action: action, Version: version, Digest: digest})
		rel.Items = append(rel.Items, document.Item{ID: id, Action: action})
	}
	v.Restore = k.restore(rel)
	v.Plan = &document.Plan{}
	return v, nil
}

// restore is what the plan's rollback restores: the current CMDB version of
// every item the release updates or retires.
func (k *known) restore(rel *document.Release) []document.VersionRef {
	var out []document.VersionRef
	for _, it := range rel.Items {
		if it.Action == "add" {
			continue
		}
		c, _, err := k.snap.CMDBItem(it.ID)
		if err != nil || c == nil || c.Version == "" {
			continue
		}
		out = append(out, document.VersionRef{Item: it.ID, Version: c.Version, Digest: c.Digest})
	}
	return out
}

// review fills a quarterly review: the people of the process and the
// quarter's failed releases (those whose window starts in it, R-3.5).
func (k *known) review(v scaffold.Values, id string) (scaffold.Values, error) {
	q, err := quarter.Parse(id)
	if err != nil {
		return v, usagef("%v", err)
	}
	for _, r := range []string{policy.RoleReleaseOwner, policy.RoleReleaseManager, policy.RoleReleaseTester, policy.RoleImplementer} {
		for _, l := range k.members(r) {
			if !slices.Contains(v.Participants, l) {
				v.Participants = append(v.Participants, l)
			}
		}
	}
	for _, rid := range k.snap.ReleaseIDs() {
		r := k.snap.Releases[rid]
		if r == nil || r.Release == nil || r.Deployment == nil || r.Deployment.Outcome == document.OutcomeSucceeded {
			continue
		}
		if t, err := document.ParseTime(r.Release.Window.Start); err == nil && quarter.Of(t, k.loc) == q {
			v.Failed = append(v.Failed, rid)
		}
	}
	sort.Strings(v.Failed)
	return v, nil
}

// participants are the people of a release, each once: who a go-live plan
// assigns duties to and a communication record informs.
func participants(rel *document.Release) []string {
	var out []string
	add := func(ls ...string) {
		for _, l := range ls {
			if l != "" && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	add(rel.People.Manager)
	add(rel.People.Implementers...)
	add(rel.People.Testers...)
	add(rel.People.CustomerRepresentative, rel.People.Owner)
	return out
}

// testerOf is the release's first tester who is not its manager.
func testerOf(rel *document.Release) string {
	for _, t := range rel.People.Testers {
		if t != rel.People.Manager {
			return t
		}
	}
	return ""
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// only is the one holder of a role, or "" when there is a choice to make.
func only(logins []string) string {
	if len(logins) == 1 {
		return logins[0]
	}
	return ""
}

func runSchemas(args []string, stdout, stderr io.Writer) error {
	var o repoFlags
	fs := flag.NewFlagSet("relgate schemas", flag.ContinueOnError)
	o.register(fs, false)
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	dir, err := o.dir(pos)
	if err != nil {
		return err
	}
	files, err := scaffold.SchemaFiles()
	if err != nil {
		return err
	}
	if err := scaffold.Write(dir, files, true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %d schemas to %s/%s\n", len(files), dir, scaffold.SchemaDir)
	return nil
}
