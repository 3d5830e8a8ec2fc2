package cli

import (
	"flag"
	"log/slog"

	"github.com/relgate/relgate/controller/server"
)

// calendarFeedFlags are serve's flags for /calendar.ics.
type calendarFeedFlags struct{}

func (f *calendarFeedFlags) register(fs *flag.FlagSet) {}

// config is the server's calendar feed configuration; nil serves none.
func (f *calendarFeedFlags) config(getenv env, log *slog.Logger) (*server.CalendarFeedConfig, error) {
	return nil, nil
}
