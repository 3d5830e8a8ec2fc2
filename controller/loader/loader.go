// Package loader reads a release repository at one revision into typed
// documents. Each file is parsed once (yamldoc), validated against its kind's
// schema (docschema) and decoded from the same tree; problems become findings
// with file, line and field. It reads either every document (validate, status
// of all releases) or only the releases asked for, looking up the change
// requests and configuration items they cite on demand (gating one pull request).
package loader

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/docschema"
	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/finding"
	"github.com/relgate/relgate/controller/source"
	"github.com/relgate/relgate/controller/yamldoc"
)

// Doc is one file of the repository.
type Doc struct {
	Path string
	ID   source.BlobID
	Kind document.Kind
	// Value is the typed document (*document.Plan, ...), nil when the file has
	// errors that kept it from decoding.
	Value any
	// Partial is the typed document decoded despite its problems, as far as
	// it decodes: for the cross-document checks of validate, so every
	// problem of a file shows in one run. Nothing decides on it.
	Partial any
}

// Approval is one approval file with its decoded content.
type Approval struct {
	Doc *Doc
	*document.Approval
	// FileGate and FilePerson are what the file name says.
	FileGate, FilePerson string
}

// Release is the folder of one release.
type Release struct {
	ID            string
	Release       *document.Release
	Plan          *document.Plan
	TestReport    *document.TestReport
	GoLive        *document.GoLive
	Communication *document.Communication
	Deployment    *document.Deployment
	Closure       *document.Closure
	// Files maps a file name (plan.yaml) to its document, valid or not.
	Files     map[string]*Doc
	Approvals []*Approval // sorted by path
}

// Snapshot is a release repository at one revision.
type Snapshot struct {
	Tree      source.Tree
	Policy    *document.Policy
	PolicyDoc *Doc
	Releases  map[string]*Release
	// PolicyApprovals are approvals/<gate>.<person>.yaml at the root (policy-change).
	PolicyApprovals []*Approval
	Findings        []finding.Finding

	full    bool
	scoped  bool
	cache   *Cache
	schemas *docschema.Set
	mu      sync.Mutex
	docs    map[string]*Doc // every document read, by path
	changes map[string]*document.Change
	items   map[string]*document.CMDBItem
	reviews map[string]*document.Review

	lang            string
	pending         []pendingProblem
	hints           *docschema.Hints
	hintsFromPolicy bool

	bookings     []Booking
	bookingsDone bool
	// bookingsBase and bookingsTouched: see BookingsFrom.
	bookingsBase    *Snapshot
	bookingsTouched []string
}

// Options tune a load.
type Options struct {
	// Workers parse documents in parallel; 0 means one per CPU.
	Workers int
	// Cache, when set, holds decoded blobs across runs.
	Cache *Cache
	// Lang is the language of the messages (zh or en), from --lang or the
	// environment; empty means the policy's language, else zh.
	Lang string
}

// LoadAll reads every document at the tree.
func LoadAll(t source.Tree, opts Options) (*Snapshot, error) {
	// Decoding tens of thousands of small documents allocates a lot of
	// short-lived memory (about 50 KB a document) while little stays live
	// (about 2.7 KB a document). At 10,000 releases, the CLI's cold validate:
	// 2.8 s and 266 MiB at 200, 2.8 s and 232 MiB at 150, 3.3 s and 195 MiB
	// at the default 100 (warm: 146, 141, 137 MiB).
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	s, err := newSnapshot(t)
	if err != nil {
		return nil, err
	}
	s.full, s.lang = true, opts.Lang
	entries, err := t.List("")
	if err != nil {
		return nil, err
	}
	s.cache = opts.Cache
	if err := s.readAll(s.layout(entries), opts.Workers); err != nil {
		return nil, err
	}
	s.policyPresent()
	s.sortFindings()
	return s, nil
}

