package calview

import "time"

// StampIn exposes how a time is written (local with TZID, or UTC) to tests.
func StampIn(t time.Time, loc *time.Location) string { v, _ := stampIn(t, loc); return v }
