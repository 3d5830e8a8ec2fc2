package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"golang.org/x/crypto/ssh"
	"gopkg.in/yaml.v3"

	"github.com/relgate/relgate/controller/document"
	"github.com/relgate/relgate/controller/evaluate"
	"github.com/relgate/relgate/controller/gate"
	"github.com/relgate/relgate/controller/gitrepo"
	"github.com/relgate/relgate/controller/i18n"
	"github.com/relgate/relgate/controller/loader"
	"github.com/relgate/relgate/controller/policy"
	"github.com/relgate/relgate/controller/provenance"
	"github.com/relgate/relgate/controller/scaffold"
	"github.com/relgate/relgate/controller/writeback"
)

type approveOptions struct {
	repoFlags
	as, role, comment string
	reject, commit    bool
	force             bool
	signKey           string
	now               string
	lang              string
}

func runApprove(args []string, stdout, stderr io.Writer) error {
	var o approveOptions
	fs := flag.NewFlagSet("relgate approve", flag.ContinueOnError)
	o.register(fs, false)
	fs.StringVar(&o.as, "as", "", "approve as `LOGIN` (default: the policy person whose email is git's user.email)")
	fs.StringVar(&o.role, "role", "", "the `ROLE` you approve in (default: your only role this gate requires)")
	fs.StringVar(&o.comment, "comment", "", "a comment recorded with the approval")
	fs.BoolVar(&o.reject, "reject", false, "record a rejection, which blocks the gate until you withdraw it")
	fs.BoolVar(&o.commit, "commit", false, "commit the approval file (authored by you), signed as git's commit.gpgsign, gpg.format and user.signingkey say")
	fs.StringVar(&o.signKey, "sign-key", "", "sign the commit with the key in `FILE`: an OpenSSH private key (as gpg.format=ssh) or an armored OpenPGP secret key, without a passphrase (default: git's signing configuration)")
	fs.StringVar(&o.now, "now", "", "approval time, RFC 3339 (default: now)")
	fs.BoolVar(&o.force, "force", false, "with --commit, record the approval even when relgate says it will not count (it still will not)")
	fs.StringVar(&o.lang, "lang", "", "language of the messages: zh or en (default: $LC_ALL or $LANG if zh or en, else the policy's)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: relgate approve REL GATE [DIR] [flags]\n       relgate approve policy-change|change-record|cmdb-change|review-change [DIR] [flags]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if o.lang != "" {
		if err := oneOf("lang", o.lang, "zh", "en"); err != nil {
			return err
		}
	}
	var rel, gateID string
	switch {
	case len(pos) >= 1 && policy.IsRepositoryGate(pos[0]):
		gateID, pos = pos[0], pos[1:]
	case len(pos) >= 2:
		rel, gateID, pos = pos[0], pos[1], pos[2:]
		if !document.ReleaseIDPattern.MatchString(rel) {
			return usagef("release id %q: want the form REL-2026-0042", rel)
		}
	default:
		fs.Usage()
		return usagef("approve needs a release and a gate")
	}
	if o.signKey != "" && !o.commit {
		return usagef("--sign-key signs a commit: add --commit")
	}
	dir, err := o.dir(pos)
	if err != nil {
		return err
	}
	tree, closeTree, err := o.openTree(dir)
	if err != nil {
		return err
	}
	defer closeTree()
	var ids []string
	if rel != "" {
		ids = []string{rel}
	}
	snap, err := loader.LoadReleases(tree, ids)
	if err != nil {
		return err
	}
	pol, _, err := loadPolicy(snap)
	if err != nil {
		return err
	}
	l := approveLanguage(o.lang, pol)
	g, ok := pol.Gate(gateID)
	if !ok {
		return usagef(l.t("gate %q is not defined by the policy", "策略未定义关卡 %q"), gateID)
	}
	if rel != "" && snap.Releases[rel] == nil {
		return usagef(l.t("release %s does not exist", "发布 %s 不存在"), rel)
	}
	login, err := o.identity(dir, pol, l)
	if err != nil {
		return err
	}
	role, err := chooseRole(pol, g, login, o.role, l)
	if err != nil {
		return err
	}
	d, _, err := evaluate.Digest(tree, rel, g)
	if err != nil {
		return err
	}
	now, err := parseNow(o.now)
	if err != nil {
		return err
	}
	if pol.Location != nil {
		now = now.In(pol.Location)
	}
	decision := document.DecisionApprove
	if o.reject {
		decision = document.DecisionReject
	}
	a := document.Approval{Header: document.Header{APIVersion: document.APIVersion, Kind: document.KindApproval},
		Release: rel, Gate: g.ID, Person: login, Role: role, Decision: decision, Digest: d, At: now.Format(time.RFC3339), Comment: o.comment}
	p := document.ApprovalPath(rel, g.ID, login)

	// The policy in force (the last one approved), not the work tree's,
	// decides whether the approval will count, as status and gate do.
	gh, err := openHistory(dir, tree)
	if err != nil {
		return err
	}
	defer gh.close()
	inForce, _, err := gh.policy(snap)
	if err != nil {
		return err
	}
	var st *gate.Status
	if rel != "" {
		s, err := evaluate.Release(inForce, snap, rel, evaluate.Options{Provenance: gh.prov})
		if err != nil {
			return err
		}
		st = &s
	}

	origin, recorded, err := approvalRecorded(dir, p, a, o.comment != "", gh)
	if err != nil {
		return err
	}
	if recorded {
		// Recorded already: nothing to do, unless its commit does not
		// vouch for it (unsigned, say, before signatures were required),
		// which recording it again in a new commit mends.
		commit := origin.Commits[0].Short()
		via, why := evaluate.Authenticate(inForce, origin, login, false)
		if via != "" {
			what := l.t("approval", "批准")
			if decision == document.DecisionReject {
				what = l.t("rejection", "驳回")
			}
			fmt.Fprintf(stdout, l.t("%s: %s's %s of %s as %s (%s) is already recorded in %s\n", "%[1]s：%[2]s 以 %[5]s 身份对 %[4]s 的%[3]s（%[6]s）已记录于提交 %[7]s\n"),
				p, login, what, g.ID, role, d, commit)
			if why := ignoredWhy(st, g.ID, login, p); why != "" {
				fmt.Fprintf(stderr, l.t("relgate: warning: it does not count: %s\n", "relgate：警告：该审批不计入：%s\n"), why)
			}
			return nil
		}
		fmt.Fprintf(stderr, l.t("relgate: the same approval is recorded in %s, but it does not count (%s): recording it again\n",
			"relgate：相同的审批已记录于提交 %s，但不被计入（%s）：重新记录\n"), commit, why)
	}

	requiresSignature := !inForce.TrustCommitAuthor
	key, keyErr := o.signingKey(dir, l)
	if keyErr != nil && o.signKey != "" {
		return keyErr // the file given cannot sign: a usage or I/O problem (exit 2)
	}
	if keyErr != nil && o.commit {
		// Git's configuration asks for a signature relgate cannot make.
		return refuse(stderr, l.t("relgate: approval not recorded:", "relgate：未记录审批："), []string{keyErr.Error()})
	}
	var problems []string
	if keyErr != nil {
		if requiresSignature {
			problems = append(problems, keyErr.Error())
		}
	} else if why := authProblem(inForce, login, key, o.commit, l); why != "" {
		problems = append(problems, why)
	}
	var excluded []string
	if decision == document.DecisionApprove {
		// A rejection stands whoever wrote the documents; only an approval
		// is shed by separation of duties.
		excluded = exclusions(st, g.ID, login, role, l)
	}
	if o.commit && !o.force && (requiresSignature && len(problems) > 0 || len(excluded) > 0) {
		return refuse(stderr, l.t("relgate: approval not recorded, because it would not count:", "relgate：未记录审批，因为它不会被计入："), append(problems, excluded...))
	}
	for _, w := range append(problems, excluded...) {
		fmt.Fprintf(stderr, l.t("relgate: warning: this approval will not count: %s\n", "relgate：警告：该审批将不被计入：%s\n"), w)
	}
	if st != nil {
		if why := notNamed(st, g.ID, login, role, decision, l); why != "" {
			fmt.Fprintf(stderr, l.t("relgate: warning: this approval will not count: %s\n", "relgate：警告：该审批将不被计入：%s\n"), why)
		}
	}

	content, err := writeback.ApprovalYAML(p, a)
	if err != nil {
		return err
	}
	if recorded && o.commit {
		if old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p))); err == nil && bytes.Equal(old, content) {
			// The same bytes make no new commit, and the old one still would not vouch.
			return usagef(l.t("%s is committed with exactly this content; give another --now to record it again", "%s 已以完全相同的内容提交；请给出另一个 --now 以重新记录"), p)
		}
	}
	if err := scaffold.Write(dir, []scaffold.File{{Path: p, Content: content}}, true); err != nil {
		return err
	}
	fmt.Fprintf(stdout, l.t("wrote %s (%s %s as %s, %s)\n", "已写入 %s（%s %s，角色 %s，%s）\n"), p, decision, g.ID, role, d)
	if !o.commit {
		return nil
	}
	person, _ := pol.Person(login)
	hash, err := commitApproval(dir, p, person, key, fmt.Sprintf("%s: %s %s as %s\n\nRelease-Id: %s\nRelgate-Digest: %s\n", orRepo(rel), decision, g.ID, role, orRepo(rel), d), now)
	if err != nil {
		return err
	}
	if key != nil {
		fmt.Fprintf(stdout, l.t("committed %s, signed with %s\n", "已提交 %s，签名密钥 %s\n"), hash, key.describe())
	} else {
		fmt.Fprintf(stdout, l.t("committed %s\n", "已提交 %s\n"), hash)
	}
	return nil
}

