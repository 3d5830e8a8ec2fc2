// Package cli is relgate's command line: it parses flags, opens the release
// repository, calls the packages that decide, and prints. Exit codes are
// mapped in one place: 0 success, 1 a finding or a blocked gate, 2 a usage or
// I/O error.
package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1 // invalid documents, a blocked gate
	ExitProblem = 2 // usage, I/O, a repository that cannot be read
)

// errFailed reports that the command ran and found what it reports as failure.
var errFailed = errors.New("failed")

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"init", "start a release repository: policy, schemas for editors, README and CI workflow", runInit},
		{"validate", "check every document against its schema and the others", runValidate},
		{"new", "write any document from its template: cmdb-item, change, release, plan, test-report, golive, communication, deployment, closure, review", runNew},
		{"schemas", "write the JSON Schemas for editors into .relgate/schemas", runSchemas},
		{"digest", "print the digest an approval of a gate binds to", runDigest},
		{"approve", "record your approval (or rejection) of a gate, bound to the current digest", runApprove},
		{"gate", "decide whether a change (base..head) may merge", runGate},
		{"reconcile", "commit the CMDB updates and release reports that are due, and push them safely", runReconcile},
		{"serve", "gate GitHub pull requests live: webhooks, check runs, write-back, scheduled jobs", runServe},
		{"report", "write the quarterly release report: KPIs, failed releases, lead times, chart", runReport},
		{"audit", "a release's audit trail from git history; audit verify re-checks every commit of a branch", runAudit},
		{"status", "each release's lifecycle state and what its next gate misses", runStatus},
		{"site", "write the dashboard as a static site: board, releases, CMDB, changes, quarters, policy", runSite},
		{"version", "print relgate's version, from the build (also --version)", runVersion},
		{"completion", "print the shell completion script for bash, zsh or fish", runCompletion},
		{"deploy-check", "decide whether a deployment of a release may proceed now (exit 0 allowed, 1 refused)", runDeployCheck},
		{"record-deployment", "write a pipeline's deployment receipt as the release's deployment.yaml", runRecordDeployment},
		{"calendar", "the change calendar: release windows, maintenance windows and freezes, as text, JSON, iCalendar or HTML", runCalendar},
		{"notify", "send the notices and reminders due now to the policy's channels (--dry-run prints them)", runNotify},
	}
}

// Main runs relgate with args (without the program name) and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return ExitProblem
		}
		return ExitOK
	}
	switch args[0] {
	case "--version", "-version":
		return exitCode(runVersion(args[1:], stdout, stderr), stderr)
	case "__complete": // asked by the completion scripts; never fails
		_ = runComplete(args[1:], stdout, io.Discard)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			out := &countingWriter{w: stdout}
			stopProfile := startProfile(stderr)
			err := c.run(args[1:], out, stderr)
			stopProfile()
			code := exitCode(err, stderr)
			if code == ExitProblem && out.n == 0 && jsonMode(args[1:]) {
				// A tool reading stdout gets a document, not nothing.
				writeJSONError(stdout, err)
			}
			return code
		}
	}
	fmt.Fprintf(stderr, "relgate: unknown command %q\n", args[0])
	usage(stderr)
	return ExitProblem
}

func exitCode(err error, stderr io.Writer) int {
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errFailed):
		return ExitFailed
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "relgate: %s\n", ue.msg)
		return ExitProblem
	default:
		fmt.Fprintf(stderr, "relgate: %v\n", err)
		return ExitProblem
	}
}

type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// jsonMode reports whether the command was asked for JSON output.
func jsonMode(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--format=json" || a == "-format=json":
			return true
		case (a == "--format" || a == "-format") && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// writeJSONError writes the error as the document schemas/output/error.schema.json describes.
func writeJSONError(w io.Writer, err error) {
	msg := "failed"
	var ue *usageError
	if errors.As(err, &ue) {
		msg = ue.msg
	} else if err != nil {
		msg = err.Error()
	}
	b, _ := json.MarshalIndent(map[string]any{"apiVersion": "relgate.dev/v1", "kind": "Error", "error": msg, "exitCode": ExitProblem}, "", "  ")
	fmt.Fprintf(w, "%s\n", b)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: relgate <command> [flags] [DIR]")
	fmt.Fprintln(w, "\ncommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command works on the release repository in the current directory unless given DIR or --repo.")
}

// parse parses flags that may come before or after positional arguments, and
// returns the positional ones.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(stderr)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func oneOf(name, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usagef("--%s %q: want one of %s", name, v, strings.Join(allowed, ", "))
}
