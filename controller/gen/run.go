package gen

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/relgate/relgate/controller/document"
)

// fileWrite is one document a commit adds or replaces.
type fileWrite struct {
	path string
	doc  any
}

// run writes the history: the bootstrap commit, the planned units in time
// order, and the CMDB updates that bring every item up to date at the end.
func (g *generator) run() error {
	writes := []fileWrite{{document.PolicyPath, buildPolicy()}}
	for _, st := range g.items {
		writes = append(writes, fileWrite{document.CMDBPath(st.doc.ID), &st.doc})
	}
	msg := fmt.Sprintf("Bootstrap the release repository\n\nAdd the policy and the CMDB inventory of %d configuration items.\n", len(g.items))
	if err := g.commit(g.start, login(0), msg, writes); err != nil {
		return err
	}
	for i := range g.units {
		if err := g.apply(&g.units[i]); err != nil {
			return err
		}
	}
	for g.syncCMDB(g.last.Add(10 * time.Minute)) {
		if err := g.err; err != nil {
			return err
		}
	}
	return g.err
}

func (g *generator) apply(u *unit) error {
	rel := u.rel
	dir := func(name string) string { return document.ReleaseDir(rel.id) + "/" + name }
	switch u.kind {
	case unitChanges:
		var writes []fileWrite
		var ids []string
		for _, c := range u.changes {
			writes = append(writes, fileWrite{document.ChangePath(c.id), g.changeDoc(c)})
			ids = append(ids, c.id)
		}
		author := pick(g.rng, holders("change-manager"))
		return g.commit(u.at, author, "Register change requests "+strings.Join(ids, ", ")+"\n", writes)

	case unitOpen:
		for _, i := range rel.itemIdx {
			st := g.items[i]
			rel.restore = append(rel.restore, document.VersionRef{Item: st.doc.ID, Version: st.doc.Version, Digest: st.doc.Digest})
		}
		draft := 0
		if rel.revisions > 0 {
			draft = 1
		}
		writes := []fileWrite{{dir("release.yaml"), g.releaseDoc(rel)}, {dir("plan.yaml"), g.planDoc(rel, draft)}}
		msg := rel.id + ": open the release with its plan"
		if c := rel.change; c != nil {
			writes = append(writes, fileWrite{document.ChangePath(c.id), g.changeDoc(c)})
			msg += " for " + c.id
		}
		return g.commit(u.at, rel.manager, msg+"\n", writes)

	case unitRevision:
		draft := u.rev + 1
		if u.rev == rel.revisions {
			draft = 0
		}
		return g.commit(u.at, rel.manager, rel.id+": revise the plan\n", []fileWrite{{dir("plan.yaml"), g.planDoc(rel, draft)}})

	case unitStage:
		var writes []fileWrite
		var what []string
		author := rel.manager
		deployed := false
		for _, s := range u.stages {
			switch s {
			case 'T':
				writes = append(writes, fileWrite{dir("test-report.yaml"), g.testReportDoc(rel)})
				what = append(what, "test report")
				author = rel.testers[0]
			case 'G':
				writes = append(writes, fileWrite{dir("golive.yaml"), g.goLiveDoc(rel)})
				what = append(what, "go-live plan")
				author = rel.manager
			case 'D':
				writes = append(writes, fileWrite{dir("deployment.yaml"), g.deploymentDoc(rel)})
				what = append(what, "deployment record ("+rel.outcome+")")
				author = rel.implementers[0]
				deployed = true
			}
		}
		if deployed && rel.change != nil && rel.outcome == document.OutcomeSucceeded && len(writes) < 3 {
			rel.change.status = "implemented"
			writes = append(writes, fileWrite{document.ChangePath(rel.change.id), g.changeDoc(rel.change)})
			what = append(what, rel.change.id+" implemented")
		}
		if err := g.commit(u.at, author, rel.id+": add "+strings.Join(what, ", ")+"\n", writes); err != nil {
			return err
		}
		if deployed {
			g.deployed++
			if g.every > 0 && g.deployed%g.every == 0 {
				g.syncCMDB(g.last.Add(5 * time.Minute))
				return g.err
			}
		}
	}
	return nil
}

