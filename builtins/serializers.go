package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
)

// Serializer is a serializer object, as created by JSONSerializer() and
// friends. It can be passed wherever a serializer name is accepted.
type Serializer struct {
	class string
	s     serde.Serializer
}

// Deserializer is a deserializer object, as created by JSONDeserializer()
// and friends.
type Deserializer struct {
	class string
	d     serde.Deserializer
}

var (
	_ starlark.Value = (*Serializer)(nil)
	_ starlark.Value = (*Deserializer)(nil)
)

func (s *Serializer) String() string        { return s.class + "()" }
func (s *Serializer) Type() string          { return s.class }
func (s *Serializer) Freeze()               {}
func (s *Serializer) Truth() starlark.Bool  { return true }
func (s *Serializer) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", s.class) }

func (d *Deserializer) String() string        { return d.class + "()" }
func (d *Deserializer) Type() string          { return d.class }
func (d *Deserializer) Freeze()               {}
func (d *Deserializer) Truth() starlark.Bool  { return true }
func (d *Deserializer) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", d.class) }

// serdeCodec is a codec that both serializes and deserializes.
type serdeCodec interface {
	serde.Serializer
	serde.Deserializer
}

// serdeClasses are the serializer classes of Quix Streams, by the codec they
// wrap. Each instance gets its own codec (a JSON deserializer keeps its
// topic's key table, serde.NewJSON).
var serdeClasses = []struct {
	prefix string
	codec  func() serdeCodec
}{
	{"JSON", func() serdeCodec { return serde.NewJSON() }},
	{"String", func() serdeCodec { return serde.String{} }},
	{"Integer", func() serdeCodec { return serde.Int{} }},
	{"Double", func() serdeCodec { return serde.Double{} }},
	{"Bytes", func() serdeCodec { return serde.Bytes{} }},
}

// serdeConstructors returns the builtins JSONSerializer(), JSONDeserializer(column_name=None), ...
//
//	JSONSerializer()                     JSONDeserializer(column_name=None)
//	StringSerializer(codec="utf_8")      StringDeserializer(column_name=None, codec="utf_8")
//	IntegerSerializer()                  IntegerDeserializer(column_name=None)
//	DoubleSerializer()                   DoubleDeserializer(column_name=None)
//	BytesSerializer()                    BytesDeserializer(column_name=None)
func serdeConstructors() starlark.StringDict {
	out := starlark.StringDict{}
	for _, c := range serdeClasses {
		newCodec := c.codec
		isString := c.prefix == "String"
		sname := c.prefix + "Serializer"
		out[sname] = starlark.NewBuiltin(sname, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			codecName := "utf_8"
			var pairs []any
			if isString {
				pairs = append(pairs, "codec?", &codecName)
			}
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
				return nil, err
			}
			s, err := withCodec(b.Name(), newCodec(), codecName)
			if err != nil {
				return nil, err
			}
			return &Serializer{class: b.Name(), s: s}, nil
		})
		dname := c.prefix + "Deserializer"
		out[dname] = starlark.NewBuiltin(dname, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var column starlark.Value = starlark.None
			codecName := "utf_8"
			pairs := []any{"column_name?", &column}
			if isString {
				pairs = append(pairs, "codec?", &codecName)
			}
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
				return nil, err
			}
			withText, err := withCodec(b.Name(), newCodec(), codecName)
			if err != nil {
				return nil, err
			}
			var d serde.Deserializer = withText
			switch col := column.(type) {
			case starlark.NoneType:
			case starlark.String:
				d = serde.WithColumn(withText, string(col))
			default:
				return nil, fmt.Errorf("%s: column_name must be a str or None, not %s", b.Name(), column.Type())
			}
			return &Deserializer{class: b.Name(), d: d}, nil
		})
	}
	return out
}

// quixConstructors returns QuixDeserializer(column_name=None),
// QuixTimeseriesSerializer(as_legacy=True) and QuixEventsSerializer(as_legacy=True).
func quixConstructors() starlark.StringDict {
	return starlark.StringDict{
		"QuixDeserializer": starlark.NewBuiltin("QuixDeserializer", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var column starlark.Value = starlark.None
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "column_name?", &column); err != nil {
				return nil, err
			}
			var d serde.Deserializer = serde.Quix{}
			if col, ok := column.(starlark.String); ok {
				d = serde.WithColumn(d, string(col))
			}
			return &Deserializer{class: b.Name(), d: d}, nil
		}),
		"QuixTimeseriesSerializer": quixSerializer("QuixTimeseriesSerializer", func(legacy bool) serde.Serializer { return serde.QuixTimeseries{Legacy: legacy} }),
		"QuixEventsSerializer":     quixSerializer("QuixEventsSerializer", func(legacy bool) serde.Serializer { return serde.QuixEvents{Legacy: legacy} }),
	}
}

// quixSerializer is the constructor Name(as_legacy=True).
func quixSerializer(name string, make func(legacy bool) serde.Serializer) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		legacy := true
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "as_legacy?", &legacy); err != nil {
			return nil, err
		}
		return &Serializer{class: b.Name(), s: make(legacy)}, nil
	})
}

// checkCodec accepts the names Python gives UTF-8; qstar strings are UTF-8.
// withCodec gives the str codec the text encoding named by codec= (any
// of Python's spellings: "utf_8", "latin-1", "cp1252", "utf-16", ...).
func withCodec(fn string, codec serdeCodec, name string) (serdeCodec, error) {
	if _, ok := codec.(serde.String); !ok {
		return codec, nil
	}
	c, err := serde.LookupCodec(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	if c.IsUTF8() {
		return serde.String{}, nil
	}
	return serde.String{Codec: c}, nil
}

// serializerArg is an Unpacker for a serializer argument: a name such as
// "json" or a serializer object.
type serializerArg struct{ s serde.Serializer }

func (a *serializerArg) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		s, err := serde.SerializerByName(string(v))
		if err != nil {
			return err
		}
		a.s = s
	case *Serializer:
		a.s = v.s
	default:
		return fmt.Errorf("want a serializer name or object, got %s", v.Type())
	}
	return nil
}

// deserializerArg is an Unpacker for a deserializer argument.
type deserializerArg struct{ d serde.Deserializer }

func (a *deserializerArg) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		d, err := serde.DeserializerByName(string(v))
		if err != nil {
			return err
		}
		a.d = d
	case *Deserializer:
		a.d = v.d
	default:
		return fmt.Errorf("want a deserializer name or object, got %s", v.Type())
	}
	return nil
}