func orRepo(rel string) string {
	if rel == "" {
		return "policy"
	}
	return rel
}

// approveLang is the language of approve's messages.
type approveLang string

// t picks the message in the language.
func (l approveLang) t(en, zh string) string {
	if l == "zh" {
		return zh
	}
	return en
}

// approveLanguage is the language of approve's messages, chosen as every
// command chooses it (package i18n: --lang, $LC_ALL/$LANG, the policy).
func approveLanguage(flagLang string, pol *policy.Policy) approveLang {
	lang := ""
	if pol != nil {
		lang = pol.Language
	}
	return approveLang(i18n.Select(flagLang, lang))
}

// refuse prints why approve will not write an approval and fails (exit 1).
func refuse(stderr io.Writer, head string, why []string) error {
	fmt.Fprintln(stderr, head)
	for _, w := range why {
		fmt.Fprintf(stderr, "  - %s\n", w)
	}
	return errFailed
}

// identity is --as, or the policy person whose email is git's user.email.
func (o *approveOptions) identity(dir string, pol *policy.Policy, l approveLang) (string, error) {
	if o.as != "" {
		if _, ok := pol.Person(o.as); !ok {
			return "", usagef(l.t("--as %s: not a person of the policy", "--as %s：不是策略中的人员"), o.as)
		}
		return o.as, nil
	}
	email := ""
	if r, err := gitrepo.Open(dir); err == nil {
		if cfg, err := r.SigningConfig(); err == nil {
			email = cfg.Email
		}
		r.Close()
	}
	if email == "" {
		return "", usagef("%s", l.t("who is approving? give --as LOGIN or set git's user.email", "审批人是谁？请给出 --as 登录名，或设置 git 的 user.email"))
	}
	p, ok := pol.PersonByEmail(email)
	if !ok {
		return "", usagef(l.t("git's user.email %s is not a person of the policy; give --as LOGIN", "git 的 user.email %s 不是策略中的人员；请给出 --as 登录名"), email)
	}
	return p.Login, nil
}

