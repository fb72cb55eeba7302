package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/serde"
)

// fakeConsumer serves fixed messages per partition and records commits.
type fakeConsumer struct {
	parts    map[record.TopicPartition][]*record.Record
	order    []record.TopicPartition
	r        Rebalancer
	assigned bool
	next     int // round-robin over partitions
	pos      map[record.TopicPartition]int

	mu      sync.Mutex
	commits map[record.TopicPartition]int64
	closed  bool
	refuse  int // commits to refuse as during a rebalance
	refused int
}

func newFakeConsumer(msgs ...*record.Record) *fakeConsumer {
	c := &fakeConsumer{parts: map[record.TopicPartition][]*record.Record{}, pos: map[record.TopicPartition]int{}, commits: map[record.TopicPartition]int64{}}
	for _, m := range msgs {
		tp := record.TopicPartition{Topic: m.Topic, Partition: m.Partition}
		if _, ok := c.parts[tp]; !ok {
			c.order = append(c.order, tp)
		}
		c.parts[tp] = append(c.parts[tp], m)
	}
	return c
}

func (c *fakeConsumer) Subscribe(topics []string, r Rebalancer) error { c.r = r; return nil }

func (c *fakeConsumer) Poll(timeout time.Duration) (*record.Record, error) {
	if !c.assigned {
		c.assigned = true
		return nil, c.r.Assigned(c.order)
	}
	for range c.order {
		tp := c.order[c.next%len(c.order)]
		c.next++
		if i := c.pos[tp]; i < len(c.parts[tp]) {
			c.pos[tp]++
			return c.parts[tp][i], nil
		}
	}
	time.Sleep(time.Millisecond)
	return nil, nil
}

func (c *fakeConsumer) Commit(offsets []record.Offset) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused < c.refuse {
		c.refused++
		return fmt.Errorf("%w: ILLEGAL_GENERATION", ErrCommitRetriable)
	}
	for _, o := range offsets {
		if o.Offset <= c.commits[o.TopicPartition] {
			return fmt.Errorf("commit of %s went backwards: %d after %d", o.TopicPartition, o.Offset, c.commits[o.TopicPartition])
		}
		c.commits[o.TopicPartition] = o.Offset
	}
	return nil
}

func (c *fakeConsumer) Committed(tps []record.TopicPartition) ([]record.Offset, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []record.Offset
	for _, tp := range tps {
		off, ok := c.commits[tp]
		if !ok {
			off = -1001
		}
		out = append(out, record.Offset{TopicPartition: tp, Offset: off})
	}
	return out, nil
}

func (c *fakeConsumer) Pause([]record.TopicPartition) error  { return nil }
func (c *fakeConsumer) Resume([]record.TopicPartition) error { return nil }
func (c *fakeConsumer) Seek([]record.Offset) error           { return nil }

func (c *fakeConsumer) Close() error {
	c.closed = true
	return c.r.Revoked(c.order)
}

func (c *fakeConsumer) committed(tp record.TopicPartition) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.commits[tp]
}

// fakeProducer records what was produced; flushErr fails the next Flush.
type fakeProducer struct {
	mu       sync.Mutex
	out      []record.Record
	flushErr error
}

func (p *fakeProducer) Produce(m *record.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := *m
	c.Key = append([]byte(nil), m.Key...)
	if m.Key == nil {
		c.Key = nil
	}
	c.Value = append([]byte(nil), m.Value...)
	p.out = append(p.out, c)
	return nil
}

func (p *fakeProducer) Flush(time.Duration) error { return p.flushErr }

// Offset reports the fake's own position in the list of produced messages
// to that partition.
func (p *fakeProducer) Offset(topic string, partition int32) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := int64(-1)
	for _, m := range p.out {
		if m.Topic == topic && m.Partition == partition {
			n++
		}
	}
	return n, n >= 0
}

func (p *fakeProducer) values() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var vs []string
	for _, m := range p.out {
		vs = append(vs, string(m.Value))
	}
	return vs
}

