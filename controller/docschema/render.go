package docschema

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Hints are what the repository knows that makes a message precise: the
// language to write it in, the people of the policy (for a login that does
// not match, the closest), the names of its gates, roles and release types,
// and its timezone (to show a time with its offset).
type Hints struct {
	// Lang is en or zh; anything else is zh, the procedure's language.
	Lang   string
	Logins []string
	Names  []string
	// Location is the policy's timezone, for the offset a time without one
	// should have; nil means Asia/Shanghai, the procedure's.
	Location *time.Location
}

// Render writes a problem as a sentence in the hints' language. A problem
// without a Code (one of another stage) keeps its Message.
func Render(p Problem, h Hints) string {
	if p.Code == "" {
		return p.Message
	}
	pr := printer(h.Lang)
	zh := h.Lang != "en"
	t := func(key string, args ...any) string {
		// Numbers are lines, lengths and counts: written as digits, without
		// the grouping the printer would give them (line 1,234).
		for i, a := range args {
			if n, ok := a.(int); ok {
				args[i] = strconv.Itoa(n)
			}
		}
		return pr.Sprintf(key, args...)
	}
	title := localTitle(p.Title, zh)
	q := strconv.Quote
	switch p.Code {
	case "required":
		var msg string
		if title != "" {
			msg = t("required", p.Name, title)
		} else {
			msg = t("required.notitle", p.Name)
		}
		return withReason(t, msg, p.Reason, zh)
	case "unknown":
		allowed := strings.Join(p.Want, ", ")
		if len(p.Want) == 0 {
			return t("unknown.none", q(p.Name))
		}
		if p.Hint != "" {
			return t("unknown.suggest", q(p.Name), p.Hint, allowed)
		}
		return t("unknown", q(p.Name), allowed)
	case "type":
		want := make([]string, len(p.Want))
		for i, w := range p.Want {
			want[i] = t("t." + w)
		}
		msg := t("type", joinOr(t, want), t("t."+p.Got))
		switch p.Hint {
		case "quote":
			msg = t("type.quote", msg, p.Value)
		case "bool":
			msg = t("type.bool", msg)
		}
		return msg
	case "empty":
		if title == "" {
			return t("empty.notitle")
		}
		if !zh {
			title = lowerFirst(title)
		}
		return t("empty", title)
	case "min-length":
		return t("min-length", p.Limit, p.Count)
	case "max-length":
		return t("max-length", p.Limit, p.Count)
	case "min-items":
		key := "min-items"
		if p.Limit == 1 {
			key = "min-items.one"
		}
		if title == "" {
			title = p.Name
		}
		return t(key, p.Limit, title, p.Count)
	case "unique-items":
		return t("unique-items", p.Limit, p.Count)
	case "const":
		var msg string
		if p.Value == "" {
			msg = t("const.missing", p.Want[0])
		} else {
			msg = t("const", p.Want[0], p.Value)
		}
		return withReason(t, msg, p.Reason, zh)
	case "enum":
		allowed := strings.Join(p.Want, ", ")
		raw := make([]string, len(p.Want))
		for i, w := range p.Want {
			raw[i] = strings.Trim(w, `"`)
		}
		if c := closest(strings.Trim(p.Value, `"`), raw, 1); len(c) > 0 {
			return t("enum.suggest", p.Value, allowed, c[0])
		}
		return t("enum", p.Value, allowed)
	case "minimum", "maximum":
		return t(p.Code, p.Want[0], p.Value)
	case "min-properties":
		return t("min-properties", p.Limit)
	case "date-time":
		return dateTime(t, p.Value, h.Location)
	case "date", "email", "uri":
		return t(p.Code, q(p.Value))
	case "property-name":
		return t("property-name", q(p.Value))
	case "pattern":
		return pattern(t, p, h)
	case "yaml.anchor":
		if p.Value != "" {
			return t("yaml.anchor.used", p.Name, p.Value)
		}
		return t("yaml.anchor", p.Name)
	case "yaml.duplicate":
		return t("yaml.duplicate", q(p.Name), p.Limit)
	case "yaml.tag", "yaml.syntax":
		return t(p.Code, p.Value)
	case "yaml.alias", "yaml.key", "yaml.empty", "yaml.second-document", "yaml.no-document", "yaml.not-mapping":
		return t(p.Code)
	case "layout.symlink", "layout.misplaced", "layout.no-policy":
		return t(p.Code)
	case "layout.unknown-file":
		return t(p.Code, strings.Join(p.Want, ", "))
	case "yaml.too-large":
		return t(p.Code, p.Limit)
	case "header.api-version-missing", "header.kind-missing":
		return t(p.Code, p.Want[0])
	case "header.api-version", "header.kind":
		return t(p.Code, p.Want[0], q(p.Value))
	}
	return t("other", p.Message)
}

