package cli

import (
	"flag"
	"log/slog"

	"github.com/relgate/relgate/controller/server"
)

// noticeFlags are serve's flags for notices.
type noticeFlags struct{}

func (f *noticeFlags) register(fs *flag.FlagSet) {}

// config is the server's notice configuration; nil sends none.
func (f *noticeFlags) config(getenv env, log *slog.Logger) (*server.NoticeConfig, error) {
	return nil, nil
}
