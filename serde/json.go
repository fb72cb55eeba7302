package serde

import (
	"math"
	"math/big"
	"strconv"
	"sync"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// JSON is the "json" codec: compact UTF-8 JSON, decoded straight into
// Starlark values and encoded straight from them.
//
// Decoding: objects become *starlark.Dict (key order kept; a repeated key
// keeps its first position and its last value, as Python's dict does),
// arrays *starlark.List, integers starlark.Int (any size), numbers with a
// fraction or exponent starlark.Float, strings starlark.String.
//
// Encoding follows orjson, which Quix Streams uses: no spaces, non-ASCII
// written as UTF-8, floats in shortest round-trip form with ".0" for
// integral values and exponents written as "1e16" / "1.5e-7", NaN and
// infinities written as null, tuples as arrays. Dict keys must be strings.
//
// The zero JSON decodes every object key into a new string. NewJSON's
// interns them: a topic's messages repeat the same few keys, and a key
// seen before comes back as the same boxed string without allocating.
type JSON struct{ names *names }

// NewJSON returns a JSON codec that interns object keys (see JSON); give
// each topic its own, as its messages share their keys.
func NewJSON() JSON { return JSON{names: &names{}} }

// Name implements Serializer and Deserializer.
func (JSON) Name() string { return "json" }

// Deserialize implements Deserializer.
func (j JSON) Deserialize(b []byte) (starlark.Value, error) {
	d := decoder{data: b, names: j.names}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("unexpected data after the top-level value")
	}
	return v, nil
}

// Serialize implements Serializer.
func (JSON) Serialize(dst []byte, v starlark.Value) ([]byte, error) {
	return appendJSON(dst, v, 0)
}

// maxDepth bounds nesting on both paths, so hostile input cannot exhaust
// the stack.
const maxDepth = 1000

type decoder struct {
	data  []byte
	pos   int
	names *names // nil: keys are not interned
}

// maxNames bounds an interning table: object keys are a schema's few
// names, and a topic whose keys are data (ids as keys) stops adding once
// the table is full.
const maxNames = 512

// names interns object keys for concurrent decoders. Readers load an
// immutable map; a new key replaces it with a copy (at most maxNames
// times), so the lookups of the common case take no lock.
type names struct {
	m  atomic.Pointer[map[string]starlark.Value]
	mu sync.Mutex
}

func (n *names) get(raw []byte) (starlark.Value, bool) {
	m := n.m.Load()
	if m == nil {
		return nil, false
	}
	v, ok := (*m)[string(raw)] // a lookup by string(raw) does not allocate
	return v, ok
}

func (n *names) add(s string, v starlark.Value) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var old map[string]starlark.Value
	if p := n.m.Load(); p != nil {
		old = *p
	}
	if len(old) >= maxNames {
		return
	}
	m := make(map[string]starlark.Value, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[s] = v
	n.m.Store(&m)
}

// key decodes an object key (d.pos at its opening quote), interned when
// the decoder has a table and the key is plain ASCII without escapes.
func (d *decoder) key() (starlark.Value, error) {
	if d.names != nil {
		if end := d.plainEnd(); end >= 0 {
			raw := d.data[d.pos+1 : end]
			d.pos = end + 1
			if v, ok := d.names.get(raw); ok {
				return v, nil
			}
			v := starlark.Value(starlark.String(raw))
			d.names.add(string(raw), v)
			return v, nil
		}
	}
	s, err := d.str()
	if err != nil {
		return nil, err
	}
	return starlark.String(s), nil
}

// plainEnd returns the index of the closing quote of the string at d.pos
// when it is printable ASCII without escapes, else -1.
func (d *decoder) plainEnd() int {
	for i := d.pos + 1; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			return i
		case c == '\\' || c < 0x20 || c >= 0x80:
			return -1
		}
	}
	return -1
}

