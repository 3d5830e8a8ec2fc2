package cli

import "io"

// runInit is being built (issue 12); until then it refuses.
func runInit(args []string, stdout, stderr io.Writer) error {
	return usagef("init is not available yet")
}
