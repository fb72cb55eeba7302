// Package sinks holds the built-in sinks of sdf.sink(): Quix Streams 3.x's
// BatchingSink and the targets it writes to (PostgreSQL, Redis, files).
//
// A sink converts each record into Go values when it is added, on the
// task that processes it (so conversion runs on every core and nothing
// Starlark is kept), batches the items per topic-partition, and writes the
// batches when the engine flushes it at a checkpoint, before any offset is
// committed.
package sinks

import (
	"fmt"
	"maps"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/serde"
)

// Item is one record of a batch, in the form its sink writes.
type Item struct {
	Key       any
	Value     any
	Timestamp int64 // milliseconds since the epoch
	Headers   []record.Header
	Offset    int64
	// Table is the PostgreSQL table of the item when its sink's table
	// depends on the record (a table_name callable); "" otherwise.
	Table string
}

// Batch is the items of one topic-partition since the last flush, in
// offset order.
type Batch struct {
	Topic     string
	Partition int32
	Items     []Item
}

// A Writer writes one batch to the sink's target; an error (a
// *engine.BackpressureError to ask for time) fails the checkpoint.
type Writer interface {
	Write(b *Batch) error
}

// Convert turns a record into the item a Writer writes. It runs on the
// record's task.
type Convert func(c *engine.Context, r engine.SinkRecord) (Item, error)

// Batching is a sink that batches items per topic-partition and writes
// them at every checkpoint: Quix Streams' BatchingSink. Add is safe for
// concurrent use by tasks of different partitions (a partition's items
// come from one task at a time); Flush and OnPaused run while every task
// is held.
type Batching struct {
	name    string
	convert Convert
	w       Writer
	// batches is read without a lock (an immutable map); a partition
	// first seen replaces it with a copy under mu. A partition's batch
	// stays in the map, emptied at each flush.
	batches atomic.Pointer[map[record.TopicPartition]*Batch]
	mu      sync.Mutex
}

// NewBatching returns a sink named name (for errors and qstar check).
func NewBatching(name string, convert Convert, w Writer) *Batching {
	return &Batching{name: name, convert: convert, w: w}
}

func (s *Batching) String() string { return s.name }

// Start implements engine.Starter when the writer does.
func (s *Batching) Start() error {
	if st, ok := s.w.(engine.Starter); ok {
		return st.Start()
	}
	return nil
}

// Add implements engine.Sink.
func (s *Batching) Add(c *engine.Context, r engine.SinkRecord) error {
	it, err := s.convert(c, r)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	tp := record.TopicPartition{Topic: r.Topic, Partition: r.Partition}
	var b *Batch
	if m := s.batches.Load(); m != nil {
		b = (*m)[tp]
	}
	if b == nil {
		b = s.batch(tp)
	}
	b.Items = append(b.Items, it)
	return nil
}

// batch returns tp's batch, adding it to the map.
func (s *Batching) batch(tp record.TopicPartition) *Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.batches.Load()
	if old != nil && (*old)[tp] != nil {
		return (*old)[tp]
	}
	m := make(map[record.TopicPartition]*Batch, 1)
	if old != nil {
		maps.Copy(m, *old)
	}
	b := &Batch{Topic: tp.Topic, Partition: tp.Partition}
	m[tp] = b
	s.batches.Store(&m)
	return b
}

// Flush implements engine.Sink: it writes each partition's batch, in
// topic-partition order, and drops them all whatever happens (a failed
// checkpoint processes them again).
func (s *Batching) Flush() error {
	bs := s.take()
	for _, b := range bs {
		if err := s.w.Write(b); err != nil {
			return fmt.Errorf("%s[%d]: %w", b.Topic, b.Partition, err)
		}
	}
	return nil
}

// OnPaused implements engine.Sink.
func (s *Batching) OnPaused() { s.take() }

// take returns copies of the non-empty batches, in topic-partition
// order, and empties them.
func (s *Batching) take() []*Batch {
	var out []*Batch
	if m := s.batches.Load(); m != nil {
		for _, b := range *m {
			if len(b.Items) > 0 {
				c := *b
				out = append(out, &c)
				b.Items = nil
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}

// Columns is a dict value as a row: its keys (str) and values, in order.
type Columns struct {
	Names  []string
	Values []any
}

// GoValue converts a Starlark value into Go: None → nil, bool, int →
// int64, float → float64, str → string, bytes → []byte, dict → *Columns
// (str keys only), list and tuple → []any.
func GoValue(v starlark.Value) (any, error) { return goValue(v, 0) }

func goValue(v starlark.Value, depth int) (any, error) {
	if depth > 100 {
		return nil, fmt.Errorf("value nested deeper than 100 levels")
	}
	if x, ok, err := serde.GoScalar(v); ok {
		return x, err
	}
	switch v := v.(type) {
	case *starlark.Dict:
		return columnsOf(v, depth)
	case *starlark.List:
		return listOf(v, depth)
	case starlark.Tuple:
		return listOf(v, depth)
	}
	return nil, fmt.Errorf("cannot write a value of type %s", v.Type())
}

func columnsOf(d *starlark.Dict, depth int) (*Columns, error) {
	items := d.Items()
	c := &Columns{Names: make([]string, len(items)), Values: make([]any, len(items))}
	for i, kv := range items {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("dict keys must be str, not %s", kv[0].Type())
		}
		v, err := goValue(kv[1], depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		c.Names[i], c.Values[i] = string(k), v
	}
	return c, nil
}

func listOf(seq starlark.Indexable, depth int) ([]any, error) {
	out := make([]any, seq.Len())
	for i := range out {
		v, err := goValue(seq.Index(i), depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// MarshalJSON writes the columns as a JSON object in their order (for
// JSONB columns and Parquet's JSON).
func (c *Columns) MarshalJSON() ([]byte, error) { return appendJSON(nil, c) }

func appendJSON(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case float64:
		return serde.AppendFloat(dst, v), nil
	case string:
		return appendJSONString(dst, v), nil
	case []byte:
		return appendJSONString(dst, string(v)), nil
	case []any:
		dst = append(dst, '[')
		for i, x := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, x); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case *Columns:
		dst = append(dst, '{')
		for i, n := range v.Names {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, n)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSON(dst, v.Values[i]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	}
	return nil, fmt.Errorf("cannot write %T as JSON", v)
}

// appendJSONString writes s as a JSON string: quotes, backslashes and
// control characters escaped, the rest as UTF-8.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
