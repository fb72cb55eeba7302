package serde

import (
	"fmt"
	"sort"
	"strings"

	"github.com/qstar-dev/qstar/record"
	"go.starlark.net/starlark"
)

// Serializer encodes a pipeline value into message bytes.
type Serializer interface {
	// Serialize appends the encoding of v to dst and returns the extended
	// slice. It does not retain dst. A value it cannot encode yields an *Error.
	Serialize(dst []byte, v starlark.Value) ([]byte, error)
	// Name is the option name the serializer is known by ("json", "int", ...).
	Name() string
}

// Deserializer decodes message bytes into a pipeline value.
type Deserializer interface {
	// Deserialize decodes b. It does not retain b. Bad input yields an *Error.
	Deserialize(b []byte) (starlark.Value, error)
	// Name is the option name the deserializer is known by.
	Name() string
}

// Error is a serialization or deserialization failure. The engine wraps it
// with the topic, partition and offset of the message.
type Error struct {
	Op     string // "serialize" or "deserialize"
	Format string // "json", "int", ...
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Format, e.Op, e.Msg)
}

func serializeErr(format, msg string, args ...any) *Error {
	return &Error{Op: "serialize", Format: format, Msg: fmt.Sprintf(msg, args...)}
}

func deserializeErr(format, msg string, args ...any) *Error {
	return &Error{Op: "deserialize", Format: format, Msg: fmt.Sprintf(msg, args...)}
}

// codecs maps the option names Quix Streams accepts for app.topic(...)
// serializer arguments to the codecs' constructors: each lookup gets its
// own codec (a JSON deserializer keeps its topic's key table, NewJSON).
// Aliases ("string", "integer") are the reference's own.
var codecs = map[string]func() codec{
	"json":    func() codec { return NewJSON() },
	"bytes":   func() codec { return Bytes{} },
	"str":     func() codec { return String{} },
	"string":  func() codec { return String{} },
	"int":     func() codec { return Int{} },
	"integer": func() codec { return Int{} },
	"double":  func() codec { return Double{} },
}

// codec is a serializer and deserializer of one format.
type codec interface {
	Serializer
	Deserializer
}

// SerializerByName returns the serializer known by name, as in
// app.topic(value_serializer="json").
func SerializerByName(name string) (Serializer, error) {
	if c, ok := codecs[name]; ok {
		return c(), nil
	}
	switch name {
	case "quix_timeseries":
		return QuixTimeseries{Legacy: true}, nil
	case "quix_events":
		return QuixEvents{Legacy: true}, nil
	}
	return nil, fmt.Errorf("unknown serializer option %q; valid options are %s", name, options())
}

// DeserializerByName returns the deserializer known by name, as in
// app.topic(value_deserializer="json").
func DeserializerByName(name string) (Deserializer, error) {
	if c, ok := codecs[name]; ok {
		return c(), nil
	}
	if name == "quix" {
		return Quix{}, nil
	}
	return nil, fmt.Errorf("unknown deserializer option %q; valid options are %s", name, options())
}

func options() string {
	names := make([]string, 0, len(codecs))
	for n := range codecs {
		names = append(names, fmt.Sprintf("%q", n))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// WithColumn wraps d so that each decoded value v becomes {name: v}, as
// Quix Streams' column_name= deserializer argument does (each row, for a
// splitting deserializer).
func WithColumn(d Deserializer, name string) Deserializer {
	c := column{d: d, name: starlark.String(name)}
	if s, ok := d.(SplitDeserializer); ok {
		return splitColumn{column: c, s: s}
	}
	return c
}

type splitColumn struct {
	column
	s SplitDeserializer
}

func (c splitColumn) DeserializeSplit(b []byte, headers []record.Header) ([]starlark.Value, error) {
	rows, err := c.s.DeserializeSplit(b, headers)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		d := starlark.NewDict(1)
		_ = d.SetKey(c.name, r)
		rows[i] = d
	}
	return rows, nil
}

type column struct {
	d    Deserializer
	name starlark.String
}

func (c column) Name() string { return c.d.Name() }

func (c column) Deserialize(b []byte) (starlark.Value, error) {
	v, err := c.d.Deserialize(b)
	if err != nil {
		return nil, err
	}
	d := starlark.NewDict(1)
	if err := d.SetKey(c.name, v); err != nil {
		return nil, err
	}
	return d, nil
}
