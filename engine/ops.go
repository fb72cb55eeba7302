package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/qstar-dev/qstar/record"
	"go.starlark.net/starlark"
)

// Func computes a value from a row: a user's Starlark callable (Callback)
// or a native expression.
type Func interface {
	Call(c *Context, r *Row) (starlark.Value, error)
}

// Callback calls a Starlark callable with the row's value, or with value,
// key, timestamp and headers when Metadata is set.
type Callback struct {
	Fn       starlark.Callable
	Metadata bool
}

// Call implements Func. The argument tuple is the Context's scratch, reused
// for every call of the task.
func (cb *Callback) Call(c *Context, r *Row) (starlark.Value, error) {
	c.Row = r
	defer func() { c.Row = nil }()
	if !cb.Metadata {
		c.args1[0] = r.Value
		v, err := starlark.Call(c.Thread, cb.Fn, c.args1[:], nil)
		c.args1[0] = nil
		return v, err
	}
	c.args4 = [4]starlark.Value{r.Value, r.Key, starlark.MakeInt64(r.Timestamp), HeadersValue(r.Headers)}
	v, err := starlark.Call(c.Thread, cb.Fn, c.args4[:], nil)
	c.args4 = [4]starlark.Value{}
	return v, err
}

// HeadersValue returns headers as Quix Streams passes them to callbacks: a
// list of (name, value) tuples, or None when there are none.
func HeadersValue(hs []record.Header) starlark.Value {
	if hs == nil {
		return starlark.None
	}
	l := make([]starlark.Value, len(hs))
	for i, h := range hs {
		l[i] = starlark.Tuple{starlark.String(h.Key), starlark.Bytes(h.Value)}
	}
	return starlark.NewList(l)
}

func fail(c *Context, op, pos string, err error) error {
	if _, ok := err.(*ProcessingError); ok {
		return err
	}
	pe := &ProcessingError{Op: op, Pos: pos, Err: err}
	if m := c.Message; m != nil {
		pe.Topic, pe.Partition, pe.Offset = m.Topic, m.Partition, m.Offset
	}
	return pe
}

// Apply replaces the value with fn's result; with expand, each item of
// fn's result (any iterable; a str expands to its characters) becomes a
// record of its own.
func Apply(fn Func, expand bool) Op { return &applyOp{fn: fn, expand: expand} }

type applyOp struct {
	fn     Func
	expand bool
}

func (o *applyOp) Name() string { return "apply" }
func (o *applyOp) Describe() string {
	if o.expand {
		return Describe(o.fn) + ", expand"
	}
	return Describe(o.fn)
}

func (o *applyOp) Compose(pos string, next Step) Step {
	if !o.expand {
		return func(c *Context, r Row) error {
			v, err := c.call(o.fn, r)
			if err != nil {
				return fail(c, "apply", pos, err)
			}
			r.Value = v
			return next(c, r)
		}
	}
	return func(c *Context, r Row) error {
		v, err := c.call(o.fn, r)
		if err != nil {
			return fail(c, "apply", pos, err)
		}
		if s, ok := v.(starlark.String); ok {
			v = chars(string(s)) // Python iterates a str by character
		}
		iterable, ok := v.(starlark.Iterable)
		if !ok {
			return fail(c, "apply", pos, fmt.Errorf("expand=True needs an iterable result, got %s", v.Type()))
		}
		it := iterable.Iterate()
		defer it.Done()
		var item starlark.Value
		for it.Next(&item) {
			r.Value = item
			if err := next(c, r); err != nil {
				return err
			}
		}
		return nil
	}
}

// Update calls fn for its effect and passes the (possibly mutated) value on.
func Update(fn Func) Op { return &updateOp{fn: fn} }

type updateOp struct{ fn Func }

func (o *updateOp) Name() string     { return "update" }
func (o *updateOp) Describe() string { return Describe(o.fn) }

func (o *updateOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		if _, err := c.call(o.fn, r); err != nil {
			return fail(c, "update", pos, err)
		}
		return next(c, r)
	}
}

