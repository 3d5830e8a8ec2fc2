package cli

import "io"

// runRecordDeployment is being built (issue 16, receipts); until then it refuses.
func runRecordDeployment(args []string, stdout, stderr io.Writer) error {
	return usagef("record-deployment is not available yet")
}