func chooseRole(pol *policy.Policy, g policy.Gate, login, role string, l approveLang) (string, error) {
	var candidates []string
	for _, r := range pol.ApprovalRoles(g) {
		if pol.HasRole(login, r) {
			candidates = append(candidates, r)
		}
	}
	if role != "" {
		if !slices.Contains(candidates, role) {
			return "", usagef(l.t("%s does not hold %s, or gate %s does not require it", "%s 不担任 %s，或关卡 %s 不需要该角色"), login, role, g.ID)
		}
		return role, nil
	}
	switch len(candidates) {
	case 0:
		return "", usagef(l.t("%s holds no role that gate %s requires", "%s 不担任关卡 %s 所需的任何角色"), login, g.ID)
	case 1:
		return candidates[0], nil
	}
	return "", usagef(l.t("%s holds several roles gate %s requires (%v); choose one with --role", "%s 担任关卡 %s 所需的多个角色（%v）；请用 --role 选择一个"), login, g.ID, candidates)
}

// approvalRecorded reports the commits that recorded the same approval (gate,
// person, role, decision, digest, and the comment when one is given) at p,
// when HEAD holds it and the work tree has not changed it: running approve
// again then has nothing to do.
func approvalRecorded(dir, p string, a document.Approval, withComment bool, gh *gitHistory) (provenance.Origin, bool, error) {
	var none provenance.Origin
	r, err := gitrepo.Open(dir)
	if err != nil {
		return none, false, nil // no repository: nothing is committed
	}
	defer r.Close()
	prefix, err := r.Prefix(dir)
	if err != nil {
		return none, false, err
	}
	head, err := r.Resolve("HEAD")
	if err != nil {
		return none, false, nil // no commit yet
	}
	t, err := r.TreeAt(head, prefix)
	if err != nil {
		return none, false, err
	}
	committed, err := t.Read(p)
	if err != nil {
		return none, false, nil // not committed
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil || !bytes.Equal(onDisk, committed) {
		return none, false, nil
	}
	var c document.Approval
	if err := yaml.Unmarshal(committed, &c); err != nil {
		return none, false, nil // invalid: writing it anew repairs it
	}
	if c.Release != a.Release || c.Gate != a.Gate || c.Person != a.Person || c.Role != a.Role ||
		c.Decision != a.Decision || c.Digest != a.Digest || withComment && c.Comment != a.Comment || c.Forge != nil {
		return none, false, nil
	}
	e, err := t.Stat(p)
	if err != nil {
		return none, false, err
	}
	o, err := gh.prov.Origin(p, e.ID)
	if err != nil {
		return none, false, err
	}
	return o, len(o.Commits) > 0, nil
}

// ignoredWhy says why the approval at file does not count, if it does not.
func ignoredWhy(st *gate.Status, gateID, login, file string) string {
	if st == nil {
		return ""
	}
	res, ok := st.Gate(gateID)
	if !ok {
		return ""
	}
	for _, ig := range res.Ignored {
		if ig.Person == login && ig.File == file {
			return ig.Message
		}
	}
	return ""
}

// exclusions say why separation of duties keeps login from approving
// gateID, as the release now is: they authored or committed a document the
// gate covers, or a document names them as its author.
func exclusions(st *gate.Status, gateID, login, role string, l approveLang) []string {
	if st == nil {
		return nil
	}
	res, ok := st.Gate(gateID)
	if !ok {
		return nil
	}
	var out []string
	add := func(why string) {
		msg := fmt.Sprintf(l.t("%s may not approve %s (separation of duties, R-4): %s; another holder of %s must approve",
			"%s 不得审批 %s（职责分离，R-4）：%s；须由担任 %s 的其他人审批"), login, gateID, why, role)
		if !slices.Contains(out, msg) {
			out = append(out, msg)
		}
	}
	for _, q := range res.Requirements {
		for _, x := range q.Excluded {
			if x.Person == login {
				add(x.Reason)
			}
		}
	}
	for _, ig := range res.Ignored {
		if ig.Person == login && ig.Reason == "self-approval" {
			add(ig.Message)
		}
	}
	return out
}

// notNamed says when release.yaml does not name login for role, so that the
// gate will not count their approval (a warning: the release may yet name them).
func notNamed(st *gate.Status, gateID, login, role, decision string, l approveLang) string {
	res, ok := st.Gate(gateID)
	if !ok || decision != document.DecisionApprove {
		return ""
	}
	for _, q := range res.Requirements {
		if q.Role == role && (slices.Contains(q.Eligible, login) || slices.Contains(q.Approved, login) ||
			slices.ContainsFunc(q.Excluded, func(x gate.Exclusion) bool { return x.Person == login })) {
			return ""
		}
	}
	if !slices.ContainsFunc(res.Requirements, func(q gate.Requirement) bool { return q.Role == role }) {
		return "" // the blackout exception's role, required only in a blackout window
	}
	return fmt.Sprintf(l.t("%s holds %s, but release.yaml does not name them for it", "%s 担任 %s，但 release.yaml 未指定其担任该角色"), login, role)
}

// --- signing ---------------------------------------------------------------

// commitKey is the key the approval's commit is (or, without --commit, git
// would be) signed with.
type commitKey struct {
	signer git.Signer // nil: known only by its public half, which cannot sign
	ssh    ssh.PublicKey
	pgp    *openpgp.Entity
	// pgpID is an OpenPGP key named in git's user.signingkey: a key id,
	// fingerprint or user id in a gpg keyring relgate cannot read.
	pgpID string
	// from says where the key came from, for messages.
	from string
}

func (k *commitKey) describe() string {
	switch {
	case k.ssh != nil:
		return fmt.Sprintf("SSH key %s (%s)", ssh.FingerprintSHA256(k.ssh), k.from)
	case k.pgp != nil:
		return fmt.Sprintf("OpenPGP key %X (%s)", k.pgp.PrimaryKey.Fingerprint, k.from)
	}
	return fmt.Sprintf("OpenPGP key %s (%s)", k.pgpID, k.from)
}

// signingKey is --sign-key, or the key git's configuration signs with
// (commit.gpgsign, gpg.format, user.signingkey); nil when the commit is not
// signed. With --commit it must be able to sign; without, git will commit
// the file, and knowing the key is enough to say whether it will count.
func (o *approveOptions) signingKey(dir string, l approveLang) (*commitKey, error) {
	if o.signKey != "" {
		return readSignKeyFile(o.signKey, "--sign-key "+o.signKey, l)
	}
	r, err := gitrepo.Open(dir)
	if err != nil {
		return nil, nil
	}
	cfg, err := r.SigningConfig()
	r.Close()
	if err != nil {
		return nil, err
	}
	if !cfg.Sign {
		return nil, nil
	}
	passKey := l.t("pass --sign-key FILE (an OpenSSH private key, or an armored OpenPGP secret key, without a passphrase)",
		"请用 --sign-key 文件 指定密钥（OpenSSH 私钥，或 ASCII 封装的 OpenPGP 私钥，均不可设口令）")
	switch cfg.Format {
	case "ssh":
		return o.sshConfigKey(cfg, passKey, l)
	case "openpgp":
		if !o.commit {
			return &commitKey{pgpID: cfg.Key, from: "git config user.signingkey"}, nil
		}
		what := l.t("the gpg key of your user.email", "与 user.email 对应的 gpg 密钥")
		if cfg.Key != "" {
			what = l.t("gpg key "+cfg.Key+" (user.signingkey)", "gpg 密钥 "+cfg.Key+"（user.signingkey）")
		}
		return nil, fmt.Errorf(l.t("git's commit.gpgsign is on with gpg.format openpgp, so git signs with %s from a gpg keyring; relgate does not run gpg and cannot read the keyring, so it cannot sign: %s",
			"git 的 commit.gpgsign 已开启且 gpg.format 为 openpgp，git 用 gpg 密钥环中的%s签名；relgate 不调用 gpg，无法读取密钥环，因而无法签名：%s"), what, passKey)
	default:
		return nil, fmt.Errorf(l.t("git's gpg.format is %s: relgate signs and verifies only OpenPGP and SSH signatures; %s",
			"git 的 gpg.format 为 %s：relgate 只支持 OpenPGP 与 SSH 签名；%s"), cfg.Format, passKey)
	}
}

// sshConfigKey reads the key of gpg.format=ssh: user.signingkey names a
// private key file, or a public key file (.pub) beside its private key;
// "key::" literals need ssh-agent, which relgate does not use.
func (o *approveOptions) sshConfigKey(cfg gitrepo.SigningConfig, passKey string, l approveLang) (*commitKey, error) {
	const from = "git config user.signingkey"
	switch {
	case cfg.Key == "":
		return nil, fmt.Errorf(l.t("git's commit.gpgsign is on with gpg.format ssh, but user.signingkey is not set: set it to your SSH private key file (git config user.signingkey ~/.ssh/id_ed25519) or %s",
			"git 的 commit.gpgsign 已开启且 gpg.format 为 ssh，但未设置 user.signingkey：请将其设为 SSH 私钥文件（git config user.signingkey ~/.ssh/id_ed25519），或%s"), passKey)
	case strings.HasPrefix(cfg.Key, "key::"):
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(strings.TrimPrefix(cfg.Key, "key::")))
		if !o.commit && err == nil {
			return &commitKey{ssh: pub, from: from}, nil
		}
		return nil, fmt.Errorf(l.t("git's user.signingkey is a key:: literal, a public key whose private half ssh-agent holds; relgate does not use ssh-agent: set user.signingkey to the private key file instead, or %s",
			"git 的 user.signingkey 是 key:: 形式的公钥，其私钥由 ssh-agent 保管；relgate 不使用 ssh-agent：请将 user.signingkey 改为私钥文件，或%s"), passKey)
	}
	p := gitrepo.ExpandHome(cfg.Key)
	priv := strings.TrimSuffix(p, ".pub")
	if !o.commit {
		// Git signs with the private key (asking for its passphrase if it
		// has one); its public half says whether the signature will count.
		for _, f := range []string{p, priv + ".pub"} {
			if data, err := os.ReadFile(f); err == nil {
				if pub, _, _, _, err := ssh.ParseAuthorizedKey(data); err == nil {
					return &commitKey{ssh: pub, from: from}, nil
				}
			}
		}
	}
	if priv == p {
		if data, err := os.ReadFile(p); err == nil && !strings.Contains(string(data), "PRIVATE KEY") {
			return nil, fmt.Errorf(l.t("git's user.signingkey %s is a public key whose private key is not beside it (as %s without .pub); relgate does not use ssh-agent: %s",
				"git 的 user.signingkey %s 是公钥，但旁边没有对应的私钥（去掉 .pub 的同名文件）；relgate 不使用 ssh-agent：%s"), cfg.Key, p, passKey)
		}
	}
	k, err := readSignKeyFile(priv, from+" "+cfg.Key, l)
	if err != nil {
		return nil, err
	}
	if k.ssh == nil {
		return nil, fmt.Errorf(l.t("git's user.signingkey %s (gpg.format ssh) is not an SSH private key", "git 的 user.signingkey %s（gpg.format 为 ssh）不是 SSH 私钥"), cfg.Key)
	}
	return k, nil
}

