package python

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Reprer is a value with a Python repr() of its own (datetime objects,
// Counter, ...). Repr uses it before its own rules.
type Reprer interface {
	PyRepr() string
}

// Stringer is a value whose Python str() differs from its repr().
type Stringer interface {
	PyStr() string
}

// Formatter is a value with a Python __format__ of its own (datetime
// formats its spec with strftime).
type Formatter interface {
	PyFormat(spec string) (string, error)
}

// Repr returns repr(v) as CPython writes it: strings in single quotes
// unless they hold a single quote and no double quote, bytes as b'...',
// floats in their shortest round-trip form ('1e+16', '0.1', '3.0'),
// dicts as {'a': 1}, one-element tuples as (1,).
func Repr(v starlark.Value) string {
	var b strings.Builder
	writeRepr(&b, v, 0)
	return b.String()
}

// Str returns str(v) as CPython writes it: a string is itself; other
// values are their repr, except where the type says otherwise.
func Str(v starlark.Value) string {
	switch v := v.(type) {
	case starlark.String:
		return string(v)
	case Stringer:
		return v.PyStr()
	}
	return Repr(v)
}

// maxReprDepth bounds nesting, so a list that holds itself ends.
const maxReprDepth = 100

func writeRepr(b *strings.Builder, v starlark.Value, depth int) {
	if depth > maxReprDepth {
		b.WriteString("...")
		return
	}
	switch v := v.(type) {
	case starlark.NoneType:
		b.WriteString("None")
	case starlark.Bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case starlark.Int:
		b.WriteString(v.String())
	case starlark.Float:
		b.WriteString(FloatRepr(float64(v)))
	case starlark.String:
		writeStringRepr(b, string(v))
	case starlark.Bytes:
		writeBytesRepr(b, string(v))
	case *starlark.List:
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, v.Index(i), depth+1)
		}
		b.WriteByte(']')
	case starlark.Tuple:
		b.WriteByte('(')
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, x, depth+1)
		}
		if len(v) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *starlark.Dict:
		b.WriteByte('{')
		for i, item := range v.Items() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, item[0], depth+1)
			b.WriteString(": ")
			writeRepr(b, item[1], depth+1)
		}
		b.WriteByte('}')
	case *starlark.Set:
		if v.Len() == 0 {
			b.WriteString("set()")
			return
		}
		b.WriteByte('{')
		iter := v.Iterate()
		defer iter.Done()
		var x starlark.Value
		for i := 0; iter.Next(&x); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, x, depth+1)
		}
		b.WriteByte('}')
	case Reprer:
		b.WriteString(v.PyRepr())
	default:
		b.WriteString(v.String())
	}
}

// FloatRepr is repr(float): the shortest digits that read back as f, in
// fixed notation when the decimal exponent is in [-4, 16), else as
// d.ddde+XX; always with a '.' or an exponent.
func FloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	digits, exp, neg := shortestDigits(f)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if exp < -4 || exp >= 16 {
		b.WriteByte(digits[0])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		writeExponent(&b, exp)
		return b.String()
	}
	b.WriteString(fixedFromDigits(digits, exp))
	if exp >= len(digits)-1 {
		b.WriteString(".0")
	}
	return b.String()
}

// shortestDigits returns the shortest round-trip decimal digits of f
// (no leading or trailing zeros, "0" for zero), the decimal exponent of
// the first digit, and the sign.
func shortestDigits(f float64) (digits string, exp int, neg bool) {
	s := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	mant, e, _ := strings.Cut(s, "e")
	exp, _ = strconv.Atoi(e)
	digits = strings.Replace(mant, ".", "", 1)
	return digits, exp, neg
}

// fixedFromDigits writes digits d1d2d3... whose first digit has decimal
// exponent exp in fixed notation, with as many decimals as the digits
// need (none when they end at or before the units).
func fixedFromDigits(digits string, exp int) string {
	switch {
	case exp < 0:
		return "0." + strings.Repeat("0", -exp-1) + digits
	case exp >= len(digits)-1:
		return digits + strings.Repeat("0", exp-len(digits)+1)
	}
	return digits[:exp+1] + "." + digits[exp+1:]
}

// writeExponent writes e+XX / e-XX with at least two digits, as C's
// printf does.
func writeExponent(b *strings.Builder, exp int) {
	b.WriteByte('e')
	if exp < 0 {
		b.WriteByte('-')
		exp = -exp
	} else {
		b.WriteByte('+')
	}
	if exp < 10 {
		b.WriteByte('0')
	}
	b.WriteString(strconv.Itoa(exp))
}

// quoteFor picks Python's quote: ' unless s has ' and no ".
func quoteFor(s string) byte {
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		return '"'
	}
	return '\''
}

func writeStringRepr(b *strings.Builder, s string) {
	q := quoteFor(s)
	b.WriteByte(q)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Not valid UTF-8: Python strings cannot hold it; show the byte.
			writeHexEscape(b, 'x', uint32(s[i]), 2)
			i++
			continue
		}
		i += size
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteByte(q)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == ' ' || (r >= 0x20 && r < 0x7f):
			b.WriteRune(r)
		case r < 0x100 && !printable(r):
			writeHexEscape(b, 'x', uint32(r), 2)
		case !printable(r) && r < 0x10000:
			writeHexEscape(b, 'u', uint32(r), 4)
		case !printable(r):
			writeHexEscape(b, 'U', uint32(r), 8)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
}

// printable is Python's str.isprintable for one character: not a
// control, format, surrogate, private-use, unassigned or separator
// character other than the ASCII space.
func printable(r rune) bool {
	if r == ' ' {
		return true
	}
	return unicode.IsPrint(r) && !unicode.Is(unicode.Co, r)
}

func writeBytesRepr(b *strings.Builder, s string) {
	q := quoteFor(s)
	b.WriteString("b")
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == q:
			b.WriteByte('\\')
			b.WriteByte(q)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			writeHexEscape(b, 'x', uint32(c), 2)
		}
	}
	b.WriteByte(q)
}

func writeHexEscape(b *strings.Builder, kind byte, v uint32, width int) {
	b.WriteByte('\\')
	b.WriteByte(kind)
	h := strconv.FormatUint(uint64(v), 16)
	b.WriteString(strings.Repeat("0", width-len(h)))
	b.WriteString(h)
}
