package gitrepo

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	format "github.com/go-git/go-git/v5/plumbing/format/config"
)

// SigningConfig is what git's configuration says about signing commits.
type SigningConfig struct {
	// Sign is commit.gpgsign: git signs every commit.
	Sign bool
	// Format is gpg.format, lower case: "openpgp" (git's default), "ssh" or "x509".
	Format string
	// Key is user.signingkey as written: for openpgp a key id, fingerprint
	// or user id in a gpg keyring; for ssh a key file or a "key::" literal.
	Key string
	// Email is user.email.
	Email string
	// Files are the configuration files read, most important last (for messages).
	Files []string
}

// maxConfigSize bounds a configuration file: git's are a few KB.
const maxConfigSize = 1 << 20

// SigningConfig reads commit.gpgsign, gpg.format, user.signingkey and
// user.email as git would for this repository: the global files
// ($XDG_CONFIG_HOME/git/config, then ~/.gitconfig or $GIT_CONFIG_GLOBAL),
// then the repository's own config, a later file overriding an earlier one.
// go-git's ConfigScoped does not serve here: it keeps only the repository's
// raw sections when merging, so a global commit.gpgsign would be lost. The
// system file and include directives are not read.
func (r *Repo) SigningConfig() (SigningConfig, error) {
	var files []string
	files = append(files, globalConfigFiles()...)
	if gd := r.GitDir(); gd != "" {
		files = append(files, filepath.Join(gd, "config"))
	}
	return ReadSigningConfig(files)
}

// globalConfigFiles are git's global configuration files, least important first.
func globalConfigFiles() []string {
	if p := os.Getenv("GIT_CONFIG_GLOBAL"); p != "" {
		return []string{p}
	}
	var out []string
	home, _ := os.UserHomeDir()
	xdg := os.Getenv("XDG_CONFIG_HOME")
	if xdg == "" && home != "" {
		xdg = filepath.Join(home, ".config")
	}
	if xdg != "" {
		out = append(out, filepath.Join(xdg, "git", "config"))
	}
	if home != "" {
		out = append(out, filepath.Join(home, ".gitconfig"))
	}
	return out
}

// ReadSigningConfig reads the signing settings from git configuration
// files, least important first; missing files are skipped.
func ReadSigningConfig(files []string) (SigningConfig, error) {
	var c SigningConfig
	for _, p := range files {
		cfg, err := readConfigFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return SigningConfig{}, err
		}
		c.Files = append(c.Files, p)
		if v, ok := lookup(cfg, "commit", "gpgsign"); ok {
			b, err := parseBool(v)
			if err != nil {
				return SigningConfig{}, fmt.Errorf("%s: commit.gpgsign: %w", p, err)
			}
			c.Sign = b
		}
		if v, ok := lookup(cfg, "gpg", "format"); ok {
			c.Format = strings.ToLower(strings.TrimSpace(v))
		}
		if v, ok := lookup(cfg, "user", "signingkey"); ok {
			c.Key = strings.TrimSpace(v)
		}
		if v, ok := lookup(cfg, "user", "email"); ok {
			c.Email = strings.TrimSpace(v)
		}
	}
	if c.Format == "" {
		c.Format = "openpgp"
	}
	return c, nil
}

func readConfigFile(p string) (*format.Config, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read git config %s: %w", p, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("git config %s is larger than %d bytes", p, maxConfigSize)
	}
	cfg := format.New()
	if err := format.NewDecoder(strings.NewReader(string(data))).Decode(cfg); err != nil {
		return nil, fmt.Errorf("read git config %s: %w", p, err)
	}
	return cfg, nil
}

// lookup returns the last value of section.key (no subsection), as git
// does: names are case-insensitive and a later line overrides an earlier one.
func lookup(cfg *format.Config, section, key string) (string, bool) {
	var v string
	found := false
	for _, s := range cfg.Sections {
		if !s.IsName(section) {
			continue
		}
		for _, o := range s.Options {
			if o.IsKey(key) {
				v, found = o.Value, true
			}
		}
	}
	return v, found
}

// parseBool reads a git boolean: a key without a value is true.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", v)
}

// ExpandHome expands a leading "~/" as git does for path values.
func ExpandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}
