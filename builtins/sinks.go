package builtins

import (
	"fmt"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/qstar-dev/qstar/builtins/python"
	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/sinks"
)

// Sinks for sdf.sink() (Quix Streams 3.x's Sinks API): the classes a
// script configures. The writing is in package sinks; a sink connects
// when the job starts (or at its first flush in qstar test).

// Sink is a script's sink: a PostgreSQLSink, RedisSink, ... value.
type Sink struct {
	kind string
	s    engine.Sink
}

var _ starlark.Value = (*Sink)(nil)

func (s *Sink) String() string        { return "<" + s.kind + " " + s.s.String() + ">" }
func (s *Sink) Type() string          { return s.kind }
func (s *Sink) Freeze()               {}
func (s *Sink) Truth() starlark.Bool  { return true }
func (s *Sink) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", s.kind) }

func sinkClasses() map[string]*starlark.Builtin {
	return map[string]*starlark.Builtin{
		"ListSink":              starlark.NewBuiltin("ListSink", newListSink),
		"FileSink":              starlark.NewBuiltin("FileSink", newFileSink),
		"LocalFileSink":         starlark.NewBuiltin("LocalFileSink", newFileSink),
		"JSONFormat":            starlark.NewBuiltin("JSONFormat", newJSONFormat),
		"ParquetFormat":         starlark.NewBuiltin("ParquetFormat", newParquetFormat),
		"CSVSink":               starlark.NewBuiltin("CSVSink", newCSVSink),
		"PostgreSQLSink":        starlark.NewBuiltin("PostgreSQLSink", newPostgreSQLSink),
		"RedisSink":             starlark.NewBuiltin("RedisSink", newRedisSink),
		"SinkBackpressureError": typeOnly("SinkBackpressureError", "sinks are built in: a built-in sink reports backpressure itself"),
	}
}

// sinkArg is a sink argument: a script's Sink or a ListSink.
func sinkArg(name string, v starlark.Value) (engine.Sink, error) {
	switch v := v.(type) {
	case *Sink:
		return v.s, nil
	case *ListSink:
		return v, nil
	}
	return nil, fmt.Errorf("%s: want a sink (ListSink, PostgreSQLSink, RedisSink, FileSink, CSVSink), not %s", name, v.Type())
}

// sdfSink implements sdf.sink(sink): the records go to sink, which writes
// them at every checkpoint. It ends the branch (returns None).
func sdfSink(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "sink", &v); err != nil {
		return nil, err
	}
	s, err := sinkArg(b.Name(), v)
	if err != nil {
		return nil, err
	}
	d.app.addSink(s)
	d.then(thread, engine.SinkTo(s))
	return starlark.None, nil
}

// addSink notes a sink of the application (for app.checkpoint() in
// tests, and closing it with the script).
func (a *Application) addSink(s engine.Sink) {
	for _, x := range a.sinks {
		if x == s {
			return
		}
	}
	a.sinks = append(a.sinks, s)
}

// closeSinkWithScript closes a sink's client with the script that made it.
func closeSinkWithScript(thread *starlark.Thread, c interface{ Close() error }) {
	if r, err := registry(thread); err == nil {
		r.OnClose(func() { _ = c.Close() })
	}
}

// noConnectCallbacks refuses on_client_connect_success/failure, which a
// built-in sink does not call.
func noConnectCallbacks(name string, success, failure starlark.Value) error {
	if success != starlark.None || failure != starlark.None {
		return fmt.Errorf("%s: on_client_connect_success and on_client_connect_failure are not supported: a sink that cannot connect fails the job at start with the error", name)
	}
	return nil
}

