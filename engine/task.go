package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/serde"
)

type taskItem struct {
	m       *record.Record
	part    *taskPart // m's partition
	barrier *sync.WaitGroup
}

// headBarrier stops a task between two messages, ahead of its queue: the
// task acknowledges it, then waits for release. A checkpoint holds every
// task so: it commits what they processed without waiting for their
// queues to drain.
type headBarrier struct {
	ack     *sync.WaitGroup
	release <-chan struct{}
}

// task processes partition p of every source topic of one sub-topology
// (the topics a pipeline joins or concatenates; most have one), with the
// stores of that sub-topology, as Kafka Streams' tasks do. Messages of
// its partitions go through one queue, in the order the poll loop hands
// them out. Fields below "owned by the task" are written by its goroutine
// and read by the runner only after a barrier.
type task struct {
	name      string // the partitions, for errors and logs: "orders[3]", "customers+orders[3]"
	partition int32
	parts     map[string]*taskPart // by topic
	in        chan taskItem
	head      chan headBarrier // checked before each message of in
	done      chan struct{}
	ctx       *Context

	// draining is the runner's: set, the task skips what it has not
	// started. busy is the offset + 1 of the message being processed (0
	// between messages), for the runner's waits to spot one that takes too
	// long; no clock is read per message.
	draining *atomic.Bool
	busy     atomic.Int64
	// dropped is set when the task stops because its partition left:
	// what is still queued is not processed.
	dropped atomic.Bool
	// queuedBytes is the key and value bytes in the queue (in).
	queuedBytes atomic.Int64

	recovering bool // its stores are being opened and recovered
	backlog    bool // while recovering, its queue filled up
	// full: the queue is full and fetching paused until it drains
	// below half; overflow holds, in order, what was polled meanwhile.
	full          bool
	overflow      []*record.Record
	overflowBytes int64
	release       chan struct{} // closed to release the task from a headBarrier

	// owned by the task
	err  error
	rows []Row // the rows of the message being processed, reused
}

// taskPart is one source partition of a task.
type taskPart struct {
	tp record.TopicPartition
	// src is the topic's pipeline; the runner swaps it for a reload while
	// the task is held.
	src        *composed
	committed  int64 // owned by the runner: the offset last committed (next to read); 0 before the first commit
	dispatched int64 // owned by the runner: offset of the last message handed to the task; -1: none
	paused     bool  // owned by the runner: fetching is paused
	// firstPolled is the offset of the first message of the partition
	// handed to the runner (-1: none): where a sink's backpressure seeks
	// back to before the first commit.
	firstPolled int64
	// committedAtAssign is the group's committed offset when the partition
	// was assigned (record.NoOffset if none); recovery skips changelog
	// records processed at or after it.
	committedAtAssign int64

	processed int64 // owned by the task: offset of the last message fully processed; -1: none

	// Timestamp alignment (align.go), owned by the runner: the messages
	// polled and not handed to the task yet, the offset of the last one
	// polled (-1: none), since when the partition holds up the others,
	// and whether its buffer is full (fetching paused).
	buf      []*record.Record
	received int64
	waiting  time.Time
	waited   bool // the wait ran out (logged once)
	// idle is the last answer of runner.idle, asked at idleAsked.
	idle      bool
	idleAsked time.Time
	ahead     bool
}

// buffered returns how many messages the task's partitions hold for
// alignment.
func (t *task) buffered() int {
	n := 0
	for _, p := range t.parts {
		n += len(p.buf)
	}
	return n
}

// sortedParts returns the task's partitions by topic.
func (t *task) sortedParts() []*taskPart {
	ps := make([]*taskPart, 0, len(t.parts))
	for _, p := range t.parts {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].tp.Topic < ps[j].tp.Topic })
	return ps
}

// processedOffsets returns the last processed offset of each partition
// that processed a message.
func (t *task) processedOffsets() map[string]int64 {
	out := make(map[string]int64, len(t.parts))
	for topic, p := range t.parts {
		if p.processed >= 0 {
			out[topic] = p.processed
		}
	}
	return out
}