func withReason(t func(string, ...any) string, msg, reason string, zh bool) string {
	r := localTitle(reason, zh)
	r = strings.TrimSpace(clauseParens.ReplaceAllString(r, ""))
	r = strings.TrimRight(r, ".。")
	if r == "" {
		return msg
	}
	if !zh {
		r = lowerFirst(r)
	}
	return t("reason", msg, r)
}

var clauseParens = regexp.MustCompile(`[(（]\s*R-[0-9.,\sR-]*[)）]`)

func joinOr(t func(string, ...any) string, parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	out := parts[len(parts)-1]
	for i := len(parts) - 2; i >= 0; i-- {
		out = t("t.or", parts[i], out)
	}
	return out
}

// localTitle picks the part of a bilingual "English / 中文" text.
func localTitle(s string, zh bool) string {
	en, cn, ok := strings.Cut(s, " / ")
	if !ok {
		return strings.TrimSpace(s)
	}
	if zh {
		return strings.TrimSpace(cn)
	}
	return strings.TrimSpace(en)
}

// lowerFirst lowercases the first letter of a title ("Purpose" -> "purpose")
// unless the word is an acronym ("CMDB item").
func lowerFirst(s string) string {
	if len(s) < 2 || s[0] < 'A' || s[0] > 'Z' || (s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

var localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05.999999999"}

// dateTime says what is wrong with a time and writes the value as it should
// be, with the policy's offset at that moment when the value gives no offset.
func dateTime(t func(string, ...any) string, v string, loc *time.Location) string {
	if loc == nil {
		loc = defaultLocation()
	}
	q := strconv.Quote(v)
	s := strings.TrimSpace(v)
	fix := func(tt time.Time) string { return tt.In(loc).Format(time.RFC3339) }
	for _, layout := range localLayouts {
		if tt, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t("date-time.offset", q, fix(tt))
		}
	}
	if strings.Count(s, " ") == 1 {
		ts := strings.Replace(s, " ", "T", 1)
		if tt, err := time.Parse(time.RFC3339, ts); err == nil {
			return t("date-time.space", q, tt.Format(time.RFC3339))
		}
		for _, layout := range localLayouts {
			if tt, err := time.ParseInLocation(layout, ts, loc); err == nil {
				return t("date-time.offset", q, fix(tt))
			}
		}
	}
	if tt, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t("date-time.date", q, fix(tt))
	}
	// Lowercase t or z, which RFC 3339 allows but the schema's checker may not.
	return t("date-time", q, exampleTime(loc))
}

func exampleTime(loc *time.Location) string {
	return time.Date(2026, 12, 12, 22, 0, 0, 0, loc).Format(time.RFC3339)
}

func defaultLocation() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("+08:00", 8*3600)
}

// Known patterns of the schemas and how to say them.
const (
	patLogin   = `^[A-Za-z0-9][A-Za-z0-9-]{0,38}$`
	patRelease = `^REL-[0-9]{4}-[0-9]{4,6}$`
	patChange  = `^CHG-[0-9]{4}-[0-9]{4,6}$`
	patDigest  = `^sha256:[0-9a-f]{64}$`
	patItem    = `^[a-z0-9][a-z0-9-]{0,62}$`
	patName30  = `^[a-z][a-z0-9-]{0,30}$`
	patName40  = `^[a-z][a-z0-9-]{0,40}$`
	patToken63 = `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`
	patToken25 = `^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`
	patQuarter = `^[0-9]{4}Q[1-4]$`
	patRepo    = `^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$`
	patCommit  = `^[0-9a-f]{40}([0-9a-f]{24})?$`
)

