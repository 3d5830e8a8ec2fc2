package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"

	"github.com/relgate/relgate/controller/gen"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
	"github.com/relgate/relgate/controller/schedule"
)

// cronRemote is a bare remote holding the example repository, with
// relgate.yaml's schedules edited (old → new) lawfully when edits are given.
func cronRemote(t *testing.T, edits ...string) string {
	t.Helper()
	r := gitrepotest.New(t)
	if err := gen.Replay(examples, r.Dir, gen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(edits) > 0 {
		for i := 0; i+1 < len(edits); i += 2 {
			r.Edit("relgate.yaml", edits[i], edits[i+1])
		}
		approvePolicy(t, r)
		r.Commit("schedules", who("liuzhiqiang"))
	}
	remote := filepath.Join(t.TempDir(), "releases.git")
	if _, err := git.PlainInit(remote, true); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Git.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{remote}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Git.Push(&git.PushOptions{RemoteName: "origin", RefSpecs: []config.RefSpec{"+refs/heads/main:refs/heads/main"}}); err != nil {
		t.Fatal(err)
	}
	return remote
}

// serveUntilScheduled runs a server (no GitHub) on loopback with the clock
// at now until its schedule has started, checks it serves, stops it and
// returns the writer and the logs. Serve must return no error: a crash
// would fail the test binary, a failed Serve this test.
func serveUntilScheduled(t *testing.T, remote, mirror string, now time.Time) (*fakeWriter, string) {
	t.Helper()
	logs, w := &syncBuffer{}, &fakeWriter{}
	srv, err := New(Config{Logger: slog.New(slog.NewJSONHandler(logs, nil)), Secret: testSecret, Remote: remote, MirrorDir: mirror,
		Branch: "main", Writer: w, ShutdownGrace: 5 * time.Second, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"schedule started"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no schedule started:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, path := range []string{"/readyz", "/api/releases"} {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200: the server stops serving\n%s", path, resp.StatusCode, logs.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop")
	}
	return w, logs.String()
}

// TestIssue11HostileScheduleAtServeStart: a policy on the branch whose
// schedules robfig/cron's parser panicked on (TZ=0, TZ=, CRON_TZ=UTC) or
// accepted though wrong (0 0 31 2 *, @every 0s) does not stop relgate
// serve: it keeps serving, names each bad schedule, and runs the good jobs.
func TestIssue11HostileScheduleAtServeStart(t *testing.T) {
	tests := []struct {
		name    string
		edits   []string
		bad     []string // substrings the log must carry
		running []string // jobs started
	}{
		{"every job's schedule hostile",
			[]string{`resync: "*/15 * * * *"`, `resync: "TZ=0"`, `reconcile: "*/5 * * * *"`, `reconcile: "CRON_TZ=UTC"`,
				`quarterlyReport: "0 8 1 1,4,7,10 *"`, `quarterlyReport: "0 0 31 2 *"`, `reminders: "0 9 * * 1-5"`, `reminders: "@every 0s"`},
			[]string{`schedules.resync: \"TZ=0\"`, `schedules.reconcile: \"CRON_TZ=UTC\"`, `schedules.quarterlyReport: \"0 0 31 2 *\": day-of-month field: never runs`,
				`schedules.reminders: \"@every 0s\"`, "policy's timezone", "more often than once a minute"},
			nil},
		{"an empty TZ= in one job: the others run",
			[]string{`resync: "*/15 * * * *"`, `resync: "TZ="`},
			[]string{`schedules.resync: \"TZ=\"`},
			[]string{schedule.JobQuarterlyReport, schedule.JobReconcile, schedule.JobReminders}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, logs := serveUntilScheduled(t, cronRemote(t, tc.edits...), filepath.Join(t.TempDir(), "mirror"), time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
			for _, want := range tc.bad {
				if !strings.Contains(logs, want) {
					t.Errorf("logs lack %s:\n%s", want, logs)
				}
			}
			if !strings.Contains(logs, "jobs with a schedule relgate cannot run are not started") {
				t.Errorf("no error logged for the bad schedules:\n%s", logs)
			}
			var started string
			for _, l := range strings.Split(logs, "\n") {
				if strings.Contains(l, `"msg":"schedule started"`) {
					started = l
				}
			}
			for _, j := range []string{schedule.JobResync, schedule.JobReconcile, schedule.JobQuarterlyReport, schedule.JobReminders} {
				want := false
				for _, r := range tc.running {
					want = want || r == j
				}
				if got := strings.Contains(started, `"`+j+`"`); got != want {
					t.Errorf("job %s started %v, want %v: %s", j, got, want, started)
				}
			}
			// The quarterly report runs at a first start only when its schedule is good.
			w.mu.Lock()
			defer w.mu.Unlock()
			if wantQ := len(tc.running) > 0; (len(w.quarters) == 1) != wantQ {
				t.Errorf("quarterly reports %v (good schedule: %v)", w.quarters, wantQ)
			}
		})
	}
}

// TestHostileSchedulePushedWhileServing: a push that brings a hostile
// schedule leaves the running schedule in place and the server serving.
func TestHostileSchedulePushedWhileServing(t *testing.T) {
	e := newEnv(t, envOptions{schedule: true, noGitHub: true})
	e.eventually("the schedule", func() bool { e.srv.mu.Lock(); defer e.srv.mu.Unlock(); return e.srv.sched != nil })
	e.work.Edit("relgate.yaml", `resync: "*/15 * * * *"`, `resync: "CRON_TZ=UTC"`)
	approvePolicy(t, e.work)
	e.work.Commit("hostile schedule", who("liuzhiqiang"))
	e.push("refs/heads/main:refs/heads/main")
	e.deliver("push", pushEvent(t, "refs/heads/main"))
	e.eventually("the refusal logged", func() bool {
		return strings.Contains(e.logs.String(), `schedule not reloaded; the previous one stays`) && strings.Contains(e.logs.String(), `schedules.resync: \"CRON_TZ=UTC\"`)
	})
	e.srv.mu.Lock()
	if got := e.srv.sched.specs[schedule.JobResync]; got != "*/15 * * * *" {
		t.Errorf("resync %q after a hostile push, want the running */15 * * * *", got)
	}
	e.srv.mu.Unlock()
	resp, err := http.Get(e.url + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz after a hostile push: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestMissedQuarterlyReportCaughtUpAcrossRestart: the state file in the
// mirror folder carries the last runs over a restart. Down across a quarter
// boundary, the report is written at start; restarted within the quarter,
// it is not written again.
func TestMissedQuarterlyReportCaughtUpAcrossRestart(t *testing.T) {
	remote, mirror := cronRemote(t), filepath.Join(t.TempDir(), "mirror")
	sh, _ := time.LoadLocation("Asia/Shanghai")
	for _, step := range []struct {
		name string
		now  time.Time
		want []string
	}{
		{"first start: the report of the quarter before", time.Date(2026, 11, 25, 10, 0, 0, 0, sh), []string{"2026Q3"}},
		{"restarted within the quarter: nothing owed", time.Date(2026, 12, 20, 10, 0, 0, 0, sh), nil},
		{"down over 1 January 08:00: caught up once", time.Date(2027, 1, 3, 9, 0, 0, 0, sh), []string{"2026Q4"}},
		{"restarted again: nothing owed", time.Date(2027, 1, 3, 9, 30, 0, 0, sh), nil},
	} {
		w, logs := serveUntilScheduled(t, remote, mirror, step.now)
		w.mu.Lock()
		got := append([]string(nil), w.quarters...)
		w.mu.Unlock()
		if strings.Join(got, ",") != strings.Join(step.want, ",") {
			t.Errorf("%s: quarterly reports %v, want %v\n%s", step.name, got, step.want, logs)
		}
	}
}
