package engine

import (
	"errors"
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
)

// A Sink receives the records that reach sdf.sink(), as Quix Streams 3.x's
// BaseSink: Add for each record, from the task processing it (so tasks of
// different partitions call it concurrently), and Flush at every
// checkpoint, before any offset is committed, with every task held. A
// Flush that fails fails the checkpoint; one that returns a
// *BackpressureError makes the run drop the checkpoint and read its
// messages again once the sink has had RetryAfter to recover.
type Sink interface {
	// Add takes one record. The value and key are the pipeline's: Add
	// must copy what it keeps (they may change after it returns).
	Add(c *Context, r SinkRecord) error
	// Flush writes (or confirms) everything added since the last Flush
	// or OnPaused.
	Flush() error
	// OnPaused drops what was added since the last Flush: its messages
	// will be processed again.
	OnPaused()
	String() string
}

// A Starter is a Sink that connects (or checks its target) when the run
// starts, so that bad credentials fail the job before it reads anything.
type Starter interface {
	Start() error
}

// SinkRecord is what a sink receives for each record.
type SinkRecord struct {
	Value, Key starlark.Value
	Timestamp  int64
	Headers    []record.Header
	Topic      string
	Partition  int32
	Offset     int64
}

// BackpressureError is Quix Streams' SinkBackpressureError: the target
// cannot take the batch now. Everything since the last checkpoint is
// dropped, every assigned partition is paused and sought back to its last
// committed offset, and reading resumes after RetryAfter.
type BackpressureError struct {
	RetryAfter time.Duration
	Err        error // why, if the sink knows
}

func (e *BackpressureError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("sink backpressure (retry after %s): %v", e.RetryAfter, e.Err)
	}
	return fmt.Sprintf("sink backpressure (retry after %s)", e.RetryAfter)
}

func (e *BackpressureError) Unwrap() error { return e.Err }

// SinkTo ends a branch in a sink.
func SinkTo(s Sink) Op { return &sinkOp{s: s} }

type sinkOp struct{ s Sink }

func (o *sinkOp) Name() string     { return "sink" }
func (o *sinkOp) Describe() string { return o.s.String() }

func (o *sinkOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		sr := SinkRecord{Value: r.Value, Key: r.Key, Timestamp: r.Timestamp, Headers: r.Headers}
		if m := c.Message; m != nil {
			sr.Topic, sr.Partition, sr.Offset = m.Topic, m.Partition, m.Offset
		}
		if err := o.s.Add(c, sr); err != nil {
			return fail(c, "sink", pos, err)
		}
		return next(c, r)
	}
}

// sinkOf returns the sink of a node made by SinkTo, or nil.
func sinkOf(op Op) Sink {
	if o, ok := op.(*sinkOp); ok {
		return o.s
	}
	return nil
}

// sinksOf returns the sinks of the sources' graphs, each once, in the
// order they are first met.
func sinksOf(sources []*Source) []Sink {
	var out []Sink
	seen := map[Sink]bool{}
	visited := map[*Node]bool{}
	var walk func(n *Node)
	walk = func(n *Node) {
		if visited[n] {
			return
		}
		visited[n] = true
		if s := sinkOf(n.op); s != nil && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	for _, s := range sources {
		walk(s.Root)
	}
	return out
}

// FlushSinks flushes every sink (step 0 of a checkpoint, as Quix Streams
// 3.x flushes them first). Once one reports backpressure the others drop
// what they hold: it will be processed again.
func FlushSinks(sinks []Sink) error {
	var bp *BackpressureError
	for _, s := range sinks {
		if bp != nil {
			s.OnPaused()
			continue
		}
		if err := s.Flush(); err != nil {
			if errors.As(err, &bp) {
				continue
			}
			return fmt.Errorf("sink %s: %w", s, err)
		}
	}
	if bp != nil {
		return bp
	}
	return nil
}

// backoff is a sink's backpressure in progress: the partitions paused and
// sought back, to be resumed (with new tasks) at until.
type backoff struct {
	until time.Time
	tps   []record.TopicPartition
}

// backpressure drops everything since the last checkpoint (the tasks,
// with what they queued and their stores' uncommitted changes; the sinks'
// batches; in exactly-once mode the open transaction), seeks every
// assigned partition back to where the checkpoint began, and pauses them
// all for the sink's RetryAfter.
func (r *runner) backpressure(bp *BackpressureError) error {
	var tps []record.TopicPartition
	var seek []record.Offset
	for tp, t := range r.tasks {
		tps = append(tps, tp)
		p := t.parts[tp.Topic]
		switch {
		case p.committed > 0:
			seek = append(seek, record.Offset{TopicPartition: tp, Offset: p.committed})
		case p.firstPolled >= 0:
			seek = append(seek, record.Offset{TopicPartition: tp, Offset: p.firstPolled})
		}
	}
	r.log.Warn("sink backpressure: the checkpoint is dropped, every partition is paused and will be read again from its last committed offset", "retry_after", bp.RetryAfter, "error", bp.Error())
	for _, s := range r.sinks {
		s.OnPaused()
	}
	r.stopTasks(nil)
	r.held, r.full, r.aligning = nil, nil, nil
	r.dirty = false
	if r.cfg.Guarantee == ExactlyOnce {
		if err := r.commit.abort(); err != nil {
			return fmt.Errorf("engine: sink backpressure: abort the transaction: %w", err)
		}
		if err := r.commit.begin(); err != nil {
			return fmt.Errorf("engine: sink backpressure: %w", err)
		}
	}
	if len(tps) > 0 {
		if err := r.cfg.Consumer.Pause(tps); err != nil {
			return fmt.Errorf("engine: sink backpressure: pause %v: %w", tps, err)
		}
	}
	if len(seek) > 0 {
		if err := r.cfg.Consumer.Seek(seek); err != nil {
			return fmt.Errorf("engine: sink backpressure: seek %v: %w", seek, err)
		}
	}
	r.stats.Backpressured++
	r.backoff = &backoff{until: time.Now().Add(bp.RetryAfter), tps: tps}
	return nil
}

// endBackoff resumes the partitions paused by a sink's backpressure that
// are still assigned, with new tasks (which recover their stores as at an
// assignment).
func (r *runner) endBackoff() error {
	b := r.backoff
	r.backoff = nil
	if len(b.tps) == 0 {
		return nil
	}
	r.log.Info("sink backpressure over: resuming", "partitions", len(b.tps))
	if err := r.cfg.Consumer.Resume(b.tps); err != nil {
		return fmt.Errorf("engine: resume %v after sink backpressure: %w", b.tps, err)
	}
	return r.Assigned(b.tps)
}

// forgetBackoff drops partitions that left during a backoff from it, and
// ones assigned afresh (their new tasks read from the committed offsets).
func (r *runner) forgetBackoff(tps []record.TopicPartition) {
	if r.backoff == nil {
		return
	}
	kept := r.backoff.tps[:0]
	for _, tp := range r.backoff.tps {
		if !contains(tps, tp) {
			kept = append(kept, tp)
		}
	}
	r.backoff.tps = kept
}