// layout reports the entries that are not documents relgate reads and
// returns those that are.
func (s *Snapshot) layout(entries []source.Entry) (managed []source.Entry) {
	for _, e := range entries {
		if _, ok := document.Locate(e.Path); ok {
			managed = append(managed, e)
		} else if e.NotRegular {
			s.addCoded(e.Path, coded("layout", "layout.symlink", "symlinks and submodules are not allowed in a release repository; replace it with the file or folder"))
		} else if misplaced(e.Path) {
			s.addCoded(e.Path, coded("layout", "layout.misplaced", "file is not where relgate expects documents; see the repository layout in the README (files end in .yaml)"))
		}
	}
	return managed
}

func (s *Snapshot) policyPresent() {
	if s.PolicyDoc == nil {
		s.addCoded(document.PolicyPath, coded("layout", "layout.no-policy", "the policy file relgate.yaml is missing at the repository root"))
	}
}

// LoadChanged reads what validating a change needs, and gives each file it
// reads the findings LoadAll would: the policy, the whole folder of each
// release named, and the files at paths outside release folders (paths that
// do not exist are skipped: the change deleted them). Change requests and
// configuration items that releases cite are read when asked for. The
// snapshot is Scoped: the checks of changes/, cmdb/ and reviews/ run on the
// ones read.
func LoadChanged(t source.Tree, releases, paths []string, opts Options) (*Snapshot, error) {
	s, err := newSnapshot(t)
	if err != nil {
		return nil, err
	}
	s.scoped, s.cache, s.lang = true, opts.Cache, opts.Lang
	seen := map[string]bool{}
	var entries []source.Entry
	stat := func(p string) error {
		if seen[p] {
			return nil
		}
		seen[p] = true
		e, err := t.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case errors.Is(err, source.ErrNotRegular):
			e.Path, e.NotRegular = p, true
		case err != nil:
			return err
		}
		entries = append(entries, e)
		return nil
	}
	if err := stat(document.PolicyPath); err != nil {
		return nil, err
	}
	for _, id := range releases {
		if !fs.ValidPath(id) || strings.Contains(id, "/") {
			return nil, fmt.Errorf("release folder %q is not a folder name", id)
		}
		es, err := t.List(path.Join(document.ReleasesDir, id))
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if !seen[e.Path] {
				seen[e.Path] = true
				entries = append(entries, e)
			}
		}
	}
	for _, p := range paths {
		if top, _, _ := strings.Cut(p, "/"); top == document.ReleasesDir && strings.Count(p, "/") > 1 {
			continue // in a release folder, read whole above
		}
		if hidden(p) {
			continue // trees list no file in a folder whose name starts with a dot
		}
		if err := stat(p); err != nil {
			return nil, err
		}
	}
	if err := s.readAll(s.layout(entries), 1); err != nil {
		return nil, err
	}
	s.policyPresent()
	s.sortFindings()
	return s, nil
}

// hidden reports a path inside a folder whose name starts with a dot.
func hidden(p string) bool {
	parts := strings.Split(p, "/")
	for _, d := range parts[:len(parts)-1] {
		if strings.HasPrefix(d, ".") {
			return true
		}
	}
	return false
}

// Scoped reports whether the snapshot was loaded by LoadChanged.
func (s *Snapshot) Scoped() bool { return s.scoped }

// Paths returns the path of every file read, sorted.
func (s *Snapshot) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.docs))
	for p := range s.docs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// misplaced reports files in relgate's folders that relgate would not read:
// a .yml extension or a file nested too deep, which an engineer meant as a document.
func misplaced(p string) bool {
	top, _, _ := strings.Cut(p, "/")
	switch top {
	case document.ChangesDir, document.CMDBDir, document.ReleasesDir, document.ReviewsDir:
		return strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")
	}
	return p == "relgate.yml"
}

// LoadReleases reads the policy and the named releases only. Change requests
// and configuration items are read when asked for.
func LoadReleases(t source.Tree, ids []string, opts ...Options) (*Snapshot, error) {
	s, err := newSnapshot(t)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		s.cache, s.lang = o.Cache, o.Lang
	}
	var entries []source.Entry
	if e, err := t.Stat(document.PolicyPath); err == nil {
		entries = append(entries, e)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, id := range ids {
		if !document.ReleaseIDPattern.MatchString(id) {
			return nil, fmt.Errorf("release id %q: want the form REL-2026-0042", id)
		}
		es, err := t.List(document.ReleaseDir(id))
		if err != nil {
			return nil, err
		}
		entries = append(entries, es...)
	}
	var managed []source.Entry
	for _, e := range entries {
		if _, ok := document.Locate(e.Path); ok {
			managed = append(managed, e)
		}
	}
	if err := s.readAll(managed, 1); err != nil {
		return nil, err
	}
	s.sortFindings()
	return s, nil
}

