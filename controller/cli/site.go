package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/site"
)

// siteManifest, in a folder relgate site wrote, lists the files it wrote:
// a later run may replace them, and it touches no folder without one.
const siteManifest = ".relgate-site"

func runSite(args []string, stdout, stderr io.Writer) error {
	var o repoFlags
	fset := flag.NewFlagSet("relgate site", flag.ContinueOnError)
	o.register(fset, true)
	var lang, forge, now string
	fset.StringVar(&lang, "lang", "", "the language the site opens in: zh or en (default: the policy's; both are always written)")
	fset.StringVar(&forge, "forge-url", "", "the repository's web `URL` (https://github.com/OWNER/NAME): commits and pull requests link there")
	fset.StringVar(&now, "now", "", "what is overdue is judged at this RFC 3339 `TIME` (default: the commit's time, so a commit's site never changes)")
	pos, err := parse(fset, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("relgate site OUTDIR: name the folder to write the site into")
	}
	out := pos[0]
	if lang != "" {
		if _, err := i18n.Parse(lang); err != nil {
			return usagef("--lang: %v", err)
		}
	}
	if forge != "" && !strings.HasPrefix(forge, "https://") && !strings.HasPrefix(forge, "http://") {
		return usagef("--forge-url %q: want an http(s) address such as https://github.com/OWNER/NAME", forge)
	}
	var opts site.Options
	if now != "" {
		if opts.Now, err = parseNow(now); err != nil {
			return err
		}
	}
	dir := o.repo
	if dir == "" {
		dir = "."
	}
	if err := siteFolderOK(out, dir); err != nil {
		return err
	}
	old, err := previousSite(out)
	if err != nil {
		return err
	}
	r, prefix, tip, err := openRevision("site", dir, o.rev)
	if err != nil {
		return err
	}
	defer r.Close()
	opts.Lang, opts.ForgeURL, opts.Cache = lang, forge, openCache(dir)
	// Pages go to disk as they are rendered, not all held in memory: into
	// a folder beside out first, so a build that fails leaves out as it was.
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(out))+".relgate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	made := map[string]bool{}
	s, err := site.BuildTo(r, prefix, tip, opts, func(p string, data []byte) error {
		full := filepath.Join(stage, filepath.FromSlash(p))
		if d := filepath.Dir(full); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		return os.WriteFile(full, data, 0o644)
	})
	if err != nil {
		return err
	}
	if err := opts.Cache.Save(); err != nil {
		fmt.Fprintf(stderr, "relgate: warning: the decode cache was not saved: %v\n", err)
	}
	paths := s.Paths()
	// Everything in the way is found before anything of out is touched.
	for _, p := range paths {
		full := filepath.Join(out, filepath.FromSlash(p))
		if fi, err := os.Lstat(full); err == nil && !fi.Mode().IsRegular() {
			return usagef("%s is in the way of the site's %s: remove it, or name another folder", full, p)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, p := range paths {
		full := filepath.Join(out, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(stage, filepath.FromSlash(p)), full); err != nil {
			return err
		}
	}
	for _, p := range old {
		if slices.Contains(paths, p) {
			continue
		}
		full := filepath.Join(out, filepath.FromSlash(p))
		if fi, err := os.Lstat(full); err != nil || !fi.Mode().IsRegular() {
			continue // gone already, or not a page we wrote
		}
		if err := os.Remove(full); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(out, siteManifest), []byte(strings.Join(paths, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	l := i18n.Select("", s.Lang())
	fmt.Fprintln(stdout, l.Sprintf("wrote %s files of commit %s into %s; open %s", fmt.Sprint(len(paths)), tip.String()[:12], out,
		filepath.Join(out, "index.html")))
	return nil
}

// previousSite returns the files an earlier relgate site wrote into out,
// refusing a folder with other content.
func previousSite(out string) ([]string, error) {
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(out, siteManifest))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("%s is not empty and holds no site relgate wrote (%s): name an empty or new folder", out, siteManifest)
	}
	if err != nil {
		return nil, err
	}
	var old []string
	for _, p := range strings.Split(string(data), "\n") {
		// Only what a site of relgate's can hold: the manifest is a file
		// anyone could have edited (or committed, for a folder in a work tree).
		if !sitePath.MatchString(p) || slices.Contains(strings.Split(p, "/"), "..") {
			continue
		}
		old = append(old, p)
	}
	return old, nil
}

// sitePath is the form of every file a site has: the root page, the
// assets, and pages and charts under a language's folder.
var sitePath = regexp.MustCompile(`^(index\.html|assets/[a-z]+\.(css|js)|(zh|en)/[A-Za-z0-9._/-]+\.(html|svg))$`)

// siteFolderOK refuses an OUTDIR that is, holds or sits inside the release
// repository's git work tree, or that holds a symbolic link (a page or
// folder replaced by a link would have the site written, or a page
// removed, elsewhere).
func siteFolderOK(out, repo string) error {
	ao, err1 := filepath.Abs(out)
	ar, err2 := filepath.Abs(repo)
	if err1 != nil || err2 != nil {
		return errors.Join(err1, err2)
	}
	if rel, err := filepath.Rel(ao, ar); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
		return usagef("%s holds the release repository %s: name a folder outside it", out, repo)
	}
	if _, err := os.Lstat(filepath.Join(out, ".git")); err == nil {
		return usagef("%s is a git repository or work tree: name a folder of its own for the site", out)
	}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == out {
				return fs.SkipAll
			}
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 && p != out {
			return usagef("%s is a symbolic link: relgate site writes only plain files and folders inside %s", p, out)
		}
		return nil
	})
	return err
}