func (d *decoder) errorf(format string, args ...any) *Error {
	e := deserializeErr("json", format, args...)
	e.Msg += " at byte " + strconv.Itoa(d.pos)
	return e
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (starlark.Value, error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	if depth > maxDepth {
		return nil, d.errorf("nesting deeper than %d", maxDepth)
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return starlark.String(s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return d.literal("true", starlark.True)
	case c == 'f':
		return d.literal("false", starlark.False)
	case c == 'n':
		return d.literal("null", starlark.None)
	default:
		return nil, d.errorf("unexpected character %q", c)
	}
}

func (d *decoder) literal(word string, v starlark.Value) (starlark.Value, error) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return nil, d.errorf("invalid literal")
	}
	d.pos += len(word)
	return v, nil
}

func (d *decoder) object(depth int) (starlark.Value, error) {
	d.pos++ // '{'
	// Size 0 keeps up to 7 entries in the dict's inline bucket: one
	// allocation for the usual small object. (NewDict(8) would allocate a
	// separate two-bucket table of ~900 bytes.)
	dict := starlark.NewDict(0)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return dict, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("expected a string key")
		}
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expected ':' after an object key")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		// SetKey cannot fail: the dict is new and unfrozen, the key a string.
		_ = dict.SetKey(k, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of input in an object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return dict, nil
		default:
			return nil, d.errorf("expected ',' or '}' in an object")
		}
	}
}

func (d *decoder) array(depth int) (starlark.Value, error) {
	d.pos++ // '['
	var elems []starlark.Value
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return starlark.NewList(elems), nil
	}
	for {
		d.skipSpace()
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of input in an array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return starlark.NewList(elems), nil
		default:
			return nil, d.errorf("expected ',' or ']' in an array")
		}
	}
}

// str reads a string literal starting at the opening quote.
func (d *decoder) str() (string, error) {
	d.pos++ // '"'
	start := d.pos
	// Fast path: no escapes, plain ASCII or valid UTF-8.
	ascii := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			if !ascii && !utf8.Valid(s) {
				return "", d.errorf("invalid UTF-8 in a string")
			}
			return string(s), nil
		case c == '\\':
			return d.strSlow(start)
		case c < 0x20:
			return "", d.errorf("control character in a string")
		case c >= 0x80:
			ascii = false
		}
		d.pos++
	}
	return "", d.errorf("unterminated string")
}

func (d *decoder) strSlow(start int) (string, error) {
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !utf8.Valid(buf) {
				return "", d.errorf("invalid UTF-8 in a string")
			}
			return string(buf), nil
		case c < 0x20:
			return "", d.errorf("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		d.pos++ // '\\'
		if d.pos >= len(d.data) {
			break
		}
		e := d.data[d.pos]
		d.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", d.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
					d.pos += 2
					r2, ok = d.hex4()
					if !ok {
						return "", d.errorf("invalid \\u escape")
					}
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", d.errorf("invalid surrogate pair in a \\u escape")
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", d.errorf("invalid escape character %q", e)
		}
	}
	return "", d.errorf("unterminated string")
}

func (d *decoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}