// readSignKeyFile reads a private key that signs: OpenSSH (git's
// gpg.format=ssh) or armored OpenPGP.
func readSignKeyFile(file, from string, l approveLang) (*commitKey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf(l.t("read signing key: %w", "读取签名密钥：%w"), err)
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf(l.t("signing key %s is larger than 1 MiB: not a key", "签名密钥 %s 大于 1 MiB：不是密钥"), file)
	}
	s := string(data)
	if strings.Contains(s, "PRIVATE KEY") && !strings.Contains(s, "PGP") {
		key, err := ssh.ParsePrivateKey(data)
		var pass *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pass):
			return nil, fmt.Errorf(l.t("signing key %s is protected by a passphrase; relgate cannot ask for it: use a key without one, kept where only you can read it",
				"签名密钥 %s 设有口令；relgate 无法询问口令：请使用无口令的密钥，并确保只有本人可读"), file)
		case err != nil:
			return nil, fmt.Errorf(l.t("read signing key %s: %w", "读取签名密钥 %s：%w"), file, err)
		}
		return &commitKey{signer: gitrepo.SSHSigner{Key: key}, ssh: key.PublicKey(), from: from}, nil
	}
	ring, err := openpgp.ReadArmoredKeyRing(strings.NewReader(s))
	if err != nil {
		return nil, fmt.Errorf(l.t("read signing key %s: %w (want an OpenSSH private key or an armored OpenPGP secret key)",
			"读取签名密钥 %s：%w（需要 OpenSSH 私钥或 ASCII 封装的 OpenPGP 私钥）"), file, err)
	}
	if len(ring) == 0 || ring[0].PrivateKey == nil {
		return nil, fmt.Errorf(l.t("read signing key %s: no private key (a public key cannot sign)", "读取签名密钥 %s：没有私钥（公钥无法签名）"), file)
	}
	if ring[0].PrivateKey.Encrypted {
		return nil, fmt.Errorf(l.t("signing key %s is protected by a passphrase; relgate needs an unlocked key", "签名密钥 %s 设有口令；relgate 需要未加密的密钥"), file)
	}
	return &commitKey{signer: pgpSigner{ring[0]}, pgp: ring[0], from: from}, nil
}

