package python

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// tmFields is what strftime formats (weekday and month names are Go's,
// which are the C locale's): a wall clock time and, for an
// aware value, its UTC offset and zone name.
type tmFields struct {
	t      time.Time // wall clock time, location UTC
	aware  bool
	offset int64 // microseconds east of UTC, when aware
	zone   string
}

// strftime formats tm as CPython's datetime.strftime does on Linux:
// %z, %Z and %f are CPython's own (only when they follow the '%'
// directly), everything else is glibc's strftime in the C locale,
// flags (- _ 0 ^ #), widths and the E and O modifiers included; an
// unknown directive is copied as it is.
func strftime(format string, tm tmFields) string {
	var b strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(format) {
			b.WriteByte('%')
			i++
			continue
		}
		switch format[i+1] {
		case 'z':
			if tm.aware {
				b.WriteString(formatOffset(tm.offset, ""))
			}
			i += 2
			continue
		case 'Z':
			if tm.aware {
				b.WriteString(tm.zone)
			}
			i += 2
			continue
		case 'f':
			fmt.Fprintf(&b, "%06d", tm.t.Nanosecond()/1000)
			i += 2
			continue
		}
		i += glibcDirective(&b, format[i:], tm)
	}
	return b.String()
}

// glibcDirective writes the glibc conversion at the start of s (which
// begins with '%') and returns how many bytes of s it used.
func glibcDirective(b *strings.Builder, s string, tm tmFields) int {
	i := 1
	var pad byte // 0 (the directive's default), '-', '_' or '0'
	upper, swapCase := false, false
flags:
	for ; i < len(s); i++ {
		switch s[i] {
		case '-', '_', '0':
			pad = s[i]
		case '^':
			upper = true
		case '#':
			swapCase = true
		default:
			break flags
		}
	}
	width := -1
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if width < 0 {
			width = 0
		}
		if width < 4096 {
			width = width*10 + int(s[i]-'0')
		}
	}
	var mod byte
	if i < len(s) && (s[i] == 'E' || s[i] == 'O') {
		mod = s[i]
		i++
	}
	if i >= len(s) {
		// '%' and flags at the end of the format: copied.
		b.WriteString(padString(s, pad, width))
		return len(s)
	}
	conv := s[i]
	i++
	if (mod == 'E' && strings.IndexByte("aAbBhdeGgjDFHIMSmUVWwkl", conv) >= 0) ||
		(mod == 'O' && strings.IndexByte("aAcDFxXY", conv) >= 0) {
		b.WriteString(padString(s[:i], pad, width))
		return i
	}

	t := tm.t
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	wday := int(t.Weekday())
	yday := t.YearDay() - 1
	hour12 := hour % 12
	if hour12 == 0 {
		hour12 = 12
	}
	isoYear, isoWeek := t.ISOWeek()

	num := func(v int64, digits int, spaceDefault bool) string {
		return padNumber(v, digits, spaceDefault, pad, width)
	}
	str := func(v string) string { return padString(v, pad, width) }
	sub := func(f string) string { return padString(strftime(f, tm), pad, width) }

	var out string
	toUpper, toLower := upper, false
	switch conv {
	case 'a':
		out = str(t.Weekday().String()[:3])
		toUpper = toUpper || swapCase
	case 'A':
		out = str(t.Weekday().String())
		toUpper = toUpper || swapCase
	case 'b', 'h':
		out = str(month.String()[:3])
		toUpper = toUpper || swapCase
	case 'B':
		out = str(month.String())
		toUpper = toUpper || swapCase
	case 'c':
		out = sub("%a %b %e %H:%M:%S %Y")
	case 'C':
		out = num(int64(year/100), 1, false)
	case 'd':
		out = num(int64(day), 2, false)
	case 'D', 'x':
		out = sub("%m/%d/%y")
	case 'e':
		out = num(int64(day), 2, true)
	case 'F':
		out = sub("%Y-%m-%d")
	case 'g':
		out = num(int64(isoYear%100), 2, false)
	case 'G':
		out = num(int64(isoYear), 1, false)
	case 'H':
		out = num(int64(hour), 2, false)
	case 'I':
		out = num(int64(hour12), 2, false)
	case 'j':
		out = num(int64(yday+1), 3, false)
	case 'k':
		out = num(int64(hour), 2, true)
	case 'l':
		out = num(int64(hour12), 2, true)
	case 'm':
		out = num(int64(month), 2, false)
	case 'M':
		out = num(int64(minute), 2, false)
	case 'n':
		out = str("\n")
	case 'p':
		out = str(amPM(hour))
		if swapCase {
			toUpper, toLower = false, true
		}
	case 'P':
		out = str(amPM(hour))
		toUpper, toLower = false, true
	case 'r':
		out = sub("%I:%M:%S %p")
	case 'R':
		out = sub("%H:%M")
	case 's':
		local := time.Date(year, month, day, hour, minute, second, 0, time.Local)
		out = num(local.Unix(), 1, false)
	case 'S':
		out = num(int64(second), 2, false)
	case 't':
		out = str("\t")
	case 'T', 'X':
		out = sub("%H:%M:%S")
	case 'u':
		out = num(int64((wday+6)%7+1), 1, false)
	case 'U':
		out = num(int64((yday+7-wday)/7), 2, false)
	case 'V':
		out = num(int64(isoWeek), 2, false)
	case 'w':
		out = num(int64(wday), 1, false)
	case 'W':
		out = num(int64((yday+7-(wday+6)%7)/7), 2, false)
	case 'y':
		out = num(int64(year%100), 2, false)
	case 'Y':
		out = num(int64(year), 1, false)
	case 'z', 'Z':
		// Reached only with a flag, width or modifier, which CPython
		// hands to glibc with no zone information: nothing.
		out = ""
	case '%':
		out = str("%")
	default:
		out = str(s[:i])
	}
	switch {
	case toLower:
		out = strings.ToLower(out)
	case toUpper:
		out = strings.ToUpper(out)
	}
	b.WriteString(out)
	return i
}