func (d *decoder) number() (starlark.Value, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	intStart := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	digits := d.pos - intStart
	if digits == 0 {
		return nil, d.errorf("invalid number")
	}
	if digits > 1 && d.data[intStart] == '0' {
		return nil, d.errorf("invalid number: leading zero")
	}
	isFloat := false
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		isFloat = true
		d.pos++
		fracStart := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
		if d.pos == fracStart {
			return nil, d.errorf("invalid number: no digits after '.'")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		isFloat = true
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		expStart := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
		if d.pos == expStart {
			return nil, d.errorf("invalid number: no digits in the exponent")
		}
	}
	lit := d.data[start:d.pos]
	if isFloat {
		f, err := strconv.ParseFloat(string(lit), 64)
		if err != nil && !isRangeErr(err) {
			return nil, d.errorf("invalid number %q", lit)
		}
		return starlark.Float(f), nil
	}
	if digits <= 18 {
		// Fits an int64 without overflow checks.
		var n int64
		for _, c := range d.data[intStart:d.pos] {
			n = n*10 + int64(c-'0')
		}
		if start != intStart {
			n = -n
		}
		return starlark.MakeInt64(n), nil
	}
	var z big.Int
	if _, ok := z.SetString(string(lit), 10); !ok {
		return nil, d.errorf("invalid number %q", lit)
	}
	return starlark.MakeBigInt(&z), nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// appendJSON writes v as compact JSON.
func appendJSON(dst []byte, v starlark.Value, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, serializeErr("json", "value nested deeper than %d", maxDepth)
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return append(dst, "null"...), nil
	case starlark.Bool:
		if v {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case starlark.Int:
		if n, ok := v.Int64(); ok {
			return strconv.AppendInt(dst, n, 10), nil
		}
		return append(dst, v.String()...), nil
	case starlark.Float:
		return AppendFloat(dst, float64(v)), nil
	case starlark.String:
		return appendString(dst, string(v)), nil
	case *starlark.Dict:
		// Items costs two allocations per dict; ranging over Entries
		// costs several per key (the loop body's captures escape).
		return appendObject(dst, v.Items(), depth)
	case *starlark.List:
		return appendSeq(dst, v, depth)
	case starlark.Tuple:
		return appendSeq(dst, v, depth)
	case starlark.IterableMapping: // collections.Counter
		return appendObject(dst, v.Items(), depth)
	default:
		return dst, serializeErr("json", "value of type %s is not JSON serializable", v.Type())
	}
}

func appendObject(dst []byte, items []starlark.Tuple, depth int) ([]byte, error) {
	dst = append(dst, '{')
	for i, kv := range items {
		k, val := kv[0], kv[1]
		ks, ok := k.(starlark.String)
		if !ok {
			return dst, serializeErr("json", "dict key %s of type %s is not a string", k.String(), k.Type())
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, string(ks))
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSON(dst, val, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func appendSeq(dst []byte, seq starlark.Indexable, depth int) ([]byte, error) {
	dst = append(dst, '[')
	n := seq.Len()
	for i := 0; i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendJSON(dst, seq.Index(i), depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping only what JSON requires
// (quote, backslash, control characters), as orjson does.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendFloat writes f as orjson does (the ryu crate's layout): shortest
// digits that round-trip; plain notation when the decimal exponent is in
// [-5, 16), with ".0" on integral values; otherwise "d.ddde±x" without a
// "+" sign or leading exponent zeros. NaN and infinities become null.
func AppendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var tmp [32]byte
	// 'e' with -1 precision gives the shortest digits: "d.ddde±xx".
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		dst = append(dst, '-')
	}
	var digitBuf [24]byte
	digits := digitBuf[:0]
	exp := 0
	for i := 0; i < len(e); i++ {
		c := e[i]
		if c == 'e' {
			expNeg := e[i+1] == '-'
			for _, x := range e[i+2:] {
				exp = exp*10 + int(x-'0')
			}
			if expNeg {
				exp = -exp
			}
			break
		}
		if c != '.' {
			digits = append(digits, c)
		}
	}
	n := len(digits)
	// kk is the position of the decimal point relative to the digits.
	kk := exp + 1
	switch {
	case n <= kk && kk <= 16:
		dst = append(dst, digits...)
		for i := n; i < kk; i++ {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0')
	case 0 < kk && kk <= 16:
		dst = append(dst, digits[:kk]...)
		dst = append(dst, '.')
		return append(dst, digits[kk:]...)
	case -5 < kk && kk <= 0:
		dst = append(dst, '0', '.')
		for i := kk; i < 0; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	default:
		dst = append(dst, digits[0])
		if n > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		return strconv.AppendInt(dst, int64(kk-1), 10)
	}
}
