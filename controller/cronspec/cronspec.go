// Package cronspec is relgate's cron grammar for the policy's schedules: it
// parses a specification once, with errors a user can act on, and computes
// its run times correctly across daylight-saving changes.
//
// Grammar: exactly five fields, minute (0-59) hour (0-23) day-of-month
// (1-31) month (1-12 or jan-dec) day-of-week (0-7 or sun-sat; 0 and 7 are
// Sunday). A field is a comma-separated list of *, a value, or a range a-b,
// each optionally followed by a step /n (*/15, 8-18/2). Or one of the words
// @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly. There
// is no seconds field, no @every and no TZ= or CRON_TZ= prefix: a schedule
// runs in the policy's timezone. Names and words are case-insensitive.
//
// Days: when day-of-month and day-of-week are both restricted, a day matches
// if either matches (classic cron); a field that allows all its values (*,
// 1-31, */1) does not restrict. Unlike Vixie cron, a field such as */2 in
// day-of-week counts as restricted.
//
// Rejected because they would surprise: a specification that can never run
// (0 0 31 2 *), a step larger than its range (*/90 is not every 90 minutes),
// a/n without a range end, Quartz's ? L W #, and anything over MaxLen bytes.
//
// Daylight saving (Schedule.Next): every local time a specification names
// runs exactly once. A local time skipped when clocks go forward runs at the
// transition, the first instant after the gap (2:30 on a spring-forward day
// in America/New_York runs at 3:00 EDT; 2:00, 2:15 and 2:30 all run once
// there). A local time repeated when clocks go back runs at its first
// occurrence only (1:30 runs at 1:30 EDT, not again at 1:30 EST).
package cronspec

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// MaxLen bounds a specification's length in bytes.
const MaxLen = 200

// Field names, as used in Error.Field.
const (
	FieldMinute     = "minute"
	FieldHour       = "hour"
	FieldDayOfMonth = "day-of-month"
	FieldMonth      = "month"
	FieldDayOfWeek  = "day-of-week"
)

var fieldZh = map[string]string{FieldMinute: "分钟", FieldHour: "小时", FieldDayOfMonth: "日", FieldMonth: "月", FieldDayOfWeek: "星期"}

// Error says what is wrong with a specification, in English and Chinese.
type Error struct {
	Spec string
	// Field is the cron field at fault, or "" for the specification as a whole.
	Field string
	Msg   string // English
	Zh    string // Chinese
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%q: %s / %s", e.Spec, e.Msg, e.Zh)
	}
	return fmt.Sprintf("%q: %s field: %s / %s字段：%s", e.Spec, e.Field, e.Msg, fieldZh[e.Field], e.Zh)
}

// Spec is a parsed specification: the set of values each field allows.
type Spec struct {
	text           string
	minute         uint64 // bits 0-59
	hour           uint32 // bits 0-23
	dom            uint32 // bits 1-31
	month          uint16 // bits 1-12
	dow            uint8  // bits 0-6
	domAll, dowAll bool
}

// String returns the specification as written.
func (s *Spec) String() string { return s.text }

var words = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

type field struct {
	name     string
	unit     string // plural, for messages
	min, max int
	names    map[string]int
}

var fields = [5]field{
	{FieldMinute, "minutes", 0, 59, nil},
	{FieldHour, "hours", 0, 23, nil},
	{FieldDayOfMonth, "days", 1, 31, nil},
	{FieldMonth, "months", 1, 12, map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}},
	{FieldDayOfWeek, "days", 0, 7, map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}},
}

// Parse checks a specification against relgate's grammar. Any error is an
// *Error; Parse never panics (a recover turns a bug into an error).
func Parse(spec string) (s *Spec, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, &Error{Spec: spec, Msg: fmt.Sprintf("cannot be read (internal error: %v)", r), Zh: "无法解析（内部错误）"}
		}
	}()
	return parse(spec)
}

