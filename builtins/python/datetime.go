package python

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

const (
	usPerDay     = 86400e6
	minUnixMicro = -62135596800000000 // 0001-01-01 00:00:00
	maxUnixMicro = 253402300799999999 // 9999-12-31 23:59:59.999999
	epochOrdinal = 719163             // date(1970, 1, 1).toordinal()
	maxOrdinal   = 3652059            // date(9999, 12, 31).toordinal()
	// The seconds glibc's gmtime takes: a year that fits a C int.
	minTimeT = -67768040609740800
	maxTimeT = 67768036191676799
)

// DatetimeModule returns Python's datetime module: the datetime, date,
// timedelta and timezone classes, the UTC timezone, MINYEAR and
// MAXYEAR.
func DatetimeModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{
		Name: "datetime",
		Members: starlark.StringDict{
			"datetime":  &DatetimeClass{classBase{"datetime", "datetime"}},
			"date":      &DateClass{classBase{"datetime", "date"}},
			"timedelta": starlark.NewBuiltin("timedelta", NewTimedelta),
			"timezone":  &TimezoneClass{classBase{"datetime", "timezone"}},
			"UTC":       Timezone{},
			"MINYEAR":   starlark.MakeInt(1),
			"MAXYEAR":   starlark.MakeInt(9999),
		},
	}
}

// ---- helpers ----

func dateOverflow() error { return errors.New("date value out of range") }

func dtHash(v int64) uint32 { return uint32(v) ^ uint32(v>>32) }

func dtCompare(op syntax.Token, x, y int64) bool {
	switch op {
	case syntax.EQL:
		return x == y
	case syntax.NEQ:
		return x != y
	case syntax.LT:
		return x < y
	case syntax.LE:
		return x <= y
	case syntax.GT:
		return x > y
	case syntax.GE:
		return x >= y
	}
	return false
}

// unixMicro is t in microseconds since 1970-01-01 00:00:00 UTC.
func unixMicro(t time.Time) int64 { return t.Unix()*1e6 + int64(t.Nanosecond()/1000) }

// fromUnixMicro is the UTC time u microseconds after the epoch.
func fromUnixMicro(u int64) time.Time {
	sec := floorDiv(u, 1e6)
	return time.Unix(sec, (u-sec*1e6)*1000).UTC()
}

// wallClock is t's wall clock reading as a time in UTC.
func wallClock(t time.Time) time.Time {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// localInstant reads the wall clock time w (location UTC) as local time
// (time.Local) and returns that instant.
func localInstant(w time.Time) time.Time {
	y, m, d := w.Date()
	h, mi, s := w.Clock()
	return time.Date(y, m, d, h, mi, s, w.Nanosecond(), time.Local)
}

func toOrdinal(t time.Time) int64 { return floorDiv(t.Unix(), 86400) + epochOrdinal }

func fromOrdinal(n int64) time.Time { return time.Unix((n-epochOrdinal)*86400, 0).UTC() }

func daysInMonth(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func checkDateFields(year, month, day int) error {
	if year < 1 || year > 9999 {
		return fmt.Errorf("year %d is out of range", year)
	}
	if month < 1 || month > 12 {
		return errors.New("month must be in 1..12")
	}
	if day < 1 || day > daysInMonth(year, month) {
		return errors.New("day is out of range for month")
	}
	return nil
}

func checkTimeFields(hour, minute, second, microsecond int) error {
	switch {
	case hour < 0 || hour > 23:
		return errors.New("hour must be in 0..23")
	case minute < 0 || minute > 59:
		return errors.New("minute must be in 0..59")
	case second < 0 || second > 59:
		return errors.New("second must be in 0..59")
	case microsecond < 0 || microsecond > 999999:
		return errors.New("microsecond must be in 0..999999")
	}
	return nil
}

// asTzinfo converts a tzinfo argument: None gives nil.
func asTzinfo(v starlark.Value) (*Timezone, error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case Timezone:
		return &v, nil
	}
	return nil, fmt.Errorf("tzinfo argument must be None or of a tzinfo subclass, not type '%s'", v.Type())
}

func makeDatetime(fn string, year, month, day, hour, minute, second, microsecond int, tz *Timezone) (Datetime, error) {
	if err := checkDateFields(year, month, day); err != nil {
		return Datetime{}, fmt.Errorf("%s: %v", fn, err)
	}
	if err := checkTimeFields(hour, minute, second, microsecond); err != nil {
		return Datetime{}, fmt.Errorf("%s: %v", fn, err)
	}
	return Datetime{t: time.Date(year, time.Month(month), day, hour, minute, second, microsecond*1000, time.UTC), tz: tz}, nil
}

func makeDate(fn string, year, month, day int) (Date, error) {
	if err := checkDateFields(year, month, day); err != nil {
		return Date{}, fmt.Errorf("%s: %v", fn, err)
	}
	return Date{t: time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)}, nil
}

