package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/relgate/relgate/controller/calendar"
	"github.com/relgate/relgate/controller/calview"
	"github.com/relgate/relgate/controller/engine"
	"github.com/relgate/relgate/controller/i18n"
)

// calendarOptions are relgate calendar's flags.
type calendarOptions struct {
	repoFlags
	from, to, format, lang, now, link, out string
}

// defaultCalendarDays is the range when --to is not given.
const defaultCalendarDays = 90

// runCalendar is relgate calendar: the change calendar of the committed
// state at --rev: release windows with state, systems and the gate's
// calendar conflicts, maintenance windows and freezes.
func runCalendar(args []string, stdout, stderr io.Writer) error {
	var o calendarOptions
	fs := flag.NewFlagSet("relgate calendar", flag.ContinueOnError)
	o.register(fs, true)
	fs.StringVar(&o.from, "from", "", "first `DATE` of the calendar, 2027-03-01 or RFC 3339 (default: today in the policy's timezone)")
	fs.StringVar(&o.to, "to", "", "`DATE` the calendar ends before (default: --from + 90 days; at most 400 days after --from)")
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json, ics or html")
	langFlag(fs, &o.lang)
	fs.StringVar(&o.now, "now", "", "today is the day of this RFC 3339 `TIME` (default: the clock)")
	fs.StringVar(&o.link, "link-base", "", "the dashboard's or site's root `URL` (https://relgate.example/): each release links to its page there")
	fs.StringVar(&o.link, "forge-url", "", "same as --link-base")
	fs.StringVar(&o.out, "o", "", "write to `FILE` instead of standard output")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if err := oneOf("format", o.format, "text", "json", "ics", "html"); err != nil {
		return err
	}
	ml, err := messageLang(o.lang)
	if err != nil {
		return err
	}
	if o.link != "" && !validLinkBase(o.link) {
		// The value is not repeated: it may hold a credential.
		return usagef("--link-base: want an http(s) address without credentials, query or fragment, such as https://relgate.example/")
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	dir, err := o.dir(pos)
	if err != nil {
		return err
	}
	r, prefix, tip, err := openRevision("calendar", dir, o.rev)
	if err != nil {
		return err
	}
	defer r.Close()
	board, err := engine.LoadBoard(r, prefix, tip, engine.BoardOptions{Cache: openCache(dir), Lang: ml})
	if err != nil {
		return err
	}
	loc := board.Policy.Location
	lang := i18n.Select(ml, board.Policy.Language)
	from, to, err := calendarRange(o.from, o.to, now, loc)
	if err != nil {
		return err
	}
	cal, errs := calendar.FromPolicy(board.Policy.Policy, loc)
	for _, e := range errs {
		// Validate reports these with their line; the calendar shows each
		// such window as never opening, each such freeze as always.
		fmt.Fprintf(stderr, "relgate: warning: %s: %s\n", "relgate.yaml", e.Error())
	}
	m := calview.Build(board, cal, from, to, lang)
	m.WithLinks(o.link)
	var buf bytes.Buffer
	switch o.format {
	case "text":
		err = m.Text(&buf)
	case "json":
		err = m.JSON(&buf)
	case "ics":
		err = m.ICS(&buf)
	case "html":
		err = m.HTML(&buf)
	}
	if err != nil {
		return err
	}
	if o.out == "" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(o.out, buf.Bytes())
}

// calendarRange reads --from and --to: dates are midnight in the policy's
// timezone; RFC 3339 times are taken as they are.
func calendarRange(fromFlag, toFlag string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	read := func(name, v string) (time.Time, error) {
		if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
			return t, nil
		}
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t, nil
		}
		return time.Time{}, usagef("--%s %q: write a date such as 2027-03-01, or an RFC 3339 time such as 2027-03-01T00:00:00+08:00", name, v)
	}
	lt := now.In(loc)
	from := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	if fromFlag != "" {
		t, err := read("from", fromFlag)
		if err != nil {
			return from, from, err
		}
		from = t
	}
	to := from.AddDate(0, 0, defaultCalendarDays)
	if toFlag != "" {
		t, err := read("to", toFlag)
		if err != nil {
			return from, to, err
		}
		to = t
	}
	switch {
	case !to.After(from):
		return from, to, usagef("--to %s is not after --from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	case to.Sub(from) > calview.MaxRange:
		return from, to, usagef("--from %s to --to %s is longer than 400 days: ask for a shorter range", from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	return from, to, nil
}

func validLinkBase(s string) bool {
	m := calview.Model{Releases: []calview.Release{{ID: "REL-0000-0000"}}}
	m.WithLinks(s)
	return m.Releases[0].Link != "" && !strings.ContainsAny(s, " \t\r\n")
}

// writeFileAtomic writes data to path through a file beside it, so a
// reader (a calendar app reading an exported .ics) never sees half.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".relgate-")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
