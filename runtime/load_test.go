package runtime

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/serde"
)

// TestLoadErrors pins the text of load-time errors: file:line:col first.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"syntax", "app = Application()\nx = (\n", "job.star:3:1: got end of file, want primary expression"},
		{"topic name too long", "app = Application()\nt = app.topic(\"" + strings.Repeat("t", 256) + "\")\n", `job.star:2:14: Application.topic: TopicNameLengthExceeded: topic "tttttttttttttttttttttttttttttttttttttttt"... is 256 characters long; Quix Streams allows at most 255 (and Kafka 249)`},
		{"positional and keyword", "app = Application(\"localhost:9092\", broker_address=\"x\")\n", `job.star:1:18: Application: got multiple values for argument 'broker_address'`},
		{"undefined", "app = Application()\nsdf = foo\n", "job.star:2:7: undefined: foo"},
		{"bad import", "from quixstreams import Application, Foo\n", `job.star:1:1: cannot import "Foo" from "quixstreams"`},
		{"import module", "import requests\n", `job.star:1:1: cannot import "requests": qstar provides the modules collections, datetime, dotenv, hashlib, json, logging, math, os, quixstreams, time, typing, uuid`},
		{"from other module", "from requests import get\n", `job.star:1:1: cannot import from "requests"`},
		{"missing name", "from os import path\n", `job.star:1:1: cannot import "path" from "os": qstar does not provide it (available: environ, getenv)`},
		{"bad kwarg", "app = Application(auto_offset_reset=\"middle\")\n", `job.star:1:18: Application: auto_offset_reset must be "earliest" or "latest", not "middle"`},
		{"bad guarantee", "app = Application(processing_guarantee=\"at-most-once\")\n", `job.star:1:18: Application: processing_guarantee must be "at-least-once" or "exactly-once", not "at-most-once"`},
		{"unknown kwarg", "app = Application(brokers=\"x\")\n", `job.star:1:18: Application: unexpected keyword argument "brokers"`},
		{"no run", "app = Application()\n", "job.star: the script never calls app.run()"},
		{"no app", "x = 1\n", "job.star: the script creates no Application"},
		{"arity", "app = Application()\nt = app.topic(\"in\")\nsdf = app.dataframe(t).apply(lambda a, b: a)\napp.run()\n",
			"job.star:3:29: StreamingDataFrame.apply: lambda must accept 1 argument(s) (value)"},
		{"arity metadata", "app = Application()\nt = app.topic(\"in\")\ndef f(v):\n    return v\nsdf = app.dataframe(t).apply(f, metadata=True)\napp.run()\n",
			"job.star:5:29: StreamingDataFrame.apply: f must accept 4 argument(s)"},
		{"not callable", "app = Application()\nt = app.topic(\"in\")\nsdf = app.dataframe(t).filter(3)\napp.run()\n",
			"job.star:3:30: StreamingDataFrame.filter: want a function, got int"},
		{"bad serializer", "app = Application()\nt = app.topic(\"in\", value_deserializer=\"yaml\")\n",
			`job.star:2:14: Application.topic: for parameter "value_deserializer": unknown deserializer option "yaml"`},
		{"run twice", "app = Application()\nt = app.topic(\"in\")\nsdf = app.dataframe(t)\napp.run()\napp.run()\n",
			"job.star:5:8: Application.run: app.run() was already called at job.star:4:8"},
		{"no dataframe", "app = Application()\napp.run()\n", "job.star:2:8: Application.run: the application has no dataframe"},
		{"undeclared topic", "app = Application()\nother = Application()\nt = other.topic(\"x\")\nsdf = app.dataframe(t)\n",
			`job.star:4:20: Application.dataframe: topic "x" was not declared`},
		{"error in function", "def f():\n    return 1 // 0\napp = Application()\nx = f()\n",
			"job.star:2:14: floored division by zero\nTraceback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("job.star", []byte(tc.src), &bytes.Buffer{})
			if err == nil {
				t.Fatal("loaded without error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got:\n%s\nwant prefix:\n%s", err, tc.want)
			}
		})
	}
}

// TestImportsKeepLineNumbers pins that blanked imports (one-line,
// parenthesized over several lines, aliased) keep later line numbers.
func TestImportsKeepLineNumbers(t *testing.T) {
	src := `from quixstreams import (
    Application,
    JSONSerializer,
)
from datetime import timedelta
import json
from quixstreams import Application as App
app = App()
x = undefined_name
`
	_, err := Load("job.star", []byte(src), &bytes.Buffer{})
	if err == nil || !strings.HasPrefix(err.Error(), "job.star:9:5: undefined: undefined_name") {
		t.Fatalf("got %v", err)
	}
}