// splitTimestamp splits a POSIX timestamp (int or float seconds) into
// seconds and microseconds, rounding half to even as CPython does.
// floor rounds the seconds down instead and drops the microseconds.
func splitTimestamp(v starlark.Value, floor bool) (sec, us int64, err error) {
	switch v := v.(type) {
	case starlark.Int:
		s, ok := v.Int64()
		if !ok {
			return 0, 0, errors.New("timestamp out of range for platform time_t")
		}
		return s, 0, nil
	case starlark.Float:
		f := float64(v)
		if math.IsNaN(f) {
			return 0, 0, errors.New("invalid value NaN (not a number)")
		}
		if floor {
			f = math.Floor(f)
		}
		ip, frac := math.Modf(f)
		if !(ip >= -9.223372036854775808e18 && ip < 9.223372036854775808e18) {
			return 0, 0, errors.New("timestamp out of range for platform time_t")
		}
		sec = int64(ip)
		u := math.RoundToEven(frac * 1e6)
		if u >= 1e6 {
			sec++
			u -= 1e6
		} else if u < 0 {
			sec--
			u += 1e6
		}
		return sec, int64(u), nil
	}
	return 0, 0, fmt.Errorf("timestamp must be int or float, not %s", v.Type())
}

// timestampWall converts a POSIX timestamp to a wall clock time (location
// UTC): in tz when tz is not nil, else in UTC when utc, else local time
// (time.Local).
func timestampWall(sec, us int64, tz *Timezone, utc bool) (time.Time, error) {
	if sec < minTimeT || sec > maxTimeT {
		return time.Time{}, errors.New("value too large for defined data type")
	}
	t := time.Unix(sec, us*1000)
	if tz != nil || utc {
		t = t.UTC()
	} else {
		t = t.In(time.Local)
	}
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, fmt.Errorf("year %d is out of range", y)
	}
	w := wallClock(t)
	if tz != nil {
		u := unixMicro(w) + tz.offset
		if u < minUnixMicro || u > maxUnixMicro {
			return time.Time{}, dateOverflow()
		}
		w = fromUnixMicro(u)
	}
	return w, nil
}

// nowWall is the current wall clock time, truncated to microseconds, in
// tz, or UTC when utc, or local time.
func nowWall(tz *Timezone, utc bool) (time.Time, error) {
	u := time.Now().UnixMicro()
	return timestampWall(floorDiv(u, 1e6), u-floorDiv(u, 1e6)*1e6, tz, utc)
}

func dtNoArgs(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) error {
	return starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0)
}

// wallOf is the wall clock time of a Date or Datetime.
func wallOf(v starlark.Value) time.Time {
	switch v := v.(type) {
	case Date:
		return v.t
	case Datetime:
		return v.t
	}
	return time.Time{}
}

// ---- datetime ----

// Datetime is datetime.datetime: a wall clock time with microsecond
// resolution in years 1 to 9999, naive or aware of a fixed-offset
// Timezone. Aware values compare, subtract and hash by their UTC
// instant; naive ones by their wall clock.
type Datetime struct {
	t  time.Time // wall clock time, location UTC
	tz *Timezone // nil when naive
}

var (
	_ starlark.HasAttrs   = Datetime{}
	_ starlark.HasBinary  = Datetime{}
	_ starlark.Comparable = Datetime{}
	_ Reprer              = Datetime{}
	_ Stringer            = Datetime{}
	_ Formatter           = Datetime{}
)

// Time returns the instant d stands for: its wall clock in its
// timezone, or in time.Local when naive.
func (d Datetime) Time() time.Time {
	if d.tz == nil {
		return localInstant(d.t)
	}
	return fromUnixMicro(d.utcMicro())
}

// utcMicro is the key of comparisons: microseconds since the epoch of
// the UTC instant (aware) or of the wall clock read as UTC (naive).
func (d Datetime) utcMicro() int64 {
	u := unixMicro(d.t)
	if d.tz != nil {
		u -= d.tz.offset
	}
	return u
}

