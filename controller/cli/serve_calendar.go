package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/relgate/relgate/controller/server"
)

// calendarKeyEnv names the environment variable of the calendar feed's key.
const calendarKeyEnv = "RELGATE_CALENDAR_KEY"

// maxCalendarKeyFile bounds the key file read.
const maxCalendarKeyFile = 4096

// calendarFeedFlags are serve's flags for /calendar.ics.
type calendarFeedFlags struct {
	on      bool
	keyFile string
	days    int
}

func (f *calendarFeedFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.on, "calendar-feed", false, "serve the change calendar at /calendar.ics to signed-in users and by per-user secret URLs (key: "+calendarKeyEnv+" or --calendar-key-file, at least 32 bytes)")
	fs.StringVar(&f.keyFile, "calendar-key-file", "", "read the key that signs the calendar's secret URLs from `FILE` (else "+calendarKeyEnv+"); a new key revokes every URL")
	fs.IntVar(&f.days, "calendar-days", server.DefaultCalendarDays, "the feed covers today and the next `DAYS` days (at most 400)")
}

// config is the server's calendar feed configuration; nil serves none.
func (f *calendarFeedFlags) config(getenv env, log *slog.Logger) (*server.CalendarFeedConfig, error) {
	if !f.on {
		if f.keyFile != "" {
			return nil, usagef("--calendar-key-file is set but not --calendar-feed: add --calendar-feed to serve the calendar")
		}
		return nil, nil
	}
	if f.days < 1 || f.days > 400 {
		return nil, usagef("--calendar-days %d: from 1 to 400", f.days)
	}
	var key []byte
	switch {
	case f.keyFile != "":
		fh, err := os.Open(f.keyFile)
		if err != nil {
			return nil, fmt.Errorf("--calendar-key-file: %w", err)
		}
		defer fh.Close()
		data, err := io.ReadAll(io.LimitReader(fh, maxCalendarKeyFile+1))
		if err != nil {
			return nil, fmt.Errorf("--calendar-key-file %s: %w", f.keyFile, err)
		}
		if len(data) > maxCalendarKeyFile {
			return nil, usagef("--calendar-key-file %s is longer than %d bytes: it holds one key", f.keyFile, maxCalendarKeyFile)
		}
		key = bytes.TrimRight(data, "\r\n")
	default:
		key = []byte(getenv(calendarKeyEnv))
	}
	if len(key) < server.MinCalendarKey {
		// The key itself is never shown.
		return nil, usagef("--calendar-feed: the key (%s or --calendar-key-file) has %d bytes; it needs at least %d, e.g. the output of: openssl rand -hex 32",
			calendarKeyEnv, len(key), server.MinCalendarKey)
	}
	log.Info("calendar feed on", "path", "/calendar.ics", "days", f.days)
	return &server.CalendarFeedConfig{Key: key, Days: f.days}, nil
}
