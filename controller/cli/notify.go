package cli

import (
	"errors"
	"io"
)

// runNotify is relgate notify.
func runNotify(args []string, stdout, stderr io.Writer) error {
	return errors.New("relgate notify is not built yet")
}
