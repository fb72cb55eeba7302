package python

import (
	"fmt"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Timezone is datetime.timezone: a fixed offset from UTC, strictly
// between -24h and 24h, with an optional name. The zero value is
// timezone.utc. Timezones are equal when their offsets are.
type Timezone struct {
	offset int64 // microseconds east of UTC
	name   string
	named  bool
}

var (
	_ starlark.HasAttrs   = Timezone{}
	_ starlark.Comparable = Timezone{}
	_ Reprer              = Timezone{}
	_ Stringer            = Timezone{}
)

func makeTimezone(offset int64, name string, named bool) (Timezone, error) {
	if offset <= -usPerDay || offset >= usPerDay {
		return Timezone{}, fmt.Errorf("offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not %s", Timedelta{us: offset}.String())
	}
	return Timezone{offset: offset, name: name, named: named}, nil
}

// Offset returns the offset east of UTC.
func (z Timezone) Offset() time.Duration { return time.Duration(z.offset) * time.Microsecond }

// String returns str(z).
func (z Timezone) String() string { return z.PyStr() }

// Type returns "timezone".
func (z Timezone) Type() string { return "timezone" }

// Freeze does nothing: a Timezone is immutable.
func (z Timezone) Freeze() {}

// Truth returns True.
func (z Timezone) Truth() starlark.Bool { return true }

// Hash hashes the offset, as equality compares only it.
func (z Timezone) Hash() (uint32, error) { return dtHash(z.offset), nil }

// PyRepr returns repr(z): datetime.timezone.utc, or
// datetime.timezone(datetime.timedelta(seconds=3600)) with the name
// after the delta when there is one.
func (z Timezone) PyRepr() string {
	if z.offset == 0 && !z.named {
		return "datetime.timezone.utc"
	}
	s := "datetime.timezone(" + Timedelta{us: z.offset}.String()
	if z.named {
		s += ", " + Repr(starlark.String(z.name))
	}
	return s + ")"
}

// PyStr returns str(z), its tzname: the name, else 'UTC' or 'UTC+01:00'.
func (z Timezone) PyStr() string {
	if z.named {
		return z.name
	}
	if z.offset == 0 {
		return "UTC"
	}
	return "UTC" + formatOffset(z.offset, ":")
}

// CompareSameType supports == and != (by offset).
func (z Timezone) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	w, ok := y.(Timezone)
	if ok {
		switch op {
		case syntax.EQL:
			return z.offset == w.offset, nil
		case syntax.NEQ:
			return z.offset != w.offset, nil
		}
	}
	return false, fmt.Errorf("'%s' not supported between instances of 'timezone' and '%s'", op, y.Type())
}

var timezoneMethods = map[string]*starlark.Builtin{
	"dst":       starlark.NewBuiltin("timezone.dst", timezoneDst),
	"fromutc":   starlark.NewBuiltin("timezone.fromutc", timezoneFromutc),
	"tzname":    starlark.NewBuiltin("timezone.tzname", timezoneTzname),
	"utcoffset": starlark.NewBuiltin("timezone.utcoffset", timezoneUtcoffset),
}

// Attr returns the methods dst, fromutc, tzname and utcoffset.
func (z Timezone) Attr(name string) (starlark.Value, error) {
	if m, ok := timezoneMethods[name]; ok {
		return m.BindReceiver(z), nil
	}
	return nil, nil
}

// AttrNames lists the attributes.
func (z Timezone) AttrNames() []string { return []string{"dst", "fromutc", "tzname", "utcoffset"} }

// timezoneDtArg unpacks the one datetime-or-None argument of the
// timezone methods.
func timezoneDtArg(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) error {
	var dt starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &dt); err != nil {
		return err
	}
	switch dt.(type) {
	case starlark.NoneType, Datetime:
		return nil
	}
	return fmt.Errorf("%s: argument must be a datetime instance or None, not %s", b.Name(), dt.Type())
}

func timezoneUtcoffset(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := timezoneDtArg(b, args, kwargs); err != nil {
		return nil, err
	}
	return Timedelta{us: b.Receiver().(Timezone).offset}, nil
}

func timezoneTzname(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := timezoneDtArg(b, args, kwargs); err != nil {
		return nil, err
	}
	return starlark.String(b.Receiver().(Timezone).PyStr()), nil
}

func timezoneDst(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := timezoneDtArg(b, args, kwargs); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

func timezoneFromutc(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	z := b.Receiver().(Timezone)
	dt, ok := v.(Datetime)
	if !ok {
		return nil, fmt.Errorf("%s: argument must be a datetime, not %s", b.Name(), v.Type())
	}
	if dt.tz == nil || *dt.tz != z {
		return nil, fmt.Errorf("%s: dt.tzinfo is not self", b.Name())
	}
	u := unixMicro(dt.t) + z.offset
	if u < minUnixMicro || u > maxUnixMicro {
		return nil, fmt.Errorf("%s: %v", b.Name(), dateOverflow())
	}
	return Datetime{t: fromUnixMicro(u), tz: dt.tz}, nil
}

// TimezoneClass is the datetime.timezone class: timezone(offset,
// name=None), with the attributes utc, min and max.
type TimezoneClass struct{ classBase }

var (
	_ starlark.Callable = (*TimezoneClass)(nil)
	_ starlark.HasAttrs = (*TimezoneClass)(nil)
)

// IsInstance reports whether v is a timezone.
func (c *TimezoneClass) IsInstance(v starlark.Value) bool {
	_, ok := v.(Timezone)
	return ok
}

// CallInternal implements timezone(offset, name=None).
func (c *TimezoneClass) CallInternal(_ *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var offset, name starlark.Value = nil, starlark.None
	if err := starlark.UnpackArgs("timezone", args, kwargs, "offset", &offset, "name?", &name); err != nil {
		return nil, err
	}
	td, ok := offset.(Timedelta)
	if !ok {
		return nil, fmt.Errorf("timezone: offset must be a timedelta, not %s", offset.Type())
	}
	var s string
	named := false
	if name != starlark.None {
		str, ok := name.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("timezone: name must be a string, not %s", name.Type())
		}
		s, named = string(str), true
	}
	z, err := makeTimezone(td.us, s, named)
	if err != nil {
		return nil, fmt.Errorf("timezone: %v", err)
	}
	return z, nil
}

// Attr returns utc, min and max.
func (c *TimezoneClass) Attr(name string) (starlark.Value, error) {
	const m = 23*3600e6 + 59*60e6
	switch name {
	case "utc":
		return Timezone{}, nil
	case "min":
		return Timezone{offset: -m}, nil
	case "max":
		return Timezone{offset: m}, nil
	}
	return nil, nil
}

// AttrNames lists the attributes.
func (c *TimezoneClass) AttrNames() []string { return []string{"max", "min", "utc"} }