func newSnapshot(t source.Tree) (*Snapshot, error) {
	set, err := docschema.Embedded()
	if err != nil {
		return nil, err
	}
	return &Snapshot{Tree: t, Releases: map[string]*Release{}, schemas: set, docs: map[string]*Doc{},
		changes: map[string]*document.Change{}, items: map[string]*document.CMDBItem{},
		reviews: map[string]*document.Review{}}, nil
}

// Full reports whether every document was read.
func (s *Snapshot) Full() bool { return s.full }

type parsed struct {
	doc      *Doc
	findings []finding.Finding
	// file and probs are the problems of decoding, told once the policy
	// (their language and hints) is known.
	file  string
	probs []Problem
}

// parallelReader opens one blob reader per worker.
type parallelReader interface {
	BlobReaders(n int, max int64) ([]func(source.BlobID) ([]byte, error), func(), error)
}

// blobReader reads a blob by id: a git tree can, which saves the path lookup.
// A blob over max bytes is source.ErrTooLarge, refused from its object header
// before it is inflated.
type blobReader interface {
	ReadBlobMax(id source.BlobID, max int64) ([]byte, error)
}

// readAll reads and parses entries. Blobs come from git in one goroutine
// (go-git is not safe for concurrent use) unless the tree can open a reader
// per worker; files on disk are read by the workers. Entries the cache knows
// are not read at all: the workers read them from the cache.
func (s *Snapshot) readAll(entries []source.Entry, workers int) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type job struct {
		i      int
		e      source.Entry
		data   []byte
		cached bool
	}
	results := make([]parsed, len(entries))
	jobs := make(chan job, 256)
	_, fromDisk := s.Tree.(source.Dir)
	// With several repositories open, the workers read blobs themselves and
	// reading is no longer one goroutine's bottleneck.
	var perWorker []func(source.BlobID) ([]byte, error)
	if fr, ok := s.Tree.(parallelReader); ok && len(entries) > 256 && workers > 1 {
		readers, closeReaders, err := fr.BlobReaders(workers, yamldoc.MaxFileSize)
		if err == nil {
			defer closeReaders()
			perWorker = readers
		}
	}
	br, _ := s.Tree.(blobReader)
	// treeMu serializes reads through s.Tree, which the reading loop below
	// and a worker whose cache entry turned out damaged may both do.
	var treeMu sync.Mutex
	readTree := func(e source.Entry) ([]byte, error) {
		treeMu.Lock()
		defer treeMu.Unlock()
		if br != nil && !e.ID.IsZero() {
			return br.ReadBlobMax(e.ID, yamldoc.MaxFileSize)
		}
		return s.Tree.Read(e.Path)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if errs[w] != nil {
					continue
				}
				if j.cached {
					if r, ok := s.fromCache(j.e); ok {
						results[j.i] = r
						continue
					}
					// A damaged entry: read and decode the blob.
				}
				if j.data == nil {
					var data []byte
					var err error
					if perWorker != nil && !j.e.ID.IsZero() {
						data, err = perWorker[w](j.e.ID)
					} else if d, ok := s.Tree.(source.Dir); ok {
						data, err = d.ReadListed(j.e)
					} else {
						data, err = readTree(j.e)
					}
					if errors.Is(err, source.ErrTooLarge) || len(data) > yamldoc.MaxFileSize {
						results[j.i] = tooLarge(j.e.Path)
						continue
					}
					if err != nil {
						errs[w] = fmt.Errorf("read %s at %s: %w", j.e.Path, s.Tree.Name(), err)
						continue
					}
					j.data = data
				}
				results[j.i] = s.parse(j.e, j.data)
				j.data = nil
			}
		}()
	}
	var readErr error
	for i, e := range entries {
		if e.NotRegular {
			results[i] = parsed{file: e.Path, probs: []Problem{coded("layout", "layout.symlink", "symlinks and submodules are not allowed in a release repository; replace it with the file")}}
			continue
		}
		if e.Size > yamldoc.MaxFileSize {
			results[i] = tooLarge(e.Path)
			continue
		}
		loc, _ := document.Locate(e.Path)
		if loc.Kind != "" && s.cache.has(e.ID, loc.Kind) {
			jobs <- job{i: i, e: e, cached: true}
			continue
		}
		if fromDisk || (perWorker != nil && !e.ID.IsZero()) {
			jobs <- job{i: i, e: e}
			continue
		}
		data, err := readTree(e)
		if errors.Is(err, source.ErrTooLarge) {
			results[i] = tooLarge(e.Path)
			continue
		} else if err != nil {
			readErr = fmt.Errorf("read %s at %s: %w", e.Path, s.Tree.Name(), err)
			break
		}
		if len(data) > yamldoc.MaxFileSize {
			results[i] = tooLarge(e.Path)
			continue
		}
		jobs <- job{i: i, e: e, data: data}
	}
	close(jobs)
	wg.Wait()
	if readErr != nil {
		return readErr
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	for _, r := range results {
		if r.doc != nil {
			s.place(r.doc)
		}
	}
	var h *docschema.Hints
	for _, r := range results {
		s.Findings = append(s.Findings, r.findings...)
		if len(r.probs) > 0 && h == nil {
			hh := s.Hints()
			h = &hh
		}
		for _, p := range r.probs {
			s.Findings = append(s.Findings, finding.Finding{File: r.file, Line: p.Line, Column: p.Column,
				Field: p.Field, Clause: p.Clause, Rule: p.Rule, Severity: finding.Error, Message: docschema.Render(p.Problem, *h)})
		}
	}
	return nil
}

