package serde

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Bytes is the "bytes" codec: bytes pass through unchanged. Serializing a
// str writes its UTF-8 bytes, as librdkafka does for Python str values.
type Bytes struct{}

// Name implements Serializer and Deserializer.
func (Bytes) Name() string { return "bytes" }

// Deserialize implements Deserializer.
func (Bytes) Deserialize(b []byte) (starlark.Value, error) { return starlark.Bytes(b), nil }

// Serialize implements Serializer.
func (Bytes) Serialize(dst []byte, v starlark.Value) ([]byte, error) {
	switch v := v.(type) {
	case starlark.Bytes:
		return append(dst, v...), nil
	case starlark.String:
		return append(dst, v...), nil
	}
	return dst, serializeErr("bytes", "expected bytes or str, got %s", v.Type())
}

// String is the "str" codec: text in Codec's encoding, UTF-8 when Codec
// is nil (or UTF-8) (Quix Streams' StringSerializer(codec=...)).
type String struct{ Codec *Codec }

// Name implements Serializer and Deserializer.
func (String) Name() string { return "str" }

// Deserialize implements Deserializer.
func (c String) Deserialize(b []byte) (starlark.Value, error) {
	if !c.Codec.IsUTF8() {
		s, err := c.Codec.Decode(b)
		if err != nil {
			return nil, deserializeErr("str", "%v", err)
		}
		return starlark.String(s), nil
	}
	if !utf8.Valid(b) {
		return nil, deserializeErr("str", "invalid UTF-8")
	}
	return starlark.String(b), nil
}

// Serialize implements Serializer.
func (c String) Serialize(dst []byte, v starlark.Value) ([]byte, error) {
	s, ok := v.(starlark.String)
	if !ok {
		return dst, serializeErr("str", "expected str, got %s", v.Type())
	}
	if !c.Codec.IsUTF8() {
		out, err := c.Codec.Encode(dst, string(s))
		if err != nil {
			return dst, serializeErr("str", "%v", err)
		}
		return out, nil
	}
	return append(dst, s...), nil
}

// Int is the "int" codec: a 4-byte big-endian signed integer, as
// confluent-kafka's IntegerSerializer (struct ">i") writes it.
type Int struct{}

// Name implements Serializer and Deserializer.
func (Int) Name() string { return "int" }

// Deserialize implements Deserializer.
func (Int) Deserialize(b []byte) (starlark.Value, error) {
	if len(b) != 4 {
		return nil, deserializeErr("int", "expected 4 bytes, got %d", len(b))
	}
	return starlark.MakeInt64(int64(int32(binary.BigEndian.Uint32(b)))), nil
}

// Serialize implements Serializer.
func (Int) Serialize(dst []byte, v starlark.Value) ([]byte, error) {
	i, ok := v.(starlark.Int)
	if !ok {
		return dst, serializeErr("int", "expected int, got %s", v.Type())
	}
	n, ok := i.Int64()
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return dst, serializeErr("int", "%s is out of the 32-bit signed range", i.String())
	}
	return binary.BigEndian.AppendUint32(dst, uint32(int32(n))), nil
}

// Double is the "double" codec: an 8-byte big-endian IEEE 754 float. An int
// is accepted on serialization.
type Double struct{}

// Name implements Serializer and Deserializer.
func (Double) Name() string { return "double" }

// Deserialize implements Deserializer.
func (Double) Deserialize(b []byte) (starlark.Value, error) {
	if len(b) != 8 {
		return nil, deserializeErr("double", "expected 8 bytes, got %d", len(b))
	}
	return starlark.Float(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
}

// Serialize implements Serializer.
func (Double) Serialize(dst []byte, v starlark.Value) ([]byte, error) {
	var f float64
	switch v := v.(type) {
	case starlark.Float:
		f = float64(v)
	case starlark.Int:
		f = float64(v.Float())
	default:
		return dst, serializeErr("double", "expected float or int, got %s", v.Type())
	}
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f)), nil
}

// GoScalar converts a Starlark scalar into Go: None → nil, bool, int →
// int64, float → float64, str → string, bytes → []byte. ok is false for
// any other type; err is set for an int beyond 64 bits.
func GoScalar(v starlark.Value) (x any, ok bool, err error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, true, nil
	case starlark.Bool:
		return bool(v), true, nil
	case starlark.Int:
		n, fits := v.Int64()
		if !fits {
			return nil, true, fmt.Errorf("int %s out of range (more than 64 bits)", v)
		}
		return n, true, nil
	case starlark.Float:
		return float64(v), true, nil
	case starlark.String:
		return string(v), true, nil
	case starlark.Bytes:
		return []byte(v), true, nil
	}
	return nil, false, nil
}
