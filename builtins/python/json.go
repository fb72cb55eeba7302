package python

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf16"

	starjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/qstar-dev/qstar/serde"
)

// JSONModule is Python's json module (dumps, loads) together with
// Starlark's (encode, decode, indent), so scripts written for either run.
func JSONModule() *starlarkstruct.Module {
	m := &starlarkstruct.Module{Name: "json", Members: starlark.StringDict{
		"dumps": starlark.NewBuiltin("json.dumps", dumps),
		"loads": starlark.NewBuiltin("json.loads", loads),
	}}
	for k, v := range starjson.Module.Members {
		m.Members[k] = v
	}
	return m
}

// dumps(obj, *, ensure_ascii=True, allow_nan=True, indent=None,
// separators=None, default=None, sort_keys=False, skipkeys=False) writes
// JSON as CPython does: ", " and ": " separators (",", ": " with an
// indent), keys in insertion order, floats as repr, non-ASCII as \uXXXX
// unless ensure_ascii=False, NaN and Infinity allowed.
func dumps(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	ensureASCII, allowNaN, sortKeys, skipKeys := true, true, false, false
	var indent, separators, def, cls, checkCircular starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "obj", &obj,
		"skipkeys?", &skipKeys, "ensure_ascii?", &ensureASCII, "check_circular?", &checkCircular,
		"allow_nan?", &allowNaN, "cls?", &cls, "indent?", &indent, "separators?", &separators,
		"default?", &def, "sort_keys?", &sortKeys); err != nil {
		return nil, err
	}
	e := jsonEncoder{thread: thread, ensureASCII: ensureASCII, allowNaN: allowNaN, sortKeys: sortKeys, skipKeys: skipKeys,
		item: ", ", key: ": "}
	switch v := indent.(type) {
	case starlark.NoneType:
	case starlark.Int:
		n, _ := v.Int64()
		e.indent, e.pretty = strings.Repeat(" ", int(max(n, 0))), true
	case starlark.String:
		e.indent, e.pretty = string(v), true
	default:
		return nil, fmt.Errorf("%s: indent must be None, an int or a str, not %s", b.Name(), v.Type())
	}
	if e.pretty {
		e.item = ","
	}
	if separators != starlark.None {
		var item, key string
		if err := starlark.UnpackPositionalArgs(b.Name()+" separators", tupleOf(separators), nil, 2, &item, &key); err != nil {
			return nil, err
		}
		e.item, e.key = item, key
	}
	if def != starlark.None {
		fn, ok := def.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: default must be callable", b.Name())
		}
		e.def = fn
	}
	var sb strings.Builder
	if err := e.encode(&sb, obj, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return starlark.String(sb.String()), nil
}

func tupleOf(v starlark.Value) starlark.Tuple {
	switch v := v.(type) {
	case starlark.Tuple:
		return v
	case *starlark.List:
		return starlark.Tuple(listItems(v))
	}
	return starlark.Tuple{v}
}

type jsonEncoder struct {
	thread                                    *starlark.Thread
	ensureASCII, allowNaN, sortKeys, skipKeys bool
	pretty                                    bool
	indent, item, key                         string
	def                                       starlark.Callable
}

func (e *jsonEncoder) newline(sb *strings.Builder, depth int) {
	if e.pretty {
		sb.WriteByte('\n')
		sb.WriteString(strings.Repeat(e.indent, depth))
	}
}

func (e *jsonEncoder) encode(sb *strings.Builder, v starlark.Value, depth int) error {
	if depth > maxReprDepth {
		return fmt.Errorf("maximum recursion depth exceeded while encoding a JSON object")
	}
	switch v := v.(type) {
	case starlark.NoneType:
		sb.WriteString("null")
	case starlark.Bool:
		if v {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case starlark.Int:
		sb.WriteString(v.String())
	case starlark.Float:
		s, err := e.float(float64(v))
		if err != nil {
			return err
		}
		sb.WriteString(s)
	case starlark.String:
		e.str(sb, string(v))
	case *starlark.List:
		return e.array(sb, listItems(v), depth)
	case starlark.Tuple:
		return e.array(sb, v, depth)
	case starlark.IterableMapping:
		return e.object(sb, v.Items(), depth)
	default:
		if e.def == nil {
			return fmt.Errorf("Object of type %s is not JSON serializable", pyTypeName(v))
		}
		r, err := starlark.Call(e.thread, e.def, starlark.Tuple{v}, nil)
		if err != nil {
			return err
		}
		return e.encode(sb, r, depth+1)
	}
	return nil
}

func (e *jsonEncoder) float(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		if !e.allowNaN {
			return "", fmt.Errorf("Out of range float values are not JSON compliant")
		}
		switch {
		case math.IsNaN(f):
			return "NaN", nil
		case f > 0:
			return "Infinity", nil
		}
		return "-Infinity", nil
	}
	return FloatRepr(f), nil
}

