package calendar

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Bounds of a rule, so that every walk over it is short.
const (
	// MaxRuleLen bounds a rule's text in bytes.
	MaxRuleLen = 200
	// MaxInterval bounds INTERVAL: every 12 days, weeks or months at most.
	MaxInterval = 12
	// MaxCount bounds COUNT.
	MaxCount = 1000
	// MaxStartsPerDay bounds BYHOUR × BYMINUTE: a maintenance window opens
	// at most hourly, never minute by minute.
	MaxStartsPerDay = 24
)

// Freq is a rule's frequency. Only days, weeks and months: a window that
// opens every hour or minute is not a maintenance window.
type Freq int

// The frequencies of the subset.
const (
	Daily Freq = iota + 1
	Weekly
	Monthly
)

func (f Freq) String() string {
	return map[Freq]string{Daily: "DAILY", Weekly: "WEEKLY", Monthly: "MONTHLY"}[f]
}

// Rule is a parsed recurrence: the local wall-clock times at which a
// maintenance window opens, in the policy's timezone.
type Rule struct {
	text     string
	Freq     Freq
	Interval int // 1 when not given
	Count    int // 0: no COUNT
	// until is the last wall time (UNTIL in a date or local form), or
	// untilUTC the last instant (UNTIL ending in Z); both zero: none.
	until    time.Time // civil, in UTC
	untilUTC time.Time
	days     []byDay
	monthDay []int  // 1..31 or -31..-1
	months   uint16 // bits 1-12; 0: every month
	hours    uint32 // bits 0-23
	minutes  uint64 // bits 0-59
	wkst     time.Weekday
}

// byDay is one BYDAY entry: a weekday, and for MONTHLY its ordinal in the
// month (1SA is the first Saturday, -1SU the last Sunday; 0 is every one).
type byDay struct {
	day time.Weekday
	nth int
}

// String returns the rule as written (RRULE text, or the weekly form).
func (r *Rule) String() string { return r.text }

var weekdays = map[string]time.Weekday{"SU": time.Sunday, "MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday,
	"TH": time.Thursday, "FR": time.Friday, "SA": time.Saturday}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseRRule reads the RFC 5545 RRULE subset relgate accepts:
//
//	FREQ=DAILY|WEEKLY|MONTHLY (required)
//	INTERVAL=1..12, COUNT=1..1000 or UNTIL=YYYYMMDD[THHMMSS[Z]] (not both)
//	BYDAY=MO,TU,… (MONTHLY also 1SA, -1SU), BYMONTHDAY=1..31 or -31..-1
//	(MONTHLY and DAILY), BYMONTH=1..12, BYHOUR=0..23 (required),
//	BYMINUTE=0..59 (default 0), WKST=MO|SU
//
// An optional "RRULE:" prefix is allowed. WEEKLY needs BYDAY and MONTHLY
// needs BYDAY or BYMONTHDAY (relgate has no DTSTART time to take them from);
// with both, a day must match both, as RFC 5545 says. Every other part
// (SECONDLY, MINUTELY, HOURLY, BYSETPOS, BYWEEKNO, BYYEARDAY, BYSECOND,
// DTSTART) is refused. Any error is an *Error; ParseRRule never panics.
func ParseRRule(s string) (r *Rule, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, &Error{Msg: fmt.Sprintf("cannot be read (internal error: %v)", p), Zh: "无法解析（内部错误）"}
		}
	}()
	return parseRRule(s)
}