// String returns str(d).
func (d Datetime) String() string { return d.PyStr() }

// Type returns "datetime".
func (d Datetime) Type() string { return "datetime" }

// Freeze does nothing: a Datetime is immutable.
func (d Datetime) Freeze() {}

// Truth returns True.
func (d Datetime) Truth() starlark.Bool { return true }

// Hash hashes the comparison key, so equal values hash alike.
func (d Datetime) Hash() (uint32, error) { return dtHash(d.utcMicro()), nil }

// PyStr returns str(d): isoformat(sep=' ').
func (d Datetime) PyStr() string {
	s, _ := d.isoformat(" ", "auto")
	return s
}

// PyRepr returns repr(d), e.g.
// datetime.datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=datetime.timezone.utc),
// leaving out a zero microsecond, and a zero second when the
// microsecond is zero too.
func (d Datetime) PyRepr() string {
	y, m, day := d.t.Date()
	h, mi, s := d.t.Clock()
	us := d.t.Nanosecond() / 1000
	r := fmt.Sprintf("datetime.datetime(%d, %d, %d, %d, %d", y, int(m), day, h, mi)
	if us != 0 {
		r += fmt.Sprintf(", %d, %d", s, us)
	} else if s != 0 {
		r += fmt.Sprintf(", %d", s)
	}
	if d.tz != nil {
		r += ", tzinfo=" + d.tz.PyRepr()
	}
	return r + ")"
}

// PyFormat formats d with strftime(spec), or as str(d) for an empty spec.
func (d Datetime) PyFormat(spec string) (string, error) {
	if spec == "" {
		return d.PyStr(), nil
	}
	return strftime(spec, d.tm()), nil
}

func (d Datetime) tm() tmFields {
	f := tmFields{t: d.t}
	if d.tz != nil {
		f.aware, f.offset, f.zone = true, d.tz.offset, d.tz.PyStr()
	}
	return f
}

func (d Datetime) isoformat(sep, timespec string) (string, error) {
	y, m, day := d.t.Date()
	h, mi, s := d.t.Clock()
	us := d.t.Nanosecond() / 1000
	var clock string
	switch timespec {
	case "auto":
		if us != 0 {
			clock = fmt.Sprintf("%02d:%02d:%02d.%06d", h, mi, s, us)
		} else {
			clock = fmt.Sprintf("%02d:%02d:%02d", h, mi, s)
		}
	case "hours":
		clock = fmt.Sprintf("%02d", h)
	case "minutes":
		clock = fmt.Sprintf("%02d:%02d", h, mi)
	case "seconds":
		clock = fmt.Sprintf("%02d:%02d:%02d", h, mi, s)
	case "milliseconds":
		clock = fmt.Sprintf("%02d:%02d:%02d.%03d", h, mi, s, us/1000)
	case "microseconds":
		clock = fmt.Sprintf("%02d:%02d:%02d.%06d", h, mi, s, us)
	default:
		return "", fmt.Errorf("unknown timespec value %s", Repr(starlark.String(timespec)))
	}
	out := fmt.Sprintf("%04d-%02d-%02d", y, int(m), day) + sep + clock
	if d.tz != nil {
		out += formatOffset(d.tz.offset, ":")
	}
	return out, nil
}

// CompareSameType compares aware values by instant and naive ones by
// wall clock; naive and aware are unequal and unordered.
func (d Datetime) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	e, ok := y.(Datetime)
	if !ok {
		return false, fmt.Errorf("can't compare datetime to %s", y.Type())
	}
	if (d.tz == nil) != (e.tz == nil) {
		switch op {
		case syntax.EQL:
			return false, nil
		case syntax.NEQ:
			return true, nil
		}
		return false, errors.New("can't compare offset-naive and offset-aware datetimes")
	}
	return dtCompare(op, d.utcMicro(), e.utcMicro()), nil
}

// Binary implements datetime ± timedelta, timedelta + datetime and
// datetime - datetime.
func (d Datetime) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	switch y := y.(type) {
	case Timedelta:
		switch {
		case op == syntax.PLUS:
			return d.add(y.us)
		case op == syntax.MINUS && side == starlark.Left:
			return d.add(-y.us)
		}
	case Datetime:
		if op == syntax.MINUS {
			a, c := d, y
			if side == starlark.Right {
				a, c = y, d
			}
			if (a.tz == nil) != (c.tz == nil) {
				return nil, errors.New("can't subtract offset-naive and offset-aware datetimes")
			}
			return Timedelta{us: a.utcMicro() - c.utcMicro()}, nil
		}
	}
	return nil, nil
}