// PostgreSQLSink(host, port, dbname, user, password, table_name,
// schema_name="public", schema_auto_update=True,
// connection_timeout_seconds=30, statement_timeout_seconds=30,
// primary_key_columns=(), upsert_on_primary_key=False,
// on_conflict_do_nothing=False, include_metadata=True)
func newPostgreSQLSink(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	cfg := sinks.PostgresConfig{Schema: "public", SchemaAutoUpdate: true, IncludeMetadata: true}
	connect, statement := 30, 30
	var pks, table starlark.Value = starlark.Tuple{}, nil
	var success, failure starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "host", &cfg.Host, "port", &cfg.Port, "dbname", &cfg.DBName,
		"user", &cfg.User, "password", &cfg.Password, "table_name", &table, "schema_name?", &cfg.Schema,
		"schema_auto_update?", &cfg.SchemaAutoUpdate, "connection_timeout_seconds?", &connect,
		"statement_timeout_seconds?", &statement, "primary_key_columns?", &pks,
		"upsert_on_primary_key?", &cfg.Upsert, "on_conflict_do_nothing?", &cfg.DoNothing,
		"include_metadata?", &cfg.IncludeMetadata,
		"on_client_connect_success?", &success, "on_client_connect_failure?", &failure); err != nil {
		return nil, err
	}
	if err := noConnectCallbacks(b.Name(), success, failure); err != nil {
		return nil, err
	}
	switch v := pks.(type) {
	case starlark.String:
		if v != "" {
			cfg.PrimaryKeys = []string{string(v)}
		}
	case starlark.Tuple, *starlark.List:
		for i := 0; i < v.(starlark.Indexable).Len(); i++ {
			s, ok := starlark.AsString(v.(starlark.Indexable).Index(i))
			if !ok {
				return nil, fmt.Errorf("%s: primary_key_columns must hold column names (str)", b.Name())
			}
			cfg.PrimaryKeys = append(cfg.PrimaryKeys, s)
		}
	default:
		return nil, fmt.Errorf("%s: primary_key_columns must be a str or a list of str, not %s", b.Name(), pks.Type())
	}
	var tableFn starlark.Callable
	switch v := table.(type) {
	case starlark.String:
		if v == "" {
			return nil, fmt.Errorf("%s: table_name must not be empty", b.Name())
		}
		cfg.Table = string(v)
	case starlark.Callable:
		tableFn = v
	default:
		return nil, fmt.Errorf("%s: table_name must be a str or a function of the SinkItem, not %s", b.Name(), table.Type())
	}
	cfg.ConnectTimeout, cfg.StatementTimeout = time.Duration(connect)*time.Second, time.Duration(statement)*time.Second
	w, err := sinks.NewPostgres(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	closeSinkWithScript(thread, w)
	convert := w.Item
	if tableFn != nil {
		// The table of each record, on its task as Quix Streams does at
		// the flush: table_name(item) with item a SinkItem.
		convert = func(c *engine.Context, r engine.SinkRecord) (sinks.Item, error) {
			it, err := w.Item(c, r)
			if err != nil {
				return it, err
			}
			name, err := callString(c.Thread, "table_name", tableFn, sinkItem(r))
			if err != nil {
				return it, err
			}
			if name == "" {
				return it, fmt.Errorf("table_name returned an empty name (offset %d)", r.Offset)
			}
			it.Table = name
			return it, nil
		}
	}
	return &Sink{kind: "PostgreSQLSink", s: sinks.NewBatching(w.String(), convert, w)}, nil
}