// recordDeployment updates the CMDB state of a release's items: new versions
// when it succeeded, a restore entry when it was rolled back. It returns what
// the rollback restored.
func (g *generator) recordDeployment(rel *release) []document.VersionRef {
	var restored []document.VersionRef
	at := stamp(rel.deployEnd)
	for k, i := range rel.itemIdx {
		st := g.items[i]
		e := document.HistoryEntry{At: at, Release: rel.id}
		if rel.outcome == document.OutcomeRolledBack {
			restored = append(restored, document.VersionRef{Item: st.doc.ID, Version: st.doc.Version, Digest: st.doc.Digest})
			e.Action, e.Version, e.Digest, e.Note = "restore", st.doc.Version, st.doc.Digest, "deployment rolled back"
		} else {
			it := rel.items[k]
			st.doc.Version, st.doc.Digest = it.Version, it.Digest
			e.Action, e.Version, e.Digest = "update", it.Version, it.Digest
		}
		st.doc.History = append(st.doc.History, e)
		if !st.dirty {
			st.dirty, st.dirtySince = true, g.deployed
		}
	}
	return restored
}

// syncCMDB commits the CMDB files of up to three items whose deployments are
// not yet recorded there, oldest first, as the configuration manager does.
// It reports whether there was anything to commit.
func (g *generator) syncCMDB(at time.Time) bool {
	var dirty []int
	for i, st := range g.items {
		if st.dirty {
			dirty = append(dirty, i)
		}
	}
	if len(dirty) == 0 || g.err != nil {
		return false
	}
	sort.SliceStable(dirty, func(a, b int) bool { return g.items[dirty[a]].dirtySince < g.items[dirty[b]].dirtySince })
	var writes []fileWrite
	var ids []string
	for _, i := range dirty[:min(3, len(dirty))] {
		st := g.items[i]
		st.dirty = false
		writes = append(writes, fileWrite{document.CMDBPath(st.doc.ID), &st.doc})
		ids = append(ids, st.doc.ID)
	}
	cm := holders("configuration-manager")
	g.err = g.commit(at, cm[g.commits%len(cm)], "CMDB: record deployments of "+strings.Join(ids, ", ")+"\n", writes)
	return true
}

// commit writes the documents' blobs, the trees on their paths and a commit
// on top of the previous one.
func (g *generator) commit(at time.Time, author, msg string, writes []fileWrite) error {
	for _, w := range writes {
		data, err := marshal(w.doc)
		if err != nil {
			return fmt.Errorf("%s: %w", w.path, err)
		}
		h, _, err := g.pack.put(plumbing.BlobObject, data)
		if err != nil {
			return fmt.Errorf("write %s: %w", w.path, err)
		}
		g.root.setFile(w.path, h)
		g.files[w.path] = h
		g.blobs[w.path] = data
	}
	tree, err := g.root.flush(g.pack)
	if err != nil {
		return fmt.Errorf("write trees: %w", err)
	}
	// Commit times never go backwards, even when units share a minute.
	if !at.After(g.last) {
		at = g.last.Add(time.Second)
	}
	g.last = at
	p := person(author)
	sig := fmt.Sprintf("%s <%s> %d %s", p.Name, p.Email, at.Unix(), at.Format("-0700"))
	b := make([]byte, 0, 256+len(msg))
	b = append(b, "tree "+tree.String()+"\n"...)
	if !g.head.IsZero() {
		b = append(b, "parent "+g.head.String()+"\n"...)
	}
	b = append(b, "author "+sig+"\ncommitter "+sig+"\n\n"+msg...)
	h, _, err := g.pack.put(plumbing.CommitObject, b)
	if err != nil {
		return fmt.Errorf("write commit: %w", err)
	}
	g.head = h
	g.commits++
	return nil
}

var people = func() map[string]document.Person {
	m := map[string]document.Person{}
	for _, p := range buildPolicy().People {
		m[p.Login] = p
	}
	return m
}()

func person(login string) document.Person { return people[login] }

func stamp(t time.Time) string { return t.In(cst).Format(time.RFC3339) }