// Filter passes the record on only when fn's result is truthy.
func Filter(fn Func) Op { return &filterOp{fn: fn} }

type filterOp struct{ fn Func }

func (o *filterOp) Name() string     { return "filter" }
func (o *filterOp) Describe() string { return Describe(o.fn) }

func (o *filterOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		v, err := c.call(o.fn, r)
		if err != nil {
			return fail(c, "filter", pos, err)
		}
		if !v.Truth() {
			return nil
		}
		return next(c, r)
	}
}

// ToTopic produces each record to topic, with the record's timestamp and
// headers, and passes it on. The message key is the record's key, or
// key's result when key is not nil; a None key produces a message without
// a key.
func ToTopic(topic *Topic, key Func) Op { return &toTopicOp{topic: topic, key: key} }

type toTopicOp struct {
	topic *Topic
	key   Func
}

func (o *toTopicOp) Name() string { return "to_topic" }
func (o *toTopicOp) Describe() string {
	if o.key != nil {
		return fmt.Sprintf("%q, key=%s", o.topic.Name, Describe(o.key))
	}
	return fmt.Sprintf("%q", o.topic.Name)
}

// Target returns the topic a to_topic operation produces to, or nil.
func Target(op Op) *Topic {
	if o, ok := op.(*toTopicOp); ok {
		return o.topic
	}
	return nil
}

func (o *toTopicOp) Compose(pos string, next Step) Step {
	t := o.topic
	extra := t.ExtraHeaders()
	return func(c *Context, r Row) error {
		key := r.Key
		if o.key != nil {
			k, err := c.call(o.key, r)
			if err != nil {
				return fail(c, "to_topic", pos, err)
			}
			key = k
		}
		m := &c.out
		*m = record.Record{Topic: t.Name, Partition: -1, Timestamp: r.Timestamp, Headers: r.Headers}
		if extra != nil {
			m.Headers = MergeHeaders(r.Headers, extra)
		}
		buf, k, v, err := t.Serialize(c.buf[:0], key, r.Value)
		c.buf = buf
		if err != nil {
			return producerError(c, pos, &r, next, err)
		}
		m.Key, m.Value = k, v
		if err := c.producer.Produce(m); err != nil {
			return producerError(c, pos, &r, next, err)
		}
		c.metrics.Produced.Add(1)
		return next(c, r)
	}
}

// Print writes each record's value, key and timestamp to the task's stdout
// as one line, the values written by repr, and passes it on.
func Print(repr func(starlark.Value) string) Op { return printOp{repr: repr} }

type printOp struct{ repr func(starlark.Value) string }

func (printOp) Name() string     { return "print" }
func (printOp) Describe() string { return "" }

func (p printOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		line := make([]byte, 0, 128)
		line = append(line, `{'value': `...)
		line = append(line, p.repr(r.Value)...)
		line = append(line, `, 'key': `...)
		line = append(line, p.repr(r.Key)...)
		line = append(line, `, 'timestamp': `...)
		line = strconv.AppendInt(line, r.Timestamp, 10)
		line = append(line, "}\n"...)
		if _, err := c.stdout.Write(line); err != nil {
			return fail(c, "print", pos, err)
		}
		return next(c, r)
	}
}

func chars(s string) starlark.Tuple {
	t := make(starlark.Tuple, 0, len(s))
	for _, r := range s {
		t = append(t, starlark.String(string(r)))
	}
	return t
}

// Assign sets value[column] = fn(row) and passes the value on, as
// Quix Streams' sdf[column] = series does. The value must be a dict.
func Assign(column string, fn Func) Op { return &assignOp{column: starlark.String(column), fn: fn} }

type assignOp struct {
	column starlark.Value // a String, boxed once rather than per message
	fn     Func
}

func (o *assignOp) Name() string { return "column assignment" }
func (o *assignOp) Describe() string {
	return fmt.Sprintf("%s = %s", o.column, Describe(o.fn))
}

