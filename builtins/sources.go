package builtins

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/serde"
	"github.com/qstar-dev/qstar/sources"
)

// Sources for app.add_source() and app.dataframe(source=...) (Quix
// Streams 3.x's Sources API): the classes a script configures. The
// reading is in package sources; the runtime runs each source beside the
// job.

// Source is a script's source: a CSVSource, FileSource, ... value.
type Source struct {
	kind, name string
	// build makes the Go source producing into topic; its Starlark
	// callbacks run on thread.
	build func(topic *engine.Topic, thread *starlark.Thread) sources.Source
	// replicate is a KafkaReplicatorSource's input (build is nil: the
	// runtime reads the other cluster).
	replicate *Replication
	// The default topic source__<name>'s serializers, and its
	// deserializers (nil: the topic's defaults).
	keySer, valueSer     serde.Serializer
	keyDeser, valueDeser serde.Deserializer
	delay                time.Duration
	replaySpeed          float64
	shutdownTimeout      time.Duration
	from                 string // what it reads, for qstar check
	topic                *Topic // set by add_source
}

var _ starlark.HasAttrs = (*Source)(nil)

func (s *Source) String() string        { return fmt.Sprintf("<%s %q>", s.kind, s.name) }
func (s *Source) Type() string          { return s.kind }
func (s *Source) Freeze()               {}
func (s *Source) Truth() starlark.Bool  { return true }
func (s *Source) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", s.kind) }

func (s *Source) Attr(name string) (starlark.Value, error) {
	if name == "name" {
		return starlark.String(s.name), nil
	}
	return nil, nil
}

func (s *Source) AttrNames() []string { return []string{"name"} }

// AppSource is a source of the application and the topic it produces to.
type AppSource struct {
	Name  string
	Kind  string
	Topic *Topic
	// Delay, ReplaySpeed: see sources.Runner. ShutdownTimeout bounds how
	// long a stopping job waits for the source.
	Delay           time.Duration
	ReplaySpeed     float64
	ShutdownTimeout time.Duration
	// From says what the source reads: a file's path, a topic and its
	// brokers.
	From string
	// Replicate is a KafkaReplicatorSource's cluster and topic (nil for
	// the others); the runtime reads it. DefaultTopic: the source
	// produces to source__<name>, which takes the replicated topic's
	// partition count.
	Replicate    *Replication
	DefaultTopic bool
	build        func(topic *engine.Topic, thread *starlark.Thread) sources.Source
}

// Replication is where a KafkaReplicatorSource reads.
type Replication struct {
	Brokers string
	// Config holds the connection's settings and consumer_extra_config.
	Config map[string]string
	Topic  string
	// FromBeginning: a partition without a position is read from its
	// start (auto_offset_reset="earliest"), else from its end.
	FromBeginning bool
	PollTimeout   time.Duration
}

// Build returns the Go source; its Starlark callbacks run on thread. A
// replicator has none (nil).
func (s *AppSource) Build(thread *starlark.Thread) sources.Source {
	if s.build == nil {
		return nil
	}
	return s.build(s.Topic.t, thread)
}

// Sources returns the application's sources, in the order they were added.
func (a *Application) Sources() []*AppSource {
	out := make([]*AppSource, len(a.sources))
	for i, s := range a.sources {
		out[i] = &AppSource{Name: s.name, Kind: s.kind, Topic: s.topic, Delay: s.delay, ReplaySpeed: s.replaySpeed,
			ShutdownTimeout: s.shutdownTimeout, From: s.from, Replicate: s.replicate, DefaultTopic: s.topic.Name() == "source__"+s.name,
			build: s.build}
	}
	return out
}

func sourceClasses() map[string]*starlark.Builtin {
	return map[string]*starlark.Builtin{
		"CSVSource":             starlark.NewBuiltin("CSVSource", newCSVSource),
		"FileSource":            starlark.NewBuiltin("FileSource", newFileSource),
		"LocalFileSource":       starlark.NewBuiltin("LocalFileSource", newFileSource),
		"KafkaReplicatorSource": starlark.NewBuiltin("KafkaReplicatorSource", newKafkaReplicatorSource),
	}
}