// RedisSink(host, port, db, value_serializer=json.dumps,
// key_serializer=None, password=None, socket_timeout=30.0,
// ttl_seconds=None). ttl_seconds is qstar's: each key expires after it.
func newRedisSink(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cfg sinks.RedisConfig
	var valueSer, keySer, password, ttl starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
	var success, failure starlark.Value = starlark.None, starlark.None
	timeout := 30.0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "host", &cfg.Host, "port", &cfg.Port, "db", &cfg.DB,
		"value_serializer?", &valueSer, "key_serializer?", &keySer, "password?", &password,
		"socket_timeout?", &timeout, "ttl_seconds?", &ttl,
		"on_client_connect_success?", &success, "on_client_connect_failure?", &failure); err != nil {
		return nil, err
	}
	if err := noConnectCallbacks(b.Name(), success, failure); err != nil {
		return nil, err
	}
	if s, ok := password.(starlark.String); ok {
		cfg.Password = string(s)
	}
	cfg.SocketTimeout = time.Duration(timeout * float64(time.Second))
	if ttl != starlark.None {
		f, ok := starlark.AsFloat(ttl)
		if !ok || f <= 0 {
			return nil, fmt.Errorf("%s: ttl_seconds must be a positive number of seconds, not %s", b.Name(), ttl)
		}
		cfg.TTL = time.Duration(f * float64(time.Second))
	}
	vfn, err := sinkSerializer(b.Name(), "value_serializer", valueSer, "json.dumps")
	if err != nil {
		return nil, err
	}
	kfn, err := sinkSerializer(b.Name(), "key_serializer", keySer, "")
	if err != nil {
		return nil, err
	}
	w := sinks.NewRedis(cfg)
	closeSinkWithScript(thread, w)
	convert := func(c *engine.Context, r engine.SinkRecord) (sinks.Item, error) {
		var key starlark.Value = r.Key
		if kfn != nil {
			k, err := starlark.Call(c.Thread, kfn, starlark.Tuple{r.Key, r.Value}, nil)
			if err != nil {
				return sinks.Item{}, err
			}
			key = k
		}
		kb, err := redisBytes("key", key)
		if err != nil {
			return sinks.Item{}, err
		}
		var v starlark.Value
		if vfn != nil {
			if v, err = starlark.Call(c.Thread, vfn, starlark.Tuple{r.Value}, nil); err != nil {
				return sinks.Item{}, err
			}
		} else {
			s, err := python.Dumps(r.Value)
			if err != nil {
				return sinks.Item{}, fmt.Errorf("value: %w", err)
			}
			v = starlark.String(s)
		}
		vb, err := redisBytes("value", v)
		if err != nil {
			return sinks.Item{}, err
		}
		return sinks.Item{Key: kb, Value: vb, Timestamp: r.Timestamp, Offset: r.Offset}, nil
	}
	return &Sink{kind: "RedisSink", s: sinks.NewBatching(w.String(), convert, w)}, nil
}

// redisBytes is a serialized key or value: str or bytes.
func redisBytes(what string, v starlark.Value) ([]byte, error) {
	switch v := v.(type) {
	case starlark.String:
		return []byte(v), nil
	case starlark.Bytes:
		return []byte(v), nil
	case starlark.NoneType:
		return nil, fmt.Errorf("RedisSink: the record has no %s (None)", what)
	}
	return nil, fmt.Errorf("RedisSink: the %s must be str or bytes (give a %s_serializer), not %s", what, what, v.Type())
}

// FileFormat is a FileSink's format: JSONFormat(...) or ParquetFormat(...).
type FileFormat struct {
	cfg sinks.FileConfig // Format, Extension, Compress, ParquetCompression
}

var _ starlark.Value = (*FileFormat)(nil)

func (f *FileFormat) String() string { return f.Type() + "(" + f.cfg.Extension + ")" }
func (f *FileFormat) Type() string {
	return map[string]string{"json": "JSONFormat", "parquet": "ParquetFormat"}[f.cfg.Format]
}
func (f *FileFormat) Freeze()               {}
func (f *FileFormat) Truth() starlark.Bool  { return true }
func (f *FileFormat) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", f.Type()) }

// JSONFormat(file_extension=".jsonl", compress=False, dumps=None).
func newJSONFormat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := &FileFormat{cfg: sinks.FileConfig{Format: "json", Extension: ".jsonl"}}
	var dumps starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "file_extension?", &f.cfg.Extension, "compress?", &f.cfg.Compress, "dumps?", &dumps); err != nil {
		return nil, err
	}
	if dumps != starlark.None {
		return nil, fmt.Errorf("%s: dumps is not supported: values are written as JSON by the sink (as json.dumps would, compactly)", b.Name())
	}
	return f, nil
}

// ParquetFormat(file_extension=".parquet", compression="snappy").
func newParquetFormat(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := &FileFormat{cfg: sinks.FileConfig{Format: "parquet", Extension: ".parquet", ParquetCompression: "snappy"}}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "file_extension?", &f.cfg.Extension, "compression?", &f.cfg.ParquetCompression); err != nil {
		return nil, err
	}
	return f, nil
}