func (d Datetime) add(us int64) (starlark.Value, error) {
	const span = maxUnixMicro - minUnixMicro
	if us > span || us < -span {
		return nil, dateOverflow()
	}
	u := unixMicro(d.t) + us
	if u < minUnixMicro || u > maxUnixMicro {
		return nil, dateOverflow()
	}
	return Datetime{t: fromUnixMicro(u), tz: d.tz}, nil
}

var datetimeMethods = map[string]*starlark.Builtin{
	"astimezone":  starlark.NewBuiltin("datetime.astimezone", datetimeAstimezone),
	"ctime":       starlark.NewBuiltin("datetime.ctime", dateCtime),
	"date":        starlark.NewBuiltin("datetime.date", datetimeDate),
	"dst":         starlark.NewBuiltin("datetime.dst", datetimeDst),
	"isocalendar": starlark.NewBuiltin("datetime.isocalendar", dateIsocalendar),
	"isoformat":   starlark.NewBuiltin("datetime.isoformat", datetimeIsoformat),
	"isoweekday":  starlark.NewBuiltin("datetime.isoweekday", dateIsoweekday),
	"replace":     starlark.NewBuiltin("datetime.replace", datetimeReplace),
	"strftime":    starlark.NewBuiltin("datetime.strftime", datetimeStrftime),
	"timestamp":   starlark.NewBuiltin("datetime.timestamp", datetimeTimestamp),
	"toordinal":   starlark.NewBuiltin("datetime.toordinal", dateToordinal),
	"tzname":      starlark.NewBuiltin("datetime.tzname", datetimeTzname),
	"utcoffset":   starlark.NewBuiltin("datetime.utcoffset", datetimeUtcoffset),
	"weekday":     starlark.NewBuiltin("datetime.weekday", dateWeekday),
}

// Attr returns the fields (year ... microsecond, tzinfo, fold) and the
// methods.
func (d Datetime) Attr(name string) (starlark.Value, error) {
	switch name {
	case "year":
		return starlark.MakeInt(d.t.Year()), nil
	case "month":
		return starlark.MakeInt(int(d.t.Month())), nil
	case "day":
		return starlark.MakeInt(d.t.Day()), nil
	case "hour":
		return starlark.MakeInt(d.t.Hour()), nil
	case "minute":
		return starlark.MakeInt(d.t.Minute()), nil
	case "second":
		return starlark.MakeInt(d.t.Second()), nil
	case "microsecond":
		return starlark.MakeInt(d.t.Nanosecond() / 1000), nil
	case "fold":
		return starlark.MakeInt(0), nil
	case "tzinfo":
		if d.tz == nil {
			return starlark.None, nil
		}
		return *d.tz, nil
	}
	if m, ok := datetimeMethods[name]; ok {
		return m.BindReceiver(d), nil
	}
	return nil, nil
}

// AttrNames lists the attributes.
func (d Datetime) AttrNames() []string {
	return []string{
		"astimezone", "ctime", "date", "day", "dst", "fold", "hour", "isocalendar", "isoformat", "isoweekday",
		"microsecond", "minute", "month", "replace", "second", "strftime", "timestamp", "toordinal",
		"tzinfo", "tzname", "utcoffset", "weekday", "year",
	}
}

func datetimeIsoformat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	sep, timespec := "T", "auto"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "sep?", &sep, "timespec?", &timespec); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(sep) != 1 {
		return nil, fmt.Errorf("%s: sep must be a single character, not %s", b.Name(), Repr(starlark.String(sep)))
	}
	s, err := b.Receiver().(Datetime).isoformat(sep, timespec)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.String(s), nil
}

func datetimeStrftime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var format string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "format", &format); err != nil {
		return nil, err
	}
	return starlark.String(strftime(format, b.Receiver().(Datetime).tm())), nil
}