func parse(spec string) (*Spec, error) {
	fail := func(msg, zh string) (*Spec, error) { return nil, &Error{Spec: spec, Msg: msg, Zh: zh} }
	if len(spec) > MaxLen {
		return nil, &Error{Spec: spec[:MaxLen] + "…", Msg: fmt.Sprintf("is longer than %d bytes", MaxLen), Zh: fmt.Sprintf("超过 %d 字节", MaxLen)}
	}
	for _, r := range spec {
		if (r < ' ' || r > '~') && r != '\t' {
			return fail(fmt.Sprintf("contains the character %q; a schedule is plain ASCII on one line", r),
				fmt.Sprintf("含有字符 %q；定时表达式只能是单行 ASCII 字符", r))
		}
	}
	text := strings.TrimSpace(spec)
	if text == "" {
		return fail("is empty; write five fields: minute hour day-of-month month day-of-week, e.g. */15 * * * *",
			"为空；请写五个字段：分 时 日 月 周，例如 */15 * * * *")
	}
	up := strings.ToUpper(text)
	if strings.HasPrefix(up, "TZ=") || strings.HasPrefix(up, "CRON_TZ=") {
		return fail("a TZ= or CRON_TZ= prefix is not allowed: schedules run in the policy's timezone (the timezone field of relgate.yaml)",
			"不允许 TZ= 或 CRON_TZ= 前缀：定时任务按策略时区运行（relgate.yaml 的 timezone 字段）")
	}
	if strings.HasPrefix(text, "@") {
		w := strings.ToLower(strings.Fields(text)[0])
		if w == "@every" {
			if d, err := time.ParseDuration(strings.TrimSpace(text[len("@every"):])); err == nil && d < time.Minute {
				return fail("@every is not allowed, and this one would run more often than once a minute; write five fields such as * * * * *",
					"不允许 @every，且此表达式每分钟运行不止一次；请写五个字段，例如 * * * * *")
			}
			return fail("@every is not allowed: a schedule names times of day; write five fields such as */15 * * * *",
				"不允许 @every：定时表达式表示一天中的时刻；请写五个字段，例如 */15 * * * *")
		}
		exp, ok := words[w]
		if !ok || len(strings.Fields(text)) != 1 {
			return fail("is not one of @yearly @annually @monthly @weekly @daily @midnight @hourly",
				"不是 @yearly @annually @monthly @weekly @daily @midnight @hourly 之一")
		}
		s, err := parse(exp)
		if err != nil {
			return nil, err
		}
		s.text = text
		return s, nil
	}
	parts := strings.Fields(text)
	switch n := len(parts); {
	case n == 6 || n == 7:
		return fail(fmt.Sprintf("has %d fields: relgate schedules have no seconds (or year) field and run at most once a minute; write five: minute hour day-of-month month day-of-week", n),
			fmt.Sprintf("有 %d 个字段：relgate 定时表达式没有秒（或年）字段，每分钟至多运行一次；请写五个字段：分 时 日 月 周", n))
	case n != 5:
		return fail(fmt.Sprintf("has %d fields; write five: minute hour day-of-month month day-of-week, e.g. */15 * * * *", n),
			fmt.Sprintf("有 %d 个字段；请写五个字段：分 时 日 月 周，例如 */15 * * * *", n))
	}
	var sets [5]uint64
	for i, p := range parts {
		set, err := parseField(spec, fields[i], p)
		if err != nil {
			return nil, err
		}
		sets[i] = set
	}
	if sets[4]&(1<<7) != 0 { // 7 is Sunday
		sets[4] = sets[4]&^(1<<7) | 1
	}
	s := &Spec{text: text, minute: sets[0], hour: uint32(sets[1]), dom: uint32(sets[2]), month: uint16(sets[3]), dow: uint8(sets[4])}
	s.domAll = bits.OnesCount32(s.dom) == 31
	s.dowAll = bits.OnesCount8(s.dow) == 7
	if !s.domAll && s.dowAll && !s.someDateExists() {
		return nil, &Error{Spec: spec, Field: FieldDayOfMonth,
			Msg: "never runs: no month it allows has the days it names (February has at most 29 days; April, June, September and November 30)",
			Zh:  "永远不会运行：所列月份中没有这些日期（二月最多 29 天；四、六、九、十一月为 30 天）"}
	}
	return s, nil
}

