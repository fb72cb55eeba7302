package builtins

import (
	"fmt"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
)

// runNow runs the job while the script loads, for app.run(timeout=,
// count=): until nothing was consumed for timeout, or count outputs
// (records reaching the end of a dataframe) were processed, whichever
// comes first. It returns the outputs: with collect, each value (a
// non-dict as {"_value": v}), with metadata preceded by _key,
// _timestamp, _headers, _topic, _partition and _offset; without
// collect, []. Where the script only loads (qstar check, qstar test) it
// runs nothing and returns [].
func (a *Application) runNow(thread *starlark.Thread, fn string, sdf starlark.Value, timeout time.Duration, count int, collect, metadata bool) (starlark.Value, error) {
	req, err := a.runRequest(thread, fn, sdf)
	if err != nil {
		return nil, err
	}
	a.ranWith = req
	if a.reg.RunNow == nil {
		return starlark.NewList(nil), nil
	}
	if a.run != nil {
		return nil, fmt.Errorf("%s: app.run() was already called at %s: a run with timeout= or count= must come before it", fn, a.run.Pos)
	}
	c := &runCollector{count: count, collect: collect, metadata: metadata, done: make(chan struct{})}
	// The job runs on the pipeline's own threads: script code may not
	// build pipelines from them, as in any run.
	a.run = req
	a.reg.Building.Set(false)
	err = a.reg.RunNow(a, timeout, c, c.done)
	a.reg.Building.Set(true)
	a.run = nil
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	return starlark.NewList(c.items), nil
}

// runCollector is the engine.Sink app.run(count=, collect=) gives the
// run's outputs to.
type runCollector struct {
	count             int
	collect, metadata bool
	done              chan struct{}

	mu    sync.Mutex
	n     int
	items []starlark.Value
}

var _ engine.Sink = (*runCollector)(nil)

func (c *runCollector) String() string { return "app.run() outputs" }

// Add implements engine.Sink.
func (c *runCollector) Add(_ *engine.Context, r engine.SinkRecord) error {
	var item starlark.Value
	if c.collect {
		d, err := recordDict(r, "_value", c.metadata)
		if err != nil {
			return err
		}
		item = d
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if item != nil {
		c.items = append(c.items, item)
	}
	c.n++
	if c.count > 0 && c.n == c.count {
		close(c.done)
	}
	return nil
}

// Flush implements engine.Sink: outputs are kept as they come.
func (c *runCollector) Flush() error { return nil }

// OnPaused implements engine.Sink.
func (c *runCollector) OnPaused() {}

// recordDict is a record's value as a frozen dict copy: a non-dict value
// v as {wrap: v}; with metadata, _key, _timestamp, _headers, _topic,
// _partition and _offset first (ListSink and app.run(collect=) lists).
func recordDict(r engine.SinkRecord, wrap string, metadata bool) (*starlark.Dict, error) {
	v, err := engine.DeepCopy(r.Value)
	if err != nil {
		return nil, err
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		d = starlark.NewDict(1)
		_ = d.SetKey(starlark.String(wrap), v)
	}
	if metadata {
		m := starlark.NewDict(d.Len() + 6)
		for _, kv := range [][2]starlark.Value{
			{starlark.String("_key"), r.Key}, {starlark.String("_timestamp"), starlark.MakeInt64(r.Timestamp)},
			{starlark.String("_headers"), engine.HeadersValue(r.Headers)}, {starlark.String("_topic"), starlark.String(r.Topic)},
			{starlark.String("_partition"), starlark.MakeInt(int(r.Partition))}, {starlark.String("_offset"), starlark.MakeInt64(r.Offset)},
		} {
			_ = m.SetKey(kv[0], kv[1])
		}
		for _, kv := range d.Items() {
			_ = m.SetKey(kv[0], kv[1])
		}
		d = m
	}
	d.Freeze()
	return d, nil
}