// datetimeTimestamp returns the POSIX timestamp as a float: the exact
// quotient for aware values, local seconds + microseconds/1e6 for naive
// ones, as CPython computes them.
func datetimeTimestamp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	d := b.Receiver().(Datetime)
	if d.tz != nil {
		u := d.utcMicro()
		if u > -(1<<53) && u < 1<<53 {
			return starlark.Float(float64(u) / 1e6), nil
		}
		f, _ := new(big.Rat).SetFrac64(u, 1e6).Float64()
		return starlark.Float(f), nil
	}
	sec := localInstant(d.t).Unix()
	return starlark.Float(float64(sec) + float64(d.t.Nanosecond()/1000)/1e6), nil
}

func datetimeDate(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	y, m, d := b.Receiver().(Datetime).t.Date()
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}, nil
}

func datetimeUtcoffset(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	d := b.Receiver().(Datetime)
	if d.tz == nil {
		return starlark.None, nil
	}
	return Timedelta{us: d.tz.offset}, nil
}

func datetimeTzname(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	d := b.Receiver().(Datetime)
	if d.tz == nil {
		return starlark.None, nil
	}
	return starlark.String(d.tz.PyStr()), nil
}

func datetimeDst(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func datetimeReplace(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(Datetime)
	y, m, day := d.t.Date()
	h, mi, s := d.t.Clock()
	us := d.t.Nanosecond() / 1000
	month, fold := int(m), 0
	var tzv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"year?", &y, "month?", &month, "day?", &day, "hour?", &h, "minute?", &mi,
		"second?", &s, "microsecond?", &us, "tzinfo?", &tzv, "fold?", &fold); err != nil {
		return nil, err
	}
	tz := d.tz
	if tzv != nil {
		var err error
		if tz, err = asTzinfo(tzv); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
	}
	if fold != 0 && fold != 1 {
		return nil, fmt.Errorf("%s: fold must be either 0 or 1", b.Name())
	}
	return makeDatetime(b.Name(), y, month, day, h, mi, s, us, tz)
}

func datetimeAstimezone(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var tzv starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tz?", &tzv); err != nil {
		return nil, err
	}
	d := b.Receiver().(Datetime)
	var instant int64
	if d.tz != nil {
		instant = d.utcMicro()
	} else {
		instant = localInstant(d.t).UnixMicro()
	}
	tz, err := asTzinfo(tzv)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if tz == nil {
		// The local zone, as a fixed offset named after it.
		t := time.UnixMicro(instant).In(time.Local)
		name, off := t.Zone()
		if y := t.Year(); y < 1 || y > 9999 {
			return nil, fmt.Errorf("%s: %v", b.Name(), dateOverflow())
		}
		return Datetime{t: wallClock(t), tz: &Timezone{offset: int64(off) * 1e6, name: name, named: true}}, nil
	}
	u := instant + tz.offset
	if u < minUnixMicro || u > maxUnixMicro {
		return nil, fmt.Errorf("%s: %v", b.Name(), dateOverflow())
	}
	return Datetime{t: fromUnixMicro(u), tz: tz}, nil
}

// DatetimeClass is the datetime.datetime class: datetime(year, month,
// day, hour=0, minute=0, second=0, microsecond=0, tzinfo=None), with the
// alternate constructors now, utcnow, today, fromtimestamp,
// utcfromtimestamp, fromisoformat, strptime, fromordinal and combine,
// and min, max and resolution.
type DatetimeClass struct{ classBase }

var (
	_ starlark.Callable = (*DatetimeClass)(nil)
	_ starlark.HasAttrs = (*DatetimeClass)(nil)
)

// IsInstance reports whether v is a datetime.
func (c *DatetimeClass) IsInstance(v starlark.Value) bool {
	_, ok := v.(Datetime)
	return ok
}

// CallInternal implements datetime(year, month, day, hour=0, minute=0,
// second=0, microsecond=0, tzinfo=None, fold=0).
func (c *DatetimeClass) CallInternal(_ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var y, m, d, h, mi, s, us, fold int
	var tzv starlark.Value = starlark.None
	if err := starlark.UnpackArgs("datetime", args, kwargs,
		"year", &y, "month", &m, "day", &d, "hour?", &h, "minute?", &mi,
		"second?", &s, "microsecond?", &us, "tzinfo?", &tzv, "fold?", &fold); err != nil {
		return nil, err
	}
	tz, err := asTzinfo(tzv)
	if err != nil {
		return nil, fmt.Errorf("datetime: %v", err)
	}
	if fold != 0 && fold != 1 {
		return nil, errors.New("datetime: fold must be either 0 or 1")
	}
	return makeDatetime("datetime", y, m, d, h, mi, s, us, tz)
}

