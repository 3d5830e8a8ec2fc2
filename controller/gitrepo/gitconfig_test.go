package gitrepo_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/gitrepo/gitrepotest"
)

// gitConfig writes key=value into a config file with the git CLI, as a
// person's `git config` would.
func gitConfig(t *testing.T, file string, kv ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if out, err := exec.Command("git", "config", "--file", file, kv[i], kv[i+1]).CombinedOutput(); err != nil {
			t.Fatalf("git config %s: %v\n%s", kv[i], err, out)
		}
	}
}

func TestReadSigningConfig(t *testing.T) {
	gitrepotest.Isolate(t)
	tests := []struct {
		name    string
		files   [][]string // key, value pairs per file, least important first
		raw     string     // a file written as is, appended last
		want    gitrepo.SigningConfig
		wantErr string
	}{
		{name: "nothing configured: git's defaults", want: gitrepo.SigningConfig{Format: "openpgp"}},
		{name: "ssh signing",
			files: [][]string{{"commit.gpgsign", "true", "gpg.format", "ssh", "user.signingkey", "~/.ssh/id_ed25519", "user.email", "zhangwei@grid-it.example.cn"}},
			want:  gitrepo.SigningConfig{Sign: true, Format: "ssh", Key: "~/.ssh/id_ed25519", Email: "zhangwei@grid-it.example.cn"}},
		{name: "the repository overrides the global file",
			files: [][]string{{"commit.gpgsign", "true", "gpg.format", "ssh", "user.signingkey", "/a"}, {"commit.gpgsign", "false", "user.signingkey", "/b"}},
			want:  gitrepo.SigningConfig{Format: "ssh", Key: "/b"}},
		{name: "names are case-insensitive and git's booleans are read",
			raw:  "[Commit]\n\tgpgSign = yes\n[GPG]\n\tFormat = SSH\n[user]\n\tsigningKey = key::ssh-ed25519 AAAA\n",
			want: gitrepo.SigningConfig{Sign: true, Format: "ssh", Key: "key::ssh-ed25519 AAAA"}},
		{name: "a later line overrides an earlier one, across sections",
			raw:  "[commit]\n\tgpgsign = on\n[user]\n\temail = a@example.cn\n[commit]\n\tgpgsign = off\n",
			want: gitrepo.SigningConfig{Format: "openpgp", Email: "a@example.cn"}},
		{name: "a key without a value is true",
			raw:  "[commit]\n\tgpgsign\n",
			want: gitrepo.SigningConfig{Sign: true, Format: "openpgp"}},
		{name: "not a boolean", raw: "[commit]\n\tgpgsign = perhaps\n", wantErr: `commit.gpgsign: "perhaps" is not a boolean`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := []string{filepath.Join(dir, "missing")}
			for i, kv := range tc.files {
				f := filepath.Join(dir, "config"+string(rune('a'+i)))
				gitConfig(t, f, kv...)
				files = append(files, f)
			}
			if tc.raw != "" {
				f := filepath.Join(dir, "raw")
				if err := os.WriteFile(f, []byte(tc.raw), 0o644); err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			got, err := gitrepo.ReadSigningConfig(files)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Files = nil
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestRepoSigningConfig: the repository's config over $GIT_CONFIG_GLOBAL,
// or over ~/.gitconfig over $XDG_CONFIG_HOME/git/config, as git reads them.
// go-git's ConfigScoped keeps only the repository's raw sections, which is
// why SigningConfig layers the files itself.
func TestRepoSigningConfig(t *testing.T) {
	r := gitrepotest.New(t) // isolated: $HOME, $XDG_CONFIG_HOME and $GIT_CONFIG_GLOBAL in a temporary home
	home := os.Getenv("HOME")
	r.GitCLI("config", "--global", "commit.gpgsign", "true")
	r.GitCLI("config", "--global", "gpg.format", "ssh")
	r.GitCLI("config", "--global", "user.signingkey", "~/.ssh/id_ed25519")
	r.GitCLI("config", "user.email", "zhangwei@grid-it.example.cn")
	repo, err := gitrepo.Open(r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	got, err := repo.SigningConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := gitrepo.SigningConfig{Sign: true, Format: "ssh", Key: "~/.ssh/id_ed25519", Email: "zhangwei@grid-it.example.cn",
		Files: []string{filepath.Join(home, ".gitconfig"), filepath.Join(r.Dir, ".git", "config")}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("with $GIT_CONFIG_GLOBAL (-want +got):\n%s", d)
	}
	if got := strings.TrimSpace(r.GitCLI("config", "commit.gpgsign")); got != "true" {
		t.Fatalf("git reads commit.gpgsign %q", got)
	}

	// Without $GIT_CONFIG_GLOBAL: ~/.gitconfig overrides the XDG file.
	t.Setenv("GIT_CONFIG_GLOBAL", "")
	os.Unsetenv("GIT_CONFIG_GLOBAL")
	xdg := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "git", "config")
	gitConfig(t, xdg, "gpg.format", "openpgp", "user.signingkey", "3AA5C34371567BD2", "commit.gpgsign", "true")
	gitConfig(t, filepath.Join(home, ".gitconfig"), "user.signingkey", "~/.ssh/other")
	got, err = repo.SigningConfig()
	if err != nil {
		t.Fatal(err)
	}
	want = gitrepo.SigningConfig{Sign: true, Format: "ssh", Key: "~/.ssh/other", Email: "zhangwei@grid-it.example.cn",
		Files: []string{xdg, filepath.Join(home, ".gitconfig"), filepath.Join(r.Dir, ".git", "config")}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("XDG then ~/.gitconfig (-want +got):\n%s", d)
	}
	if got := strings.TrimSpace(r.GitCLI("config", "user.signingkey")); got != "~/.ssh/other" {
		t.Errorf("git reads user.signingkey %q, relgate %q", got, want.Key)
	}
}
