package serde

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/qstar-dev/qstar/record"
	"go.starlark.net/starlark"
)

// ErrIgnoreMessage is returned by a deserializer for a message that
// carries no data (Quix Streams' IgnoreMessage): it is skipped.
var ErrIgnoreMessage = errors.New("ignore message")

// SplitDeserializer decodes one message into several values (Quix
// Streams' split_values), with the message headers.
type SplitDeserializer interface {
	Deserializer
	DeserializeSplit(b []byte, headers []record.Header) ([]starlark.Value, error)
}

// HeaderSerializer is a Serializer that adds headers to each message it
// encodes (Quix Streams' extra_headers).
type HeaderSerializer interface {
	Serializer
	ExtraHeaders() []record.Header
}

// Quix is the "quix" deserializer: Quix Timeseries (TimeseriesData,
// ParameterData) and Event (EventData, EventData[]) messages, in headers or
// legacy envelope form, split into one row per timestamp or event.
// Protocol messages (StreamProperties, StreamEnd, ParameterDefinitions,
// EventDefinitions) are ignored.
type Quix struct{}

// Name implements Deserializer.
func (Quix) Name() string { return "quix" }

// Deserialize implements Deserializer for callers that do not split: it
// returns the rows as a list.
func (q Quix) Deserialize(b []byte) (starlark.Value, error) {
	rows, err := q.DeserializeSplit(b, nil)
	if err != nil {
		return nil, err
	}
	return starlark.NewList(rows), nil
}

var quixIgnored = map[string]bool{"StreamProperties": true, "StreamEnd": true, "ParameterDefinitions": true, "EventDefinitions": true}

func quixErr(format string, args ...any) error { return deserializeErr("quix", format, args...) }

// DeserializeSplit implements SplitDeserializer.
func (Quix) DeserializeSplit(b []byte, headers []record.Header) ([]starlark.Value, error) {
	var codec, model string
	var body starlark.Value
	legacy := false
	if bytes.HasPrefix(b, []byte("<")) {
		return nil, quixErr("message splitting was detected in a legacy-formatted message; it is not supported")
	}
	if bytes.HasPrefix(b, []byte(`{"C":`)) && bytes.Contains(b, []byte(`"K":`)) {
		legacy = true
		v, err := JSON{}.Deserialize(b)
		if err != nil {
			return nil, err
		}
		d, ok := v.(*starlark.Dict)
		if !ok {
			return nil, quixErr("legacy message is not an object")
		}
		codec, model = dictString(d, "C"), dictString(d, "K")
		body, _, _ = d.Get(starlark.String("V"))
	} else {
		for _, h := range headers {
			switch h.Key {
			case "__Q_SplitMessageId":
				return nil, quixErr(`detected "__Q_SplitMessageId" header but message splitting is not supported`)
			case "__Q_CodecId":
				codec = string(h.Value)
			case "__Q_ModelKey":
				model = string(h.Value)
			}
		}
	}
	if codec == "" {
		return nil, quixErr(`"__Q_CodecId" header is missing or empty`)
	}
	if model == "" {
		return nil, quixErr(`"__Q_ModelKey" header is missing or empty`)
	}
	if quixIgnored[model] {
		return nil, ErrIgnoreMessage
	}
	if strings.HasPrefix(codec, "[GZIP]") {
		codec = strings.TrimPrefix(codec, "[GZIP]")
		if !legacy {
			r, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, quixErr("gzip: %v", err)
			}
			if b, err = io.ReadAll(io.LimitReader(r, 256<<20)); err != nil {
				return nil, quixErr("gzip: %v", err)
			}
		}
	}
	if codec != "J" && codec != "JT" {
		return nil, quixErr(`unsupported "__Q_CodecId" value %q`, codec)
	}
	if !legacy {
		v, err := JSON{}.Deserialize(b)
		if err != nil {
			return nil, err
		}
		body = v
	}
	switch model {
	case "TimeseriesData", "ParameterData":
		return quixTimeseries(body)
	case "EventData":
		row, err := quixEvent(body)
		if err != nil {
			return nil, err
		}
		return []starlark.Value{row}, nil
	case "EventData[]":
		list, ok := body.(*starlark.List)
		if !ok {
			return nil, quixErr("EventData[] is not a list")
		}
		rows := make([]starlark.Value, 0, list.Len())
		for i := 0; i < list.Len(); i++ {
			row, err := quixEvent(list.Index(i))
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
		return rows, nil
	}
	return nil, quixErr(`unsupported "__Q_ModelKey" value %q`, model)
}

func dictString(d *starlark.Dict, key string) string {
	v, _, _ := d.Get(starlark.String(key))
	s, _ := v.(starlark.String)
	return string(s)
}

