package cli

import (
	"errors"
	"io"
)

// runCalendar is relgate calendar.
func runCalendar(args []string, stdout, stderr io.Writer) error {
	return errors.New("relgate calendar is not built yet")
}
