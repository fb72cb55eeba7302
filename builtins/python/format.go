package python

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// maxFormatWidth bounds widths and precisions, so a format cannot ask for
// gigabytes (CPython fails on such sizes too, with MemoryError).
const maxFormatWidth = 100000

// spec is a parsed format specification of Python's mini-language:
// [[fill]align][sign][z][#][0][width][grouping][.precision][type].
type spec struct {
	fill      rune
	align     byte // 0, '<', '>', '=', '^'
	sign      byte // 0, '+', '-', ' '
	negZero   bool // 'z': -0.0 rounds to 0.0
	alt       bool // '#'
	zero      bool // '0' before the width
	width     int
	grouping  byte // 0, ',', '_'
	precision int  // -1: none
	typ       byte // 0 or the type letter
	zeroAlign bool // align '=' came from the '0' flag, not from the spec
}

func parseSpec(s string) (spec, error) {
	sp := spec{fill: ' ', precision: -1}
	orig := s
	isAlign := func(c byte) bool { return c == '<' || c == '>' || c == '=' || c == '^' }
	if r, size := utf8.DecodeRuneInString(s); size > 0 && size < len(s) && isAlign(s[size]) {
		sp.fill, sp.align, s = r, s[size], s[size+1:]
	} else if len(s) > 0 && isAlign(s[0]) {
		sp.align, s = s[0], s[1:]
	}
	if len(s) > 0 && (s[0] == '+' || s[0] == '-' || s[0] == ' ') {
		sp.sign, s = s[0], s[1:]
	}
	if len(s) > 0 && s[0] == 'z' {
		sp.negZero, s = true, s[1:]
	}
	if len(s) > 0 && s[0] == '#' {
		sp.alt, s = true, s[1:]
	}
	if len(s) > 0 && s[0] == '0' {
		sp.zero, s = true, s[1:]
	}
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n > 0 {
		var err error
		if sp.width, err = strconv.Atoi(s[:n]); err != nil || sp.width > maxFormatWidth {
			return sp, fmt.Errorf("Too many decimal digits in format string")
		}
		s = s[n:]
	}
	if len(s) > 0 && (s[0] == ',' || s[0] == '_') {
		sp.grouping, s = s[0], s[1:]
	}
	if len(s) > 0 && s[0] == '.' {
		n = 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 1 {
			return sp, fmt.Errorf("format specifier missing precision")
		}
		var err error
		if sp.precision, err = strconv.Atoi(s[1:n]); err != nil || sp.precision > maxFormatWidth {
			return sp, fmt.Errorf("Too many decimal digits in format string")
		}
		s = s[n:]
	}
	if len(s) == 1 {
		sp.typ, s = s[0], ""
	}
	if s != "" {
		return sp, fmt.Errorf("invalid format specifier '%s'", orig)
	}
	if sp.zero && sp.align == 0 {
		sp.fill, sp.align, sp.zeroAlign = '0', '=', true
	}
	return sp, nil
}

// FormatValue is format(v, spec): Python's __format__ of ints, floats,
// strings and bools; other values accept only an empty spec (their
// str()), unless they are Formatters.
func FormatValue(v starlark.Value, specText string) (string, error) {
	if f, ok := v.(Formatter); ok {
		return f.PyFormat(specText)
	}
	switch v := v.(type) {
	case starlark.String:
		return formatString(string(v), specText)
	case starlark.Bool:
		if specText == "" {
			return Str(v), nil
		}
		n := 0
		if v {
			n = 1
		}
		return formatInt(big.NewInt(int64(n)), specText)
	case starlark.Int:
		return formatInt(v.BigInt(), specText)
	case starlark.Float:
		return formatFloat(float64(v), specText)
	}
	if specText == "" {
		return Str(v), nil
	}
	return "", fmt.Errorf("unsupported format string passed to %s.__format__", pyTypeName(v))
}

// pyTypeName is the Python name of a value's type, for error messages.
func pyTypeName(v starlark.Value) string {
	switch v.(type) {
	case starlark.String:
		return "str"
	case starlark.NoneType:
		return "NoneType"
	}
	return v.Type()
}