func (e *jsonEncoder) array(sb *strings.Builder, items []starlark.Value, depth int) error {
	if len(items) == 0 {
		sb.WriteString("[]")
		return nil
	}
	sb.WriteByte('[')
	for i, x := range items {
		if i > 0 {
			sb.WriteString(e.item)
		}
		e.newline(sb, depth+1)
		if err := e.encode(sb, x, depth+1); err != nil {
			return err
		}
	}
	e.newline(sb, depth)
	sb.WriteByte(']')
	return nil
}

func (e *jsonEncoder) object(sb *strings.Builder, items []starlark.Tuple, depth int) error {
	type entry struct {
		key string
		val starlark.Value
	}
	entries := make([]entry, 0, len(items))
	for _, kv := range items {
		var k string
		switch key := kv[0].(type) {
		case starlark.String:
			k = string(key)
		case starlark.Int:
			k = key.String()
		case starlark.Float:
			s, err := e.float(float64(key))
			if err != nil {
				return err
			}
			k = s
		case starlark.Bool:
			k = map[bool]string{true: "true", false: "false"}[bool(key)]
		case starlark.NoneType:
			k = "null"
		default:
			if e.skipKeys {
				continue
			}
			return fmt.Errorf("keys must be str, int, float, bool or None, not %s", pyTypeName(kv[0]))
		}
		entries = append(entries, entry{k, kv[1]})
	}
	if e.sortKeys {
		sort.SliceStable(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	}
	if len(entries) == 0 {
		sb.WriteString("{}")
		return nil
	}
	sb.WriteByte('{')
	for i, en := range entries {
		if i > 0 {
			sb.WriteString(e.item)
		}
		e.newline(sb, depth+1)
		e.str(sb, en.key)
		sb.WriteString(e.key)
		if err := e.encode(sb, en.val, depth+1); err != nil {
			return err
		}
	}
	e.newline(sb, depth)
	sb.WriteByte('}')
	return nil
}

func (e *jsonEncoder) str(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r == '\b':
			sb.WriteString(`\b`)
		case r == '\f':
			sb.WriteString(`\f`)
		case r < 0x20 || (e.ensureASCII && r >= 0x7f): // DEL too, as CPython
			if r > 0xffff {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(sb, `\u%04x\u%04x`, hi, lo)
			} else {
				fmt.Fprintf(sb, `\u%04x`, r)
			}
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
}

// loads(s) reads JSON text (a str or bytes) into Starlark values: objects
// as dicts, numbers with a fraction or exponent as floats, others as
// ints.
func loads(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &s); err != nil {
		return nil, err
	}
	var data []byte
	switch s := s.(type) {
	case starlark.String:
		data = []byte(s)
	case starlark.Bytes:
		data = []byte(s)
	default:
		return nil, fmt.Errorf("%s: the JSON object must be str or bytes, not %s", b.Name(), pyTypeName(s))
	}
	v, err := serde.JSON{}.Deserialize([]byte(strings.TrimSpace(string(data))))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return v, nil
}

// Dumps is json.dumps(v) with its defaults, for Go callers (a sink's
// value_serializer).
func Dumps(v starlark.Value) (string, error) {
	e := jsonEncoder{ensureASCII: true, allowNaN: true, item: ", ", key: ": "}
	var sb strings.Builder
	if err := e.encode(&sb, v, 0); err != nil {
		return "", err
	}
	return sb.String(), nil
}