func amPM(hour int) string {
	if hour < 12 {
		return "AM"
	}
	return "PM"
}

// padNumber formats v as glibc does: padded to digits with zeros (or
// spaces for %e %k %l, or with the '_' flag; not at all with '-'), then
// to width with zeros under the '0' flag or default, else spaces.
func padNumber(v int64, digits int, spaceDefault bool, pad byte, width int) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	p := pad
	if p == 0 {
		if spaceDefault {
			p = '_'
		} else {
			p = '0'
		}
	}
	if neg {
		digits--
	}
	switch p {
	case '0':
		s = strftimePad(s, digits, '0')
	case '_':
		s = strftimePad(s, digits, ' ')
	}
	if neg {
		s = "-" + s
	}
	fill := byte(' ')
	if p == '0' {
		fill = '0'
	}
	return strftimePad(s, width, fill)
}

// padString pads s to width with spaces, or zeros under the '0' flag.
func padString(s string, pad byte, width int) string {
	fill := byte(' ')
	if pad == '0' {
		fill = '0'
	}
	return strftimePad(s, width, fill)
}

func strftimePad(s string, width int, fill byte) string {
	if len(s) >= width {
		return s
	}
	return strings.Repeat(string(fill), width-len(s)) + s
}

// formatOffset writes a UTC offset in microseconds as CPython does:
// +HH<sep>MM, then <sep>SS when there are seconds and .ffffff when there
// are microseconds.
func formatOffset(us int64, sep string) string {
	sign := byte('+')
	if us < 0 {
		sign = '-'
		us = -us
	}
	h := us / 3600e6
	m := us / 60e6 % 60
	s := us / 1e6 % 60
	f := us % 1e6
	out := fmt.Sprintf("%c%02d%s%02d", sign, h, sep, m)
	if s != 0 || f != 0 {
		out += fmt.Sprintf("%s%02d", sep, s)
		if f != 0 {
			out += fmt.Sprintf(".%06d", f)
		}
	}
	return out
}