// fromCache is the document of a cached blob; ok is false when its entry is
// damaged or does not decode (a miss: the caller reads the blob).
func (s *Snapshot) fromCache(e source.Entry) (r parsed, ok bool) {
	loc, _ := document.Locate(e.Path)
	ce, ok := s.cache.get(e.ID, loc.Kind)
	if !ok {
		return parsed{}, false
	}
	v, err := decodeCached(loc.Kind, ce)
	if err != nil {
		return parsed{}, false
	}
	partial, _ := decodeJSON(loc.Kind, ce.Partial)
	return s.findings(e, e.ID, loc.Kind, v, partial, ce.Problems), true
}

// parse turns one file into a document and its findings. It is safe for concurrent use.
func (s *Snapshot) parse(e source.Entry, data []byte) parsed {
	loc, _ := document.Locate(e.Path)
	id := e.ID
	if id.IsZero() {
		id = source.HashBlob(data)
	}
	if loc.Kind == "" {
		names := make([]string, 0, len(document.ReleaseFiles))
		for n := range document.ReleaseFiles {
			names = append(names, n)
		}
		sort.Strings(names)
		p := coded("layout", "layout.unknown-file", "unknown file in a release folder; expected one of "+strings.Join(names, ", ")+" or approvals/<gate>.<person>.yaml")
		p.Want = names
		return parsed{file: e.Path, probs: []Problem{p}}
	}
	if ce, ok := s.cache.get(id, loc.Kind); ok {
		if v, err := decodeCached(loc.Kind, ce); err == nil {
			partial, _ := decodeJSON(loc.Kind, ce.Partial)
			return s.findings(e, id, loc.Kind, v, partial, ce.Problems)
		}
	}
	value, partial, probs := DecodeAll(s.schemas, loc.Kind, data)
	s.cache.put(id, loc.Kind, value, partial, probs)
	return s.findings(e, id, loc.Kind, value, partial, probs)
}

func (s *Snapshot) findings(e source.Entry, id source.BlobID, k document.Kind, value, partial any, probs []Problem) parsed {
	return parsed{doc: &Doc{Path: e.Path, ID: id, Kind: k, Value: value, Partial: partial}, file: e.Path, probs: probs}
}

