package server

import "context"

// NoticeConfig configures the notices the server sends (see startNotices).
type NoticeConfig struct{}

// startNotices starts sending the policy's notices and reminders; it
// returns at once.
func (s *Server) startNotices(stop, ctx context.Context) {}