// someDateExists reports whether a month of the spec has a day of it
// (February 29 counts: it comes in leap years).
func (s *Spec) someDateExists() bool {
	days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	for m := 1; m <= 12; m++ {
		if s.month&(1<<m) == 0 {
			continue
		}
		if s.dom&(uint32(1)<<(days[m]+1)-1) != 0 {
			return true
		}
	}
	return false
}

func parseField(spec string, f field, text string) (uint64, error) {
	fail := func(msg, zh string) (uint64, error) {
		return 0, &Error{Spec: spec, Field: f.name, Msg: fmt.Sprintf("%q: %s", text, msg), Zh: fmt.Sprintf("%q：%s", text, zh)}
	}
	var set uint64
	for _, item := range strings.Split(text, ",") {
		if item == "" {
			return fail("a list has an empty item", "列表中有空项")
		}
		if u := strings.ToUpper(item); strings.ContainsAny(u, "?#") || f.name != FieldMonth && (u == "L" || strings.HasSuffix(u, "W") || strings.HasSuffix(u, "L")) {
			return fail("?, L, W and # are not part of the grammar; use *, lists, ranges and steps",
				"不支持 ?、L、W 和 #；请使用 *、列表、范围和步长")
		}
		rng, stepText, hasStep := strings.Cut(item, "/")
		lo, hi := f.min, f.max
		if f.name == FieldDayOfWeek {
			hi = 6 // * is Sunday to Saturday once; 7 is only an alias
		}
		isRange := rng == "*"
		if !isRange {
			a, b, dash := strings.Cut(rng, "-")
			var err error
			if lo, err = value(f, a); err != nil {
				return fail(err.Error(), zhValue(f))
			}
			hi = lo
			if dash {
				isRange = true
				if hi, err = value(f, b); err != nil {
					return fail(err.Error(), zhValue(f))
				}
				if hi < lo {
					return fail(fmt.Sprintf("the range runs backwards (%d after %d); write it low-high", lo, hi),
						fmt.Sprintf("范围倒置（%d 大于 %d）；请按 小-大 书写", lo, hi))
				}
			}
		}
		step := 1
		if hasStep {
			if !isRange {
				return fail(fmt.Sprintf("a step needs a range: write %s-%d/%s or */%s", rng, f.max, stepText, stepText),
					fmt.Sprintf("步长需要范围：请写 %s-%d/%s 或 */%s", rng, f.max, stepText, stepText))
			}
			n, err := number(stepText)
			if err != nil || n < 1 {
				return fail("the step is not a whole number of at least 1", "步长须为不小于 1 的整数")
			}
			if n > 1 && n > hi-lo {
				return fail(fmt.Sprintf("step %d is larger than the range %d-%d: it selects only %d, and cron cannot run every %d %s", n, lo, hi, lo, n, f.unit),
					fmt.Sprintf("步长 %d 大于范围 %d-%d：只会选中 %d，cron 无法表示每 %d 个单位运行一次", n, lo, hi, lo, n))
			}
			step = n
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

func zhValue(f field) string {
	if f.names != nil {
		return fmt.Sprintf("取值须为 %d-%d 或英文缩写", f.min, f.max)
	}
	return fmt.Sprintf("取值须为 %d-%d", f.min, f.max)
}

// value reads one value of a field: a number in range or a name.
func value(f field, s string) (int, error) {
	if v, ok := f.names[strings.ToLower(s)]; ok {
		return v, nil
	}
	n, err := number(s)
	if err != nil || n < f.min || n > f.max {
		if f.names != nil {
			return 0, fmt.Errorf("each value is %d-%d or a name such as %s", f.min, f.max, map[string]string{FieldMonth: "jan", FieldDayOfWeek: "mon"}[f.name])
		}
		return 0, fmt.Errorf("each value is a number %d-%d", f.min, f.max)
	}
	return n, nil
}

// number reads a short unsigned decimal (no sign, no spaces).
func number(s string) (int, error) {
	if s == "" || len(s) > 3 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	return strconv.Atoi(s)
}
