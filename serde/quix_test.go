package serde

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"

	"github.com/qstar-dev/qstar/record"
	"go.starlark.net/starlark"
)

// TestQuixSerializersBytes pins the exact bytes of Quix Streams'
// QuixTimeseriesSerializer and QuixEventsSerializer, legacy envelope and
// headers forms (the examples of its docstrings).
func TestQuixSerializersBytes(t *testing.T) {
	ts := mustEval(t, `{"a": 1, "b": 1.1, "c": "string", "d": b"bytes", "skip": None, "Tags": {"tag1": "tag"}, "Timestamp": 123}`)
	const tsJSON = `{"BinaryValues":{"d":["Ynl0ZXM="]},"StringValues":{"c":["string"]},"NumericValues":{"a":[1],"b":[1.1]},"Timestamps":[123],"TagValues":{"tag1":["tag"]}}`
	ev := mustEval(t, `{"Id": "an_event", "Value": "any_string", "Tags": {"tag1": "tag"}, "Timestamp": 1692703362840389000, "ignored": 1}`)
	const evJSON = `{"Id":"an_event","Value":"any_string","Tags":{"tag1":"tag"},"Timestamp":1692703362840389000}`
	for _, tc := range []struct {
		name    string
		s       HeaderSerializer
		v       starlark.Value
		want    string
		headers int
	}{
		{"timeseries legacy", QuixTimeseries{Legacy: true}, ts, `{"C":"JT","K":"ParameterData","V":` + tsJSON + `,"S":34,"E":185}`, 0},
		{"timeseries", QuixTimeseries{}, ts, tsJSON, 2},
		{"events legacy", QuixEvents{Legacy: true}, ev, `{"C":"JT","K":"EventData","V":` + evJSON + `,"S":30,"E":122}`, 0},
		{"events", QuixEvents{}, ev, evJSON, 2},
		{"timeseries without parameters has no timestamp", QuixTimeseries{}, mustEval(t, `{"Tags": {"a": "b"}}`), `{"BinaryValues":{},"StringValues":{},"NumericValues":{},"Timestamps":[],"TagValues":{"a":["b"]}}`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.Serialize(nil, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if n := len(tc.s.ExtraHeaders()); n != tc.headers {
				t.Errorf("%d extra headers, want %d", n, tc.headers)
			}
		})
	}
	hs := QuixTimeseries{}.ExtraHeaders()
	if hs[0].Key != "__Q_ModelKey" || string(hs[0].Value) != "TimeseriesData" || hs[1].Key != "__Q_CodecId" || string(hs[1].Value) != "JT" {
		t.Errorf("timeseries headers %v", hs)
	}
	for _, tc := range []struct {
		s    Serializer
		v    string
		want string
	}{
		{QuixTimeseries{}, `{"a": [1], "Timestamp": 1}`, `item with key "a" has unsupported type list`},
		{QuixTimeseries{}, `{"a": 1}`, "missing required Quix field: 'Timestamp'"},
		{QuixTimeseries{}, `{"Tags": 1}`, `"Tags" must be a mapping`},
		{QuixEvents{}, `{"Value": 1, "Timestamp": 1}`, `field "Value" is expected to be of type "str"`},
		{QuixEvents{}, `{"Id": "x"}`, "missing required Quix field: 'Timestamp'"},
	} {
		_, err := tc.s.Serialize(nil, mustEval(t, tc.v))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.v, err, tc.want)
		}
	}
}