func parseRRule(s string) (*Rule, error) {
	fail := func(msg, zh string, args ...any) (*Rule, error) {
		return nil, &Error{Msg: fmt.Sprintf(msg, args...), Zh: fmt.Sprintf(zh, args...)}
	}
	if len(s) > MaxRuleLen {
		return fail("the rule is longer than %d bytes", "规则超过 %d 字节", MaxRuleLen)
	}
	for _, c := range s {
		if c < ' ' || c > '~' {
			return fail("the rule contains the character %q; an RRULE is plain ASCII on one line", "规则含有字符 %q；RRULE 只能是单行 ASCII 字符", c)
		}
	}
	text := strings.TrimSpace(s)
	body := text
	if len(body) >= 6 && strings.EqualFold(body[:6], "RRULE:") {
		body = body[6:]
	}
	if body == "" {
		return fail("the rule is empty; write for example FREQ=WEEKLY;BYDAY=SA;BYHOUR=22",
			"规则为空；请写例如 FREQ=WEEKLY;BYDAY=SA;BYHOUR=22")
	}
	r := &Rule{text: text, Interval: 1, wkst: time.Monday}
	seen := map[string]bool{}
	var hours, minutes []int
	for _, part := range strings.Split(body, ";") {
		name, value, ok := strings.Cut(part, "=")
		name = strings.ToUpper(strings.TrimSpace(name))
		value = strings.ToUpper(strings.TrimSpace(value))
		if !ok || name == "" || value == "" {
			return fail("%q is not NAME=VALUE; parts are separated by semicolons", "%q 不是 名称=值 的形式；各部分以分号分隔", part)
		}
		if seen[name] {
			return fail("%s is given twice", "%s 重复出现", name)
		}
		seen[name] = true
		var err error
		switch name {
		case "FREQ":
			switch value {
			case "DAILY":
				r.Freq = Daily
			case "WEEKLY":
				r.Freq = Weekly
			case "MONTHLY":
				r.Freq = Monthly
			case "SECONDLY", "MINUTELY", "HOURLY":
				return fail("FREQ=%s is not allowed: a maintenance window recurs daily, weekly or monthly at most often",
					"不允许 FREQ=%s：维护窗口至多按天、周或月重复", value)
			default:
				return fail("FREQ=%s is not one of DAILY, WEEKLY, MONTHLY", "FREQ=%s 不是 DAILY、WEEKLY、MONTHLY 之一", value)
			}
		case "INTERVAL":
			if r.Interval, err = number(value, 1, MaxInterval); err != nil {
				return fail("INTERVAL is a whole number from 1 to %d, not %s", "INTERVAL 须为 1 到 %d 的整数，而不是 %s", MaxInterval, value)
			}
		case "COUNT":
			if r.Count, err = number(value, 1, MaxCount); err != nil {
				return fail("COUNT is a whole number from 1 to %d, not %s", "COUNT 须为 1 到 %d 的整数，而不是 %s", MaxCount, value)
			}
		case "UNTIL":
			if err := r.parseUntil(value); err != nil {
				return fail("UNTIL=%s is not a date (20271231), a local time (20271231T235900) or a UTC time (20271231T155900Z)",
					"UNTIL=%s 不是日期（20271231）、本地时间（20271231T235900）或 UTC 时间（20271231T155900Z）", value)
			}
		case "BYDAY":
			for _, d := range strings.Split(value, ",") {
				bd, err := parseByDay(d)
				if err != nil {
					return fail("BYDAY %q is not a weekday (MO TU WE TH FR SA SU), optionally after an ordinal such as 1SA or -1SU",
						"BYDAY %q 不是星期（MO TU WE TH FR SA SU），可在前面加序号，例如 1SA 或 -1SU", d)
				}
				r.days = append(r.days, bd)
			}
		case "BYMONTHDAY":
			for _, d := range strings.Split(value, ",") {
				n, err := signed(d, 31)
				if err != nil {
					return fail("BYMONTHDAY %q is not a day of the month, 1 to 31 or -31 to -1 (-1 is the last day)",
						"BYMONTHDAY %q 不是月中的日期：1 到 31，或 -31 到 -1（-1 为最后一天）", d)
				}
				r.monthDay = append(r.monthDay, n)
			}
		case "BYMONTH":
			for _, m := range strings.Split(value, ",") {
				n, err := number(m, 1, 12)
				if err != nil {
					return fail("BYMONTH %q is not a month, 1 to 12", "BYMONTH %q 不是月份（1 到 12）", m)
				}
				r.months |= 1 << n
			}
		case "BYHOUR":
			for _, h := range strings.Split(value, ",") {
				n, err := number(h, 0, 23)
				if err != nil {
					return fail("BYHOUR %q is not an hour, 0 to 23", "BYHOUR %q 不是小时（0 到 23）", h)
				}
				hours = append(hours, n)
			}
		case "BYMINUTE":
			for _, m := range strings.Split(value, ",") {
				n, err := number(m, 0, 59)
				if err != nil {
					return fail("BYMINUTE %q is not a minute, 0 to 59", "BYMINUTE %q 不是分钟（0 到 59）", m)
				}
				minutes = append(minutes, n)
			}
		case "WKST":
			d, ok := weekdays[value]
			if !ok || d != time.Monday && d != time.Sunday {
				return fail("WKST is MO or SU, not %s", "WKST 须为 MO 或 SU，而不是 %s", value)
			}
			r.wkst = d
		case "BYSECOND", "BYSETPOS", "BYWEEKNO", "BYYEARDAY", "DTSTART", "RDATE", "EXDATE":
			return fail("%s is not part of relgate's RRULE subset; use FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE, WKST (the window's from field is its start date)",
				"%s 不在 relgate 支持的 RRULE 子集中；请使用 FREQ、INTERVAL、COUNT、UNTIL、BYDAY、BYMONTHDAY、BYMONTH、BYHOUR、BYMINUTE、WKST（窗口的 from 字段为开始日期）", name)
		default:
			return fail("%s is not an RRULE part; use FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYHOUR, BYMINUTE, WKST",
				"%s 不是 RRULE 的组成部分；请使用 FREQ、INTERVAL、COUNT、UNTIL、BYDAY、BYMONTHDAY、BYMONTH、BYHOUR、BYMINUTE、WKST", name)
		}
	}
	switch {
	case r.Freq == 0:
		return fail("FREQ is missing; write FREQ=DAILY, FREQ=WEEKLY or FREQ=MONTHLY", "缺少 FREQ；请写 FREQ=DAILY、FREQ=WEEKLY 或 FREQ=MONTHLY")
	case r.Count > 0 && seen["UNTIL"]:
		return fail("COUNT and UNTIL exclude each other (RFC 5545); keep one", "COUNT 与 UNTIL 不能同时使用（RFC 5545）；请保留其一")
	case len(hours) == 0:
		return fail("BYHOUR is missing: say at which hour the window opens, e.g. BYHOUR=22", "缺少 BYHOUR：请写明窗口在几点开始，例如 BYHOUR=22")
	case r.Freq == Weekly && len(r.days) == 0:
		return fail("FREQ=WEEKLY needs BYDAY, e.g. BYDAY=SA,SU", "FREQ=WEEKLY 需要 BYDAY，例如 BYDAY=SA,SU")
	case r.Freq == Weekly && len(r.monthDay) > 0:
		return fail("BYMONTHDAY does not go with FREQ=WEEKLY (RFC 5545); use FREQ=MONTHLY", "BYMONTHDAY 不能与 FREQ=WEEKLY 同用（RFC 5545）；请用 FREQ=MONTHLY")
	case r.Freq == Monthly && len(r.days) == 0 && len(r.monthDay) == 0:
		return fail("FREQ=MONTHLY needs BYMONTHDAY (BYMONTHDAY=1) or BYDAY (BYDAY=1SA)", "FREQ=MONTHLY 需要 BYMONTHDAY（BYMONTHDAY=1）或 BYDAY（BYDAY=1SA）")
	}
	for _, d := range r.days {
		if d.nth != 0 && r.Freq != Monthly {
			return fail("an ordinal in BYDAY (1SA, -1SU) needs FREQ=MONTHLY", "BYDAY 中的序号（1SA、-1SU）需要 FREQ=MONTHLY")
		}
	}
	if len(minutes) == 0 {
		minutes = []int{0}
	}
	for _, h := range hours {
		r.hours |= 1 << h
	}
	for _, m := range minutes {
		r.minutes |= 1 << m
	}
	if n := bits.OnesCount32(r.hours) * bits.OnesCount64(r.minutes); n > MaxStartsPerDay {
		return fail("BYHOUR and BYMINUTE open the window %d times a day; at most %d (a maintenance window is not minute by minute)",
			"BYHOUR 与 BYMINUTE 使窗口每天开启 %d 次；至多 %d 次（维护窗口不能按分钟重复）", n, MaxStartsPerDay)
	}
	return r, nil
}