func quixTimeseries(body starlark.Value) ([]starlark.Value, error) {
	d, ok := body.(*starlark.Dict)
	if !ok {
		return nil, quixErr("expected a mapping, got %s", typeOf(body))
	}
	tsv, _, _ := d.Get(starlark.String("Timestamps"))
	timestamps, ok := tsv.(*starlark.List)
	if !ok {
		return nil, quixErr(`"Timestamps" is missing or not a list`)
	}
	type param struct {
		name   string
		values starlark.Indexable
		binary bool
	}
	var params []param
	for _, kind := range []string{"NumericValues", "StringValues", "BinaryValues"} {
		v, found, _ := d.Get(starlark.String(kind))
		if !found || v == starlark.None {
			continue
		}
		group, ok := v.(*starlark.Dict)
		if !ok {
			return nil, quixErr("%s is not a mapping", kind)
		}
		for _, kv := range group.Items() {
			name, _ := kv[0].(starlark.String)
			if name == "Timestamp" {
				return nil, quixErr("there is a competing 'Timestamp' field name present at %s.Timestamp: you must rename your field", kind)
			}
			list, ok := kv[1].(starlark.Indexable)
			if !ok {
				return nil, quixErr("%s.%s is not a list", kind, name)
			}
			params = append(params, param{string(name), list, kind == "BinaryValues"})
		}
	}
	var tags []param
	if v, found, _ := d.Get(starlark.String("TagValues")); found && v != starlark.None {
		group, ok := v.(*starlark.Dict)
		if !ok {
			return nil, quixErr("TagValues is not a mapping")
		}
		for _, kv := range group.Items() {
			name, _ := kv[0].(starlark.String)
			list, ok := kv[1].(starlark.Indexable)
			if !ok {
				return nil, quixErr("TagValues.%s is not a list", name)
			}
			tags = append(tags, param{name: string(name), values: list})
		}
	}
	rows := make([]starlark.Value, 0, timestamps.Len())
	for i := 0; i < timestamps.Len(); i++ {
		row := starlark.NewDict(len(params) + 2)
		for _, p := range params {
			if i >= p.values.Len() {
				return nil, quixErr("parameter %q has fewer values than timestamps", p.name)
			}
			v := p.values.Index(i)
			if p.binary && v != starlark.None {
				s, ok := v.(starlark.String)
				if !ok {
					return nil, quixErr("binary parameter %q is not base64 text", p.name)
				}
				raw, err := base64.StdEncoding.DecodeString(string(s))
				if err != nil {
					return nil, quixErr("binary parameter %q: %v", p.name, err)
				}
				v = starlark.Bytes(raw)
			}
			_ = row.SetKey(starlark.String(p.name), v)
		}
		tagDict := starlark.NewDict(len(tags))
		for _, t := range tags {
			if i >= t.values.Len() {
				return nil, quixErr("tag %q has fewer values than timestamps", t.name)
			}
			_ = tagDict.SetKey(starlark.String(t.name), t.values.Index(i))
		}
		_ = row.SetKey(starlark.String("Tags"), tagDict)
		_ = row.SetKey(starlark.String("Timestamp"), timestamps.Index(i))
		rows = append(rows, row)
	}
	return rows, nil
}

func quixEvent(v starlark.Value) (starlark.Value, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, quixErr("expected a mapping, got %s", typeOf(v))
	}
	row := starlark.NewDict(4)
	for _, k := range []string{"Timestamp", "Id", "Value"} {
		x, found, _ := d.Get(starlark.String(k))
		if !found {
			return nil, quixErr("event has no %q", k)
		}
		_ = row.SetKey(starlark.String(k), x)
	}
	tags, found, _ := d.Get(starlark.String("Tags"))
	if !found {
		tags = starlark.NewDict(0)
	}
	_ = row.SetKey(starlark.String("Tags"), tags)
	return row, nil
}

func typeOf(v starlark.Value) string {
	if v == nil {
		return "nothing"
	}
	return v.Type()
}

// QuixTimeseries is the "quix_timeseries" serializer: a dict of parameters
// (numbers, str, bytes; "Tags" a dict; "Timestamp" required when there is
// a parameter) as Quix TimeseriesData. Legacy (the default when chosen by
// name) wraps it in {"C":"JT","K":"ParameterData","V":...,"S":..,"E":..}
// with no headers; otherwise the headers __Q_ModelKey=TimeseriesData and
// __Q_CodecId=JT are added.
type QuixTimeseries struct{ Legacy bool }

// QuixEvents is the "quix_events" serializer: {"Id": str, "Value": str,
// "Tags": dict, "Timestamp": ...} as Quix EventData.
type QuixEvents struct{ Legacy bool }

// Name implements Serializer.
func (QuixTimeseries) Name() string { return "quix_timeseries" }

// Name implements Serializer.
func (QuixEvents) Name() string { return "quix_events" }

// ExtraHeaders implements HeaderSerializer.
func (q QuixTimeseries) ExtraHeaders() []record.Header {
	if q.Legacy {
		return nil
	}
	return []record.Header{{Key: "__Q_ModelKey", Value: []byte("TimeseriesData")}, {Key: "__Q_CodecId", Value: []byte("JT")}}
}

// ExtraHeaders implements HeaderSerializer.
func (q QuixEvents) ExtraHeaders() []record.Header {
	if q.Legacy {
		return nil
	}
	return []record.Header{{Key: "__Q_ModelKey", Value: []byte("EventData")}, {Key: "__Q_CodecId", Value: []byte("JT")}}
}

