package engine

import (
	"fmt"
	"io"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
)

// Tester runs pipelines one record at a time on the calling thread: the
// engine as sdf.test() and `qstar test` use it, with in-memory stores and
// topics instead of RocksDB and a broker. A record goes through the
// operations on the path from its topic's root to a node (as Quix
// Streams' sdf.test() runs the dataframe's own stream), with the same
// composed steps, State, windows and window clocks as in a run. A stage
// that ends in a produce to the next stage's topic (a group_by's
// repartition topic) hands its records on as Kafka does: serialized,
// then consumed in the same partition exactly as a task consumes a
// message (deserialization, timestamp extractor, error callbacks). After
// each record the stores' changes are committed, as a checkpoint would.
// Not safe for concurrent use.
type Tester struct {
	stores    *TestStores
	callbacks *Callbacks
	stdout    io.Writer
	offsets   map[record.TopicPartition]int64 // next offset per partition
	queue     []*record.Record                // produced to the next stage's topic
	next      string                          // the next stage's topic
}

// Stage is one topic's part of a test run: the record runs the operations
// on the path from Root (the topic's) to Node.
type Stage struct {
	Topic *Topic
	Root  *Node
	Node  *Node
	// Group are the source topics of the topic's sub-topology (nil: the
	// topic alone): their stores are the record's task's.
	Group []string
}

// NewTester returns a Tester whose stores live in stores. print() output
// goes to stdout.
func NewTester(stores Stores, callbacks *Callbacks, stdout io.Writer) *Tester {
	return &Tester{stores: NewTestStores(stores), callbacks: callbacks, stdout: stdout, offsets: map[record.TopicPartition]int64{}}
}

// Close releases the stores.
func (t *Tester) Close() { t.stores.Close() }

// Process feeds row, as the next record of partition of the first stage's
// topic, through the stages, and returns the rows that reach the last
// stage's node. specs are the application's stores.
func (t *Tester) Process(thread *starlark.Thread, partition int32, row Row, stages []Stage, specs []StoreSpec) ([]Row, error) {
	var out []Row
	capture := func(_ *Context, r Row) error {
		out = append(out, r)
		return nil
	}
	for i, st := range stages {
		sink := capture
		t.next = ""
		if i+1 < len(stages) {
			sink, t.next = discard, stages[i+1].Topic.Name
		}
		step := ComposeChain(st.Root, st.Node, sink)
		if step == nil {
			return nil, fmt.Errorf("the dataframe does not read topic %q", st.Topic.Name)
		}
		group := st.Group
		if len(group) == 0 {
			group = []string{st.Topic.Name}
		}
		var err error
		if i == 0 {
			m := &record.Record{Topic: st.Topic.Name, Partition: partition, Offset: t.nextOffset(st.Topic.Name, partition), Timestamp: row.Timestamp, Headers: row.Headers}
			err = t.run(thread, m, group, specs, func(c *Context) error { return step(c, row) })
		} else {
			queued := t.queue
			t.queue = nil
			for _, m := range queued {
				tk, src := &task{}, &composed{topic: st.Topic, step: step}
				if err = t.run(thread, m, group, specs, func(c *Context) error { tk.ctx = c; return tk.process(m, src) }); err != nil {
					break
				}
			}
		}
		if err != nil {
			t.queue = nil
			return out, err
		}
	}
	return out, nil
}

// run runs f on a Context for message m, bound to thread, with the
// stores of the sub-topology group (of m's topic), and commits them unless
// f failed.
func (t *Tester) run(thread *starlark.Thread, m *record.Record, group []string, specs []StoreSpec, f func(c *Context) error) error {
	c := NewContext(thread, &testerProducer{t: t, partition: m.Partition}, t.stdout)
	c.callbacks = t.callbacks
	c.Message = m
	in := map[string]bool{}
	for _, g := range group {
		in[g] = true
	}
	var bound []StoreSpec
	for _, s := range specs {
		for _, topic := range s.SourceTopics() {
			if in[topic] {
				bound = append(bound, s)
				break
			}
		}
	}
	if err := t.stores.Bind(c, m.Partition, bound); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	restore := Bind(thread, c)
	defer restore()
	if err := f(c); err != nil {
		return err
	}
	return t.stores.Commit(c, map[string]int64{m.Topic: m.Offset})
}

func (t *Tester) nextOffset(topic string, partition int32) int64 {
	tp := record.TopicPartition{Topic: topic, Partition: partition}
	off := t.offsets[tp]
	t.offsets[tp] = off + 1
	return off
}

// testerProducer takes what a Tester's steps produce: records to the next
// stage's topic are queued for it, in the producing record's partition;
// the rest are dropped.
type testerProducer struct {
	t         *Tester
	partition int32
}

func (p *testerProducer) Produce(m *record.Record) error {
	if m.Topic != p.t.next {
		return nil
	}
	c := *m
	if m.Key != nil {
		c.Key = append([]byte(nil), m.Key...)
	}
	if m.Value != nil {
		c.Value = append([]byte(nil), m.Value...)
	}
	c.Partition = p.partition
	c.Offset = p.t.nextOffset(m.Topic, p.partition)
	c.TimestampType = 1
	if len(m.Headers) > 0 {
		c.Headers = append([]record.Header(nil), m.Headers...)
	} else {
		c.Headers = nil
	}
	p.t.queue = append(p.t.queue, &c)
	return nil
}

func (p *testerProducer) Flush(time.Duration) error          { return nil }
func (p *testerProducer) Offset(string, int32) (int64, bool) { return 0, false }
