package python

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Timedelta is Python's datetime.timedelta: a duration with microsecond
// resolution.
//
//	timedelta(days=0, seconds=0, microseconds=0, milliseconds=0, minutes=0, hours=0, weeks=0)
//
// It supports + and - with another timedelta, * and // with an int, / with
// a timedelta or a number, comparisons, total_seconds(), and the days,
// seconds and microseconds attributes.
type Timedelta struct {
	us int64 // microseconds
}

var (
	_ starlark.HasBinary  = Timedelta{}
	_ starlark.HasUnary   = Timedelta{}
	_ starlark.Comparable = Timedelta{}
	_ starlark.HasAttrs   = Timedelta{}
	_ Reprer              = Timedelta{}
	_ Stringer            = Timedelta{}
)

// NewTimedelta implements the timedelta(...) builtin.
func NewTimedelta(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var days, seconds, microseconds, milliseconds, minutes, hours, weeks starlark.Value = starlark.MakeInt(0), starlark.MakeInt(0), starlark.MakeInt(0), starlark.MakeInt(0), starlark.MakeInt(0), starlark.MakeInt(0), starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"days?", &days, "seconds?", &seconds, "microseconds?", &microseconds,
		"milliseconds?", &milliseconds, "minutes?", &minutes, "hours?", &hours, "weeks?", &weeks); err != nil {
		return nil, err
	}
	var total float64
	exact := int64(0)
	allInt := true
	for _, p := range []struct {
		v     starlark.Value
		name  string
		scale int64
	}{
		{days, "days", 86400e6}, {seconds, "seconds", 1e6}, {microseconds, "microseconds", 1},
		{milliseconds, "milliseconds", 1000}, {minutes, "minutes", 60e6}, {hours, "hours", 3600e6}, {weeks, "weeks", 7 * 86400e6},
	} {
		switch v := p.v.(type) {
		case starlark.Int:
			n, ok := v.Int64()
			if !ok || math.Abs(float64(n))*float64(p.scale) > 9e18 {
				return nil, fmt.Errorf("%s: %s=%s is out of range", b.Name(), p.name, v)
			}
			exact += n * p.scale
			total += float64(n) * float64(p.scale)
		case starlark.Float:
			allInt = false
			total += float64(v) * float64(p.scale)
		default:
			return nil, fmt.Errorf("%s: %s must be an int or float, not %s", b.Name(), p.name, p.v.Type())
		}
	}
	if allInt {
		return Timedelta{us: exact}, nil
	}
	if math.Abs(total) > 9e18 {
		return nil, fmt.Errorf("%s: duration out of range", b.Name())
	}
	// Python rounds the microseconds half to even.
	return Timedelta{us: int64(math.RoundToEven(total))}, nil
}

// Microseconds returns the duration in microseconds.
func (t Timedelta) Microseconds() int64 { return t.us }

// Milliseconds converts the duration as Quix Streams' ensure_milliseconds
// does: int(round(total_seconds, 3) * 1000), so timedelta(seconds=1.005)
// gives 1004, a quirk of binary floating point kept for compatibility.
func (t Timedelta) Milliseconds() int64 {
	secs := float64(t.us) / 1e6
	rounded, _ := strconv.ParseFloat(strconv.FormatFloat(secs, 'f', 3, 64), 64)
	return int64(rounded * 1000)
}

func (t Timedelta) String() string {
	days := floorDiv(t.us, 86400e6)
	rest := t.us - days*86400e6
	secs := rest / 1e6
	micro := rest % 1e6
	var parts []string
	if days != 0 {
		parts = append(parts, fmt.Sprintf("days=%d", days))
	}
	if secs != 0 {
		parts = append(parts, fmt.Sprintf("seconds=%d", secs))
	}
	if micro != 0 {
		parts = append(parts, fmt.Sprintf("microseconds=%d", micro))
	}
	if len(parts) == 0 {
		parts = append(parts, "0")
	}
	return "datetime.timedelta(" + strings.Join(parts, ", ") + ")"
}

// PyRepr returns repr(t) as CPython 3.11 writes it, e.g.
// datetime.timedelta(days=-1, seconds=86399); the same as String.
func (t Timedelta) PyRepr() string { return t.String() }