func headers(kv ...string) []record.Header {
	var hs []record.Header
	for i := 0; i < len(kv); i += 2 {
		hs = append(hs, record.Header{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return hs
}

// TestQuixDeserializer pins how the quix deserializer splits messages.
func TestQuixDeserializer(t *testing.T) {
	timeseries := `{"Timestamps":[10,20],"NumericValues":{"n":[1,2.5]},"StringValues":{"s":["a","b"]},"BinaryValues":{"b":["Ynl0ZXM=",null]},"TagValues":{"t":["x","y"]}}`
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(timeseries))
	w.Close()
	for _, tc := range []struct {
		name    string
		body    string
		headers []record.Header
		want    string
	}{
		{"timeseries by headers", timeseries, headers("__Q_ModelKey", "TimeseriesData", "__Q_CodecId", "JT"),
			`[{"n": 1, "s": "a", "b": b"bytes", "Tags": {"t": "x"}, "Timestamp": 10}, {"n": 2.5, "s": "b", "b": None, "Tags": {"t": "y"}, "Timestamp": 20}]`},
		{"parameter data legacy", `{"C":"JT","K":"ParameterData","V":{"Timestamps":[5],"NumericValues":{"n":[7]}},"S":1,"E":2}`, nil,
			`[{"n": 7, "Tags": {}, "Timestamp": 5}]`},
		{"gzip", gz.String(), headers("__Q_ModelKey", "TimeseriesData", "__Q_CodecId", "[GZIP]JT"), ""},
		{"event", `{"Timestamp":1,"Id":"e","Value":"v","Tags":{"k":"t"},"Other":1}`, headers("__Q_ModelKey", "EventData", "__Q_CodecId", "J"),
			`[{"Timestamp": 1, "Id": "e", "Value": "v", "Tags": {"k": "t"}}]`},
		{"event list", `[{"Timestamp":1,"Id":"a","Value":""},{"Timestamp":2,"Id":"b","Value":""}]`, headers("__Q_ModelKey", "EventData[]", "__Q_CodecId", "JT"),
			`[{"Timestamp": 1, "Id": "a", "Value": "", "Tags": {}}, {"Timestamp": 2, "Id": "b", "Value": "", "Tags": {}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := Quix{}.DeserializeSplit([]byte(tc.body), tc.headers)
			if err != nil {
				t.Fatal(err)
			}
			got := starlark.NewList(rows).String()
			if tc.want == "" {
				tc.want = `[{"n": 1, "s": "a", "b": b"bytes", "Tags": {"t": "x"}, "Timestamp": 10}, {"n": 2.5, "s": "b", "b": None, "Tags": {"t": "y"}, "Timestamp": 20}]`
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name    string
		body    string
		headers []record.Header
		want    string
	}{
		{"protocol message", `{}`, headers("__Q_ModelKey", "StreamProperties", "__Q_CodecId", "JT"), "ignore"},
		{"no codec", `{}`, headers("__Q_ModelKey", "TimeseriesData"), `"__Q_CodecId" header is missing`},
		{"no model", `{}`, headers("__Q_CodecId", "JT"), `"__Q_ModelKey" header is missing`},
		{"split", `{}`, headers("__Q_SplitMessageId", "1"), "splitting is not supported"},
		{"legacy split", `<1/2>`, nil, "message splitting was detected"},
		{"protobuf", `{}`, headers("__Q_ModelKey", "TimeseriesData", "__Q_CodecId", "PB"), `unsupported "__Q_CodecId" value "PB"`},
		{"unknown model", `{}`, headers("__Q_ModelKey", "Other", "__Q_CodecId", "JT"), `unsupported "__Q_ModelKey" value "Other"`},
		{"timestamp parameter", `{"Timestamps":[1],"NumericValues":{"Timestamp":[1]}}`, headers("__Q_ModelKey", "TimeseriesData", "__Q_CodecId", "JT"), "competing 'Timestamp' field"},
	} {
		_, err := Quix{}.DeserializeSplit([]byte(tc.body), tc.headers)
		if tc.want == "ignore" {
			if !errors.Is(err, ErrIgnoreMessage) {
				t.Errorf("%s: got %v, want ErrIgnoreMessage", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
	// column_name wraps each row.
	rows, err := WithColumn(Quix{}, "row").(SplitDeserializer).DeserializeSplit([]byte(`{"Timestamp":1,"Id":"e","Value":"v"}`), headers("__Q_ModelKey", "EventData", "__Q_CodecId", "JT"))
	if err != nil || starlark.NewList(rows).String() != `[{"row": {"Timestamp": 1, "Id": "e", "Value": "v", "Tags": {}}}]` {
		t.Errorf("column_name: %v %v", rows, err)
	}
}

// FuzzQuixDeserialize: never panic, with or without headers.
func FuzzQuixDeserialize(f *testing.F) {
	f.Add([]byte(`{"Timestamps":[1],"NumericValues":{"n":[1]}}`), "TimeseriesData", "JT")
	f.Add([]byte(`{"C":"JT","K":"EventData","V":{"Timestamp":1,"Id":"","Value":""}}`), "", "")
	f.Add([]byte(`[{"Timestamp":1,"Id":"","Value":""}]`), "EventData[]", "[GZIP]J")
	f.Fuzz(func(t *testing.T, b []byte, model, codec string) {
		_, _ = Quix{}.DeserializeSplit(b, headers("__Q_ModelKey", model, "__Q_CodecId", codec))
	})
}

// FuzzQuixSerialize: any value either encodes or fails cleanly.
func FuzzQuixSerialize(f *testing.F) {
	f.Add(`{"a": 1, "Timestamp": 1}`)
	f.Fuzz(func(t *testing.T, expr string) {
		v, err := starlark.Eval(&starlark.Thread{}, "f", expr, nil)
		if err != nil {
			return
		}
		_, _ = QuixTimeseries{Legacy: true}.Serialize(nil, v)
		_, _ = QuixEvents{}.Serialize(nil, v)
	})
}
