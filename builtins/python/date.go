package python

import (
	"fmt"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Date is datetime.date: a day of the proleptic Gregorian calendar in
// years 1 to 9999. It supports date ± timedelta (whole days),
// date - date, and comparisons.
type Date struct {
	t time.Time // midnight, location UTC
}

var (
	_ starlark.HasAttrs   = Date{}
	_ starlark.HasBinary  = Date{}
	_ starlark.Comparable = Date{}
	_ Reprer              = Date{}
	_ Stringer            = Date{}
	_ Formatter           = Date{}
)

// String returns str(d), 'YYYY-MM-DD'.
func (d Date) String() string { return d.PyStr() }

// Type returns "date".
func (d Date) Type() string { return "date" }

// Freeze does nothing: a Date is immutable.
func (d Date) Freeze() {}

// Truth returns True.
func (d Date) Truth() starlark.Bool { return true }

// Hash hashes the ordinal.
func (d Date) Hash() (uint32, error) { return dtHash(toOrdinal(d.t)), nil }

// PyStr returns str(d): 'YYYY-MM-DD'.
func (d Date) PyStr() string {
	y, m, day := d.t.Date()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), day)
}

// PyRepr returns repr(d): 'datetime.date(2024, 1, 2)'.
func (d Date) PyRepr() string {
	y, m, day := d.t.Date()
	return fmt.Sprintf("datetime.date(%d, %d, %d)", y, int(m), day)
}

// PyFormat formats d with strftime(spec), or as str(d) for an empty spec.
func (d Date) PyFormat(spec string) (string, error) {
	if spec == "" {
		return d.PyStr(), nil
	}
	return strftime(spec, tmFields{t: d.t}), nil
}

// CompareSameType compares the days.
func (d Date) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	e, ok := y.(Date)
	if !ok {
		return false, fmt.Errorf("can't compare date to %s", y.Type())
	}
	return dtCompare(op, toOrdinal(d.t), toOrdinal(e.t)), nil
}

// Binary implements date ± timedelta and date - date.
func (d Date) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	switch y := y.(type) {
	case Timedelta:
		days := floorDiv(y.us, usPerDay)
		switch {
		case op == syntax.PLUS:
			return d.addDays(days)
		case op == syntax.MINUS && side == starlark.Left:
			return d.addDays(-days)
		}
	case Date:
		if op == syntax.MINUS {
			a, c := d, y
			if side == starlark.Right {
				a, c = y, d
			}
			return Timedelta{us: (toOrdinal(a.t) - toOrdinal(c.t)) * usPerDay}, nil
		}
	}
	return nil, nil
}

func (d Date) addDays(days int64) (starlark.Value, error) {
	n := toOrdinal(d.t) + days
	if days > maxOrdinal || days < -maxOrdinal || n < 1 || n > maxOrdinal {
		return nil, dateOverflow()
	}
	return Date{t: fromOrdinal(n)}, nil
}

var dateMethods = map[string]*starlark.Builtin{
	"ctime":       starlark.NewBuiltin("date.ctime", dateCtime),
	"isoformat":   starlark.NewBuiltin("date.isoformat", dateIsoformat),
	"isoweekday":  starlark.NewBuiltin("date.isoweekday", dateIsoweekday),
	"replace":     starlark.NewBuiltin("date.replace", dateReplace),
	"strftime":    starlark.NewBuiltin("date.strftime", dateStrftime),
	"toordinal":   starlark.NewBuiltin("date.toordinal", dateToordinal),
	"weekday":     starlark.NewBuiltin("date.weekday", dateWeekday),
	"isocalendar": starlark.NewBuiltin("date.isocalendar", dateIsocalendar),
}

// Attr returns year, month, day and the methods.
func (d Date) Attr(name string) (starlark.Value, error) {
	switch name {
	case "year":
		return starlark.MakeInt(d.t.Year()), nil
	case "month":
		return starlark.MakeInt(int(d.t.Month())), nil
	case "day":
		return starlark.MakeInt(d.t.Day()), nil
	}
	if m, ok := dateMethods[name]; ok {
		return m.BindReceiver(d), nil
	}
	return nil, nil
}

// AttrNames lists the attributes.
func (d Date) AttrNames() []string {
	return []string{"ctime", "day", "isocalendar", "isoformat", "isoweekday", "month", "replace", "strftime", "toordinal", "weekday", "year"}
}

// The methods below serve both Date and Datetime receivers (wallOf).

