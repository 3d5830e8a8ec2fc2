package cli

import "io"

func runDeployCheck(args []string, stdout, stderr io.Writer) error {
	return usagef("deploy-check is not available yet")
}