func formatString(s, specText string) (string, error) {
	if specText == "" {
		return s, nil
	}
	sp, err := parseSpec(specText)
	if err != nil {
		return "", err
	}
	if sp.zeroAlign {
		sp.align = '<' // '{:05}'.format('ab') is 'ab000' (Python 3.10+)
	}
	switch {
	case sp.typ != 0 && sp.typ != 's':
		return "", fmt.Errorf("Unknown format code '%c' for object of type 'str'", sp.typ)
	case sp.sign != 0:
		return "", fmt.Errorf("sign not allowed in string format specifier")
	case sp.align == '=':
		return "", fmt.Errorf("'=' alignment not allowed in string format specifier")
	case sp.alt:
		return "", fmt.Errorf("alternate form (#) not allowed in string format specifier")
	case sp.grouping != 0:
		return "", fmt.Errorf("Cannot specify '%c' with 's'.", sp.grouping)
	}
	if sp.precision >= 0 && utf8.RuneCountInString(s) > sp.precision {
		s = string([]rune(s)[:sp.precision])
	}
	return pad("", s, sp, '<'), nil
}

// pad aligns sign+body in the spec's width; '=' puts the fill between
// them.
func pad(sign, body string, sp spec, defaultAlign byte) string {
	n := utf8.RuneCountInString(sign) + utf8.RuneCountInString(body)
	if n >= sp.width {
		return sign + body
	}
	fill := strings.Repeat(string(sp.fill), sp.width-n)
	align := sp.align
	if align == 0 {
		align = defaultAlign
	}
	switch align {
	case '<':
		return sign + body + fill
	case '^':
		half := (sp.width - n) / 2
		return strings.Repeat(string(sp.fill), half) + sign + body + strings.Repeat(string(sp.fill), sp.width-n-half)
	case '=':
		return sign + fill + body
	}
	return fill + sign + body
}

func signOf(neg bool, sp spec) string {
	switch {
	case neg:
		return "-"
	case sp.sign == '+':
		return "+"
	case sp.sign == ' ':
		return " "
	}
	return ""
}

func formatInt(n *big.Int, specText string) (string, error) {
	if specText == "" {
		return n.String(), nil
	}
	sp, err := parseSpec(specText)
	if err != nil {
		return "", err
	}
	switch sp.typ {
	case 'e', 'E', 'f', 'F', 'g', 'G', '%':
		f, _ := new(big.Float).SetInt(n).Float64()
		return formatFloatSpec(f, sp)
	}
	if sp.precision >= 0 {
		return "", fmt.Errorf("precision not allowed in integer format specifier")
	}
	if sp.negZero {
		return "", fmt.Errorf("negative zero coercion (z) not allowed in integer format specifier")
	}
	neg := n.Sign() < 0
	abs := new(big.Int).Abs(n)
	var digits, prefix string
	groupEvery := 3
	switch sp.typ {
	case 0, 'd', 'n':
		digits = abs.String()
	case 'b':
		digits, prefix, groupEvery = abs.Text(2), "0b", 4
	case 'o':
		digits, prefix, groupEvery = abs.Text(8), "0o", 4
	case 'x':
		digits, prefix, groupEvery = abs.Text(16), "0x", 4
	case 'X':
		digits, prefix, groupEvery = strings.ToUpper(abs.Text(16)), "0X", 4
	case 'c':
		if sp.sign != 0 {
			return "", fmt.Errorf("sign not allowed with integer format specifier 'c'")
		}
		if !n.IsInt64() || n.Int64() < 0 || n.Int64() > 0x10ffff {
			return "", fmt.Errorf("%%c arg not in range(0x110000)")
		}
		return pad("", string(rune(n.Int64())), sp, '<'), nil
	default:
		return "", fmt.Errorf("Unknown format code '%c' for object of type 'int'", sp.typ)
	}
	if !sp.alt {
		prefix = ""
	}
	if sp.grouping == ',' && sp.typ != 0 && sp.typ != 'd' {
		return "", fmt.Errorf("Cannot specify ',' with '%c'.", sp.typ)
	}
	sign := signOf(neg, sp) + prefix
	digits = groupZeroPadded(digits, "", sign, sp, groupEvery)
	return pad(sign, digits, sp, '>'), nil
}

// groupZeroPadded inserts the grouping separator into the integer digits
// and, with zero fill and '=' alignment, pads with zeros that are grouped
// too, as CPython does ('{:010,}' of 1234 is '00,001,234').
func groupZeroPadded(intDigits, rest, sign string, sp spec, every int) string {
	if sp.grouping == 0 {
		return intDigits + rest
	}
	sep := string(sp.grouping)
	grouped := group(intDigits, sep, every)
	if sp.fill == '0' && sp.align == '=' {
		n := len(intDigits)
		for len(sign)+n+(n-1)/every+len(rest) < sp.width {
			n++
		}
		if n > len(intDigits) {
			grouped = group(strings.Repeat("0", n-len(intDigits))+intDigits, sep, every)
		}
	}
	return grouped + rest
}

