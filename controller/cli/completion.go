package cli

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/source"
)

// The completion scripts ask `relgate __complete WORDS…` (the words after
// the program name, the last one being completed) for candidates, so
// release ids, gates, logins and environments come from the repository the
// user is in, and the scripts never go out of date with the commands.
var completionScripts = map[string]string{
	"bash": `# relgate completion for bash: source <(relgate completion bash)
_relgate() {
  local IFS=$'\n'
  COMPREPLY=($(relgate __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _relgate relgate
`,
	"zsh": `#compdef relgate
# relgate completion for zsh: source <(relgate completion zsh), or save as _relgate in $fpath
_relgate() {
  local -a candidates
  candidates=("${(@f)$(relgate __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _relgate relgate
`,
	"fish": `# relgate completion for fish: relgate completion fish | source
complete -c relgate -f -a '(relgate __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`,
}

func runCompletion(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || completionScripts[args[0]] == "" {
		return usagef("usage: relgate completion bash|zsh|fish")
	}
	_, err := io.WriteString(stdout, completionScripts[args[0]])
	return err
}

// Positional arguments each command completes, in order.
var completeArgs = map[string][]string{
	"approve":      {"release-or-repo-gate", "gate"},
	"digest":       {"release-or-repo-gate", "gate"},
	"status":       {"release"},
	"deploy-check": {"release"},
	"audit":        {"release"},
	"new":          {"kind"},
	"completion":   {"shell"},
	"record-deployment": {
		"release"},
}

// Flags whose value comes from the repository.
var completeFlagValues = map[string]string{
	"--as": "login", "--recorded-by": "login", "--author": "login", "--env": "environment",
	"--lang": "lang", "--format": "format", "--outcome": "outcome", "--role": "role",
}

// runComplete prints the candidates for the last word, one per line.
func runComplete(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		args = []string{""}
	}
	cur := args[len(args)-1]
	words := args[:len(args)-1]
	var out []string
	if len(words) == 0 {
		for _, c := range commands() {
			out = append(out, c.name)
		}
		return printCandidates(stdout, out, cur)
	}
	cmd := words[0]
	repo := "."
	for i, w := range words {
		if (w == "--repo" || w == "-repo") && i+1 < len(words) {
			repo = words[i+1]
		}
	}
	if prev := words[len(words)-1]; strings.HasPrefix(prev, "-") && len(words) > 1 {
		if kind, ok := completeFlagValues["--"+strings.TrimLeft(prev, "-")]; ok {
			return printCandidates(stdout, values(repo, kind, cmd), cur)
		}
		if prev == "--repo" || prev == "-repo" {
			return nil // the shell completes paths (-o default)
		}
	}
	if strings.HasPrefix(cur, "-") {
		return printCandidates(stdout, flagsOf(cmd), cur)
	}
	// The how-many-th positional argument is being completed.
	n := 0
	for i := 1; i < len(words); i++ {
		if strings.HasPrefix(words[i], "-") {
			if i+1 < len(words) && flagTakesValue(cmd, words[i]) {
				i++
			}
			continue
		}
		n++
	}
	if cmd == "audit" && n == 0 {
		out = append(values(repo, "release", cmd), "verify")
		return printCandidates(stdout, out, cur)
	}
	kinds := completeArgs[cmd]
	if n >= len(kinds) {
		return nil
	}
	return printCandidates(stdout, values(repo, kinds[n], cmd), cur)
}

func printCandidates(w io.Writer, cands []string, prefix string) error {
	sort.Strings(cands)
	cands = slices.Compact(cands)
	var b strings.Builder
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) {
			b.WriteString(c + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// values are the candidates of one kind from the repository at dir; a
// repository that cannot be read offers none (completion never fails).
func values(dir, kind, cmd string) []string {
	switch kind {
	case "kind":
		return []string{"release", "change", "cmdb-item", "test-report", "golive", "communication", "deployment", "closure", "review", "plan"}
	case "shell":
		return []string{"bash", "zsh", "fish"}
	case "lang":
		return []string{"zh", "en"}
	case "outcome":
		return []string{document.OutcomeSucceeded, document.OutcomeFailed, document.OutcomeRolledBack}
	case "format":
		return []string{"text", "json", "github", "markdown", "md", "html", "svg"}
	case "release", "release-or-repo-gate":
		var out []string
		entries, _ := os.ReadDir(filepath.Join(dir, document.ReleasesDir))
		for _, e := range entries {
			if e.IsDir() && document.ReleaseIDPattern.MatchString(e.Name()) {
				out = append(out, e.Name())
			}
		}
		if kind == "release-or-repo-gate" {
			for _, g := range policy.Defaults() {
				if g.Repository {
					out = append(out, g.ID)
				}
			}
		}
		return out
	}
	pol := completionPolicy(dir)
	if pol == nil {
		return nil
	}
	var out []string
	switch kind {
	case "gate":
		for _, g := range pol.Gates() {
			if !g.Repository {
				out = append(out, g.ID)
			}
		}
	case "login":
		for _, p := range pol.People {
			if !p.Bot {
				out = append(out, p.Login)
			}
		}
	case "environment":
		out = pol.Environments()
	case "role":
		for r := range pol.Roles {
			out = append(out, r)
		}
	}
	return out
}

func completionPolicy(dir string) *policy.Policy {
	snap, err := loader.LoadReleases(source.Dir{Root: dir}, nil)
	if err != nil || snap.Policy == nil {
		return nil
	}
	pol, err := policy.New(snap.Policy)
	if err != nil {
		return nil
	}
	return pol
}

// flagsOf lists a command's flags from its own usage text, so completion
// knows every flag without a second list to keep.
func flagsOf(cmd string) []string {
	var out []string
	for _, f := range flagUsage(cmd) {
		out = append(out, "--"+f.name)
	}
	return out
}

type flagInfo struct {
	name       string
	takesValue bool
}

func flagUsage(cmd string) []flagInfo {
	var run func([]string, io.Writer, io.Writer) error
	for _, c := range commands() {
		if c.name == cmd {
			run = c.run
		}
	}
	if run == nil {
		return nil
	}
	var errb bytes.Buffer
	_ = run([]string{"-h"}, io.Discard, &errb)
	var out []flagInfo
	sc := bufio.NewScanner(&errb)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "  -") {
			continue
		}
		name, rest, _ := strings.Cut(strings.TrimPrefix(line, "  -"), " ")
		out = append(out, flagInfo{name: strings.TrimSpace(name), takesValue: strings.TrimSpace(rest) != ""})
	}
	return out
}

func flagTakesValue(cmd, word string) bool {
	name := strings.TrimLeft(word, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flagUsage(cmd) {
		if f.name == name {
			return f.takesValue
		}
	}
	return false
}
