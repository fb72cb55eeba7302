package serde

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"
)

func mustEval(t *testing.T, expr string) starlark.Value {
	t.Helper()
	v, err := starlark.Eval(&starlark.Thread{}, "<expr>", expr, nil)
	if err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// TestJSONSerializeBytes pins the exact bytes orjson (Quix Streams' JSON
// library) writes for each kind of value.
func TestJSONSerializeBytes(t *testing.T) {
	for _, tc := range []struct {
		expr, want string
	}{
		{`{"a": 1, "b": [1.5, None, True]}`, `{"a":1,"b":[1.5,null,true]}`},
		{`1.0`, `1.0`},
		{`-0.0`, `-0.0`},
		{`0.1`, `0.1`},
		{`1e16`, `1e16`},
		{`1e15`, `1000000000000000.0`},
		{`123456789.125`, `123456789.125`},
		{`1.5e-7`, `1.5e-7`},
		{`0.0001`, `0.0001`},
		{`1.2345e-5`, `0.000012345`},
		{`1.5e300`, `1.5e300`},
		{`float("nan")`, `null`},
		{`float("inf")`, `null`},
		{`(1, "x")`, `[1,"x"]`},
		{`"é\"\\\n\x01"`, "\"é\\\"\\\\\\n\\u0001\""},
		{`{"z": 1, "a": 2}`, `{"z":1,"a":2}`},
		{`12345678901234567890123`, `12345678901234567890123`},
		{`-7`, `-7`},
		{`[]`, `[]`},
		{`{}`, `{}`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := JSON{}.Serialize(nil, mustEval(t, tc.expr))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestJSONSerializeErrors(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`b"x"`, "value of type bytes is not JSON serializable"},
		{`{1: 2}`, "dict key 1 of type int is not a string"},
		{`{"a": set([1])}`, "value of type set is not JSON serializable"},
	} {
		_, err := JSON{}.Serialize(nil, mustEval(t, tc.expr))
		var se *Error
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want *Error containing %q", tc.expr, err, tc.want)
		}
	}
}

func TestJSONDeserialize(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want is the Starlark repr
	}{
		{`{"a":1,"b":[1.5,null,true,false]}`, `{"a": 1, "b": [1.5, None, True, False]}`},
		{` { "a" : "x" } `, `{"a": "x"}`},
		{`"\u00e9\n\"\\\/"`, `"é\n\"\\/"`},
		{`"\ud83d\ude00"`, `"😀"`},
		{`-12`, `-12`},
		{`1e2`, `100.0`},
		{`2.5E-1`, `0.25`},
		{`1700000000000`, `1700000000000`},
		{`123456789012345678901234567890`, `123456789012345678901234567890`},
		{`{"a":1,"a":2}`, `{"a": 2}`},
		{`[]`, `[]`},
		{`1e999`, `+inf`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			v, err := JSON{}.Deserialize([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if v.String() != tc.want {
				t.Errorf("got %s, want %s", v, tc.want)
			}
		})
	}
}

func TestJSONDeserializeErrors(t *testing.T) {
	for _, in := range []string{
		``, `{`, `{"a"}`, `{"a":1,}`, `[1,]`, `01`, `1.`, `1e`, `-`, `"abc`, `"\x"`,
		`tru`, `nul`, `{"a":1}x`, "\"\x01\"", "\"\xff\"", `"\ud800"`, `{1:2}`, `[1 2]`,
		strings.Repeat("[", 2000),
	} {
		v, err := JSON{}.Deserialize([]byte(in))
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%q: got %v, %v; want *Error", in, v, err)
		}
	}
}

