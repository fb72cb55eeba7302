// Package serde converts between Kafka message bytes and the Starlark values
// that flow through a qstar pipeline.
//
// Model: a message is decoded once, by a Deserializer, into a starlark.Value;
// every pipeline step works on that value; a Serializer encodes the final
// value once when it is produced. There is no intermediate Go map: the JSON
// codec reads bytes straight into *starlark.Dict, *starlark.List, starlark.Int,
// starlark.Float, starlark.String, starlark.Bool and starlark.None, and writes
// them straight back.
//
// The byte formats are those of Quix Streams 2.5.1 (which uses
// confluent-kafka's and orjson's): json is compact UTF-8 JSON with orjson's
// number formatting; int is a 4-byte big-endian signed integer; double is an
// 8-byte big-endian IEEE 754 float; str is UTF-8; bytes passes bytes through.
//
// Invariants:
//   - Deserialize never panics on any input; a bad input returns an *Error.
//   - For every value v that Serialize accepts, Deserialize(Serialize(v))
//     equals v (floats that are integral come back as floats: 1.0 -> "1.0").
//   - Serializers append to a caller-owned buffer and never retain it;
//     Deserialize never retains its input slice.
//   - Serializers and Deserializers are immutable after construction and safe
//     for concurrent use.
package serde