// pgpSigner signs a commit as go-git's SignKey does: an armored detached
// OpenPGP signature.
type pgpSigner struct{ e *openpgp.Entity }

var _ git.Signer = pgpSigner{}

// Sign implements go-git's Signer.
func (s pgpSigner) Sign(message io.Reader) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, s.e, message, nil); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// authProblem says why a commit of the approval, authored by login and
// signed with key (nil: unsigned), would not be authenticated under pol, by
// evaluate.Authenticate's rules: a signature by a key pol lists for them, or
// authorship when pol trusts it. Empty when it would be.
func authProblem(pol *policy.Policy, login string, key *commitKey, commit bool, l approveLang) string {
	person, ok := pol.Person(login)
	if !ok {
		return fmt.Sprintf(l.t("%s is not a person of the policy in force", "%s 不是现行策略中的人员"), login)
	}
	if key != nil && keyListed(person.SigningKeys, key) {
		return ""
	}
	if pol.TrustCommitAuthor {
		return "" // the commit is authored with their email
	}
	addKey := fmt.Sprintf(l.t("list your public key for %s in relgate.yaml people[].signingKeys (a policy change the process approver approves)",
		"请在 relgate.yaml 的 people[].signingKeys 中为 %s 登记公钥（属策略变更，须流程审批人审批）"), login)
	var why string
	switch {
	case key == nil && len(person.SigningKeys) == 0:
		why = fmt.Sprintf(l.t("approvals must be signed (trustCommitAuthor is off), but no signing key is configured (no --sign-key; git's commit.gpgsign is off) and the policy lists none for %s: %s, then sign with --sign-key FILE or git config commit.gpgsign true, gpg.format ssh and user.signingkey",
			"审批必须签名（trustCommitAuthor 已关闭），但未配置签名密钥（未给出 --sign-key；git 的 commit.gpgsign 未开启），策略中也未给 %s 登记密钥：%s，然后用 --sign-key 文件，或 git config commit.gpgsign true、gpg.format ssh 与 user.signingkey 签名"),
			login, addKey)
	case key == nil:
		why = fmt.Sprintf(l.t("approvals must be signed (trustCommitAuthor is off), but no signing key is configured: pass --sign-key FILE with a key relgate.yaml lists for %s, or set git config commit.gpgsign true, gpg.format ssh and user.signingkey",
			"审批必须签名（trustCommitAuthor 已关闭），但未配置签名密钥：请用 --sign-key 文件 指定 relgate.yaml 为 %s 登记的密钥，或设置 git config commit.gpgsign true、gpg.format ssh 与 user.signingkey"), login)
	case len(person.SigningKeys) == 0:
		why = fmt.Sprintf(l.t("approvals must be signed (trustCommitAuthor is off), and the commit would be signed with %s, but the policy lists no signing key for %s: %s",
			"审批必须签名（trustCommitAuthor 已关闭），提交将用%s签名，但策略中未给 %s 登记签名密钥：%s"), key.describe(), login, addKey)
	default:
		why = fmt.Sprintf(l.t("approvals must be signed (trustCommitAuthor is off), and the commit would be signed with %s, which relgate.yaml does not list for %s in people[].signingKeys: sign with a listed key, or %s",
			"审批必须签名（trustCommitAuthor 已关闭），提交将用%s签名，但 relgate.yaml 的 people[].signingKeys 未给 %s 登记该密钥：请用已登记的密钥签名，或%s"), key.describe(), login, addKey)
	}
	if !commit && key != nil && key.pgpID != "" && !keyListed(person.SigningKeys, key) {
		why += l.t(" (relgate compared the key id in user.signingkey with the listed keys; it cannot read your gpg keyring)",
			"（relgate 将 user.signingkey 中的密钥标识与已登记的密钥比对；它无法读取你的 gpg 密钥环）")
	}
	return why
}