// TestApplicationDefaults pins Quix Streams' Application and app.topic
// defaults.
func TestApplicationDefaults(t *testing.T) {
	s, err := Load("job.star", []byte(`
app = Application()
t = app.topic("in")
app.run(app.dataframe(t))
`), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.App.Config()
	want := builtins.AppConfig{
		AutoOffsetReset:     "latest",
		CommitInterval:      5 * time.Second,
		Loglevel:            "INFO",
		AutoCreateTopics:    true,
		ConsumerPollTimeout: time.Second,
	}
	if cfg.AutoOffsetReset != want.AutoOffsetReset || cfg.CommitInterval != want.CommitInterval ||
		cfg.Loglevel != want.Loglevel || cfg.AutoCreateTopics != want.AutoCreateTopics ||
		cfg.ConsumerPollTimeout != want.ConsumerPollTimeout || cfg.ConsumerGroup != "quixstreams-default" || cfg.BrokerAddress != "" {
		t.Errorf("config %+v, want %+v", cfg, want)
	}
	topic := s.App.Topics()[0].Engine()
	_, jsonValues := topic.ValueDeserializer.(serde.JSON) // the topic's own, interning keys
	if !jsonValues || topic.KeyDeserializer != (serde.Bytes{}) ||
		topic.ValueSerializer != (serde.JSON{}) || topic.KeySerializer != (serde.Bytes{}) {
		t.Errorf("topic codecs %+v, want json values and bytes keys", topic)
	}
}

func TestApplicationArguments(t *testing.T) {
	s, err := Load("job.star", []byte(`
app = Application(
    broker_address="k:9092",
    consumer_group="g",
    auto_offset_reset="earliest",
    commit_interval=0.5,
    consumer_extra_config={"fetch.min.bytes": 1, "check.crcs": True},
    producer_extra_config={"linger.ms": "20"},
    loglevel="debug",
    auto_create_topics=False,
    consumer_poll_timeout=2,
)
t = app.topic("in", value_deserializer=IntegerDeserializer(), key_serializer="str")
app.run(app.dataframe(t))
`), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.App.Config()
	if cfg.BrokerAddress != "k:9092" || cfg.ConsumerGroup != "g" || cfg.CommitInterval != 500*time.Millisecond ||
		cfg.ConsumerExtraConfig["fetch.min.bytes"] != "1" || cfg.ConsumerExtraConfig["check.crcs"] != "true" ||
		cfg.ProducerExtraConfig["linger.ms"] != "20" || cfg.Loglevel != "DEBUG" || cfg.AutoCreateTopics ||
		cfg.ConsumerPollTimeout != 2*time.Second {
		t.Errorf("config %+v", cfg)
	}
	topic := s.App.Topics()[0].Engine()
	if topic.ValueDeserializer != (serde.Int{}) || topic.KeySerializer != (serde.String{}) {
		t.Errorf("codecs %+v", topic)
	}
}

// TestRunSelectsSources pins app.run(): every dataframe's source topic;
// app.run(sdf): only sdf's.
func TestRunSelectsSources(t *testing.T) {
	for _, tc := range []struct {
		run  string
		want []string
	}{
		{"app.run()", []string{"a", "b"}},
		{"app.run(sb)", []string{"b"}},
	} {
		s, err := Load("job.star", []byte(`
app = Application()
sa = app.dataframe(app.topic("a"))
sb = app.dataframe(app.topic("b")).apply(lambda v: v)
`+tc.run+"\n"), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, src := range s.App.Run().Sources {
			got = append(got, src.Topic.Name)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: sources %v, want %v", tc.run, got, tc.want)
		}
	}
}

func TestResolveBroker(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvBrokerAddress {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct{ flag, script, env, want string }{
		{"f:1", "s:1", "e:1", "f:1"},
		{"", "s:1", "e:1", "s:1"},
		{"", "", "e:1", "e:1"},
		{"", "", "", ""},
	} {
		if got := ResolveBroker(tc.flag, tc.script, env(tc.env)); got != tc.want {
			t.Errorf("ResolveBroker(%q, %q, env %q) = %q, want %q", tc.flag, tc.script, tc.env, got, tc.want)
		}
	}
}

// FuzzLoad: the loader never panics on any source.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("from quixstreams import Application\napp = Application()\nt = app.topic(\"x\")\napp.run(app.dataframe(t))\n"))
	f.Add([]byte("from quixstreams import (\n"))
	f.Add([]byte("import json as j, math\nx = j.encode(1)\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, _ = Load("fuzz.star", src, &bytes.Buffer{})
	})
}

// TestRewriteKeepsSemantics pins that rewritten functions compute the same
// results in both versions: while building (load time, builtin
// comparisons) and while running (the original operators). The dict
// comprehension with a condition once failed with "local variable k
// referenced before assignment": its body was shared by both versions.
func TestRewriteKeepsSemantics(t *testing.T) {
	src := `
def classify(x):
    if x < 0:
        return "neg"
    elif x == 0 or x != x:
        return "zero"
    n = 0
    while n < x and not n > 100:
        n += 3
        if n >= 7:
            break
    odd = {k: v > 1 for k, v in {"a": x, "b": n}.items() if k != "a" or v > 0}
    return [n, [i for i in range(x) if i % 2 == 0], x > 2 and "big" or "small", 1 if x <= 1 else 2, odd]

def outer(x):
    def inner(y):
        return y > x
    return [inner(y) for y in range(4)] + [(lambda z: z >= x)(3)]

square_big = lambda v: v * v > 10
at_load = [classify(i) for i in [-1, 0, 1, 2, 5, 9]] + [outer(1), outer(3)] + [square_big(i) for i in range(5)]
app = Application()
app.run(app.dataframe(app.topic("t")))
`
	s, err := Load("job.star", []byte(src), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	thread := &starlark.Thread{}
	var got []starlark.Value
	for _, i := range []int{-1, 0, 1, 2, 5, 9} {
		v, err := starlark.Call(thread, s.Globals["classify"], starlark.Tuple{starlark.MakeInt(i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	for _, i := range []int{1, 3} {
		v, err := starlark.Call(thread, s.Globals["outer"], starlark.Tuple{starlark.MakeInt(i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	for i := 0; i < 5; i++ {
		v, err := starlark.Call(thread, s.Globals["square_big"], starlark.Tuple{starlark.MakeInt(i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if g, w := starlark.NewList(got).String(), s.Globals["at_load"].String(); g != w {
		t.Errorf("running: %s\nbuilding: %s", g, w)
	}
	if thread.ExecutionSteps() == 0 {
		t.Error("no steps counted")
	}
}

// TestLoadModules pins load(): paths relative to the loading file, each
// file run once, and a clear error on cycles.
func TestLoadModules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lib/helpers.star", "load(\"consts.star\", \"LIMIT\")\nprint(\"helpers loaded\")\ndef big(v):\n    return v > LIMIT\n")
	write("lib/consts.star", "LIMIT = 10\n")
	write("job.star", "load(\"lib/helpers.star\", \"big\")\nload(\"lib/helpers.star\", big2=\"big\")\napp = Application()\nsdf = app.dataframe(app.topic(\"t\")).filter(big)\napp.run()\n")
	var out bytes.Buffer
	s, err := LoadFile(filepath.Join(dir, "job.star"), &out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "helpers loaded"); n != 1 {
		t.Errorf("helpers.star ran %d times", n)
	}
	if s.Globals["big2"] != s.Globals["big"] {
		t.Error("the two loads gave different functions")
	}

	write("a.star", "load(\"b.star\", \"x\")\n")
	write("b.star", "load(\"a.star\", \"y\")\nx = 1\n")
	_, err = LoadFile(filepath.Join(dir, "a.star"), &out)
	if err == nil || !strings.Contains(err.Error(), "load cycle:") {
		t.Errorf("cycle: got %v", err)
	}
	write("c.star", "load(\"missing.star\", \"x\")\n")
	_, err = LoadFile(filepath.Join(dir, "c.star"), &out)
	if err == nil || !strings.Contains(err.Error(), "c.star:1:1: cannot load missing.star") {
		t.Errorf("missing: got %v", err)
	}
}

// TestRewriteNestingIsNotExponential pins that nested functions are not
// duplicated at every level: the running version of a function keeps its
// nested functions as written, so 12 nested defs compile to O(depth²)
// functions, not 2^12; and every level still computes the same in both
// versions.
func TestRewriteNestingIsNotExponential(t *testing.T) {
	const depth = 12
	var src strings.Builder
	for i := 0; i < depth; i++ {
		ind := strings.Repeat("    ", i)
		fmt.Fprintf(&src, "%sdef f%d(x):\n%s    if x > %d:\n%s        x = x - 1\n", ind, i, ind, i, ind)
	}
	ind := strings.Repeat("    ", depth)
	fmt.Fprintf(&src, "%sreturn x > 0\n", ind)
	for i := depth - 1; i > 0; i-- {
		fmt.Fprintf(&src, "%sreturn f%d(x) or x < -5\n", strings.Repeat("    ", i), i)
	}
	src.WriteString("at_load = [f0(x) for x in range(-8, 20)]\n")
	f, err := fileOptions.Parse("nested.star", []byte(src.String()), 0)
	if err != nil {
		t.Fatalf("%v\n%s", err, src.String())
	}
	rewrite(f)
	defs := 0
	syntax.Walk(f, func(n syntax.Node) bool {
		if _, ok := n.(*syntax.DefStmt); ok {
			defs++
		}
		return true
	})
	if limit := depth * (depth + 1) / 2; defs > limit {
		t.Errorf("%d nested defs became %d functions, more than %d", depth, defs, limit)
	}
	globals, _, err := execScript("nested.star", []byte(src.String()+"app = Application()\n"), &bytes.Buffer{}, builtins.Predeclared())
	if err != nil {
		t.Fatal(err)
	}
	var running []starlark.Value
	for x := -8; x < 20; x++ {
		v, err := starlark.Call(&starlark.Thread{}, globals["f0"], starlark.Tuple{starlark.MakeInt(x)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		running = append(running, v)
	}
	if g, w := starlark.NewList(running).String(), globals["at_load"].String(); g != w {
		t.Errorf("running: %s\nbuilding: %s", g, w)
	}
}

// TestLoadPythonAPI pins Quix Streams names qstar adds for migrated apps:
// positional Application arguments in 2.5.1's order, and the window
// definition properties.
func TestLoadPythonAPI(t *testing.T) {
	src := `app = Application("localhost:9092", None, "grp", "earliest")
sdf = app.dataframe(app.topic("in"))
h = sdf.hopping_window(60000, 10000, grace_ms=500, name="w")
tw = sdf.tumbling_window(timedelta(seconds=5))
print(h.duration_ms, h.step_ms, h.grace_ms, h.name, tw.duration_ms, tw.step_ms, tw.grace_ms, tw.name, tw.sum().name)
app.run(sdf)
`
	var out bytes.Buffer
	s, err := Load("job.star", []byte(src), &out)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.App.Config()
	if cfg.BrokerAddress != "localhost:9092" || cfg.ConsumerGroup != "grp" || cfg.AutoOffsetReset != "earliest" {
		t.Errorf("positional arguments: broker %q, group %q, offset reset %q", cfg.BrokerAddress, cfg.ConsumerGroup, cfg.AutoOffsetReset)
	}
	if want := "60000 10000 500 w 5000 None 0 None tumbling_window_5000_sum\n"; out.String() != want {
		t.Errorf("window properties printed %q, want %q", out.String(), want)
	}
}

// TestDotenvBroker checks that Quix__Broker__Address from a .env file the
// script loads picks the broker, as it does in Python (the variable is
// read when the Application is created), and that the flag still wins.
func TestDotenvBroker(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("export Quix__Broker__Address=from-dotenv:9092\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "job.star")
	src := "from dotenv import load_dotenv\nload_dotenv()\napp = Application()\napp.run(app.dataframe(app.topic(\"in\")))\n"
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadFile(script, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	if got := appBroker("", s.App.Config(), noEnv); got != "from-dotenv:9092" {
		t.Errorf("broker = %q, want the .env file's", got)
	}
	if got := appBroker("flag:1", s.App.Config(), noEnv); got != "flag:1" {
		t.Errorf("broker with --broker = %q", got)
	}
	if got := appBroker(EmbeddedBroker, s.App.Config(), noEnv); got != "" {
		t.Errorf("--broker embedded gave %q, want the embedded broker", got)
	}
}

// TestDialAddr pins how bootstrap servers are dialled before the run, as
// librdkafka reads them.
func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		"localhost:9092":      "localhost:9092",
		" kafka ":             "kafka:9092",
		"PLAINTEXT://h:19092": "h:19092",
		"SASL_SSL://broker":   "broker:9092",
		"[::1]:9093":          "[::1]:9093",
		"[::1]":               "[::1]:9092",
	} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