// appAddSource implements app.add_source(source, topic=None): the source
// produces into topic, by default source__<name> (as Quix Streams names
// it), which it returns.
func appAddSource(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src *Source
	var topic starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "source", &src, "topic?", &topic); err != nil {
		return nil, err
	}
	t, err := b.Receiver().(*Application).addSource(thread, b.Name(), src, topic)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (a *Application) addSource(thread *starlark.Thread, fn string, src *Source, topic starlark.Value) (*Topic, error) {
	if src.topic != nil {
		return nil, fmt.Errorf("%s: source %q was already added (to topic %q)", fn, src.name, src.topic.Name())
	}
	for _, s := range a.sources {
		if s.name == src.name {
			return nil, fmt.Errorf("%s: a source named %q was already added: names must be unique", fn, src.name)
		}
	}
	var t *Topic
	switch v := topic.(type) {
	case starlark.NoneType:
		name := "source__" + src.name
		if existing, ok := a.topics[name]; ok {
			t = existing
			break
		}
		v2, err := starlark.Call(thread, starlark.NewBuiltin("Application.topic", appTopic).BindReceiver(a), starlark.Tuple{starlark.String(name)}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		t = v2.(*Topic)
		t.t.KeySerializer, t.t.ValueSerializer = src.keySer, src.valueSer
		if src.keyDeser != nil {
			t.t.KeyDeserializer = src.keyDeser
		}
		if src.valueDeser != nil {
			t.t.ValueDeserializer = src.valueDeser
		}
	case *Topic:
		if _, ok := a.topics[v.Name()]; !ok {
			return nil, fmt.Errorf("%s: topic %q was not declared by this application's app.topic()", fn, v.Name())
		}
		t = v
	default:
		return nil, fmt.Errorf("%s: topic must be a Topic or None, not %s", fn, topic.Type())
	}
	for _, s := range a.sources {
		if s.topic == t {
			return nil, fmt.Errorf("%s: topic %q is already the topic of source %q", fn, t.Name(), s.name)
		}
	}
	src.topic = t
	a.sources = append(a.sources, src)
	return t, nil
}

// CSVSource(path, name, key_extractor=None, timestamp_extractor=None,
// delay=0, shutdown_timeout=10, dialect="excel"): each row a JSON
// object of the header's columns (str values; None for a missing one).
func newCSVSource(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path, name, dialect string = "", "", "excel"
	var keyFn, tsFn starlark.Value = starlark.None, starlark.None
	var delay, shutdown number = 0, 10
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "name", &name, "key_extractor?", &keyFn,
		"timestamp_extractor?", &tsFn, "delay?", &delay, "shutdown_timeout?", &shutdown, "dialect?", &dialect); err != nil {
		return nil, err
	}
	delims := map[string]rune{"excel": ',', "excel-tab": '\t', "unix": ','}
	delim, ok := delims[dialect]
	if !ok {
		return nil, fmt.Errorf("%s: unknown CSV dialect %q: want excel, excel-tab or unix", b.Name(), dialect)
	}
	kf, err := optionalFn(b.Name(), "key_extractor", keyFn)
	if err != nil {
		return nil, err
	}
	tf, err := optionalFn(b.Name(), "timestamp_extractor", tsFn)
	if err != nil {
		return nil, err
	}
	if err := checkSourceName(b.Name(), name); err != nil {
		return nil, err
	}
	build := func(topic *engine.Topic, thread *starlark.Thread) sources.Source {
		return &sources.CSV{Path: path, Delimiter: delim, Convert: func(names, fields []string, where string) (*record.Record, error) {
			row := starlark.NewDict(len(names))
			for i, n := range names {
				var v starlark.Value = starlark.None
				if i < len(fields) {
					v = starlark.String(fields[i])
				}
				_ = row.SetKey(starlark.String(n), v)
			}
			key, ts, err := extract(thread, where, row, kf, starlark.None, tf, 0)
			if err != nil {
				return nil, err
			}
			return sourceRecord(topic, where, key, row, ts)
		}}
	}
	return &Source{kind: "CSVSource", name: name, from: path, build: build, keySer: serde.String{}, valueSer: serde.JSON{},
		keyDeser: serde.String{}, delay: durationOf(delay), shutdownTimeout: durationOf(shutdown)}, nil
}