// TestJSONRoundTrip pins decode(encode(v)) == v for values the serializer accepts.
func TestJSONRoundTrip(t *testing.T) {
	for _, expr := range []string{
		`{"a": 1, "b": {"c": [1, 2.5, "x", None]}, "d": False}`,
		`[0.1, 1e-7, 1e22, -3.25, 12345.678]`,
		`"tab\there"`,
	} {
		v := mustEval(t, expr)
		b, err := JSON{}.Serialize(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		back, err := JSON{}.Deserialize(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if eq, err := starlark.Equal(v, back); err != nil || !eq {
			t.Errorf("%s: round trip gave %s", expr, back)
		}
	}
}

// TestSimpleCodecs pins the confluent-kafka byte formats of int, double, str, bytes.
func TestSimpleCodecs(t *testing.T) {
	for _, tc := range []struct {
		codec interface {
			Serializer
			Deserializer
		}
		expr string
		want []byte
	}{
		{Int{}, `123`, []byte{0, 0, 0, 0x7b}},
		{Int{}, `-1`, []byte{0xff, 0xff, 0xff, 0xff}},
		{Int{}, `2147483647`, []byte{0x7f, 0xff, 0xff, 0xff}},
		{Double{}, `1.5`, []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0}},
		{String{}, `"héllo"`, []byte("héllo")},
		{Bytes{}, `b"\x00\x01"`, []byte{0, 1}},
	} {
		t.Run(tc.codec.Name()+" "+tc.expr, func(t *testing.T) {
			v := mustEval(t, tc.expr)
			got, err := tc.codec.Serialize(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("got % x, want % x", got, tc.want)
			}
			back, err := tc.codec.Deserialize(got)
			if err != nil {
				t.Fatal(err)
			}
			if eq, _ := starlark.Equal(back, v); !eq {
				t.Errorf("round trip gave %s", back)
			}
		})
	}
	// An int is accepted by the double serializer.
	if got, _ := (Double{}).Serialize(nil, starlark.MakeInt(2)); !bytes.Equal(got, []byte{0x40, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("double(2) = % x", got)
	}
	// A str passes through the bytes serializer as UTF-8.
	if got, _ := (Bytes{}).Serialize(nil, starlark.String("k")); string(got) != "k" {
		t.Errorf("bytes(str) = %q", got)
	}
}

func TestSimpleCodecErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"int out of range", second(Int{}.Serialize(nil, starlark.MakeInt64(math.MaxInt32+1)))},
		{"int of str", second(Int{}.Serialize(nil, starlark.String("1")))},
		{"int of 8 bytes", second(Int{}.Deserialize(make([]byte, 8)))},
		{"double of 4 bytes", second(Double{}.Deserialize(make([]byte, 4)))},
		{"str of int", second(String{}.Serialize(nil, starlark.MakeInt(1)))},
		{"str invalid utf8", second(String{}.Deserialize([]byte{0xff}))},
		{"bytes of int", second(Bytes{}.Serialize(nil, starlark.MakeInt(1)))},
	} {
		var se *Error
		if !errors.As(tc.err, &se) {
			t.Errorf("%s: got %v, want *Error", tc.name, tc.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestByName(t *testing.T) {
	for _, n := range []string{"json", "bytes", "str", "string", "int", "integer", "double"} {
		if _, err := SerializerByName(n); err != nil {
			t.Error(err)
		}
		if _, err := DeserializerByName(n); err != nil {
			t.Error(err)
		}
	}
	_, err := SerializerByName("yaml")
	if err == nil || !strings.Contains(err.Error(), `unknown serializer option "yaml"`) {
		t.Errorf("got %v", err)
	}
}

func TestWithColumn(t *testing.T) {
	v, err := WithColumn(Int{}, "n").Deserialize([]byte{0, 0, 0, 5})
	if err != nil || v.String() != `{"n": 5}` {
		t.Errorf("got %v, %v", v, err)
	}
}

// FuzzJSONDeserialize: never panic; whatever decodes re-encodes and decodes
// to an equal value.
func FuzzJSONDeserialize(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2.5,"x",null]`, `"\u00e9"`, `-0.5e3`, `{"a":{"b":[]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := JSON{}.Deserialize(b)
		if err != nil {
			return
		}
		enc, err := JSON{}.Serialize(nil, v)
		if err != nil {
			t.Fatalf("re-encode %s: %v", v, err)
		}
		back, err := JSON{}.Deserialize(enc)
		if err != nil {
			t.Fatalf("decode %s: %v", enc, err)
		}
		if eq, err := starlark.Equal(v, back); err != nil || !eq {
			// NaN never equals itself and infinities encode as null.
			if !strings.Contains(string(enc), "null") {
				t.Fatalf("%s: round trip %s != %s", b, back, v)
			}
		}
	})
}

func FuzzSimpleDeserialize(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, d := range []Deserializer{Int{}, Double{}, String{}, Bytes{}} {
			_, _ = d.Deserialize(b)
		}
	})
}

func BenchmarkJSON(b *testing.B) {
	msg := []byte(`{"id":12345,"customer":"c-0042","amount":123.45,"currency":"EUR","ok":true,"n":7}`)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for i := 0; i < b.N; i++ {
			if _, err := (JSON{}).Deserialize(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-interned", func(b *testing.B) { // a topic's codec (NewJSON)
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		j := NewJSON()
		for i := 0; i < b.N; i++ {
			if _, err := j.Deserialize(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	v, _ := JSON{}.Deserialize(msg)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for i := 0; i < b.N; i++ {
			var err error
			if buf, err = (JSON{}).Serialize(buf[:0], v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A NewJSON codec decodes the same values as the zero JSON, and a key it
// has seen is not allocated again.
func TestJSONInternsKeys(t *testing.T) {
	j := NewJSON()
	inputs := []string{
		`{"id":1,"customer":"c-1","nested":{"id":2}}`,
		`{"caf\u00e9":1,"na\"me":2,"ünï":3,"id":4}`,
		`{"id":5,"customer":"c-2","nested":{"id":6}}`,
	}
	for _, in := range inputs {
		got, err := j.Deserialize([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		want, err := JSON{}.Deserialize([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if eq, err := starlark.Equal(got, want); err != nil || !eq {
			t.Errorf("%s: NewJSON decoded %s, JSON{} %s", in, got, want)
		}
	}
	msg := []byte(`{"id":1,"customer":"c-1","amount":1.5,"ok":true}`)
	zero := testing.AllocsPerRun(100, func() { _, _ = JSON{}.Deserialize(msg) })
	interned := testing.AllocsPerRun(100, func() { _, _ = j.Deserialize(msg) })
	if interned > zero-8 { // 4 keys: a string and its box each
		t.Errorf("allocations per decode: %v interned, %v without; want 8 fewer", interned, zero)
	}
}

// Decoders sharing a NewJSON codec from several goroutines agree (run
// with -race to check the table's publication).
func TestJSONInternConcurrent(t *testing.T) {
	j := NewJSON()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				in := fmt.Sprintf(`{"k%d":%d,"shared":%d}`, i%700, i, g)
				v, err := j.Deserialize([]byte(in))
				if err != nil {
					t.Error(err)
					return
				}
				d := v.(*starlark.Dict)
				if got, _, _ := d.Get(starlark.String(fmt.Sprintf("k%d", i%700))); got == nil || got.String() != fmt.Sprint(i) {
					t.Errorf("%s decoded as %s", in, v)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