func (r *Rule) parseUntil(v string) error {
	for _, l := range []struct {
		layout string
		utc    bool
	}{{"20060102T150405Z", true}, {"20060102T150405", false}, {"20060102", false}} {
		t, err := time.Parse(l.layout, v)
		if err != nil || len(v) != len(l.layout) {
			continue
		}
		switch {
		case l.utc:
			r.untilUTC = t
		case len(v) == 8:
			r.until = t.Add(24*time.Hour - time.Minute) // the whole day
		default:
			r.until = t
		}
		return nil
	}
	return fmt.Errorf("not a date")
}

func parseByDay(s string) (byDay, error) {
	if len(s) < 2 {
		return byDay{}, fmt.Errorf("short")
	}
	d, ok := weekdays[s[len(s)-2:]]
	if !ok {
		return byDay{}, fmt.Errorf("weekday")
	}
	if s[:len(s)-2] == "" {
		return byDay{day: d}, nil
	}
	n, err := signed(s[:len(s)-2], 5)
	if err != nil {
		return byDay{}, err
	}
	return byDay{day: d, nth: n}, nil
}

// number reads a short unsigned decimal in [lo, hi].
func number(s string, lo, hi int) (int, error) {
	if s == "" || len(s) > 4 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("not a number: %q", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not in %d-%d", s, lo, hi)
	}
	return n, nil
}