// run opens and recovers the task's stores (reporting on recovered), then
// processes its queue until it is closed.
func (t *task) run(errs chan<- error, stores Stores, specs []StoreSpec, recovered chan<- *task) {
	defer close(t.done)
	defer t.closeStores()
	if stores != nil {
		if err := t.openStores(context.Background(), stores, specs); err != nil {
			t.err = fmt.Errorf("engine: stores of %s: %w", t.name, err)
			select {
			case errs <- t.err:
			default:
			}
		}
	}
	if recovered != nil {
		recovered <- t
	}
	for {
		var it taskItem
		select {
		case hb := <-t.head:
			t.hold(hb)
			continue
		default:
		}
		select {
		case hb := <-t.head:
			t.hold(hb)
			continue
		case item, ok := <-t.in:
			if !ok {
				return
			}
			it = item
		}
		if it.barrier != nil {
			it.barrier.Done()
			continue
		}
		t.queuedBytes.Add(-messageBytes(it.m))
		if t.err != nil || t.draining.Load() || t.dropped.Load() {
			continue // nothing after a failure, once the run stops, or once the partition left, is processed
		}
		t.busy.Store(it.m.Offset + 1)
		err := t.process(it.m, it.part.src)
		t.busy.Store(0)
		if err != nil {
			t.err = err
			select {
			case errs <- err:
			default:
			}
			continue
		}
		it.part.processed = it.m.Offset
	}
}

// hold acknowledges a headBarrier and waits for its release.
func (t *task) hold(hb headBarrier) {
	hb.ack.Done()
	<-hb.release
}

// messageBytes is what a queued message counts against
// Config.QueueBytes.
func messageBytes(m *record.Record) int64 { return int64(len(m.Key) + len(m.Value)) }

func (t *task) process(m *record.Record, src *composed) error {
	c := t.ctx
	c.Message = m
	defer func() { c.Message = nil }()
	cb := c.callbacks
	rows, err := src.topic.DeserializeRows(m, t.rows)
	t.rows = rows
	defer clear(rows) // the values are garbage once processed
	if err == nil {
		if f := src.topic.TimestampExtractor; f != nil {
			for i := range rows {
				if rows[i].Timestamp, err = extractTimestamp(c, f, &rows[i], m.TimestampType); err != nil {
					break
				}
			}
		}
	}
	if errors.Is(err, serde.ErrIgnoreMessage) {
		return t.messageProcessed(m)
	}
	if err != nil {
		if cb == nil || cb.OnConsumerError == nil {
			return err
		}
		skip, cbErr := cb.OnConsumerError(c, err, m)
		if cbErr != nil {
			return fmt.Errorf("on_consumer_error failed: %w (handling: %v)", cbErr, err)
		}
		if !skip {
			return err
		}
		c.metrics.ProcessingErrors.Add(1)
		return t.messageProcessed(m)
	}
	for _, row := range rows {
		if err := src.step(c, row); err != nil {
			if err := t.processingError(err, row); err != nil {
				return err
			}
		}
	}
	return t.messageProcessed(m)
}

// processingError hands err, raised by the pipeline for input, to
// on_processing_error; nil means it was skipped. (Out of process, so that
// the pointer to input moves a row to the heap only on this path.)
func (t *task) processingError(err error, input Row) error {
	c, cb := t.ctx, t.ctx.callbacks
	if cb == nil || cb.OnProcessingError == nil {
		return err
	}
	skip, cbErr := cb.OnProcessingError(c, err, &input)
	if cbErr != nil {
		return fmt.Errorf("on_processing_error failed: %w (handling: %v)", cbErr, err)
	}
	if !skip {
		return err
	}
	c.metrics.ProcessingErrors.Add(1)
	return nil
}

// messageProcessed runs on_message_processed.
func (t *task) messageProcessed(m *record.Record) error {
	if cb := t.ctx.callbacks; cb != nil && cb.OnMessageProcessed != nil {
		if err := cb.OnMessageProcessed(t.ctx, m); err != nil {
			return fmt.Errorf("on_message_processed failed: %w", err)
		}
	}
	return nil
}

// extractTimestamp calls a topic's timestamp_extractor.
func extractTimestamp(c *Context, f starlark.Callable, r *Row, tsType int) (int64, error) {
	args := starlark.Tuple{r.Value, HeadersValue(r.Headers), starlark.MakeInt64(r.Timestamp), starlark.MakeInt(tsType)}
	v, err := starlark.Call(c.Thread, f, args, nil)
	if err != nil {
		return 0, fail(c, "timestamp_extractor", "", err)
	}
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, fail(c, "timestamp_extractor", "", fmt.Errorf("it must return an int of milliseconds, got %s", v.Type()))
	}
	ts, ok := i.Int64()
	if !ok {
		return 0, fail(c, "timestamp_extractor", "", fmt.Errorf("timestamp %s out of range", i))
	}
	return ts, nil
}
