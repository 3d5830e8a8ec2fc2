package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/relgate/relgate/controller/document"
)

// Version is what `relgate version` reports; its JSON shape is stable.
type Version struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Version is the module version `go install …@v` recorded, or (devel).
	Version string `json:"version"`
	// Commit, Time and Modified are the VCS state the binary was built from.
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// buildVersion reads the version from the binary's build info, which the
// go command writes: no version string to forget to bump.
func buildVersion() Version {
	v := Version{APIVersion: document.APIVersion, Kind: "Version", Version: "(devel)", Go: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func (v Version) String() string {
	s := "relgate " + v.Version
	if v.Commit != "" {
		s += " (commit " + v.Commit
		if v.Time != "" {
			s += ", " + v.Time
		}
		if v.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + v.Go + " " + v.Platform
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("relgate version", flag.ContinueOnError)
	format := fs.String("format", "text", "output `FORMAT`: text or json")
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("version takes no arguments")
	}
	if err := oneOf("format", *format, "text", "json"); err != nil {
		return err
	}
	v := buildVersion()
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err = fmt.Fprintln(stdout, v.String())
	return err
}