// Problem is a problem found while decoding one file.
type Problem struct {
	docschema.Problem
	Rule string
}

// Decode parses data as a document of kind k: safe YAML parse, header check,
// schema validation, then typed decoding. value is nil when there are problems.
func Decode(set *docschema.Set, k document.Kind, data []byte) (value any, problems []Problem) {
	value, _, problems = DecodeAll(set, k, data)
	return value, problems
}

// DecodeAll is Decode that also returns, when there are problems, the typed
// document as far as it decodes (partial), and reports the problems of every
// stage together: a file that parses as YAML gets its YAML problems (anchors,
// duplicate keys, ...) and its schema problems in one run. A file that does
// not parse, or is not the kind its place says, stops at that.
func DecodeAll(set *docschema.Set, k document.Kind, data []byte) (value, partial any, problems []Problem) {
	root, yprobs, err := yamldoc.ParseAll(data)
	if err != nil {
		var ye *yamldoc.Error
		if errors.As(err, &ye) {
			return nil, nil, []Problem{yamlProblem(ye)}
		}
		return nil, nil, []Problem{{Rule: "yaml", Problem: docschema.Problem{Message: err.Error()}}}
	}
	for _, ye := range yprobs {
		problems = append(problems, yamlProblem(ye))
	}
	if p := checkHeader(root, k); p != nil {
		return nil, nil, append(problems, *p)
	}
	v, err := yamldoc.Value(root)
	if err != nil {
		var ye *yamldoc.Error
		errors.As(err, &ye)
		return nil, nil, append(problems, Problem{Rule: "yaml", Problem: docschema.Problem{Line: ye.Line, Column: ye.Column, Message: ye.Msg}})
	}
	for _, p := range set.Validate(k, root, v) {
		problems = append(problems, Problem{Rule: "schema", Problem: p})
	}
	typed := New(k)
	if len(problems) > 0 {
		// As far as it decodes, from the data the schema saw (the first of
		// duplicate keys, aliases written out): encoding/json fills every
		// field it can around a value of the wrong type.
		if js, err := json.Marshal(v); err == nil {
			var te *json.UnmarshalTypeError
			if err := json.Unmarshal(js, typed); err == nil || errors.As(err, &te) {
				partial = typed
			}
		}
		return nil, partial, problems
	}
	if err := decodeNode(root, typed); err != nil {
		return nil, nil, []Problem{{Rule: "schema", Problem: docschema.Problem{Line: root.Line, Column: root.Column, Message: "decode: " + err.Error()}}}
	}
	return typed, nil, nil
}

// yamlProblem carries a YAML problem with what its message needs in
// another language.
func yamlProblem(ye *yamldoc.Error) Problem {
	p := docschema.Problem{Line: ye.Line, Column: ye.Column, Field: ye.Path, Message: ye.Msg,
		Name: ye.Name, Value: ye.Value, Limit: ye.First}
	if ye.Code != "" {
		p.Code = "yaml." + ye.Code
	}
	return Problem{Rule: "yaml", Problem: p}
}

// decodeNode decodes a checked tree, turning a panic of yaml.v3 on a
// malformed tree into an error.
func decodeNode(root *yaml.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML: %v", r)
		}
	}()
	return root.Decode(v)
}

func checkHeader(root *yaml.Node, k document.Kind) *Problem {
	_, av := yamldoc.Find(root, []string{"apiVersion"})
	if av == nil {
		return &Problem{Rule: "schema", Problem: docschema.Problem{Line: root.Line, Column: root.Column, Field: "apiVersion",
			Code: "header.api-version-missing", Want: []string{document.APIVersion},
			Message: "required field is missing; every document starts with apiVersion: " + document.APIVersion}}
	}
	if v, _ := yamldoc.Find(root, []string{"apiVersion"}); v.Value != document.APIVersion {
		return &Problem{Rule: "schema", Problem: docschema.Problem{Line: v.Line, Column: v.Column, Field: "apiVersion",
			Code: "header.api-version", Value: v.Value, Want: []string{document.APIVersion},
			Message: fmt.Sprintf("apiVersion %q is not supported; this relgate reads %s", v.Value, document.APIVersion)}}
	}
	kn, kk := yamldoc.Find(root, []string{"kind"})
	if kk == nil {
		return &Problem{Rule: "schema", Problem: docschema.Problem{Line: root.Line, Column: root.Column, Field: "kind",
			Code: "header.kind-missing", Want: []string{string(k)},
			Message: fmt.Sprintf("required field is missing; this file must be kind: %s", k)}}
	}
	if kn.Value != string(k) {
		return &Problem{Rule: "layout", Problem: docschema.Problem{Line: kn.Line, Column: kn.Column, Field: "kind",
			Code: "header.kind", Value: kn.Value, Want: []string{string(k)},
			Message: fmt.Sprintf("this file must hold a %s, not %q (its place in the repository decides its kind)", k, kn.Value)}}
	}
	return nil
}