// keyListed reports whether key is one of the listed public keys (armored
// OpenPGP or SSH authorized-key lines), as gitrepo.VerifyCommit reads them.
func keyListed(listed []string, key *commitKey) bool {
	for _, k := range listed {
		switch {
		case key.ssh != nil:
			if pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k)); err == nil && bytes.Equal(pub.Marshal(), key.ssh.Marshal()) {
				return true
			}
		case strings.Contains(k, "BEGIN PGP PUBLIC KEY BLOCK"):
			ring, err := openpgp.ReadArmoredKeyRing(strings.NewReader(k))
			if err != nil {
				continue
			}
			for _, e := range ring {
				if key.pgp != nil && bytes.Equal(e.PrimaryKey.Fingerprint, key.pgp.PrimaryKey.Fingerprint) {
					return true
				}
				if key.pgpID != "" && pgpNames(e, key.pgpID) {
					return true
				}
			}
		}
	}
	return false
}

// pgpNames reports whether git's user.signingkey id names entity e: a key
// id or fingerprint (hex, of the primary key or a subkey) or a part of a
// user id, as gpg -u matches it.
func pgpNames(e *openpgp.Entity, id string) bool {
	hex := strings.ToUpper(strings.TrimSuffix(strings.TrimPrefix(strings.ReplaceAll(id, " ", ""), "0x"), "!"))
	if len(hex) >= 8 && strings.Trim(hex, "0123456789ABCDEF") == "" {
		fps := [][]byte{e.PrimaryKey.Fingerprint}
		for _, s := range e.Subkeys {
			fps = append(fps, s.PublicKey.Fingerprint)
		}
		for _, fp := range fps {
			if strings.HasSuffix(fmt.Sprintf("%X", fp), hex) {
				return true
			}
		}
		return false
	}
	for name := range e.Identities {
		if strings.Contains(strings.ToLower(name), strings.ToLower(id)) {
			return true
		}
	}
	return false
}

