package python

import (
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// StrFormat is str.format(*args, **kwargs): replacement fields {}, {0},
// {name}, {0[key]}, {0.attr} with conversions !s !r !a and format specs
// (which may hold nested fields: {:{width}.{prec}f}); {{ and }} are
// literal braces.
func StrFormat(format string, args starlark.Tuple, kwargs []starlark.Tuple) (string, error) {
	f := strFormatter{args: args, kwargs: kwargs}
	return f.format(format, 2)
}

type strFormatter struct {
	args   starlark.Tuple
	kwargs []starlark.Tuple
	auto   int  // the next automatic field number
	manual bool // a numbered field was seen
	autoed bool // an automatic field was seen
}

func (f *strFormatter) format(s string, depth int) (string, error) {
	if depth < 0 {
		return "", fmt.Errorf("Max string recursion exceeded")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				b.WriteByte('{')
				i++
				continue
			}
			end, err := fieldEnd(s, i)
			if err != nil {
				return "", err
			}
			out, err := f.field(s[i+1:end], depth)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i = end
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				b.WriteByte('}')
				i++
				continue
			}
			return "", fmt.Errorf("Single '}' encountered in format string")
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// fieldEnd returns the index of the '}' closing the field opened at i.
func fieldEnd(s string, i int) (int, error) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j, nil
			}
		}
	}
	// CPython's messages for a field left open.
	switch field := s[i+1:]; {
	case field == "":
		return 0, fmt.Errorf("Single '{' encountered in format string")
	case strings.ContainsAny(field, ":!"):
		return 0, fmt.Errorf("unmatched '{' in format spec")
	}
	return 0, fmt.Errorf("expected '}' before end of string")
}

func (f *strFormatter) field(text string, depth int) (string, error) {
	name, specText := text, ""
	// The field name ends at the first ':' or '!' outside brackets.
	bracket := false
	for j := 0; j < len(text); j++ {
		switch text[j] {
		case '[':
			bracket = true
		case ']':
			bracket = false
		}
		if !bracket && (text[j] == ':' || text[j] == '!') {
			name, specText = text[:j], text[j:]
			break
		}
	}
	conv := byte(0)
	if strings.HasPrefix(specText, "!") {
		if len(specText) < 2 {
			return "", fmt.Errorf("end of string while looking for conversion specifier")
		}
		conv = specText[1]
		specText = specText[2:]
		if specText != "" && specText[0] != ':' {
			return "", fmt.Errorf("expected ':' after conversion specifier")
		}
	}
	specText = strings.TrimPrefix(specText, ":")
	v, err := f.lookup(name)
	if err != nil {
		return "", err
	}
	switch conv {
	case 0:
	case 's':
		v = starlark.String(Str(v))
	case 'r':
		v = starlark.String(Repr(v))
	case 'a':
		v = starlark.String(ASCII(Repr(v)))
	default:
		return "", fmt.Errorf("Unknown conversion specifier %c", conv)
	}
	if strings.Contains(specText, "{") {
		if specText, err = f.format(specText, depth-1); err != nil {
			return "", err
		}
	}
	return FormatValue(v, specText)
}

// lookup resolves a field name: an argument by number or keyword, then
// any .attr and [key] parts.
func (f *strFormatter) lookup(name string) (starlark.Value, error) {
	first := len(name)
	if i := strings.IndexAny(name, ".["); i >= 0 {
		first = i
	}
	head, rest := name[:first], name[first:]
	var v starlark.Value
	switch {
	case head == "":
		if f.manual {
			return nil, fmt.Errorf("cannot switch from manual field specification to automatic field numbering")
		}
		f.autoed = true
		if f.auto >= len(f.args) {
			return nil, fmt.Errorf("Replacement index %d out of range for positional args tuple", f.auto)
		}
		v = f.args[f.auto]
		f.auto++
	case isDigits(head):
		if f.autoed {
			return nil, fmt.Errorf("cannot switch from automatic field numbering to manual field specification")
		}
		f.manual = true
		n, _ := strconv.Atoi(head)
		if n >= len(f.args) {
			return nil, fmt.Errorf("Replacement index %d out of range for positional args tuple", n)
		}
		v = f.args[n]
	default:
		for _, kv := range f.kwargs {
			if string(kv[0].(starlark.String)) == head {
				v = kv[1]
			}
		}
		if v == nil {
			return nil, fmt.Errorf("KeyError: '%s'", head)
		}
	}
	for rest != "" {
		switch rest[0] {
		case '.':
			end := strings.IndexAny(rest[1:], ".[")
			if end < 0 {
				end = len(rest) - 1
			}
			attr := rest[1 : end+1]
			rest = rest[end+1:]
			x, err := getattr(v, attr)
			if err != nil {
				return nil, err
			}
			v = x
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("Missing ']' in format string")
			}
			key := rest[1:end]
			rest = rest[end+1:]
			var k starlark.Value = starlark.String(key)
			if isDigits(key) {
				n, _ := strconv.Atoi(key)
				k = starlark.MakeInt(n)
			}
			x, err := index(v, k)
			if err != nil {
				return nil, err
			}
			v = x
		default:
			return nil, fmt.Errorf("Only '.' or '[' may follow ']' in format field specifier")
		}
	}
	return v, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func getattr(v starlark.Value, name string) (starlark.Value, error) {
	if ha, ok := v.(starlark.HasAttrs); ok {
		x, err := ha.Attr(name)
		if err != nil || x != nil {
			return x, err
		}
	}
	return nil, fmt.Errorf("'%s' object has no attribute '%s'", pyTypeName(v), name)
}

// index is v[k] for mappings and sequences.
func index(v, k starlark.Value) (starlark.Value, error) {
	switch x := v.(type) {
	case starlark.Mapping:
		r, found, err := x.Get(k)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("KeyError: %s", Repr(k))
		}
		return r, nil
	case starlark.Indexable:
		n, ok := k.(starlark.Int)
		if !ok {
			return nil, fmt.Errorf("%s indices must be integers, not str", v.Type())
		}
		i, _ := n.Int64()
		if i < 0 || int(i) >= x.Len() {
			return nil, fmt.Errorf("%s index out of range", v.Type())
		}
		return x.Index(int(i)), nil
	}
	return nil, fmt.Errorf("'%s' object is not subscriptable", v.Type())
}

// ASCII escapes the non-ASCII characters of s as ascii() does.
func ASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r < 0x100:
			writeHexEscape(&b, 'x', uint32(r), 2)
		case r < 0x10000:
			writeHexEscape(&b, 'u', uint32(r), 4)
		default:
			writeHexEscape(&b, 'U', uint32(r), 8)
		}
	}
	return b.String()
}