// New returns a pointer to a zero document of kind k.
func New(k document.Kind) any {
	switch k {
	case document.KindPolicy:
		return &document.Policy{}
	case document.KindChange:
		return &document.Change{}
	case document.KindRelease:
		return &document.Release{}
	case document.KindPlan:
		return &document.Plan{}
	case document.KindTestReport:
		return &document.TestReport{}
	case document.KindGoLive:
		return &document.GoLive{}
	case document.KindCommunication:
		return &document.Communication{}
	case document.KindDeployment:
		return &document.Deployment{}
	case document.KindApproval:
		return &document.Approval{}
	case document.KindClosure:
		return &document.Closure{}
	case document.KindCMDBItem:
		return &document.CMDBItem{}
	case document.KindReview:
		return &document.Review{}
	}
	return nil
}

// place files a parsed document into the snapshot's structure.
func (s *Snapshot) place(d *Doc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[d.Path] = d
	loc, _ := document.Locate(d.Path)
	switch loc.Kind {
	case document.KindPolicy:
		s.PolicyDoc = d
		s.Policy, _ = d.Value.(*document.Policy)
		return
	case document.KindChange:
		if v, ok := d.Value.(*document.Change); ok {
			s.changes[loc.ID] = v
		}
		return
	case document.KindCMDBItem:
		if v, ok := d.Value.(*document.CMDBItem); ok {
			s.items[loc.ID] = v
		}
		return
	case document.KindReview:
		if v, ok := d.Value.(*document.Review); ok {
			s.reviews[loc.ID] = v
		}
		return
	}
	if loc.Kind == document.KindApproval && loc.Release == "" {
		a := &Approval{Doc: d, FileGate: loc.Gate, FilePerson: loc.Person}
		a.Approval, _ = d.Value.(*document.Approval)
		s.PolicyApprovals = append(s.PolicyApprovals, a)
		sort.Slice(s.PolicyApprovals, func(i, j int) bool { return s.PolicyApprovals[i].Doc.Path < s.PolicyApprovals[j].Doc.Path })
		return
	}
	r := s.Releases[loc.Release]
	if r == nil {
		r = &Release{ID: loc.Release, Files: map[string]*Doc{}}
		s.Releases[loc.Release] = r
	}
	if loc.Kind == document.KindApproval {
		a := &Approval{Doc: d, FileGate: loc.Gate, FilePerson: loc.Person}
		a.Approval, _ = d.Value.(*document.Approval)
		r.Approvals = append(r.Approvals, a)
		sort.Slice(r.Approvals, func(i, j int) bool { return r.Approvals[i].Doc.Path < r.Approvals[j].Doc.Path })
		return
	}
	r.Files[path.Base(d.Path)] = d
	switch v := d.Value.(type) {
	case *document.Release:
		r.Release = v
	case *document.Plan:
		r.Plan = v
	case *document.TestReport:
		r.TestReport = v
	case *document.GoLive:
		r.GoLive = v
	case *document.Communication:
		r.Communication = v
	case *document.Deployment:
		r.Deployment = v
	case *document.Closure:
		r.Closure = v
	}
}

// coded is a problem of the layout of the repository, told in the
// snapshot's language when it is reported.
func coded(rule, code, english string) Problem {
	return Problem{Rule: rule, Problem: docschema.Problem{Code: code, Message: english}}
}