// FileSink(directory="", format="json", append=False,
// max_file_bytes=None) and LocalFileSink(append=False, directory="",
// format="json", max_file_bytes=None): Quix Streams' LocalFileSink, with
// rolling by size (max_file_bytes, qstar's).
func newFileSink(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cfg sinks.FileConfig
	var format starlark.Value = starlark.String("json")
	var maxBytes starlark.Value = starlark.None
	var success, failure starlark.Value = starlark.None, starlark.None
	params := []any{"directory?", &cfg.Directory, "format?", &format, "append?", &cfg.Append}
	if b.Name() == "LocalFileSink" {
		params = []any{"append?", &cfg.Append, "directory?", &cfg.Directory, "format?", &format}
	}
	params = append(params, "max_file_bytes?", &maxBytes, "on_client_connect_success?", &success, "on_client_connect_failure?", &failure)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, params...); err != nil {
		return nil, err
	}
	if err := noConnectCallbacks(b.Name(), success, failure); err != nil {
		return nil, err
	}
	switch f := format.(type) {
	case starlark.String:
		cfg.Format = string(f)
	case *FileFormat:
		cfg.Format, cfg.Extension, cfg.Compress, cfg.ParquetCompression = f.cfg.Format, f.cfg.Extension, f.cfg.Compress, f.cfg.ParquetCompression
	default:
		return nil, fmt.Errorf("%s: format must be \"json\", \"parquet\", JSONFormat(...) or ParquetFormat(...), not %s", b.Name(), format.Type())
	}
	if maxBytes != starlark.None {
		n, err := starlark.AsInt32(maxBytes)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: max_file_bytes must be a positive int, not %s", b.Name(), maxBytes)
		}
		cfg.MaxFileBytes = int64(n)
	}
	w, err := sinks.NewFile(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	convert := func(_ *engine.Context, r engine.SinkRecord) (sinks.Item, error) {
		v, err := sinks.GoValue(r.Value)
		if err != nil {
			return sinks.Item{}, err
		}
		return sinks.Item{Key: keyString(r.Key), Value: v, Timestamp: r.Timestamp, Offset: r.Offset}, nil
	}
	return &Sink{kind: b.Name(), s: sinks.NewBatching(w.String(), convert, w)}, nil
}

// keyString is a message key as a file sink writes it: bytes decoded,
// anything else as str() makes it.
func keyString(k starlark.Value) string {
	if b, ok := k.(starlark.Bytes); ok {
		return string(b)
	}
	return python.Str(k)
}

// CSVSink(path, dialect="excel", key_serializer=str,
// value_serializer=json.dumps).
func newCSVSink(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path, dialect string = "", "excel"
	var keySer, valueSer starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "dialect?", &dialect, "key_serializer?", &keySer, "value_serializer?", &valueSer); err != nil {
		return nil, err
	}
	kfn, err := sinkSerializer(b.Name(), "key_serializer", keySer, "str")
	if err != nil {
		return nil, err
	}
	vfn, err := sinkSerializer(b.Name(), "value_serializer", valueSer, "json.dumps")
	if err != nil {
		return nil, err
	}
	w, err := sinks.NewCSV(path, dialect)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	convert := func(c *engine.Context, r engine.SinkRecord) (sinks.Item, error) {
		key := python.Str(r.Key)
		if kfn != nil {
			if key, err = callString(c.Thread, "key_serializer", kfn, r.Key); err != nil {
				return sinks.Item{}, err
			}
		}
		var value string
		var err error
		if vfn != nil {
			value, err = callString(c.Thread, "value_serializer", vfn, r.Value)
		} else {
			value, err = python.Dumps(r.Value)
		}
		if err != nil {
			return sinks.Item{}, err
		}
		return sinks.Item{Key: key, Value: value, Timestamp: r.Timestamp, Offset: r.Offset}, nil
	}
	return &Sink{kind: "CSVSink", s: sinks.NewBatching(w.String(), convert, w)}, nil
}

// sinkSerializer is a sink's serializer function, nil for None or for the
// default (named def: done in Go).
func sinkSerializer(fn, name string, v starlark.Value, def string) (starlark.Callable, error) {
	if v == starlark.None {
		return nil, nil
	}
	c, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a function, not %s", fn, name, v.Type())
	}
	if bi, ok := c.(*starlark.Builtin); ok && bi.Name() == def {
		return nil, nil
	}
	return c, nil
}