var datetimeClassMethods = map[string]*starlark.Builtin{
	"combine":          starlark.NewBuiltin("datetime.combine", datetimeCombine),
	"fromisoformat":    starlark.NewBuiltin("datetime.fromisoformat", datetimeFromisoformat),
	"fromordinal":      starlark.NewBuiltin("datetime.fromordinal", datetimeFromordinal),
	"fromtimestamp":    starlark.NewBuiltin("datetime.fromtimestamp", datetimeFromtimestamp),
	"now":              starlark.NewBuiltin("datetime.now", datetimeNow),
	"strptime":         starlark.NewBuiltin("datetime.strptime", datetimeStrptime),
	"today":            starlark.NewBuiltin("datetime.today", datetimeToday),
	"utcfromtimestamp": starlark.NewBuiltin("datetime.utcfromtimestamp", datetimeUtcfromtimestamp),
	"utcnow":           starlark.NewBuiltin("datetime.utcnow", datetimeUtcnow),
}

// Attr returns the alternate constructors, min, max and resolution.
func (c *DatetimeClass) Attr(name string) (starlark.Value, error) {
	switch name {
	case "min":
		return Datetime{t: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
	case "max":
		return Datetime{t: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)}, nil
	case "resolution":
		return Timedelta{us: 1}, nil
	}
	if m, ok := datetimeClassMethods[name]; ok {
		return m, nil
	}
	return nil, nil
}

// AttrNames lists the attributes.
func (c *DatetimeClass) AttrNames() []string {
	return []string{"combine", "fromisoformat", "fromordinal", "fromtimestamp", "max", "min", "now",
		"resolution", "strptime", "today", "utcfromtimestamp", "utcnow"}
}

func datetimeNow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var tzv starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tz?", &tzv); err != nil {
		return nil, err
	}
	tz, err := asTzinfo(tzv)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	w, err := nowWall(tz, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return Datetime{t: w, tz: tz}, nil
}

func datetimeToday(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	w, err := nowWall(nil, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return Datetime{t: w}, nil
}

func datetimeUtcnow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := dtNoArgs(b, args, kwargs); err != nil {
		return nil, err
	}
	w, err := nowWall(nil, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return Datetime{t: w}, nil
}

func datetimeFromtimestamp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ts starlark.Value
	var tzv starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "timestamp", &ts, "tz?", &tzv); err != nil {
		return nil, err
	}
	tz, err := asTzinfo(tzv)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	sec, us, err := splitTimestamp(ts, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	w, err := timestampWall(sec, us, tz, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return Datetime{t: w, tz: tz}, nil
}

func datetimeUtcfromtimestamp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ts starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &ts); err != nil {
		return nil, err
	}
	sec, us, err := splitTimestamp(ts, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	w, err := timestampWall(sec, us, nil, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return Datetime{t: w}, nil
}

func datetimeFromordinal(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
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
	return Datetime{t: fromOrdinal(n)}, nil
}

// datetimeCombine implements combine(date, time, tzinfo=time.tzinfo)
// with a datetime standing in for the time (there is no time type): its
// clock fields, and its tzinfo unless tzinfo is given.
func datetimeCombine(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dv, tv, tzv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "date", &dv, "time", &tv, "tzinfo?", &tzv); err != nil {
		return nil, err
	}
	var day time.Time
	switch dv.(type) {
	case Date, Datetime:
		day = wallOf(dv)
	default:
		return nil, fmt.Errorf("%s: date argument must be a date, not %s", b.Name(), dv.Type())
	}
	clock, ok := tv.(Datetime)
	if !ok {
		return nil, fmt.Errorf("%s: time argument must be a datetime, not %s", b.Name(), tv.Type())
	}
	tz := clock.tz
	if tzv != nil {
		var err error
		if tz, err = asTzinfo(tzv); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
	}
	y, m, d := day.Date()
	h, mi, s := clock.t.Clock()
	return Datetime{t: time.Date(y, m, d, h, mi, s, clock.t.Nanosecond(), time.UTC), tz: tz}, nil
}

func datetimeFromisoformat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	return datetimeFromISO(b.Name(), s)
}

func datetimeStrptime(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var data, format string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &data, &format); err != nil {
		return nil, err
	}
	return strptime(b.Name(), data, format)
}