func dateCtime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	t := wallOf(b.Receiver())
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return starlark.String(fmt.Sprintf("%s %s %2d %02d:%02d:%02d %04d", t.Weekday().String()[:3], m.String()[:3], d, h, mi, s, y)), nil
}

func dateIsoformat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	return starlark.String(b.Receiver().(Date).PyStr()), nil
}

func dateIsoweekday(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	return starlark.MakeInt((int(wallOf(b.Receiver()).Weekday())+6)%7 + 1), nil
}

func dateWeekday(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	return starlark.MakeInt((int(wallOf(b.Receiver()).Weekday()) + 6) % 7), nil
}

func dateToordinal(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	return starlark.MakeInt64(toOrdinal(wallOf(b.Receiver()))), nil
}

// dateIsocalendar returns (ISO year, ISO week, ISO weekday) as a tuple.
func dateIsocalendar(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	t := wallOf(b.Receiver())
	y, w := t.ISOWeek()
	return starlark.Tuple{starlark.MakeInt(y), starlark.MakeInt(w), starlark.MakeInt((int(t.Weekday())+6)%7 + 1)}, nil
}

func dateStrftime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var format string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "format", &format); err != nil {
		return nil, err
	}
	return starlark.String(strftime(format, b.Receiver().(Date).tm())), nil
}

func (d Date) tm() tmFields { return tmFields{t: d.t} }

func dateReplace(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(Date)
	y, m, day := d.t.Date()
	month := int(m)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "year?", &y, "month?", &month, "day?", &day); err != nil {
		return nil, err
	}
	return makeDate(b.Name(), y, month, day)
}

// DateClass is the datetime.date class: date(year, month, day), with
// today, fromtimestamp, fromisoformat, fromordinal, min, max and
// resolution.
type DateClass struct{ classBase }

var (
	_ starlark.Callable = (*DateClass)(nil)
	_ starlark.HasAttrs = (*DateClass)(nil)
)

// IsInstance reports whether v is a date (a datetime is one too, as in
// Python).
func (c *DateClass) IsInstance(v starlark.Value) bool {
	switch v.(type) {
	case Date, Datetime:
		return true
	}
	return false
}

// CallInternal implements date(year, month, day).
func (c *DateClass) CallInternal(_ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var y, m, d int
	if err := starlark.UnpackArgs("date", args, kwargs, "year", &y, "month", &m, "day", &d); err != nil {
		return nil, err
	}
	return makeDate("date", y, m, d)
}

var dateClassMethods = map[string]*starlark.Builtin{
	"fromisoformat": starlark.NewBuiltin("date.fromisoformat", dateFromisoformat),
	"fromordinal":   starlark.NewBuiltin("date.fromordinal", dateFromordinal),
	"fromtimestamp": starlark.NewBuiltin("date.fromtimestamp", dateFromtimestamp),
	"today":         starlark.NewBuiltin("date.today", dateToday),
}

// Attr returns the alternate constructors, min, max and resolution.
func (c *DateClass) Attr(name string) (starlark.Value, error) {
	switch name {
	case "min":
		return Date{t: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
	case "max":
		return Date{t: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, nil
	case "resolution":
		return Timedelta{us: usPerDay}, nil
	}
	if m, ok := dateClassMethods[name]; ok {
		return m, nil
	}
	return nil, nil
}

// AttrNames lists the attributes.
func (c *DateClass) AttrNames() []string {
	return []string{"fromisoformat", "fromordinal", "fromtimestamp", "max", "min", "resolution", "today"}
}

func dateToday(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	w, err := nowWall(nil, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	y, m, d := w.Date()
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}, nil
}

func dateFromtimestamp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ts starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &ts); err != nil {
		return nil, err
	}
	sec, _, err := splitTimestamp(ts, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	w, err := timestampWall(sec, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	y, m, d := w.Date()
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}, nil
}

func dateFromordinal(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var n int64
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &n); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("%s: ordinal must be >= 1", b.Name())
	}
	if n > maxOrdinal {
		return nil, fmt.Errorf("%s: year %d is out of range", b.Name(), fromOrdinal(n).Year())
	}
	return Date{t: fromOrdinal(n)}, nil
}

func dateFromisoformat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	if n := len(s); n == 7 || n == 8 || n == 10 {
		if y, m, d, ok := parseISODate(s, n); ok {
			return makeDate(b.Name(), y, m, d)
		}
	}
	return nil, fmt.Errorf("%s: invalid isoformat string: %s", b.Name(), Repr(starlark.String(s)))
}