// FileSource(filepath, key_setter=None, value_setter=None,
// timestamp_setter=None, file_format="json", compression=None,
// has_partition_folders=False, replay_speed=1.0, name=None,
// shutdown_timeout=30), and LocalFileSource: the JSON Lines files FileSink
// writes ({"_key", "_value", "_timestamp"} per line), or any JSON Lines
// with setters.
func newFileSource(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path, format string = "", "json"
	var keyFn, valueFn, tsFn, compression, name starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None, starlark.None
	var partitionFolders bool
	var speed, shutdown number = 1, 30
	var success, failure starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "filepath", &path, "key_setter?", &keyFn, "value_setter?", &valueFn,
		"timestamp_setter?", &tsFn, "file_format?", &format, "compression?", &compression,
		"has_partition_folders?", &partitionFolders, "replay_speed?", &speed, "name?", &name,
		"shutdown_timeout?", &shutdown,
		"on_client_connect_success?", &success, "on_client_connect_failure?", &failure); err != nil {
		return nil, err
	}
	if err := noConnectCallbacks(b.Name(), success, failure); err != nil {
		return nil, err
	}
	if format != "json" {
		return nil, fmt.Errorf("%s: file_format %q is not supported: only \"json\" (JSON Lines)", b.Name(), format)
	}
	gz := false
	switch c := compression.(type) {
	case starlark.NoneType:
	case starlark.String:
		if c != "gzip" {
			return nil, fmt.Errorf("%s: compression %q is not supported: only \"gzip\"", b.Name(), string(c))
		}
		gz = true
	default:
		return nil, fmt.Errorf("%s: compression must be \"gzip\" or None", b.Name())
	}
	if partitionFolders {
		return nil, fmt.Errorf("%s: has_partition_folders=True is not supported: give the topic (app.topic(..., config=TopicConfig(num_partitions=N, ...))) to app.add_source", b.Name())
	}
	fns := make([]starlark.Callable, 3)
	for i, a := range []struct {
		name string
		v    starlark.Value
	}{{"key_setter", keyFn}, {"value_setter", valueFn}, {"timestamp_setter", tsFn}} {
		f, err := optionalFn(b.Name(), a.name, a.v)
		if err != nil {
			return nil, err
		}
		fns[i] = f
	}
	srcName := "file_" + filepath.Base(filepath.Clean(path))
	if s, ok := name.(starlark.String); ok {
		srcName = string(s)
	}
	if err := checkSourceName(b.Name(), srcName); err != nil {
		return nil, err
	}
	if speed < 0 {
		speed = 0
	}
	build := func(topic *engine.Topic, thread *starlark.Thread) sources.Source {
		dec := serde.NewJSON()
		return &sources.Files{Path: path, Gzip: gz, Convert: func(line []byte, where string) (*record.Record, error) {
			v, err := dec.Deserialize(line)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			var key, value starlark.Value = starlark.None, v
			var ts int64
			if fns[0] == nil || fns[1] == nil || fns[2] == nil {
				d, ok := v.(*starlark.Dict)
				if !ok {
					return nil, fmt.Errorf("%s: a line must be a JSON object with _key, _value and _timestamp (as FileSink writes), or give key_setter, value_setter and timestamp_setter", where)
				}
				get := func(k string) starlark.Value {
					x, found, _ := d.Get(starlark.String(k))
					if !found {
						return starlark.None
					}
					return x
				}
				key, value = get("_key"), get("_value")
				if t, ok := get("_timestamp").(starlark.Int); ok {
					ts, _ = t.Int64()
				}
			}
			if fns[1] != nil {
				if value, err = starlark.Call(thread, fns[1], starlark.Tuple{v}, nil); err != nil {
					return nil, fmt.Errorf("%s: value_setter: %w", where, err)
				}
			}
			key, ts, err = extract(thread, where, v, fns[0], key, fns[2], ts)
			if err != nil {
				return nil, err
			}
			return sourceRecord(topic, where, key, value, ts)
		}}
	}
	return &Source{kind: b.Name(), name: srcName, from: path, build: build, keySer: serde.Bytes{}, valueSer: serde.JSON{},
		replaySpeed: float64(speed), shutdownTimeout: durationOf(shutdown)}, nil
}