// funcs compiles Starlark source and returns its globals.
func funcs(t *testing.T, src string) starlark.StringDict {
	t.Helper()
	g, err := starlark.ExecFile(&starlark.Thread{}, "test.star", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	g.Freeze()
	return g
}

func cb(g starlark.StringDict, name string) *Callback {
	return &Callback{Fn: g[name].(starlark.Callable)}
}

func jsonTopic(name string) *Topic {
	return &Topic{Name: name, KeyDeserializer: serde.Bytes{}, ValueDeserializer: serde.JSON{}, KeySerializer: serde.Bytes{}, ValueSerializer: serde.JSON{}}
}

func msg(topic string, partition int32, offset int64, key, value string) *record.Record {
	return &record.Record{Topic: topic, Partition: partition, Offset: offset, Key: []byte(key), Value: []byte(value), Timestamp: 1000 + offset}
}

func run(t *testing.T, c *fakeConsumer, p *fakeProducer, sources ...*Source) (Stats, error) {
	t.Helper()
	return Run(context.Background(), Config{
		Sources: sources, Consumer: c, Producer: p,
		CommitInterval: time.Hour, StopWhenIdle: 50 * time.Millisecond,
	})
}

// TestPipeline pins apply -> filter -> to_topic: values transformed, keys
// and timestamps preserved, offsets committed after the last message.
func TestPipeline(t *testing.T) {
	g := funcs(t, `
def double(v):
    return {"n": v["n"] * 2}
def positive(v):
    return v["n"] > 2
`)
	in, out := jsonTopic("in"), jsonTopic("out")
	root := NewRoot()
	root.Then(Apply(cb(g, "double"), false), "").Then(Filter(cb(g, "positive")), "").Then(ToTopic(out, nil), "")
	c := newFakeConsumer(msg("in", 0, 0, "a", `{"n":1}`), msg("in", 0, 1, "b", `{"n":2}`), msg("in", 0, 2, "c", `{"n":3}`))
	p := &fakeProducer{}
	stats, err := run(t, c, p, &Source{Topic: in, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(p.values(), " "), `{"n":4} {"n":6}`; got != want {
		t.Errorf("values %s, want %s", got, want)
	}
	if string(p.out[0].Key) != "b" || p.out[0].Timestamp != 1001 || p.out[0].Topic != "out" {
		t.Errorf("first output %+v: want key b, timestamp 1001, topic out", p.out[0])
	}
	if got := c.committed(record.TopicPartition{Topic: "in", Partition: 0}); got != 3 {
		t.Errorf("committed %d, want 3", got)
	}
	if stats.Consumed != 3 || !c.closed {
		t.Errorf("stats %+v closed %v", stats, c.closed)
	}
}

// TestExpandDepthFirst pins Quix Streams' depth-first expand order:
// [v+1, v+1] then [v, v+1] on 1 gives 2, 3, 2, 3.
func TestExpandDepthFirst(t *testing.T) {
	g := funcs(t, `
def twice(v):
    return [v + 1, v + 1]
def pair(v):
    return [v, v + 1]
`)
	root := NewRoot()
	out := jsonTopic("out")
	root.Then(Apply(cb(g, "twice"), true), "").Then(Apply(cb(g, "pair"), true), "").Then(ToTopic(out, nil), "")
	p := &fakeProducer{}
	if _, err := run(t, newFakeConsumer(msg("in", 0, 0, "k", `1`)), p, &Source{Topic: jsonTopic("in"), Root: root}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.values(), ","); got != "2,3,2,3" {
		t.Errorf("got %s, want 2,3,2,3", got)
	}
}

// TestBranchesGetCopies pins branching: each branch sees its own copy of
// the value, so a mutation in one is invisible to the other.
func TestBranchesGetCopies(t *testing.T) {
	g := funcs(t, `
def mutate(v):
    v["x"] = "changed"
def tag_a(v):
    return {"branch": "a", "x": v["x"]}
def tag_b(v):
    return {"branch": "b", "x": v["x"]}
`)
	root := NewRoot()
	out := jsonTopic("out")
	root.Then(Update(cb(g, "mutate")), "").Then(Apply(cb(g, "tag_a"), false), "").Then(ToTopic(out, nil), "")
	root.Then(Apply(cb(g, "tag_b"), false), "").Then(ToTopic(out, nil), "")
	p := &fakeProducer{}
	if _, err := run(t, newFakeConsumer(msg("in", 0, 0, "k", `{"x":"orig"}`)), p, &Source{Topic: jsonTopic("in"), Root: root}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(p.values(), " "), `{"branch":"a","x":"changed"} {"branch":"b","x":"orig"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestFailureCommitsNothingPastIt pins at-least-once: a callback failing at
// offset 3 stops the run with an error naming the message, and no offset
// past the failure is committed.
func TestFailureCommitsNothingPastIt(t *testing.T) {
	g := funcs(t, `
def f(v):
    return 10 // (v - 3)
`)
	root := NewRoot()
	root.Then(Apply(cb(g, "f"), false), "job.star:7:9").Then(ToTopic(jsonTopic("out"), nil), "")
	var msgs []*record.Record
	for i := int64(0); i < 6; i++ {
		msgs = append(msgs, msg("in", 0, i, "k", fmt.Sprint(i)))
	}
	c := newFakeConsumer(msgs...)
	_, err := Run(context.Background(), Config{
		Sources: []*Source{{Topic: jsonTopic("in"), Root: root}}, Consumer: c, Producer: &fakeProducer{},
		CommitInterval: 0, StopWhenIdle: time.Second,
	})
	var pe *ProcessingError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a ProcessingError", err)
	}
	if pe.Offset != 3 || pe.Topic != "in" || pe.Pos != "job.star:7:9" {
		t.Errorf("error names %s[%d]@%d at %s", pe.Topic, pe.Partition, pe.Offset, pe.Pos)
	}
	for _, want := range []string{"job.star:7:9: apply failed", `topic "in" partition 0 offset 3`, "Traceback", "division by zero"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error text lacks %q:\n%s", want, err)
		}
	}
	if got := c.committed(record.TopicPartition{Topic: "in", Partition: 0}); got > 3 {
		t.Errorf("committed offset %d is past the failed message 3", got)
	}
}

// TestFlushFailureCommitsNothing pins that a delivery failure reported by
// the producer's flush prevents the offset commit.
func TestFlushFailureCommitsNothing(t *testing.T) {
	root := NewRoot()
	root.Then(ToTopic(jsonTopic("out"), nil), "")
	c := newFakeConsumer(msg("in", 0, 0, "k", `1`), msg("in", 0, 1, "k", `2`))
	_, err := run(t, c, &fakeProducer{flushErr: errors.New("broker said no")}, &Source{Topic: jsonTopic("in"), Root: root})
	if err == nil || !strings.Contains(err.Error(), "broker said no") {
		t.Fatalf("got %v", err)
	}
	if got := c.committed(record.TopicPartition{Topic: "in", Partition: 0}); got != 0 {
		t.Errorf("committed %d after a failed flush", got)
	}
}

// TestDeserializeError names topic, partition and offset and stops.
func TestDeserializeError(t *testing.T) {
	c := newFakeConsumer(msg("in", 2, 7, "k", `{bad`))
	_, err := run(t, c, &fakeProducer{}, &Source{Topic: jsonTopic("in"), Root: NewRoot()})
	if err == nil || !strings.Contains(err.Error(), `value of the message at topic "in" partition 2 offset 7`) {
		t.Fatalf("got %v", err)
	}
}

// TestPartitionsKeepOrder runs 4 partitions in parallel tasks and checks
// each partition's outputs keep their input order and all are committed.
func TestPartitionsKeepOrder(t *testing.T) {
	g := funcs(t, `
def f(v):
    return v
`)
	root := NewRoot()
	root.Then(Apply(cb(g, "f"), false), "").Then(ToTopic(jsonTopic("out"), nil), "")
	var msgs []*record.Record
	for p := int32(0); p < 4; p++ {
		for i := int64(0); i < 200; i++ {
			msgs = append(msgs, msg("in", p, i, fmt.Sprint(p), fmt.Sprintf(`[%d,%d]`, p, i)))
		}
	}
	c := newFakeConsumer(msgs...)
	prod := &fakeProducer{}
	if _, err := run(t, c, prod, &Source{Topic: jsonTopic("in"), Root: root}); err != nil {
		t.Fatal(err)
	}
	last := map[string]int{}
	for _, m := range prod.out {
		var p, i int
		fmt.Sscanf(string(m.Value), "[%d,%d]", &p, &i)
		if prev, ok := last[string(m.Key)]; ok && i != prev+1 {
			t.Fatalf("partition %d: %d after %d", p, i, prev)
		}
		last[string(m.Key)] = i
	}
	for p := int32(0); p < 4; p++ {
		if got := c.committed(record.TopicPartition{Topic: "in", Partition: p}); got != 200 {
			t.Errorf("partition %d committed %d, want 200", p, got)
		}
	}
}

// TestToTopicKeyAndNone pins to_topic's key: a key function replaces the
// key, and a None key produces a message without a key.
func TestToTopicKeyAndNone(t *testing.T) {
	g := funcs(t, `
def key(v):
    return v.get("k")
`)
	root := NewRoot()
	root.Then(ToTopic(jsonTopic("out"), cb(g, "key")), "")
	p := &fakeProducer{}
	if _, err := run(t, newFakeConsumer(msg("in", 0, 0, "orig", `{"k":"new"}`), msg("in", 0, 1, "orig", `{}`)), p, &Source{Topic: jsonTopic("in"), Root: root}); err != nil {
		t.Fatal(err)
	}
	if string(p.out[0].Key) != "new" || p.out[1].Key != nil {
		t.Errorf("keys %q %q, want \"new\" and nil", p.out[0].Key, p.out[1].Key)
	}
}

func TestExpandNotIterable(t *testing.T) {
	g := funcs(t, `
def f(v):
    return 5
`)
	root := NewRoot()
	root.Then(Apply(cb(g, "f"), true), "job.star:3:1")
	_, err := run(t, newFakeConsumer(msg("in", 0, 0, "k", `1`)), &fakeProducer{}, &Source{Topic: jsonTopic("in"), Root: root})
	if err == nil || !strings.Contains(err.Error(), "expand=True needs an iterable result, got int") {
		t.Fatalf("got %v", err)
	}
}

// BenchmarkPipeline measures one apply + filter + to_topic per message
// through the composed closures (no broker).
func BenchmarkPipeline(b *testing.B) {
	g, err := starlark.ExecFile(&starlark.Thread{}, "b.star", `
def f(v):
    return {"id": v["id"], "amount": v["amount"] * 2}
def keep(v):
    return v["amount"] > 10
`, nil)
	if err != nil {
		b.Fatal(err)
	}
	g.Freeze()
	root := NewRoot()
	root.Then(Apply(&Callback{Fn: g["f"].(starlark.Callable)}, false), "").
		Then(Filter(&Callback{Fn: g["keep"].(starlark.Callable)}), "").
		Then(ToTopic(jsonTopic("out"), nil), "")
	step := Compose(root)
	ctx := NewContext(&starlark.Thread{}, nullProducer{}, nil)
	m := msg("in", 0, 0, "k", `{"id":12345,"customer":"c-0042","amount":123.45,"currency":"EUR"}`)
	src := &composed{topic: jsonTopic("in"), step: step}
	tk := &task{ctx: ctx}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tk.process(m, src); err != nil {
			b.Fatal(err)
		}
	}
}

type nullProducer struct{}

func (nullProducer) Produce(*record.Record) error       { return nil }
func (nullProducer) Flush(time.Duration) error          { return nil }
func (nullProducer) Offset(string, int32) (int64, bool) { return 0, false }

// TestCommitRefusedDuringRebalanceIsRetried pins that a commit refused
// because the group is rebalancing does not fail the run: the checkpoint
// stays pending, is retried, and every offset ends up committed once.
func TestCommitRefusedDuringRebalanceIsRetried(t *testing.T) {
	root := NewRoot()
	root.Then(ToTopic(jsonTopic("out"), nil), "")
	var msgs []*record.Record
	for i := int64(0); i < 50; i++ {
		msgs = append(msgs, msg("in", 0, i, "k", fmt.Sprint(i)))
	}
	c := newFakeConsumer(msgs...)
	c.refuse = 3
	p := &fakeProducer{}
	_, err := Run(context.Background(), Config{
		Sources: []*Source{{Topic: jsonTopic("in"), Root: root}}, Consumer: c, Producer: p,
		CommitInterval: 0, StopWhenIdle: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.refused != 3 {
		t.Errorf("%d commits refused, want 3", c.refused)
	}
	if got := c.committed(record.TopicPartition{Topic: "in", Partition: 0}); got != 50 {
		t.Errorf("committed %d, want 50", got)
	}
	if len(p.out) != 50 {
		t.Errorf("produced %d, want 50 (each message processed once)", len(p.out))
	}
}

// BenchmarkPartitionScaling processes 8 partitions of messages through a
// Starlark callback that does some work, with an in-memory consumer and
// producer (no broker). Run it with -cpu 1,2: per-partition tasks should
// make GOMAXPROCS=2 close to twice as fast. b.N is the number of messages.
func BenchmarkPartitionScaling(b *testing.B) {
	g, err := starlark.ExecFile(&starlark.Thread{}, "b.star", `
def work(v):
    total = 0
    for i in range(40):
        total += v["amount"] * i
    return {"id": v["id"], "total": total}
`, nil)
	if err != nil {
		b.Fatal(err)
	}
	g.Freeze()
	root := NewRoot()
	root.Then(Apply(&Callback{Fn: g["work"].(starlark.Callable)}, false), "").Then(ToTopic(jsonTopic("out"), nil), "")
	var msgs []*record.Record
	for i := 0; i < b.N; i++ {
		msgs = append(msgs, &record.Record{Topic: "in", Partition: int32(i % 8), Offset: int64(i / 8), Key: []byte("k"),
			Value: []byte(`{"id":12345,"customer":"c-0042","amount":123.45,"currency":"EUR"}`)})
	}
	c := newFakeConsumer(msgs...)
	b.ReportAllocs()
	b.ResetTimer()
	_, err = Run(context.Background(), Config{
		Sources: []*Source{{Topic: jsonTopic("in"), Root: root}}, Consumer: c, Producer: nullProducer{},
		CommitInterval: time.Hour, StopWhenIdle: 20 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
}

// TestTopicSerialize pins to_topic's bytes: None key is no key, None value
// a tombstone except with json; key and value are slices of what was
// appended, even after bytes already in the buffer.
func TestTopicSerialize(t *testing.T) {
	str := &Topic{Name: "s", KeySerializer: serde.String{}, ValueSerializer: serde.String{}}
	js := &Topic{Name: "j", KeySerializer: serde.String{}, ValueSerializer: serde.JSON{}}
	for _, tc := range []struct {
		topic      *Topic
		key, value starlark.Value
		wantK      []byte
		wantV      []byte
	}{
		{str, starlark.String("k"), starlark.String("v"), []byte("k"), []byte("v")},
		{str, starlark.None, starlark.String("v"), nil, []byte("v")},
		{str, starlark.String("k"), starlark.None, []byte("k"), nil},
		{js, starlark.String("k"), starlark.None, []byte("k"), []byte("null")},
	} {
		buf, k, v, err := tc.topic.Serialize([]byte("earlier"), tc.key, tc.value)
		if err != nil {
			t.Fatal(err)
		}
		if string(k) != string(tc.wantK) || (k == nil) != (tc.wantK == nil) || string(v) != string(tc.wantV) || (v == nil) != (tc.wantV == nil) {
			t.Errorf("%s: Serialize(%v, %v) = key %q, value %q; want %q, %q", tc.topic.Name, tc.key, tc.value, k, v, tc.wantK, tc.wantV)
		}
		if !strings.HasPrefix(string(buf), "earlier") {
			t.Errorf("the buffer lost what it held: %q", buf)
		}
	}
	if _, _, _, err := str.Serialize(nil, starlark.MakeInt(1), starlark.None); err == nil || !strings.Contains(err.Error(), `key for topic "s"`) {
		t.Errorf("a key the serializer refuses: %v", err)
	}
}

// TestCheckpointLeavesQueuedWorkDirty: a checkpoint holds the tasks ahead
// of their queues, so what they had queued but not processed needs a
// later checkpoint: with a slow callback and every message handed out at
// once, the run still ends with everything committed.
func TestCheckpointLeavesQueuedWorkDirty(t *testing.T) {
	slow := starlark.NewBuiltin("slow", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		time.Sleep(2 * time.Millisecond)
		return args[0], nil
	})
	root := NewRoot()
	root.Then(Apply(&Callback{Fn: slow}, false), "").Then(ToTopic(jsonTopic("out"), nil), "")
	var msgs []*record.Record
	for i := int64(0); i < 100; i++ {
		msgs = append(msgs, msg("in", 0, i, "k", fmt.Sprint(i)))
	}
	c := newFakeConsumer(msgs...)
	p := &fakeProducer{}
	if _, err := Run(context.Background(), Config{
		Sources: []*Source{{Topic: jsonTopic("in"), Root: root}}, Consumer: c, Producer: p,
		CommitInterval: 5 * time.Millisecond, StopWhenIdle: 100 * time.Millisecond,
	}); err != nil {
		t.Fatal(err)
	}
	if got := c.committed(record.TopicPartition{Topic: "in", Partition: 0}); got != 100 {
		t.Errorf("committed %d, want 100", got)
	}
}
