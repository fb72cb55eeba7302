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

// Percent is printf-style formatting, format % args, with CPython's
// rules: %[(key)][flags][width][.precision]type with flags "#0- +",
// widths and precisions given as * from the arguments, and types
// d i u o x X e E f F g G c r s a %. A tuple supplies one value per
// conversion; any other value is the single argument; a mapping is used
// by %(key) conversions.
func Percent(format string, args starlark.Value) (string, error) {
	var items []starlark.Value
	tuple, isTuple := args.(starlark.Tuple)
	if isTuple {
		items = tuple
	} else {
		items = []starlark.Value{args}
	}
	mapping, _ := args.(starlark.Mapping)
	if _, isStr := args.(starlark.String); isStr {
		mapping = nil
	}
	// As in CPython, a single argument that supports indexing (a dict, a
	// list, bytes) excuses unconverted arguments: 'x' % [1] is 'x'.
	_, indexable := args.(starlark.Indexable)
	_, isStr := args.(starlark.String)
	subscriptable := mapping != nil || (indexable && !isTuple && !isStr)
	next := 0
	usedMapping := false
	take := func() (starlark.Value, error) {
		if next >= len(items) {
			return nil, fmt.Errorf("not enough arguments for format string")
		}
		v := items[next]
		next++
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		var arg starlark.Value
		if format[i] == '(' {
			end := strings.IndexByte(format[i:], ')')
			if end < 0 {
				return "", fmt.Errorf("incomplete format key")
			}
			if mapping == nil {
				return "", fmt.Errorf("format requires a mapping")
			}
			key := format[i+1 : i+end]
			v, found, err := mapping.Get(starlark.String(key))
			if err != nil {
				return "", err
			}
			if !found {
				return "", fmt.Errorf("KeyError: '%s'", key)
			}
			arg, usedMapping = v, true
			i += end + 1
		}
		sp := printfSpec{precision: -1}
		for ; i < len(format) && strings.IndexByte("#0- +", format[i]) >= 0; i++ {
			switch format[i] {
			case '#':
				sp.alt = true
			case '0':
				sp.zero = true
			case '-':
				sp.left = true
			case ' ':
				sp.space = true
			case '+':
				sp.plus = true
			}
		}
		num := func() (int, error) {
			if i < len(format) && format[i] == '*' {
				i++
				v, err := take()
				if err != nil {
					return 0, err
				}
				n, ok := v.(starlark.Int)
				if !ok {
					return 0, fmt.Errorf("* wants int")
				}
				x, _ := n.Int64()
				if x > maxFormatWidth || x < -maxFormatWidth {
					return 0, fmt.Errorf("width too big")
				}
				return int(x), nil
			}
			start := i
			for i < len(format) && format[i] >= '0' && format[i] <= '9' {
				i++
			}
			if start == i {
				return -1, nil
			}
			n, err := strconv.Atoi(format[start:i])
			if err != nil || n > maxFormatWidth {
				return 0, fmt.Errorf("width too big")
			}
			return n, nil
		}
		w, err := num()
		if err != nil {
			return "", err
		}
		if w < -1 {
			sp.left, w = true, -w
		}
		sp.width = max(w, 0)
		if i < len(format) && format[i] == '.' {
			i++
			p, err := num()
			if err != nil {
				return "", err
			}
			sp.precision = max(p, 0)
		}
		for i < len(format) && (format[i] == 'l' || format[i] == 'h' || format[i] == 'L') {
			i++
		}
		if i >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		verb := format[i]
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if arg == nil {
			if arg, err = take(); err != nil {
				return "", err
			}
		}
		if strings.IndexByte("diuoxXeEfFgGcrsa", verb) < 0 {
			r, _ := utf8.DecodeRuneInString(format[i:])
			return "", fmt.Errorf("unsupported format character '%c' (0x%x) at index %d", r, r, utf8.RuneCountInString(format[:i]))
		}
		s, err := sp.convert(verb, arg)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	if next < len(items) && !usedMapping && !subscriptable {
		return "", fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

type printfSpec struct {
	alt, zero, left, space, plus bool
	width, precision             int
}

func (sp printfSpec) convert(verb byte, arg starlark.Value) (string, error) {
	switch verb {
	case 's', 'r', 'a':
		var s string
		switch verb {
		case 's':
			s = Str(arg)
		case 'r':
			s = Repr(arg)
		default:
			s = ASCII(Repr(arg))
		}
		if sp.precision >= 0 && len([]rune(s)) > sp.precision {
			s = string([]rune(s)[:sp.precision])
		}
		return sp.pad("", "", s, false), nil
	case 'c':
		switch v := arg.(type) {
		case starlark.String:
			if len([]rune(string(v))) != 1 {
				return "", fmt.Errorf("%%c requires an int or a unicode character, not a string of length %d", len([]rune(string(v))))
			}
			return sp.pad("", "", string(v), false), nil
		case starlark.Int:
			n, ok := v.Int64()
			if !ok || n < 0 || n > 0x10ffff {
				return "", fmt.Errorf("%%c arg not in range(0x110000)")
			}
			return sp.pad("", "", string(rune(n)), false), nil
		}
		return "", fmt.Errorf("%%c requires an int or a unicode character, not %s", pyTypeName(arg))
	case 'd', 'i', 'u', 'o', 'x', 'X':
		var n *big.Int
		switch v := arg.(type) {
		case starlark.Int:
			n = v.BigInt()
		case starlark.Bool:
			n = big.NewInt(0)
			if v {
				n = big.NewInt(1)
			}
		case starlark.Float:
			if verb != 'd' && verb != 'i' && verb != 'u' {
				return "", fmt.Errorf("%%%c format: an integer is required, not float", verb)
			}
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
				return "", fmt.Errorf("cannot convert float %s to integer", FloatRepr(float64(v)))
			}
			n, _ = big.NewFloat(math.Trunc(float64(v))).Int(nil)
		default:
			if verb == 'd' || verb == 'i' || verb == 'u' {
				return "", fmt.Errorf("%%%c format: a real number is required, not %s", verb, pyTypeName(arg))
			}
			return "", fmt.Errorf("%%%c format: an integer is required, not %s", verb, pyTypeName(arg))
		}
		neg := n.Sign() < 0
		abs := new(big.Int).Abs(n)
		var digits, prefix string
		switch verb {
		case 'o':
			digits, prefix = abs.Text(8), "0o"
		case 'x':
			digits, prefix = abs.Text(16), "0x"
		case 'X':
			digits, prefix = strings.ToUpper(abs.Text(16)), "0X"
		default:
			digits = abs.String()
		}
		if !sp.alt {
			prefix = ""
		}
		if sp.precision > len(digits) {
			digits = strings.Repeat("0", sp.precision-len(digits)) + digits
		}
		return sp.pad(sp.sign(neg), prefix, digits, true), nil
	case 'e', 'E', 'f', 'F', 'g', 'G':
		var f float64
		switch v := arg.(type) {
		case starlark.Float:
			f = float64(v)
		case starlark.Int:
			f = float64(v.Float())
		case starlark.Bool:
			if v {
				f = 1
			}
		default:
			return "", fmt.Errorf("must be real number, not %s", pyTypeName(arg))
		}
		body := floatBody(math.Abs(f), verb, sp.precision, sp.alt)
		neg := math.Signbit(f) && !math.IsNaN(f)
		// inf and nan zero-pad too: '%08.1f' % inf is '00000inf'.
		return sp.pad(sp.sign(neg), "", body, true), nil
	}
	return "", fmt.Errorf("unsupported format character '%c' (0x%x)", verb, verb)
}

func (sp printfSpec) sign(neg bool) string {
	switch {
	case neg:
		return "-"
	case sp.plus:
		return "+"
	case sp.space:
		return " "
	}
	return ""
}

// pad right-aligns sign+prefix+body in the width, or left-aligns it with
// '-', or pads with zeros after the sign and prefix with '0'.
func (sp printfSpec) pad(sign, prefix, body string, numeric bool) string {
	n := len([]rune(sign + prefix + body))
	if n >= sp.width {
		return sign + prefix + body
	}
	fill := sp.width - n
	switch {
	case sp.left:
		return sign + prefix + body + strings.Repeat(" ", fill)
	case sp.zero && numeric:
		return sign + prefix + strings.Repeat("0", fill) + body
	}
	return strings.Repeat(" ", fill) + sign + prefix + body
}