func (o *assignOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		v, err := c.call(o.fn, r)
		if err != nil {
			return fail(c, "column assignment", pos, err)
		}
		d, ok := r.Value.(starlark.HasSetKey)
		if !ok {
			return fail(c, "column assignment", pos, fmt.Errorf("cannot set column %s: the message value is a %s, not a dict", o.column, r.Value.Type()))
		}
		if err := d.SetKey(o.column, v); err != nil {
			return fail(c, "column assignment", pos, fmt.Errorf("cannot set column %s: %w", o.column, err))
		}
		return next(c, r)
	}
}

// Project replaces the value with a dict of the given columns, in the
// given order. A missing column is an error, as Python's KeyError is in
// Quix Streams.
func Project(columns []string) Op {
	keys := make([]starlark.Value, len(columns))
	for i, c := range columns {
		keys[i] = starlark.String(c)
	}
	return &projectOp{keys: keys}
}

// projectOp's keys are Strings, boxed once rather than per message.
type projectOp struct{ keys []starlark.Value }

func (o *projectOp) Name() string { return "projection" }
func (o *projectOp) Describe() string {
	names := make([]string, len(o.keys))
	for i, k := range o.keys {
		names[i] = k.String()
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func (o *projectOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		m, ok := r.Value.(starlark.Mapping)
		if !ok {
			return fail(c, "projection", pos, fmt.Errorf("cannot select columns: the message value is a %s, not a dict", r.Value.Type()))
		}
		out := starlark.NewDict(len(o.keys))
		for _, k := range o.keys {
			v, found, err := m.Get(k)
			if err != nil || !found {
				return fail(c, "projection", pos, &ColumnError{Column: string(k.(starlark.String)), Value: r.Value})
			}
			_ = out.SetKey(k, v) // a new dict and a str key cannot fail
		}
		r.Value = out
		return next(c, r)
	}
}

// SetTimestamp replaces the record's timestamp with fn's result (an int of
// milliseconds); later operations and produced messages use it.
func SetTimestamp(fn Func) Op { return &setTimestampOp{fn: fn} }

type setTimestampOp struct{ fn Func }

func (o *setTimestampOp) Name() string     { return "set_timestamp" }
func (o *setTimestampOp) Describe() string { return Describe(o.fn) }

func (o *setTimestampOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		v, err := c.call(o.fn, r)
		if err != nil {
			return fail(c, "set_timestamp", pos, err)
		}
		i, ok := v.(starlark.Int)
		if !ok {
			return fail(c, "set_timestamp", pos, fmt.Errorf("the timestamp must be an int of milliseconds, got %s", v.Type()))
		}
		ts, ok := i.Int64()
		if !ok {
			return fail(c, "set_timestamp", pos, fmt.Errorf("timestamp %s out of range", i))
		}
		r.Timestamp = ts
		return next(c, r)
	}
}

// producerError lets on_producer_error skip a record to_topic could not
// produce (the record still passes on); otherwise the error stops the run.
func producerError(c *Context, pos string, r *Row, next Step, err error) error {
	if cb := c.callbacks; cb != nil && cb.OnProducerError != nil {
		skip, cbErr := cb.OnProducerError(c, err, r)
		if cbErr != nil {
			return fail(c, "on_producer_error", pos, cbErr)
		}
		if skip {
			c.metrics.ProcessingErrors.Add(1)
			return next(c, *r)
		}
	}
	return fail(c, "to_topic", pos, err)
}

// MergeHeaders returns headers with extra applied as Quix Streams'
// merge_headers does: existing names keep their place and take the new
// value, new names are appended.
func MergeHeaders(headers, extra []record.Header) []record.Header {
	out := append(make([]record.Header, 0, len(headers)+len(extra)), headers...)
	for _, e := range extra {
		replaced := false
		for i := range out {
			if out[i].Key == e.Key {
				out[i].Value, replaced = e.Value, true
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	return out
}