// signed reads ±1..max (an optional + or -), never 0.
func signed(s string, max int) (int, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	n, err := number(s, 1, max)
	if err != nil {
		return 0, err
	}
	if neg {
		n = -n
	}
	return n, nil
}

// WeeklyRule builds the rule of the readable form: weekly on days (mon …
// sun, any case) at start ("22:00", 24-hour). Errors are *Error with Field
// "days", "days", "<i>" or "start".
func WeeklyRule(days []string, start string) (*Rule, error) {
	r := &Rule{Freq: Weekly, Interval: 1, wkst: time.Monday}
	if len(days) == 0 {
		return nil, &Error{Field: []string{"days"}, Msg: "list at least one day, e.g. days: [sat, sun]", Zh: "请至少列出一天，例如 days: [sat, sun]"}
	}
	if len(days) > 7 {
		return nil, &Error{Field: []string{"days"}, Msg: "a week has seven days; list each at most once", Zh: "一周只有七天；每天至多列出一次"}
	}
	var set uint8
	var names []string
	for i, d := range days {
		wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return nil, &Error{Field: []string{"days", strconv.Itoa(i)}, Msg: fmt.Sprintf("%q is not a day: write mon, tue, wed, thu, fri, sat or sun", d),
				Zh: fmt.Sprintf("%q 不是星期：请写 mon、tue、wed、thu、fri、sat 或 sun", d)}
		}
		if set&(1<<wd) != 0 {
			return nil, &Error{Field: []string{"days", strconv.Itoa(i)}, Msg: fmt.Sprintf("%s is listed twice", d), Zh: fmt.Sprintf("%s 重复列出", d)}
		}
		set |= 1 << wd
		r.days = append(r.days, byDay{day: wd})
		names = append(names, strings.ToLower(strings.TrimSpace(d)))
	}
	h, m, err := clock(start)
	if err != nil {
		return nil, &Error{Field: []string{"start"}, Msg: fmt.Sprintf("%q is not a time of day: write it as 22:00 (24-hour, hours:minutes)", start),
			Zh: fmt.Sprintf("%q 不是一天中的时刻：请写成 22:00（24 小时制，时:分）", start)}
	}
	r.hours, r.minutes = 1<<h, 1<<m
	r.text = fmt.Sprintf("weekly %s at %02d:%02d", strings.Join(names, ","), h, m)
	return r, nil
}

// clock reads "HH:MM".
func clock(s string) (int, int, error) {
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) != 2 || len(ms) != 2 {
		return 0, 0, fmt.Errorf("not HH:MM")
	}
	h, err := number(hs, 0, 23)
	if err != nil {
		return 0, 0, err
	}
	m, err := number(ms, 0, 59)
	if err != nil {
		return 0, 0, err
	}
	return h, m, nil
}

// ParseDuration reads a window's duration: hours and minutes ("6h",
// "90m", "1h30m"), more than zero and at most MaxDuration.
func ParseDuration(s string) (time.Duration, error) {
	bad := func() error {
		return &Error{Msg: fmt.Sprintf("%q is not a duration: write hours and minutes such as 6h, 90m or 1h30m", s),
			Zh: fmt.Sprintf("%q 不是时长：请写小时和分钟，例如 6h、90m 或 1h30m", s)}
	}
	if s == "" || len(s) > 16 || strings.Trim(s, "0123456789hm") != "" {
		return 0, bad()
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad()
	}
	if d <= 0 || d > MaxDuration {
		return 0, &Error{Msg: fmt.Sprintf("%s is not a window's duration: more than 0 and at most 7 days (168h)", s),
			Zh: fmt.Sprintf("%s 不是有效的窗口时长：须大于 0 且不超过 7 天（168h）", s)}
	}
	return d, nil
}
