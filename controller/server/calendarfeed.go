package server

import "net/http"

// CalendarFeedConfig configures /calendar.ics.
type CalendarFeedConfig struct{}

// calendarRoutes registers /calendar.ics when the feed is configured.
func (s *Server) calendarRoutes(mux *http.ServeMux) {}