func group(digits, sep string, every int) string {
	if len(digits) <= every {
		return digits
	}
	var b strings.Builder
	first := len(digits) % every
	if first == 0 {
		first = every
	}
	b.WriteString(digits[:first])
	for i := first; i < len(digits); i += every {
		b.WriteString(sep)
		b.WriteString(digits[i : i+every])
	}
	return b.String()
}

func formatFloat(f float64, specText string) (string, error) {
	if specText == "" {
		return FloatRepr(f), nil
	}
	sp, err := parseSpec(specText)
	if err != nil {
		return "", err
	}
	return formatFloatSpec(f, sp)
}

func formatFloatSpec(f float64, sp spec) (string, error) {
	switch sp.typ {
	case 0, 'e', 'E', 'f', 'F', 'g', 'G', 'n', '%':
	default:
		return "", fmt.Errorf("Unknown format code '%c' for object of type 'float'", sp.typ)
	}
	neg := math.Signbit(f) && !math.IsNaN(f)
	abs := math.Abs(f)
	body := floatBody(abs, sp.typ, sp.precision, sp.alt)
	if neg && sp.negZero && strings.Trim(body, "0.%e+-") == "" {
		neg = false
	}
	sign := signOf(neg, sp)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		// Not grouped, but zero-padded as CPython does: '{:08}' of
		// -inf is '-0000inf'.
		return pad(sign, body, sp, '>'), nil
	}
	intPart, rest := body, ""
	if i := strings.IndexAny(body, ".eE%"); i >= 0 {
		intPart, rest = body[:i], body[i:]
	}
	return pad(sign, groupZeroPadded(intPart, rest, sign, sp, 3), sp, '>'), nil
}

// floatBody formats |f| with a presentation type (0 for none) and
// precision (-1 for none), as CPython's float.__format__ and printf-style
// formatting do.
func floatBody(f float64, typ byte, prec int, alt bool) string {
	upper := typ == 'E' || typ == 'F' || typ == 'G'
	if math.IsInf(f, 0) || math.IsNaN(f) {
		s := "inf"
		if math.IsNaN(f) {
			s = "nan"
		}
		if upper {
			s = strings.ToUpper(s)
		}
		if typ == '%' {
			s += "%"
		}
		return s
	}
	var s string
	switch typ {
	case 'f', 'F', '%':
		if prec < 0 {
			prec = 6
		}
		if typ == '%' {
			f *= 100
		}
		s = strconv.FormatFloat(f, 'f', prec, 64)
		if alt && prec == 0 {
			s += "."
		}
		if typ == '%' {
			s += "%"
		}
	case 'e', 'E':
		if prec < 0 {
			prec = 6
		}
		s = strconv.FormatFloat(f, 'e', prec, 64)
		if alt && prec == 0 {
			s = strings.Replace(s, "e", ".e", 1)
		}
	case 'g', 'G', 'n':
		if prec < 0 {
			prec = 6
		}
		s = generalFloat(f, prec, alt, false)
	case 0:
		if prec < 0 {
			return FloatRepr(f)
		}
		s = generalFloat(f, prec, alt, true)
	}
	if upper {
		s = strings.ToUpper(s)
	}
	return s
}

// generalFloat is the 'g' presentation: prec significant digits, in
// exponent form when the exponent is below -4 or not below prec, trailing
// zeros removed unless alt. addDot0 is the no-type variant, which keeps a
// ".0" on integral results and so uses the exponent when the digits
// exactly fill the precision.
func generalFloat(f float64, prec int, alt, addDot0 bool) string {
	if prec == 0 {
		prec = 1
	}
	e := strconv.FormatFloat(f, 'e', prec-1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	useExp := exp < -4 || exp >= prec || (addDot0 && exp == prec-1 && !alt)
	var s string
	if useExp {
		mant, ex, _ := strings.Cut(e, "e")
		if !alt {
			mant = trimZeros(mant)
		} else if !strings.Contains(mant, ".") {
			mant += "."
		}
		s = mant + "e" + ex
	} else {
		s = strconv.FormatFloat(f, 'f', prec-1-exp, 64)
		if !alt {
			s = trimZeros(s)
		} else if !strings.Contains(s, ".") {
			s += "."
		}
		if addDot0 && !strings.Contains(s, ".") {
			s += ".0"
		}
	}
	return s
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