func pattern(t func(string, ...any) string, p Problem, h Hints) string {
	q := strconv.Quote(p.Value)
	re, _ := regexp.Compile(p.Want[0])
	// suggest offers a corrected value when a simple fix makes it match.
	suggest := func(msg string, fixes ...string) string {
		for _, f := range fixes {
			if re != nil && f != p.Value && re.MatchString(f) {
				return t("suggest", msg, strconv.Quote(f))
			}
		}
		return msg
	}
	trimmed := strings.TrimSpace(p.Value)
	switch p.Want[0] {
	case patLogin:
		if trimmed == "" {
			msg := t("pattern.login.empty")
			if len(h.Logins) > 0 {
				msg = t("people", msg, strings.Join(firstN(sortedCopy(h.Logins), 8), ", "))
			}
			return msg
		}
		msg := t("pattern.login", q)
		if c := closest(p.Value, h.Logins, 3); len(c) > 0 {
			return t("closest.people", msg, strings.Join(c, ", "))
		}
		return suggest(msg, trimmed, strings.ReplaceAll(trimmed, "_", "-"), strings.ReplaceAll(trimmed, ".", "-"))
	case patRelease:
		return suggest(t("pattern.release", q), idFix(trimmed, "REL"))
	case patChange:
		return suggest(t("pattern.change", q), idFix(trimmed, "CHG"))
	case patDigest:
		key := "pattern.digest"
		if p.Hint == "approval" {
			key = "pattern.digest.approval"
		}
		low := strings.ToLower(trimmed)
		return suggest(t(key, q), low, "sha256:"+low, strings.Replace(low, "sha256-", "sha256:", 1))
	case patItem:
		low := strings.ToLower(trimmed)
		return suggest(t("pattern.item", q), low, strings.NewReplacer("_", "-", " ", "-", ".", "-").Replace(low))
	case patName30, patName40:
		n := 31
		if p.Want[0] == patName40 {
			n = 41
		}
		msg := t("pattern.name", q, n)
		if c := closest(p.Value, h.Names, 3); len(c) > 0 {
			return t("closest.names", msg, strings.Join(c, ", "))
		}
		low := strings.ToLower(trimmed)
		return suggest(msg, low, strings.NewReplacer("_", "-", " ", "-").Replace(low))
	case patToken63, patToken25:
		n := 64
		if p.Want[0] == patToken25 {
			n = 255
		}
		return suggest(t("pattern.token", q, n), trimmed)
	case patQuarter:
		return suggest(t("pattern.quarter", q), strings.ToUpper(strings.ReplaceAll(trimmed, "-", "")))
	case patRepo:
		return suggest(t("pattern.repository", q), trimmed)
	case patCommit:
		return suggest(t("pattern.commit", q), strings.ToLower(trimmed))
	}
	if strings.Contains(p.Want[0], "BEGIN PGP PUBLIC KEY BLOCK") {
		return t("pattern.key")
	}
	return t("pattern", q, p.Want[0])
}

var idDigits = regexp.MustCompile(`^(?i:(REL|CHG))[-_ ]?([0-9]{4})[-_ ]?([0-9]{1,6})$`)

// idFix rewrites rel-2026-42 as REL-2026-0042.
func idFix(v, prefix string) string {
	m := idDigits.FindStringSubmatch(v)
	if m == nil || !strings.EqualFold(m[1], prefix) {
		return ""
	}
	return fmt.Sprintf("%s-%s-%04s", prefix, m[2], m[3])
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// closest returns up to n candidates nearest to v: the same up to case
// first, then those within a small edit distance (a third of the length,
// at least 2), nearest first.
func closest(v string, cands []string, n int) []string {
	type scored struct {
		s string
		d int
	}
	lv := strings.ToLower(v)
	limit := max(2, len([]rune(v))/3)
	var out []scored
	seen := map[string]bool{}
	for _, c := range cands {
		if c == v || seen[c] {
			continue
		}
		seen[c] = true
		d := distance(lv, strings.ToLower(c))
		if d <= limit {
			out = append(out, scored{c, d})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].s < out[j].s
	})
	var names []string
	for i := 0; i < len(out) && i < n; i++ {
		names = append(names, out[i].s)
	}
	return names
}

// distance is the optimal string alignment distance: insertions, deletions,
// substitutions and swaps of neighbours each cost one. Inputs are short
// (field names, logins), bounded by the schemas' length limits.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 || len(rb) > 256 {
		return len(ra) + len(rb)
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