// PyStr returns str(t) as CPython writes it: '0:00:05',
// '1 day, 2:03:04.500000', '-1 day, 23:59:59'.
func (t Timedelta) PyStr() string {
	days := floorDiv(t.us, 86400e6)
	rest := t.us - days*86400e6
	secs := rest / 1e6
	micro := rest % 1e6
	s := fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if days != 0 {
		plural := "s"
		if days == 1 || days == -1 {
			plural = ""
		}
		s = fmt.Sprintf("%d day%s, ", days, plural) + s
	}
	if micro != 0 {
		s += fmt.Sprintf(".%06d", micro)
	}
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (t Timedelta) Type() string          { return "timedelta" }
func (t Timedelta) Freeze()               {}
func (t Timedelta) Truth() starlark.Bool  { return t.us != 0 }
func (t Timedelta) Hash() (uint32, error) { return uint32(t.us) ^ uint32(t.us>>32), nil }

func (t Timedelta) Attr(name string) (starlark.Value, error) {
	switch name {
	case "days":
		return starlark.MakeInt64(floorDiv(t.us, 86400e6)), nil
	case "seconds":
		return starlark.MakeInt64((t.us - floorDiv(t.us, 86400e6)*86400e6) / 1e6), nil
	case "microseconds":
		return starlark.MakeInt64(((t.us % 1e6) + 1e6) % 1e6), nil
	case "total_seconds":
		return starlark.NewBuiltin("timedelta.total_seconds", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			return starlark.Float(float64(t.us) / 1e6), nil
		}), nil
	}
	return nil, nil
}

func (t Timedelta) AttrNames() []string {
	return []string{"days", "microseconds", "seconds", "total_seconds"}
}

func (t Timedelta) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	u := y.(Timedelta)
	switch op {
	case syntax.EQL:
		return t.us == u.us, nil
	case syntax.NEQ:
		return t.us != u.us, nil
	case syntax.LT:
		return t.us < u.us, nil
	case syntax.LE:
		return t.us <= u.us, nil
	case syntax.GT:
		return t.us > u.us, nil
	case syntax.GE:
		return t.us >= u.us, nil
	}
	return false, fmt.Errorf("unsupported comparison %s for timedelta", op)
}

func (t Timedelta) Unary(op syntax.Token) (starlark.Value, error) {
	switch op {
	case syntax.MINUS:
		return Timedelta{us: -t.us}, nil
	case syntax.PLUS:
		return t, nil
	}
	return nil, nil
}

func (t Timedelta) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	switch y := y.(type) {
	case Timedelta:
		a, b := t.us, y.us
		if side == starlark.Right {
			a, b = b, a
		}
		switch op {
		case syntax.PLUS:
			return Timedelta{us: a + b}, nil
		case syntax.MINUS:
			return Timedelta{us: a - b}, nil
		case syntax.SLASH:
			if b == 0 {
				return nil, fmt.Errorf("timedelta division by zero")
			}
			return starlark.Float(float64(a) / float64(b)), nil
		case syntax.SLASHSLASH:
			if b == 0 {
				return nil, fmt.Errorf("timedelta division by zero")
			}
			return starlark.MakeInt64(floorDiv(a, b)), nil
		}
	case starlark.Int:
		n, ok := y.Int64()
		if !ok {
			return nil, fmt.Errorf("timedelta: int operand out of range")
		}
		switch {
		case op == syntax.STAR:
			return Timedelta{us: t.us * n}, nil
		case op == syntax.SLASHSLASH && side == starlark.Left:
			if n == 0 {
				return nil, fmt.Errorf("timedelta division by zero")
			}
			return Timedelta{us: floorDiv(t.us, n)}, nil
		case op == syntax.SLASH && side == starlark.Left:
			if n == 0 {
				return nil, fmt.Errorf("timedelta division by zero")
			}
			return Timedelta{us: int64(math.RoundToEven(float64(t.us) / float64(n)))}, nil
		}
	case starlark.Float:
		switch {
		case op == syntax.STAR:
			return Timedelta{us: int64(math.RoundToEven(float64(t.us) * float64(y)))}, nil
		case op == syntax.SLASH && side == starlark.Left:
			if y == 0 {
				return nil, fmt.Errorf("timedelta division by zero")
			}
			return Timedelta{us: int64(math.RoundToEven(float64(t.us) / float64(y)))}, nil
		}
	}
	return nil, nil
}