// KafkaReplicatorSource(name, app_config, topic, broker_address,
// auto_offset_reset="latest", consumer_extra_config=None,
// consumer_poll_timeout=None, shutdown_timeout=10, on_consumer_error=None,
// value_deserializer="json", key_deserializer="bytes"): copies topic from
// another cluster, each message's bytes, headers, timestamp and partition
// as they are. The deserializers are the default topic's, for the
// dataframe reading it.
func newKafkaReplicatorSource(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, topic string
	var appConfig, broker, reset, extra, pollTimeout, onError starlark.Value = starlark.None, nil, starlark.String("latest"), starlark.None, starlark.None, starlark.None
	var success, failure starlark.Value = starlark.None, starlark.None
	var shutdown number = 10
	vd := deserializerArg{serde.NewJSON()}
	kd := deserializerArg{serde.Bytes{}}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "app_config", &appConfig, "topic", &topic,
		"broker_address", &broker, "auto_offset_reset?", &reset, "consumer_extra_config?", &extra,
		"consumer_poll_timeout?", &pollTimeout, "shutdown_timeout?", &shutdown, "on_consumer_error?", &onError,
		"value_deserializer?", &vd, "key_deserializer?", &kd,
		"on_client_connect_success?", &success, "on_client_connect_failure?", &failure); err != nil {
		return nil, err
	}
	if err := noConnectCallbacks(b.Name(), success, failure); err != nil {
		return nil, err
	}
	if err := checkSourceName(b.Name(), name); err != nil {
		return nil, err
	}
	if topic == "" {
		return nil, fmt.Errorf("%s: topic must not be empty", b.Name())
	}
	if onError != starlark.None {
		return nil, fmt.Errorf("%s: on_consumer_error is not supported: an error reading the other cluster stops the source and the job, which a restart resumes from the source's last position", b.Name())
	}
	rep := &Replication{Topic: topic, PollTimeout: time.Second}
	cfg, _ := appConfig.(*AppConfigValue)
	switch v := broker.(type) {
	case *ConnectionConfig:
		rep.Brokers, rep.Config = v.Brokers(), v.Settings()
	case starlark.String:
		rep.Brokers = string(v)
	default:
		return nil, fmt.Errorf("%s: broker_address must be a str or a ConnectionConfig, not %s", b.Name(), broker.Type())
	}
	if rep.Brokers == "" {
		return nil, fmt.Errorf("%s: broker_address must not be empty", b.Name())
	}
	consumerExtra, err := extraConfig(b.Name(), "consumer_extra_config", extra)
	if err != nil {
		return nil, err
	}
	if len(consumerExtra) > 0 {
		merged := maps.Clone(consumerExtra)
		maps.Copy(merged, rep.Config) // the connection's settings win
		rep.Config = merged
	}
	offsetReset := "latest"
	switch r := reset.(type) {
	case starlark.NoneType:
		if cfg != nil {
			offsetReset = cfg.cfg.AutoOffsetReset
		}
	case starlark.String:
		offsetReset = string(r)
	default:
		return nil, fmt.Errorf("%s: auto_offset_reset must be \"earliest\", \"latest\" or None, not %s", b.Name(), reset.Type())
	}
	switch offsetReset {
	case "earliest":
		rep.FromBeginning = true
	case "latest":
	default:
		return nil, fmt.Errorf("%s: auto_offset_reset must be \"earliest\" or \"latest\", not %q", b.Name(), offsetReset)
	}
	switch {
	case pollTimeout != starlark.None:
		if rep.PollTimeout, err = seconds(b.Name(), "consumer_poll_timeout", pollTimeout, false); err != nil {
			return nil, err
		}
	case cfg != nil && cfg.cfg.ConsumerPollTimeout > 0:
		rep.PollTimeout = cfg.cfg.ConsumerPollTimeout
	}
	return &Source{kind: b.Name(), name: name, from: fmt.Sprintf("topic %q on %s", topic, rep.Brokers), replicate: rep, keySer: serde.Bytes{}, valueSer: serde.Bytes{},
		keyDeser: kd.d, valueDeser: vd.d, shutdownTimeout: durationOf(shutdown)}, nil
}

// extract calls a source's key and timestamp callbacks on row (keyFn,
// tsFn; nil keeps key or ts).
func extract(thread *starlark.Thread, where string, row starlark.Value, keyFn starlark.Callable, key starlark.Value, tsFn starlark.Callable, ts int64) (starlark.Value, int64, error) {
	if keyFn != nil {
		k, err := starlark.Call(thread, keyFn, starlark.Tuple{row}, nil)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: key: %w", where, err)
		}
		key = k
	}
	if tsFn != nil {
		t, err := starlark.Call(thread, tsFn, starlark.Tuple{row}, nil)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: timestamp: %w", where, err)
		}
		i, ok := t.(starlark.Int)
		if !ok {
			return nil, 0, fmt.Errorf("%s: the timestamp must be an int (milliseconds), not %s", where, t.Type())
		}
		ts, _ = i.Int64()
	}
	return key, ts, nil
}

// sourceRecord serializes a source's record with its topic's serializers
// (timestamp 0: the time it is produced).
func sourceRecord(topic *engine.Topic, where string, key, value starlark.Value, ts int64) (*record.Record, error) {
	_, k, v, err := topic.Serialize(nil, key, value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &record.Record{Key: k, Value: v, Timestamp: ts}, nil
}

// optionalFn is a callback argument: nil for None.
func optionalFn(fn, name string, v starlark.Value) (starlark.Callable, error) {
	if v == starlark.None {
		return nil, nil
	}
	c, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a function, not %s", fn, name, v.Type())
	}
	return c, nil
}

// checkSourceName: a source's name is part of topic names.
func checkSourceName(fn, name string) error {
	if name == "" {
		return fmt.Errorf("%s: name must not be empty", fn)
	}
	if strings.ContainsAny(name, "/\\ ") {
		return fmt.Errorf("%s: name %q is part of topic names: no slashes or spaces", fn, name)
	}
	return nil
}

func durationOf(s number) time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// number is a float argument that takes an int too, as Python's do.
type number float64

func (n *number) Unpack(v starlark.Value) error {
	f, ok := starlark.AsFloat(v)
	if !ok {
		return fmt.Errorf("got %s, want a number", v.Type())
	}
	*n = number(f)
	return nil
}