func quixSerErr(format, msg string, args ...any) error { return serializeErr(format, msg, args...) }

// Serialize implements Serializer.
func (q QuixTimeseries) Serialize(dst []byte, v starlark.Value) ([]byte, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return dst, quixSerErr("quix_timeseries", "expected a mapping, got %s", v.Type())
	}
	binary, strs, nums, tags := starlark.NewDict(0), starlark.NewDict(0), starlark.NewDict(0), starlark.NewDict(0)
	timestamps := starlark.NewList(nil)
	empty := true
	for _, kv := range d.Items() {
		key, item := kv[0], kv[1]
		ks, _ := key.(starlark.String)
		if item == starlark.None || ks == "Timestamp" {
			continue
		}
		if ks == "Tags" {
			td, ok := item.(*starlark.Dict)
			if !ok {
				return dst, quixSerErr("quix_timeseries", `"Tags" must be a mapping, got %s`, item.Type())
			}
			for _, t := range td.Items() {
				_ = tags.SetKey(t[0], starlark.NewList([]starlark.Value{t[1]}))
			}
			continue
		}
		var group *starlark.Dict
		switch x := item.(type) {
		case starlark.Int, starlark.Float:
			group = nums
		case starlark.String:
			group = strs
		case starlark.Bytes:
			group = binary
			item = starlark.String(base64.StdEncoding.EncodeToString([]byte(x)))
		default:
			return dst, quixSerErr("quix_timeseries", "item with key %s has unsupported type %s", key, item.Type())
		}
		_ = group.SetKey(key, starlark.NewList([]starlark.Value{item}))
		empty = false
	}
	if !empty {
		ts, found, _ := d.Get(starlark.String("Timestamp"))
		if !found {
			return dst, quixSerErr("quix_timeseries", "missing required Quix field: 'Timestamp'")
		}
		_ = timestamps.Append(ts)
	}
	out := starlark.NewDict(5)
	_ = out.SetKey(starlark.String("BinaryValues"), binary)
	_ = out.SetKey(starlark.String("StringValues"), strs)
	_ = out.SetKey(starlark.String("NumericValues"), nums)
	_ = out.SetKey(starlark.String("Timestamps"), timestamps)
	_ = out.SetKey(starlark.String("TagValues"), tags)
	return quixEnvelope(dst, out, q.Legacy, "ParameterData")
}

// Serialize implements Serializer.
func (q QuixEvents) Serialize(dst []byte, v starlark.Value) ([]byte, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return dst, quixSerErr("quix_events", "expected a mapping, got %s", v.Type())
	}
	get := func(k string, def starlark.Value) starlark.Value {
		x, found, _ := d.Get(starlark.String(k))
		if !found {
			return def
		}
		return x
	}
	value, id := get("Value", starlark.String("")), get("Id", starlark.String(""))
	if _, ok := value.(starlark.String); !ok {
		return dst, quixSerErr("quix_events", `field "Value" is expected to be of type "str", got %s`, value.Type())
	}
	if _, ok := id.(starlark.String); !ok {
		return dst, quixSerErr("quix_events", `field "Id" is expected to be of type "str", got %s`, id.Type())
	}
	tags := get("Tags", starlark.None)
	if tags == starlark.None || !tags.Truth() {
		tags = starlark.NewDict(0)
	}
	if _, ok := tags.(*starlark.Dict); !ok {
		return dst, quixSerErr("quix_events", `field "Tags" is expected to be of type "dict", got %s`, tags.Type())
	}
	ts, found, _ := d.Get(starlark.String("Timestamp"))
	if !found {
		return dst, quixSerErr("quix_events", "missing required Quix field: 'Timestamp'")
	}
	out := starlark.NewDict(4)
	_ = out.SetKey(starlark.String("Id"), id)
	_ = out.SetKey(starlark.String("Value"), value)
	_ = out.SetKey(starlark.String("Tags"), tags)
	_ = out.SetKey(starlark.String("Timestamp"), ts)
	return quixEnvelope(dst, out, q.Legacy, "EventData")
}

// quixEnvelope writes body as JSON, wrapped in the legacy envelope
// {"C":"JT","K":model,"V":body,"S":start,"E":end} when legacy; S and E are
// the byte offsets of body in the message.
func quixEnvelope(dst []byte, body starlark.Value, legacy bool, model string) ([]byte, error) {
	if !legacy {
		return JSON{}.Serialize(dst, body)
	}
	json, err := JSON{}.Serialize(nil, body)
	if err != nil {
		return dst, err
	}
	start := `{"C":"JT","K":"` + model + `","V":`
	dst = append(dst, start...)
	dst = append(dst, json...)
	dst = append(dst, `,"S":`...)
	dst = strconv.AppendInt(dst, int64(len(start)), 10)
	dst = append(dst, `,"E":`...)
	dst = strconv.AppendInt(dst, int64(len(start)+len(json)), 10)
	return append(dst, '}'), nil
}

// String helps error messages.
func (q QuixTimeseries) String() string {
	return fmt.Sprintf("QuixTimeseriesSerializer(as_legacy=%v)", q.Legacy)
}