// callString calls a serializer that must return a str.
// sinkItem is Quix Streams' SinkItem of a record, what a sink's callbacks
// receive: value, key, timestamp, headers and offset.
func sinkItem(r engine.SinkRecord) starlark.Value {
	key := r.Key
	if key == nil {
		key = starlark.None
	}
	return starlarkstruct.FromStringDict(starlark.String("SinkItem"), starlark.StringDict{
		"value": r.Value, "key": key, "timestamp": starlark.MakeInt64(r.Timestamp),
		"headers": engine.HeadersValue(r.Headers), "offset": starlark.MakeInt64(r.Offset),
	})
}

func callString(thread *starlark.Thread, name string, fn starlark.Callable, v starlark.Value) (string, error) {
	out, err := starlark.Call(thread, fn, starlark.Tuple{v}, nil)
	if err != nil {
		return "", err
	}
	s, ok := out.(starlark.String)
	if !ok {
		return "", fmt.Errorf("%s must return a str, not %s", name, out.Type())
	}
	return string(s), nil
}

// ListSink(metadata=False) keeps every record it receives, in a list a
// script (or a test) reads: Quix Streams' ListSink. A value that is not a
// dict is kept as {"value": value}; with metadata, the dict starts with
// _key, _timestamp, _headers, _topic, _partition and _offset. Records are
// appended as they arrive (it does not batch), from every partition.
type ListSink struct {
	metadata bool
	mu       sync.Mutex
	items    []starlark.Value
}

var (
	_ engine.Sink        = (*ListSink)(nil)
	_ starlark.Indexable = (*ListSink)(nil)
	_ starlark.Iterable  = (*ListSink)(nil)
	_ starlark.HasAttrs  = (*ListSink)(nil)
)

func newListSink(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var init starlark.Value = starlark.None
	s := &ListSink{}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "initlist?", &init, "metadata?", &s.metadata); err != nil {
		return nil, err
	}
	if init != starlark.None {
		it := starlark.Iterate(init)
		if it == nil {
			return nil, fmt.Errorf("%s: initlist must be iterable, not %s", b.Name(), init.Type())
		}
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			s.items = append(s.items, x)
		}
	}
	return s, nil
}

func (s *ListSink) String() string {
	return starlark.NewList(s.snapshot()).String()
}
func (s *ListSink) Type() string          { return "ListSink" }
func (s *ListSink) Freeze()               {}
func (s *ListSink) Truth() starlark.Bool  { return s.Len() > 0 }
func (s *ListSink) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: ListSink") }

func (s *ListSink) snapshot() []starlark.Value {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]starlark.Value(nil), s.items...)
}

func (s *ListSink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}

func (s *ListSink) Index(i int) starlark.Value {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items[i]
}

func (s *ListSink) Iterate() starlark.Iterator { return starlark.NewList(s.snapshot()).Iterate() }

func (s *ListSink) Attr(name string) (starlark.Value, error) {
	if name == "clear" {
		return starlark.NewBuiltin("ListSink.clear", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			s.mu.Lock()
			s.items = nil
			s.mu.Unlock()
			return starlark.None, nil
		}), nil
	}
	return nil, nil
}

func (s *ListSink) AttrNames() []string { return []string{"clear"} }

// Add implements engine.Sink: it keeps a frozen copy of the record.
func (s *ListSink) Add(_ *engine.Context, r engine.SinkRecord) error {
	d, err := recordDict(r, "value", s.metadata)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.items = append(s.items, d)
	s.mu.Unlock()
	return nil
}

// Flush implements engine.Sink: a ListSink keeps records as they come.
func (s *ListSink) Flush() error { return nil }

// OnPaused implements engine.Sink: records already kept stay (as in Quix
// Streams' ListSink, which does not batch).
func (s *ListSink) OnPaused() {}

// appCheckpoint implements app.checkpoint(), qstar's: the application's
// sinks write what they hold, as at a checkpoint of a run. A test
// (qstar test) calls it between sdf.test() records to see what a batching
// sink writes at a checkpoint; sdf.test() commits state after each record.
func appCheckpoint(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	a := b.Receiver().(*Application)
	if !a.reg.Building.on.Load() {
		return nil, fmt.Errorf("%s: can only be called from a test function or while the script loads, not from a running pipeline", b.Name())
	}
	if err := engine.FlushSinks(a.sinks); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}
