package python

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/qstar-dev/qstar/serde"
)

// MethodNames are the methods of Python's str, bytes, list and dict that
// Starlark's types lack (or, for str.format, implement without format
// specs), sorted. A script's calls x.name(...) of these names go through
// Method, which gives Python's version when x is of such a type and x's
// own method otherwise.
func MethodNames() []string {
	var names []string
	for _, byName := range methods {
		for name := range byName {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

type method func(thread *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// methods holds Python's versions, by receiver type and name; Method
// binds their builtins (boundMethods) to the receiver.
var methods = map[string]map[string]method{
	"string": {
		"format": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			s, err := StrFormat(string(recv.(starlark.String)), args, kwargs)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return starlark.String(s), nil
		},
		"encode": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var encoding, errors string = "utf-8", "strict"
			if err := starlark.UnpackArgs(name, args, kwargs, "encoding?", &encoding, "errors?", &errors); err != nil {
				return nil, err
			}
			c, err := serde.LookupCodec(encoding)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out, err := c.Encode(nil, string(recv.(starlark.String)))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return starlark.Bytes(out), nil
		},
		"zfill": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var width int
			if err := starlark.UnpackPositionalArgs(name, args, kwargs, 1, &width); err != nil {
				return nil, err
			}
			s := string(recv.(starlark.String))
			n := utf8.RuneCountInString(s)
			if n >= width {
				return recv, nil
			}
			sign := ""
			if s != "" && (s[0] == '+' || s[0] == '-') {
				sign, s = s[:1], s[1:]
			}
			return starlark.String(sign + strings.Repeat("0", width-n) + s), nil
		},
		"ljust":  justify('<'),
		"rjust":  justify('>'),
		"center": justify('^'),
		"casefold": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
				return nil, err
			}
			return starlark.String(strings.ReplaceAll(strings.ToLower(string(recv.(starlark.String))), "ß", "ss")), nil
		},
		"swapcase": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
				return nil, err
			}
			return starlark.String(strings.Map(func(r rune) rune {
				if unicode.IsUpper(r) {
					return unicode.ToLower(r)
				}
				return unicode.ToUpper(r)
			}, string(recv.(starlark.String)))), nil
		},
		"isnumeric": runeTest(func(r rune) bool { return unicode.IsNumber(r) }),
		"isdecimal": runeTest(func(r rune) bool { return unicode.Is(unicode.Nd, r) }),
	},
	"bytes": {
		"decode": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var encoding, errors starlark.Value = starlark.None, starlark.None
			if err := starlark.UnpackArgs(name, args, kwargs, "encoding?", &encoding, "errors?", &errors); err != nil {
				return nil, err
			}
			return decodeBytes(name, recv.(starlark.Bytes), encoding, errors)
		},
		"hex": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
				return nil, err
			}
			return starlark.String(fmt.Sprintf("%x", string(recv.(starlark.Bytes)))), nil
		},
	},
	"dict": {
		"copy": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
				return nil, err
			}
			d := recv.(*starlark.Dict)
			out := starlark.NewDict(d.Len())
			for _, kv := range d.Items() {
				_ = out.SetKey(kv[0], kv[1])
			}
			return out, nil
		},
	},
	"list": {
		"copy": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
				return nil, err
			}
			l := recv.(*starlark.List)
			items := make([]starlark.Value, l.Len())
			for i := range items {
				items[i] = l.Index(i)
			}
			return starlark.NewList(items), nil
		},
		"count": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var x starlark.Value
			if err := starlark.UnpackPositionalArgs(name, args, kwargs, 1, &x); err != nil {
				return nil, err
			}
			l := recv.(*starlark.List)
			n := 0
			for i := 0; i < l.Len(); i++ {
				eq, err := starlark.Equal(l.Index(i), x)
				if err != nil {
					return nil, err
				}
				if eq {
					n++
				}
			}
			return starlark.MakeInt(n), nil
		},
		"reverse": func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
				return nil, err
			}
			l := recv.(*starlark.List)
			items := listItems(l)
			for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
				items[i], items[j] = items[j], items[i]
			}
			return starlark.None, setList(l, items)
		},
		"sort": func(thread *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var key starlark.Value = starlark.None
			reverse := false
			if err := starlark.UnpackArgs(name, args, kwargs, "key?", &key, "reverse?", &reverse); err != nil {
				return nil, err
			}
			l := recv.(*starlark.List)
			kw := []starlark.Tuple{{starlark.String("reverse"), starlark.Bool(reverse)}}
			if key != starlark.None {
				kw = append(kw, starlark.Tuple{starlark.String("key"), key})
			}
			sorted, err := starlark.Call(thread, starlark.Universe["sorted"], starlark.Tuple{l}, kw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return starlark.None, setList(l, listItems(sorted.(*starlark.List)))
		},
	},
}

func listItems(l *starlark.List) []starlark.Value {
	items := make([]starlark.Value, l.Len())
	for i := range items {
		items[i] = l.Index(i)
	}
	return items
}

// setList replaces the items of l in place (failing if l is frozen).
func setList(l *starlark.List, items []starlark.Value) error {
	for i, v := range items {
		if err := l.SetIndex(i, v); err != nil {
			return err
		}
	}
	return nil
}