// commitFile commits one file of the work tree, authored by person, signed
// with --sign-key when given (record-deployment commits its receipt so).
func (o *approveOptions) commitFile(dir, p string, person *document.Person, msg string, when time.Time) (string, error) {
	var key *commitKey
	if o.signKey != "" {
		k, err := readSignKeyFile(o.signKey, "--sign-key "+o.signKey, "en")
		if err != nil {
			return "", err
		}
		key = k
	}
	return commitApproval(dir, p, person, key, msg, when)
}

// readSigningKey reads an armored OpenPGP private key (reconcile and serve
// sign the bot's commits with it).
func readSigningKey(file string) (*openpgp.Entity, error) {
	k, err := readSignKeyFile(file, file, "en")
	if err != nil {
		return nil, err
	}
	if k.pgp == nil {
		return nil, fmt.Errorf("signing key %s: want an armored OpenPGP private key", file)
	}
	return k.pgp, nil
}

// commitApproval commits one file of the work tree, authored by the
// approver, signed with key when there is one.
func commitApproval(dir, p string, person *document.Person, key *commitKey, msg string, when time.Time) (string, error) {
	r, err := gitrepo.Open(dir)
	if err != nil {
		return "", err
	}
	defer r.Close()
	prefix, err := r.Prefix(dir)
	if err != nil {
		return "", err
	}
	wt, err := r.Git.Worktree()
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", p, err)
	}
	full := p
	if prefix != "" {
		full = prefix + "/" + p
	}
	if err := wt.AddWithOptions(&git.AddOptions{Path: full, SkipStatus: true}); err != nil {
		return "", fmt.Errorf("stage %s: %w", p, err)
	}
	sig := &object.Signature{Name: person.Name, Email: person.Email, When: when}
	opts := &git.CommitOptions{Author: sig, Committer: sig}
	if key != nil {
		opts.Signer = key.signer
	}
	h, err := wt.Commit(msg, opts)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", p, err)
	}
	return h.String(), nil
}