func tooLarge(file string) parsed {
	p := coded("yaml", "yaml.too-large", fmt.Sprintf("file is too large; the limit is %d bytes", yamldoc.MaxFileSize))
	p.Limit = yamldoc.MaxFileSize
	return parsed{file: file, probs: []Problem{p}}
}

// addCoded reports a problem found before the policy is read; sortFindings
// tells it in the policy's language.
func (s *Snapshot) addCoded(file string, p Problem) {
	s.pending = append(s.pending, pendingProblem{file, p})
}

type pendingProblem struct {
	file string
	p    Problem
}

func (s *Snapshot) sortFindings() {
	if len(s.pending) > 0 {
		h := s.Hints()
		for _, pp := range s.pending {
			s.Findings = append(s.Findings, finding.Finding{File: pp.file, Line: pp.p.Line, Column: pp.p.Column, Field: pp.p.Field,
				Clause: pp.p.Clause, Rule: pp.p.Rule, Severity: finding.Error, Message: docschema.Render(pp.p.Problem, h)})
		}
		s.pending = nil
	}
	finding.Sort(s.Findings)
}

// Doc returns the document read at path, or nil.
func (s *Snapshot) Doc(p string) *Doc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.docs[p]
}

// lazy reads one more document on demand; ok is false when the file does not exist.
func (s *Snapshot) lazy(p string) (ok bool, err error) {
	if s.Doc(p) != nil {
		return true, nil
	}
	if s.full {
		return false, nil
	}
	e, err := s.Tree.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.readAll([]source.Entry{e}, 1)
}

// Change returns a change request of the repository; exists is true when its
// file is present even if invalid.
func (s *Snapshot) Change(id string) (c *document.Change, exists bool, err error) {
	if !document.ChangeIDPattern.MatchString(id) {
		return nil, false, nil
	}
	ok, err := s.lazy(document.ChangePath(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes[id], ok, err
}

// CMDBItem returns a configuration item; exists is true when its file is present even if invalid.
func (s *Snapshot) CMDBItem(id string) (c *document.CMDBItem, exists bool, err error) {
	if !document.ItemIDPattern.MatchString(id) {
		return nil, false, nil
	}
	ok, err := s.lazy(document.CMDBPath(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items[id], ok, err
}

// Changes returns every change request read, by id.
func (s *Snapshot) Changes() map[string]*document.Change { return s.changes }

// CMDBItems returns every configuration item read, by id.
func (s *Snapshot) CMDBItems() map[string]*document.CMDBItem { return s.items }

// Reviews returns every quarterly review read, by quarter.
func (s *Snapshot) Reviews() map[string]*document.Review { return s.reviews }

// ReleaseIDs returns the ids of the releases read, sorted.
func (s *Snapshot) ReleaseIDs() []string {
	ids := make([]string, 0, len(s.Releases))
	for id := range s.Releases {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Locate finds the line and column of a field in a document, for findings
// about relations between documents. It parses the file again: that happens
// only when there is something to report.
func (s *Snapshot) Locate(p string, field ...string) (line, col int) {
	data, err := s.Tree.Read(p)
	if err != nil {
		return 0, 0
	}
	root, _, err := yamldoc.ParseAll(data)
	if err != nil {
		return 0, 0
	}
	n, k := yamldoc.Find(root, field)
	if k != nil && (n.Kind != yaml.ScalarNode) {
		n = k
	}
	return n.Line, n.Column
}

// Include reads more files into a snapshot loaded for some releases: the
// change requests, configuration items, reviews and root approvals a change
// touches. Paths that do not exist (deleted by the change) are skipped.
func (s *Snapshot) Include(paths []string) error {
	var entries []source.Entry
	for _, p := range paths {
		loc, ok := document.Locate(p)
		if !ok || loc.Release != "" || s.Doc(p) != nil {
			continue
		}
		e, err := s.Tree.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil && !errors.Is(err, source.ErrNotRegular) {
			return err
		}
		entries = append(entries, e)
	}
	if err := s.readAll(entries, 1); err != nil {
		return err
	}
	s.sortFindings()
	return nil
}
