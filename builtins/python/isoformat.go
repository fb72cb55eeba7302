package python

import (
	"fmt"
	"time"

	"go.starlark.net/starlark"
)

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

// isoByteAt is s[i], or 0 past the end (the C string's terminator).
func isoByteAt(s string, i int) byte {
	if i >= 0 && i < len(s) {
		return s[i]
	}
	return 0
}

// isoDigits parses the n ASCII digits at s[p:].
func isoDigits(s string, p, n int) (value, next int, ok bool) {
	for i := 0; i < n; i++ {
		c := isoByteAt(s, p+i)
		if !isASCIIDigit(c) {
			return 0, p, false
		}
		value = value*10 + int(c-'0')
	}
	return value, p + n, true
}

// isoDateSeparator is where the date ends in a datetime string of at
// least 7 bytes (CPython's _find_isoformat_datetime_separator), or -1.
func isoDateSeparator(s string) int {
	n := len(s)
	if n == 7 {
		return 7
	}
	if s[4] == '-' {
		if s[5] == 'W' {
			if n < 8 {
				return -1
			}
			if n > 8 && s[8] == '-' {
				if n == 9 {
					return -1
				}
				if n > 10 && isASCIIDigit(s[10]) {
					return 8
				}
				return 10
			}
			return 8
		}
		return 10
	}
	if s[4] == 'W' {
		idx := 7
		for idx < n && isASCIIDigit(s[idx]) {
			idx++
		}
		if idx < 9 {
			return idx
		}
		if idx%2 == 0 {
			return 7
		}
		return 8
	}
	return 8
}

// parseISODate parses YYYY-MM-DD, YYYYMMDD, YYYY-Www[-D] or YYYYWww[D]
// at the start of s; n is where the date ends.
func parseISODate(s string, n int) (year, month, day int, ok bool) {
	year, p, ok := isoDigits(s, 0, 4)
	if !ok {
		return 0, 0, 0, false
	}
	sep := isoByteAt(s, p) == '-'
	if sep {
		p++
	}
	if isoByteAt(s, p) == 'W' {
		week, q, ok := isoDigits(s, p+1, 2)
		if !ok {
			return 0, 0, 0, false
		}
		weekday := 1
		if q < n {
			if sep {
				if isoByteAt(s, q) != '-' {
					return 0, 0, 0, false
				}
				q++
			}
			if weekday, _, ok = isoDigits(s, q, 1); !ok {
				return 0, 0, 0, false
			}
		}
		return isoWeekToDate(year, week, weekday)
	}
	month, p, ok = isoDigits(s, p, 2)
	if !ok {
		return 0, 0, 0, false
	}
	if sep {
		if isoByteAt(s, p) != '-' {
			return 0, 0, 0, false
		}
		p++
	}
	day, _, ok = isoDigits(s, p, 2)
	return year, month, day, ok
}

// isoWeekToDate converts an ISO year, week and weekday to a date.
func isoWeekToDate(year, week, weekday int) (int, int, int, bool) {
	if year < 1 || year > 9999 {
		return 0, 0, 0, false
	}
	if week < 1 || week > 53 {
		return 0, 0, 0, false
	}
	if week == 53 {
		if _, w := time.Date(year, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek(); w != 53 {
			return 0, 0, 0, false
		}
	}
	if weekday < 1 || weekday > 7 {
		return 0, 0, 0, false
	}
	jan4 := time.Date(year, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := toOrdinal(jan4) - int64((int(jan4.Weekday())+6)%7)
	n := monday + int64((week-1)*7+weekday-1)
	if n < 1 || n > maxOrdinal {
		return 0, 0, 0, false
	}
	y, m, d := fromOrdinal(n).Date()
	return y, int(m), d, true
}

// parseHHMMSSFF parses HH[:?MM[:?SS[{.,}fff[fff]]]] in s[p:end] as
// CPython's parse_hh_mm_ss_ff does: rv is -3 or -4 on errors, 1 when
// something other than the end of s follows, else 0.
func parseHHMMSSFF(s string, p, end int) (vals [4]int, rv int) {
	hasSep := true
	for i := 0; i < 3; i++ {
		v, q, ok := isoDigits(s, p, 2)
		if !ok {
			return vals, -3
		}
		vals[i] = v
		p = q
		c := isoByteAt(s, p)
		p++
		if i == 0 {
			hasSep = c == ':'
		}
		if p >= end {
			if c != 0 {
				return vals, 1
			}
			return vals, 0
		}
		if hasSep && c == ':' {
			continue
		}
		if c == '.' || c == ',' {
			break
		}
		if !hasSep {
			p--
			continue
		}
		return vals, -4
	}
	toParse := end - p
	if toParse > 6 {
		toParse = 6
	}
	if toParse <= 0 {
		return vals, -3
	}
	v, q, ok := isoDigits(s, p, toParse)
	if !ok {
		return vals, -3
	}
	for k := toParse; k < 6; k++ {
		v *= 10
	}
	vals[3] = v
	p = q
	for isASCIIDigit(isoByteAt(s, p)) {
		p++
	}
	if isoByteAt(s, p) != 0 {
		return vals, 1
	}
	return vals, 0
}

// parseISOTime parses the time part of an ISO datetime with an optional
// Z or ±HH[:MM[:SS[.ffffff]]] offset.
func parseISOTime(s string) (clock [4]int, tz *Timezone, ok bool, err error) {
	n := len(s)
	tzPos := 0
	for tzPos < n && s[tzPos] != 'Z' && s[tzPos] != '+' && s[tzPos] != '-' {
		tzPos++
	}
	clock, rv := parseHHMMSSFF(s, 0, tzPos)
	if rv < 0 {
		return clock, nil, false, nil
	}
	if tzPos == n {
		return clock, nil, rv == 0, nil
	}
	if s[tzPos] == 'Z' {
		if tzPos+1 != n {
			return clock, nil, false, nil
		}
		return clock, &Timezone{}, true, nil
	}
	sign := int64(1)
	if s[tzPos] == '-' {
		sign = -1
	}
	off, rv := parseHHMMSSFF(s, tzPos+1, n)
	if rv != 0 {
		return clock, nil, false, nil
	}
	us := sign * (int64(off[0])*3600e6 + int64(off[1])*60e6 + int64(off[2])*1e6 + int64(off[3]))
	z, err := makeTimezone(us, "", false)
	if err != nil {
		return clock, nil, false, err
	}
	return clock, &z, true, nil
}

func datetimeFromISO(fn, s string) (starlark.Value, error) {
	invalid := fmt.Errorf("%s: invalid isoformat string: %s", fn, Repr(starlark.String(s)))
	if len(s) < 7 {
		return nil, invalid
	}
	sepAt := isoDateSeparator(s)
	if sepAt < 0 {
		return nil, invalid
	}
	y, m, d, ok := parseISODate(s, sepAt)
	if !ok {
		return nil, invalid
	}
	var clock [4]int
	var tz *Timezone
	if len(s) > sepAt {
		var err error
		clock, tz, ok, err = parseISOTime(s[sepAt+1:])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		if !ok {
			return nil, invalid
		}
	}
	return makeDatetime(fn, y, m, d, clock[0], clock[1], clock[2], clock[3], tz)
}