func justify(align byte) method {
	return func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var width int
		fill := " "
		if err := starlark.UnpackPositionalArgs(name, args, kwargs, 1, &width, &fill); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(fill) != 1 {
			return nil, fmt.Errorf("%s: The fill character must be exactly one character long", name)
		}
		s := string(recv.(starlark.String))
		marg := width - utf8.RuneCountInString(s)
		if marg <= 0 {
			return recv, nil
		}
		switch align {
		case '<':
			return starlark.String(s + strings.Repeat(fill, marg)), nil
		case '>':
			return starlark.String(strings.Repeat(fill, marg) + s), nil
		}
		left := marg/2 + (marg & width & 1)
		return starlark.String(strings.Repeat(fill, left) + s + strings.Repeat(fill, marg-left)), nil
	}
}

func runeTest(pred func(rune) bool) method {
	return func(_ *starlark.Thread, name string, recv starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
			return nil, err
		}
		s := string(recv.(starlark.String))
		if s == "" {
			return starlark.False, nil
		}
		for _, r := range s {
			if !pred(r) {
				return starlark.False, nil
			}
		}
		return starlark.True, nil
	}
}

// decodeBytes is bytes.decode(encoding='utf-8', errors='strict'); errors
// may also be "replace" (U+FFFD) or "ignore", for UTF-8 and the one-byte
// codecs.
func decodeBytes(fn string, b starlark.Bytes, encoding, errors starlark.Value) (starlark.Value, error) {
	enc, mode := "utf-8", "strict"
	if s, ok := encoding.(starlark.String); ok {
		enc = string(s)
	}
	if s, ok := errors.(starlark.String); ok {
		mode = string(s)
	}
	c, err := serde.LookupCodec(enc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	s, err := c.Decode([]byte(b))
	if err == nil {
		return starlark.String(s), nil
	}
	if mode != "replace" && mode != "ignore" {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	repl := ""
	if mode == "replace" {
		repl = "\uFFFD"
	}
	var sb strings.Builder
	switch c.Name() {
	case "utf-8":
		// Each byte that starts no valid sequence is replaced, as
		// CPython does for b'\xff\xfe'.
		for i := 0; i < len(b); {
			r, size := utf8.DecodeRuneInString(string(b[i:]))
			if r == utf8.RuneError && size == 1 {
				sb.WriteString(repl)
			} else {
				sb.WriteString(string(b[i : i+size]))
			}
			i += size
		}
	case "ascii", "iso8859-1", "cp1252":
		// One byte per character: replace the bytes that fail.
		for i := 0; i < len(b); i++ {
			if ch, err := c.Decode([]byte{b[i]}); err == nil {
				sb.WriteString(ch)
			} else {
				sb.WriteString(repl)
			}
		}
	default:
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	return starlark.String(sb.String()), nil
}

// boundMethods are the methods as builtins, each bound to its receiver
// per call with BindReceiver.
var boundMethods = func() map[string]map[string]*starlark.Builtin {
	out := map[string]map[string]*starlark.Builtin{}
	for typ, byName := range methods {
		out[typ] = map[string]*starlark.Builtin{}
		for name, m := range byName {
			out[typ][name] = starlark.NewBuiltin(typ+"."+name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				return m(thread, b.Name(), b.Receiver(), args, kwargs)
			})
		}
	}
	return out
}()

// Method is recv.name: Python's version bound to recv for the types of
// methods, the value's own attribute otherwise.
func Method(name string, recv starlark.Value) (starlark.Value, error) {
	if b, ok := boundMethods[recv.Type()][name]; ok {
		return b.BindReceiver(recv), nil
	}
	if ha, ok := recv.(starlark.HasAttrs); ok {
		fn, err := ha.Attr(name)
		if err != nil {
			return nil, err
		}
		if fn != nil {
			return fn, nil
		}
	}
	return nil, fmt.Errorf("%s has no .%s field or method", recv.Type(), name)
}

// Mod is x % y with Python's printf-style formatting when x is a str;
// other operands go to Starlark's %.
func Mod(x, y starlark.Value) (starlark.Value, error) {
	if s, ok := x.(starlark.String); ok {
		out, err := Percent(string(s), y)
		if err != nil {
			return nil, err
		}
		return starlark.String(out), nil
	}
	return starlark.Binary(syntax.PERCENT, x, y)
}

// The predeclared names that the loader's rewrite calls: x % y becomes
// ModName(x, y) and x.m(...) for m in MethodNames becomes
// MethodName("m", x)(...), so the call itself is made from the script.
const (
	ModName    = "__qstar_mod__"
	MethodName = "__qstar_method__"
)

// Hooks returns the builtins behind ModName and MethodName.
func Hooks() starlark.StringDict {
	return starlark.StringDict{
		ModName: starlark.NewBuiltin("%", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if len(args) != 2 {
				return nil, fmt.Errorf("%%: want 2 operands")
			}
			return Mod(args[0], args[1])
		}),
		MethodName: starlark.NewBuiltin("getattr", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var name string
			var recv starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &name, &recv); err != nil {
				return nil, err
			}
			return Method(name, recv)
		}),
	}
}