// strptimeDirective is the regular expression of a strptime directive,
// as CPython's _strptime.TimeRE has it in the C locale.
func strptimeDirective(d rune) (string, bool) {
	switch d {
	case 'a':
		return `(?P<a>mon|tue|wed|thu|fri|sat|sun)`, true
	case 'A':
		return `(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)`, true
	case 'b':
		return `(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)`, true
	case 'B':
		return `(?P<B>september|february|november|december|january|october|august|march|april|june|july|may)`, true
	case 'c':
		return `(?P<a>mon|tue|wed|thu|fri|sat|sun)\s+(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])\s+(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)\s+(?P<Y>\d\d\d\d)`, true
	case 'd':
		return `(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])`, true
	case 'f':
		return `(?P<f>[0-9]{1,6})`, true
	case 'G':
		return `(?P<G>\d\d\d\d)`, true
	case 'H':
		return `(?P<H>2[0-3]|[0-1]\d|\d)`, true
	case 'I':
		return `(?P<I>1[0-2]|0[1-9]|[1-9])`, true
	case 'j':
		return `(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`, true
	case 'm':
		return `(?P<m>1[0-2]|0[1-9]|[1-9])`, true
	case 'M':
		return `(?P<M>[0-5]\d|\d)`, true
	case 'p':
		return `(?P<p>am|pm)`, true
	case 'S':
		return `(?P<S>6[0-1]|[0-5]\d|\d)`, true
	case 'u':
		return `(?P<u>[1-7])`, true
	case 'U':
		return `(?P<U>5[0-3]|[0-4]\d|\d)`, true
	case 'V':
		return `(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)`, true
	case 'w':
		return `(?P<w>[0-6])`, true
	case 'W':
		return `(?P<W>5[0-3]|[0-4]\d|\d)`, true
	case 'x':
		return `(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<y>\d\d)`, true
	case 'X':
		return `(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)`, true
	case 'y':
		return `(?P<y>\d\d)`, true
	case 'Y':
		return `(?P<Y>\d\d\d\d)`, true
	case 'z':
		return `(?P<z>[+-]\d\d:?[0-5]\d(:?[0-5]\d(\.\d{1,6})?)?|(?-i:Z))`, true
	case 'Z':
		names := []string{"utc", "gmt"}
		y := time.Now().Year()
		for _, m := range []time.Month{time.January, time.July} {
			name, _ := time.Date(y, m, 1, 0, 0, 0, 0, time.Local).Zone()
			if name = strings.ToLower(name); name != "" && name != "utc" && name != "gmt" {
				names = append(names, name)
			}
		}
		sort.SliceStable(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
		for i, n := range names {
			names[i] = regexp.QuoteMeta(n)
		}
		return `(?P<Z>` + strings.Join(names, "|") + `)`, true
	case '%':
		return `%`, true
	}
	return "", false
}

// strptimeRegexp compiles a strptime format as CPython's TimeRE does:
// whitespace matches any run of whitespace, other characters
// themselves, case-insensitively.
func strptimeRegexp(format string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?i)^(?:`)
	for i := 0; i < len(format); {
		r, size := utf8.DecodeRuneInString(format[i:])
		switch {
		case r == '%':
			if i+1 >= len(format) {
				return nil, fmt.Errorf("stray %% in format '%s'", format)
			}
			d, dsize := utf8.DecodeRuneInString(format[i+1:])
			re, ok := strptimeDirective(d)
			if !ok {
				bad := string(d)
				if strings.ContainsRune(`\.^$*+?(){}[]|`, d) || unicode.IsSpace(d) {
					bad = "%" // CPython escapes these first, then sees the backslash
				}
				return nil, fmt.Errorf("'%s' is a bad directive in format '%s'", bad, format)
			}
			b.WriteString(re)
			i += 1 + dsize
		case unicode.IsSpace(r):
			for i < len(format) {
				r, size := utf8.DecodeRuneInString(format[i:])
				if !unicode.IsSpace(r) {
					break
				}
				i += size
			}
			b.WriteString(`\s+`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += size
		}
	}
	b.WriteString(`)`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("redefinition of group name '%s'", name)
		}
		seen[name] = true
	}
	return re, nil
}

// strptimeAtoi is int(s) for the digit strings strptime's groups hold.
func strptimeAtoi(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid literal for int() with base 10: %s", Repr(starlark.String(s)))
	}
	return n, nil
}

// strptime is datetime.strptime, a port of CPython 3.11's _strptime.
func strptime(fn, data, format string) (starlark.Value, error) {
	v, err := strptimeFields(data, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	return v, nil
}

func strptimeFields(data, format string) (Datetime, error) {
	re, err := strptimeRegexp(format)
	if err != nil {
		return Datetime{}, err
	}
	loc := re.FindStringSubmatchIndex(data)
	if loc == nil {
		return Datetime{}, fmt.Errorf("time data %s does not match format %s", Repr(starlark.String(data)), Repr(starlark.String(format)))
	}
	if loc[1] != len(data) {
		return Datetime{}, fmt.Errorf("unconverted data remains: %s", data[loc[1]:])
	}
	found := map[string]string{}
	names := re.SubexpNames()
	for i, name := range names {
		if name != "" && loc[2*i] >= 0 {
			found[name] = data[loc[2*i]:loc[2*i+1]]
		}
	}

	const none = -1 << 31
	year, isoYear := none, none
	month, day := 1, 1
	hour, minute, second, fraction := 0, 0, 0, 0
	hasOffset := false
	var gmtoff, gmtoffFraction int64
	isoWeek, weekOfYear, weekOfYearStart := none, none, 0
	weekday, julian := none, none
	for _, key := range names {
		g, ok := found[key]
		if !ok {
			continue
		}
		var n int
		switch key {
		case "y", "Y", "G", "m", "d", "H", "I", "M", "S", "w", "u", "j", "U", "W", "V":
			if n, err = strptimeAtoi(g); err != nil {
				return Datetime{}, err
			}
		}
		switch key {
		case "y":
			if n <= 68 {
				year = n + 2000
			} else {
				year = n + 1900
			}
		case "Y":
			year = n
		case "G":
			isoYear = n
		case "m":
			month = n
		case "B", "b":
			for m := time.January; m <= time.December; m++ {
				name := m.String()
				if key == "b" {
					name = name[:3]
				}
				if strings.EqualFold(name, g) {
					month = int(m)
				}
			}
		case "d":
			day = n
		case "H":
			hour = n
		case "I":
			hour = n
			switch strings.ToLower(found["p"]) {
			case "", "am":
				if hour == 12 {
					hour = 0
				}
			case "pm":
				if hour != 12 {
					hour += 12
				}
			}
		case "M":
			minute = n
		case "S":
			second = n
		case "f":
			if fraction, err = strptimeAtoi(g + strings.Repeat("0", 6-len(g))); err != nil {
				return Datetime{}, err
			}
		case "A", "a":
			for wd := time.Sunday; wd <= time.Saturday; wd++ {
				name := wd.String()
				if key == "a" {
					name = name[:3]
				}
				if strings.EqualFold(name, g) {
					weekday = (int(wd) + 6) % 7
				}
			}
		case "w":
			weekday = (n + 6) % 7
		case "u":
			weekday = n - 1
		case "j":
			julian = n
		case "U", "W":
			weekOfYear = n
			if key == "U" {
				weekOfYearStart = 6
			} else {
				weekOfYearStart = 0
			}
		case "V":
			isoWeek = n
		case "z":
			hasOffset = true
			if g == "Z" {
				gmtoff, gmtoffFraction = 0, 0
				break
			}
			z := g
			if z[3] == ':' {
				z = z[:3] + z[4:]
				if len(z) > 5 {
					if z[5] != ':' {
						return Datetime{}, fmt.Errorf("inconsistent use of : in %s", g)
					}
					z = z[:5] + z[6:]
				}
			}
			hours, err := strptimeAtoi(z[1:3])
			if err != nil {
				return Datetime{}, err
			}
			minutes, err := strptimeAtoi(z[3:5])
			if err != nil {
				return Datetime{}, err
			}
			seconds := 0
			if len(z) > 5 {
				end := 7
				if end > len(z) {
					end = len(z)
				}
				if seconds, err = strptimeAtoi(z[5:end]); err != nil {
					return Datetime{}, err
				}
			}
			gmtoff = int64(hours*3600 + minutes*60 + seconds)
			rem := ""
			if len(z) > 8 {
				rem = z[8:]
			}
			frac, err := strptimeAtoi(rem + strings.Repeat("0", 6-len(rem)))
			if err != nil {
				return Datetime{}, err
			}
			gmtoffFraction = int64(frac)
			if z[0] == '-' {
				gmtoff, gmtoffFraction = -gmtoff, -gmtoffFraction
			}
		}
	}

	if year == none && isoYear != none {
		if isoWeek == none || weekday == none {
			return Datetime{}, errors.New("ISO year directive '%G' must be used with the ISO week directive '%V' and a weekday directive ('%A', '%a', '%w', or '%u').")
		}
		if julian != none {
			return Datetime{}, errors.New("day of the year directive '%j' is not compatible with ISO year directive '%G'. Use '%Y' instead.")
		}
	} else if weekOfYear == none && isoWeek != none {
		if weekday == none {
			return Datetime{}, errors.New("ISO week directive '%V' must be used with the ISO year directive '%G' and a weekday directive ('%A', '%a', '%w', or '%u').")
		}
		return Datetime{}, errors.New("ISO week directive '%V' is incompatible with the year directive '%Y'. Use the ISO year '%G' instead.")
	}

	leapYearFix := false
	if year == none && month == 2 && day == 29 {
		year, leapYearFix = 1904, true
	} else if year == none {
		year = 1900
	}

	jan1 := func(y int) (int64, error) {
		if err := checkDateFields(y, 1, 1); err != nil {
			return 0, err
		}
		return toOrdinal(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)), nil
	}
	if julian == none && weekday != none {
		if weekOfYear != none {
			first, err := jan1(year)
			if err != nil {
				return Datetime{}, err
			}
			firstWeekday := int((first + 6) % 7) // Monday is 0
			dow := weekday
			if weekOfYearStart != 0 { // %U: weeks start on Sunday
				firstWeekday = (firstWeekday + 1) % 7
				dow = (dow + 1) % 7
			}
			week0 := (7 - firstWeekday) % 7
			if weekOfYear == 0 {
				julian = 1 + dow - firstWeekday
			} else {
				julian = 1 + week0 + 7*(weekOfYear-1) + dow
			}
		} else if isoYear != none && isoWeek != none {
			jan4, err := jan1(isoYear)
			if err != nil {
				return Datetime{}, err
			}
			jan4 += 3
			correction := int((jan4+6)%7) + 1 + 3 // isoweekday of Jan 4, + 3
			ordinal := isoWeek*7 + weekday + 1 - correction
			if ordinal < 1 {
				a, err := jan1(isoYear)
				if err != nil {
					return Datetime{}, err
				}
				b, err := jan1(isoYear - 1)
				if err != nil {
					return Datetime{}, err
				}
				ordinal += int(a - b)
				isoYear--
			}
			year, julian = isoYear, ordinal
		}
		if julian != none && julian <= 0 {
			year--
			if checkDateFields(year, 2, 29) == nil {
				julian += 366
			} else {
				julian += 365
			}
		}
	}

	if julian == none {
		if err := checkDateFields(year, month, day); err != nil {
			return Datetime{}, err
		}
	} else {
		first, err := jan1(year)
		if err != nil {
			return Datetime{}, err
		}
		n := int64(julian-1) + first
		if n < 1 || n > maxOrdinal {
			return Datetime{}, dateOverflow()
		}
		y, m, d := fromOrdinal(n).Date()
		year, month, day = y, int(m), d
	}
	if leapYearFix {
		year = 1900
	}

	var tz *Timezone
	if hasOffset {
		name, named := found["Z"]
		z, err := makeTimezone(gmtoff*1e6+gmtoffFraction, name, named && name != "")
		if err != nil {
			return Datetime{}, err
		}
		tz = &z
	}
	if err := checkDateFields(year, month, day); err != nil {
		return Datetime{}, err
	}
	if err := checkTimeFields(hour, minute, second, fraction); err != nil {
		return Datetime{}, err
	}
	return Datetime{t: time.Date(year, time.Month(month), day, hour, minute, second, fraction*1000, time.UTC), tz: tz}, nil
}
