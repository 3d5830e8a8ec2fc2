// Command relgate runs a release management procedure as code over a git
// repository of YAML documents. See README.md.
package main

import (
	"os"

	"github.com/relgate/relgate/controller/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
