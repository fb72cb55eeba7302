package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/runtime"
	"github.com/qstar-dev/qstar/serde"
	"github.com/qstar-dev/qstar/windows"
)

// These tests drive the engine's checkpoint, revoke, lost-partition and
// reload paths for stateful and windowed steps on package state's memory
// stores, with a scripted consumer and a transactional in-memory
// producer: no broker and no RocksDB.

// broker is an in-memory Kafka of one input topic, for a scripted
// consumer and a producer that supports transactions.
type broker struct {
	mu        sync.Mutex
	input     map[int32][]*record.Record
	committed map[record.TopicPartition]int64
	visible   []record.Record // produced outside transactions, or committed
	pending   []record.Record // in the open transaction
	inTxn     bool
	aborts    int
	offsets   map[record.TopicPartition]int64 // records produced per partition
}

func newBroker(partitions int32, perPartition int, key func(p int32, i int) string) *broker {
	b := &broker{input: map[int32][]*record.Record{}, committed: map[record.TopicPartition]int64{}, offsets: map[record.TopicPartition]int64{}}
	for p := int32(0); p < partitions; p++ {
		for i := 0; i < perPartition; i++ {
			b.input[p] = append(b.input[p], &record.Record{Topic: "in", Partition: p, Offset: int64(i), Key: []byte(key(p, i)),
				Value: []byte(fmt.Sprintf(`{"i":%d}`, i)), Timestamp: int64(i) * 1000})
		}
	}
	return b
}

// event is a rebalance the consumer performs once it has handed out
// `after` messages in all.
type event struct {
	after int
	kind  string // "revoke", "lost", "assign"
	tps   []record.TopicPartition
}

// consumer hands out the broker's input of its assigned partitions, each
// from its committed offset, round-robin, and performs the scripted
// rebalances.
type consumer struct {
	b        *broker
	r        engine.Rebalancer
	events   []event
	served   int
	assigned []record.TopicPartition
	pos      map[record.TopicPartition]int64
	started  bool
	next     int
	// assignOnClose is assigned while Close runs, as librdkafka completes
	// a rebalance during close; Committed then fails, as on a closing
	// consumer.
	assignOnClose []record.TopicPartition
	closing       bool
	paused        map[record.TopicPartition]bool
}

func (c *consumer) Subscribe(_ []string, r engine.Rebalancer) error {
	c.r, c.pos = r, map[record.TopicPartition]int64{}
	return nil
}

func (c *consumer) assign(tps []record.TopicPartition) error {
	c.b.mu.Lock()
	for _, tp := range tps {
		c.pos[tp] = c.b.committed[tp]
	}
	c.b.mu.Unlock()
	c.assigned = append(c.assigned, tps...)
	return c.r.Assigned(tps)
}

func (c *consumer) unassign(tps []record.TopicPartition) {
	var kept []record.TopicPartition
	for _, a := range c.assigned {
		gone := false
		for _, tp := range tps {
			gone = gone || a == tp
		}
		if !gone {
			kept = append(kept, a)
		}
	}
	c.assigned = kept
}

func (c *consumer) Poll(time.Duration) (*record.Record, error) {
	if !c.started {
		c.started = true
		var all []record.TopicPartition
		for p := range c.b.input {
			all = append(all, record.TopicPartition{Topic: "in", Partition: p})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].Partition < all[j].Partition })
		return nil, c.assign(all)
	}
	if len(c.events) > 0 && c.served >= c.events[0].after {
		e := c.events[0]
		c.events = c.events[1:]
		switch e.kind {
		case "revoke":
			err := c.r.Revoked(e.tps)
			c.unassign(e.tps)
			return nil, err
		case "lost":
			err := c.r.Lost(e.tps)
			c.unassign(e.tps)
			return nil, err
		case "assign":
			return nil, c.assign(e.tps)
		}
	}
	for range c.assigned {
		tp := c.assigned[c.next%len(c.assigned)]
		c.next++
		if c.paused[tp] {
			continue
		}
		if i := c.pos[tp]; i < int64(len(c.b.input[tp.Partition])) {
			c.pos[tp]++
			c.served++
			m := *c.b.input[tp.Partition][i]
			return &m, nil
		}
	}
	time.Sleep(time.Millisecond)
	return nil, nil
}

func (c *consumer) Commit(offsets []record.Offset) error {
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	for _, o := range offsets {
		c.b.committed[o.TopicPartition] = o.Offset
	}
	return nil
}

func (c *consumer) Committed(tps []record.TopicPartition) ([]record.Offset, error) {
	if c.closing {
		return nil, errors.New("Local: Broker handle destroyed for termination")
	}
	c.b.mu.Lock()
	defer c.b.mu.Unlock()
	var out []record.Offset
	for _, tp := range tps {
		off, ok := c.b.committed[tp]
		if !ok {
			off = record.NoOffset
		}
		out = append(out, record.Offset{TopicPartition: tp, Offset: off})
	}
	return out, nil
}

func (c *consumer) Pause(tps []record.TopicPartition) error {
	if c.paused == nil {
		c.paused = map[record.TopicPartition]bool{}
	}
	for _, tp := range tps {
		c.paused[tp] = true
	}
	return nil
}

func (c *consumer) Resume(tps []record.TopicPartition) error {
	for _, tp := range tps {
		delete(c.paused, tp)
	}
	return nil
}

func (c *consumer) Seek(offsets []record.Offset) error {
	for _, o := range offsets {
		c.pos[o.TopicPartition] = o.Offset
	}
	return nil
}
func (c *consumer) Close() error {
	c.closing = true
	if len(c.assignOnClose) > 0 {
		if err := c.assign(c.assignOnClose); err != nil {
			return err
		}
	}
	tps := c.assigned
	c.assigned = nil
	return c.r.Revoked(tps)
}

// producer produces to the broker.
type producer struct{ b *broker }

func (p producer) Produce(m *record.Record) error {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	c := *m
	c.Key, c.Value = append([]byte(nil), m.Key...), append([]byte(nil), m.Value...)
	p.b.offsets[record.TopicPartition{Topic: m.Topic, Partition: max(m.Partition, 0)}]++
	if p.b.inTxn {
		p.b.pending = append(p.b.pending, c)
	} else {
		p.b.visible = append(p.b.visible, c)
	}
	return nil
}

func (p producer) Flush(time.Duration) error { return nil }

func (p producer) Offset(topic string, partition int32) (int64, bool) {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	n, ok := p.b.offsets[record.TopicPartition{Topic: topic, Partition: partition}]
	return n - 1, ok
}

// txProducer is a producer whose transactions commit the consumer
// offsets with the outputs (engine.Transactor).
type txProducer struct{ producer }

var _ engine.Transactor = txProducer{}

func (p txProducer) BeginTransaction() error {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	if p.b.inTxn {
		return errors.New("a transaction is already open")
	}
	p.b.inTxn = true
	return nil
}

func (p txProducer) CommitTransaction(offsets []record.Offset) error {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	if !p.b.inTxn {
		return errors.New("no open transaction")
	}
	p.b.visible = append(p.b.visible, p.b.pending...)
	p.b.pending, p.b.inTxn = nil, false
	for _, o := range offsets {
		p.b.committed[o.TopicPartition] = o.Offset
	}
	return nil
}

func (p txProducer) AbortTransaction() error {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	p.b.pending, p.b.inTxn = nil, false
	p.b.aborts++
	return nil
}

// countFunc counts records per key in a store, through the task's store
// transaction as a stateful apply does, and returns {"key", "n"}.
type countFunc struct{ store string }

func (f countFunc) Call(c *engine.Context, r *engine.Row) (starlark.Value, error) {
	tx, err := c.Transaction(f.store)
	if err != nil {
		return nil, err
	}
	prefix, err := tx.Prefix(r.Key)
	if err != nil {
		return nil, err
	}
	n := 0
	if v, ok, err := tx.Get(prefix, starlark.String("n")); err != nil {
		return nil, err
	} else if ok {
		n, _ = starlark.AsInt32(v)
	}
	n++
	if err := tx.Set(prefix, starlark.String("n"), starlark.MakeInt(n)); err != nil {
		return nil, err
	}
	d := starlark.NewDict(2)
	_ = d.SetKey(starlark.String("key"), starlark.String(string(r.Key.(starlark.Bytes))))
	_ = d.SetKey(starlark.String("n"), starlark.MakeInt(n))
	return d, nil
}

// failAt fails on the record whose "i" is i.
type failAt struct{ i int }

func (f failAt) Call(_ *engine.Context, r *engine.Row) (starlark.Value, error) {
	v, _, _ := r.Value.(*starlark.Dict).Get(starlark.String("i"))
	if n, _ := starlark.AsInt32(v); n == f.i {
		return nil, errors.New("boom")
	}
	return r.Value, nil
}

// column returns value[name].
type column string

func (c column) Call(_ *engine.Context, r *engine.Row) (starlark.Value, error) {
	v, _, err := r.Value.(*starlark.Dict).Get(starlark.String(c))
	return v, err
}

func jsonTopic(name string) *engine.Topic {
	return &engine.Topic{Name: name, KeyDeserializer: serde.Bytes{}, ValueDeserializer: serde.JSON{}, KeySerializer: serde.Bytes{}, ValueSerializer: serde.JSON{}}
}

func memStores(t *testing.T, specs ...engine.StoreSpec) engine.Stores {
	t.Helper()
	s, release, err := runtime.MemoryStores(specs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return s
}

// countPipeline: [fail at i] -> count per key -> to_topic("out").
func countPipeline(fail int) *engine.Source {
	root := engine.NewRoot()
	n := root
	if fail >= 0 {
		n = n.Then(engine.Apply(failAt{fail}, false), "")
	}
	n.Then(engine.Apply(countFunc{engine.StoreID("in", "default")}, false), "").Then(engine.ToTopic(jsonTopic("out"), nil), "")
	return &engine.Source{Topic: jsonTopic("in"), Root: root}
}

// countsOf returns each key's counts in the order they became visible.
func countsOf(t *testing.T, recs []record.Record) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, r := range recs {
		if r.Topic != "out" {
			continue
		}
		v, err := serde.JSON{}.Deserialize(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		d := v.(*starlark.Dict)
		k, _, _ := d.Get(starlark.String("key"))
		n, _, _ := d.Get(starlark.String("n"))
		ni, _ := starlark.AsInt32(n)
		key := string(k.(starlark.String))
		out[key] = append(out[key], ni)
	}
	return out
}

// exact checks that every key counted 1..want, once each, in order.
func exact(t *testing.T, got map[string][]int, keys []string, want int) {
	t.Helper()
	for _, k := range keys {
		ns := got[k]
		ok := len(ns) == want
		for i := 0; ok && i < want; i++ {
			ok = ns[i] == i+1
		}
		if !ok {
			t.Errorf("key %s counted %v, want 1..%d once each", k, ns, want)
		}
	}
}

// storedCount reads a key's count from the store of partition p, as the
// partition's next owner would find it.
func storedCount(t *testing.T, s engine.Stores, p int32, key string) int {
	t.Helper()
	part, err := s.Open(context.Background(), engine.StoreSpec{Name: "default", Topic: "in"}, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Close()
	tx := part.Begin()
	prefix, _ := tx.Prefix(starlark.Bytes(key))
	v, ok, err := tx.Get(prefix, starlark.String("n"))
	if err != nil || !ok {
		return 0
	}
	n, _ := starlark.AsInt32(v)
	return n
}

func keyOf(p int32, i int) string { return fmt.Sprintf("k%d-%d", p, i%3) }

var allKeys = []string{"k0-0", "k0-1", "k0-2", "k1-0", "k1-1", "k1-2"}

func run(t *testing.T, cfg engine.Config) error {
	t.Helper()
	if cfg.StopWhenIdle == 0 {
		cfg.StopWhenIdle = 60 * time.Millisecond
	}
	_, err := engine.Run(context.Background(), cfg)
	return err
}

// TestCheckpointWritesStateAfterCommit: a stateful run on two partitions,
// in either guarantee, commits every offset; each output appears once;
// the stores hold each key's final count.
func TestCheckpointWritesStateAfterCommit(t *testing.T) {
	for _, g := range []engine.Guarantee{engine.AtLeastOnce, engine.ExactlyOnce} {
		t.Run(g.String(), func(t *testing.T) {
			b := newBroker(2, 30, keyOf)
			stores := memStores(t, engine.StoreSpec{Name: "default", Topic: "in"})
			var p engine.Producer = producer{b}
			if g == engine.ExactlyOnce {
				p = txProducer{producer{b}}
			}
			err := run(t, engine.Config{Sources: []*engine.Source{countPipeline(-1)}, Consumer: &consumer{b: b}, Producer: p,
				Stores: stores, Guarantee: g, CommitInterval: 5 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			exact(t, countsOf(t, b.visible), allKeys, 10)
			for p := int32(0); p < 2; p++ {
				if got := b.committed[record.TopicPartition{Topic: "in", Partition: p}]; got != 30 {
					t.Errorf("partition %d committed %d, want 30", p, got)
				}
				if n := storedCount(t, stores, p, fmt.Sprintf("k%d-0", p)); n != 10 {
					t.Errorf("partition %d: stored count %d, want 10", p, n)
				}
			}
		})
	}
}

// TestRevokeCommitsThenReassignResumes: partition 1 is revoked midway
// (its work is checkpointed), then assigned again; its task reopens the
// store and the counts carry on exactly.
func TestRevokeCommitsThenReassignResumes(t *testing.T) {
	b := newBroker(2, 30, keyOf)
	stores := memStores(t, engine.StoreSpec{Name: "default", Topic: "in"})
	p1 := []record.TopicPartition{{Topic: "in", Partition: 1}}
	c := &consumer{b: b, events: []event{{after: 20, kind: "revoke", tps: p1}, {after: 40, kind: "assign", tps: p1}}}
	err := run(t, engine.Config{Sources: []*engine.Source{countPipeline(-1)}, Consumer: c, Producer: producer{b},
		Stores: stores, CommitInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	exact(t, countsOf(t, b.visible), allKeys, 10)
}

// TestAssignmentDuringCloseIsIgnored: partitions assigned while the
// consumer closes, after the final checkpoint, start no task (the closing
// consumer cannot even say their committed offsets) and the run ends
// cleanly.
func TestAssignmentDuringCloseIsIgnored(t *testing.T) {
	b := newBroker(2, 30, keyOf)
	stores := memStores(t, engine.StoreSpec{Name: "default", Topic: "in"})
	p1 := []record.TopicPartition{{Topic: "in", Partition: 1}}
	c := &consumer{b: b, events: []event{{after: 5, kind: "revoke", tps: p1}}, assignOnClose: p1}
	err := run(t, engine.Config{Sources: []*engine.Source{countPipeline(-1)}, Consumer: c, Producer: producer{b},
		Stores: stores, CommitInterval: time.Hour})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestLostDropsUncommittedState (at-least-once): partition 1 is lost
// between checkpoints; its uncommitted state changes are dropped, so when
// it comes back its messages since the last commit are counted again from
// the committed state: the stored count is exact, and the redone messages'
// outputs count from 1 again (those processed before the loss, if any,
// appear twice: at-least-once; what was queued but not started when the
// partition was lost is not processed).
func TestLostDropsUncommittedState(t *testing.T) {
	b := newBroker(2, 30, keyOf)
	stores := memStores(t, engine.StoreSpec{Name: "default", Topic: "in"})
	p1 := []record.TopicPartition{{Topic: "in", Partition: 1}}
	c := &consumer{b: b, events: []event{{after: 20, kind: "lost", tps: p1}, {after: 40, kind: "assign", tps: p1}}}
	err := run(t, engine.Config{Sources: []*engine.Source{countPipeline(-1)}, Consumer: c, Producer: producer{b},
		Stores: stores, CommitInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if n := storedCount(t, stores, 1, "k1-0"); n != 10 {
		t.Errorf("partition 1 stored count %d after the loss and its return, want 10", n)
	}
	got := countsOf(t, b.visible)["k1-0"]
	redone := got[max(len(got)-10, 0):]
	for i, n := range redone {
		if n != i+1 || len(redone) != 10 {
			t.Errorf("k1-0 outputs %v: want the redone counts 1..10 at the end", got)
			break
		}
	}
}

// TestLostInExactlyOnceStops: losing a partition fences an exactly-once
// run: it stops with ErrFenced and aborts the open transaction; nothing
// after the last committed transaction is visible or written to state.
func TestLostInExactlyOnceStops(t *testing.T) {
	b := newBroker(2, 30, keyOf)
	stores := memStores(t, engine.StoreSpec{Name: "default", Topic: "in"})
	p1 := []record.TopicPartition{{Topic: "in", Partition: 1}}
	c := &consumer{b: b, events: []event{{after: 20, kind: "lost", tps: p1}}}
	err := run(t, engine.Config{Sources: []*engine.Source{countPipeline(-1)}, Consumer: c, Producer: txProducer{producer{b}},
		Stores: stores, Guarantee: engine.ExactlyOnce, CommitInterval: time.Hour})
	if !errors.Is(err, engine.ErrFenced) {
		t.Fatalf("run: %v, want ErrFenced", err)
	}
	if b.aborts == 0 || len(b.pending) != 0 {
		t.Errorf("aborts %d, pending %d: the open transaction must be aborted", b.aborts, len(b.pending))
	}
	if len(b.visible) != 0 || len(b.committed) != 0 {
		t.Errorf("visible %d records, committed %v: nothing was committed before the loss", len(b.visible), b.committed)
	}
	if n := storedCount(t, stores, 0, "k0-0"); n != 0 {
		t.Errorf("stored count %d: state of an aborted transaction was written", n)
	}
}

// TestExactlyOnceFailureAbortsAndResumes: a failing message aborts the
// open transaction; a second run from the committed offsets and state
// (the message now passing) produces every count exactly once.
func TestExactlyOnceFailureAbortsAndResumes(t *testing.T) {
	b := newBroker(2, 30, keyOf)
	stores := memStores(t, engine.StoreSpec{Name: "default", Topic: "in"})
	err := run(t, engine.Config{Sources: []*engine.Source{countPipeline(25)}, Consumer: &consumer{b: b}, Producer: txProducer{producer{b}},
		Stores: stores, Guarantee: engine.ExactlyOnce, CommitInterval: 5 * time.Millisecond})
	if err == nil || b.aborts == 0 {
		t.Fatalf("run: %v with %d aborts, want the failure and an abort", err, b.aborts)
	}
	err = run(t, engine.Config{Sources: []*engine.Source{countPipeline(-1)}, Consumer: &consumer{b: b}, Producer: txProducer{producer{b}},
		Stores: stores, Guarantee: engine.ExactlyOnce, CommitInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	exact(t, countsOf(t, b.visible), allKeys, 10)
}

// TestReloadKeepsWindowState: a windowed sum is hot-reloaded midway (the
// new pipeline also writes to a second topic); the reload switches at a
// committed checkpoint (a committed transaction in exactly-once mode), the
// window store carries over, so the windows closed after the reload hold
// every value, each once.
func TestReloadKeepsWindowState(t *testing.T) {
	for _, g := range []engine.Guarantee{engine.AtLeastOnce, engine.ExactlyOnce} {
		t.Run(g.String(), func(t *testing.T) { testReload(t, g) })
	}
}

func testReload(t *testing.T, g engine.Guarantee) {
	b := newBroker(1, 40, func(int32, int) string { return "k" })
	var p engine.Producer = producer{b}
	if g == engine.ExactlyOnce {
		p = txProducer{producer{b}}
	}
	stores := memStores(t, engine.StoreSpec{Name: "w", Topic: "in", Windowed: true})
	pipeline := func(extra bool) *engine.Source {
		root := engine.NewRoot()
		n := root.Then(engine.Apply(column("i"), false), "").
			Then(engine.Window(engine.StoreID("in", "w"), windows.Fixed{Duration: 10000, Step: 10000, Agg: windows.Sum()}, true, engine.WindowOptions{}), "")
		n.Then(engine.ToTopic(jsonTopic("out"), nil), "")
		if extra {
			n.Then(engine.ToTopic(jsonTopic("after-reload"), nil), "")
		}
		return &engine.Source{Topic: jsonTopic("in"), Root: root}
	}
	reloads := make(chan engine.Reload)
	c := &reloadingConsumer{consumer: consumer{b: b}, at: 15, reloads: reloads, next: pipeline(true)}
	err := run(t, engine.Config{Sources: []*engine.Source{pipeline(false)}, Consumer: c, Producer: p,
		Stores: stores, CommitInterval: time.Hour, Reloads: reloads, Guarantee: g})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-c.done; err != nil {
		t.Fatalf("reload: %v", err)
	}
	var sums, after []string
	for _, r := range b.visible {
		switch r.Topic {
		case "out":
			sums = append(sums, string(r.Value))
		case "after-reload":
			after = append(after, string(r.Value))
		}
	}
	// Reading i is at i s: [0,10) sums 0..9 = 45, [10,20) 145 and
	// [20,30) 245 close (the last reading is at 39 s).
	want := `[{"start":0,"end":10000,"value":45} {"start":10000,"end":20000,"value":145} {"start":20000,"end":30000,"value":245}]`
	if fmt.Sprint(sums) != want {
		t.Errorf("windows %v, want %s", sums, want)
	}
	if len(after) == 0 || len(after) >= len(sums) {
		t.Errorf("the new pipeline produced %v to its new topic: want the windows closed after the reload only", after)
	}
}

// reloadingConsumer asks for a reload once `at` messages were handed out.
// The request is sent from a goroutine: the engine picks it up in its
// loop, between polls.
type reloadingConsumer struct {
	consumer
	at      int
	reloads chan engine.Reload
	next    *engine.Source
	done    chan error
}

func (c *reloadingConsumer) Poll(d time.Duration) (*record.Record, error) {
	if c.done == nil && c.served >= c.at {
		c.done = make(chan error, 1)
		go func() { c.reloads <- engine.Reload{Sources: []*engine.Source{c.next}, Done: c.done} }()
		time.Sleep(10 * time.Millisecond)
		return nil, nil
	}
	return c.consumer.Poll(d)
}

// stuckPipeline: a Starlark apply that never returns on the record whose
// "i" is 3, then to_topic("out").
func stuckPipeline(t *testing.T) *engine.Source {
	t.Helper()
	g, err := starlark.ExecFile(&starlark.Thread{}, "stuck.star", `
def f(v):
    if v["i"] == 3:
        for i in range(1000000000000):
            pass
    return v
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	g.Freeze()
	root := engine.NewRoot()
	root.Then(engine.Apply(&engine.Callback{Fn: g["f"].(starlark.Callable)}, false), "").Then(engine.ToTopic(jsonTopic("out"), nil), "")
	return &engine.Source{Topic: jsonTopic("in"), Root: root}
}

// TestReloadCancelsStuckCallback: a reload waits for the tasks at a
// barrier; a callback that never returns is cancelled after the grace
// period, so the run fails saying so instead of hanging, and nothing
// after the last checkpoint is committed.
func TestReloadCancelsStuckCallback(t *testing.T) {
	pipeline := func() *engine.Source { return stuckPipeline(t) }
	b := newBroker(1, 10, func(int32, int) string { return "k" })
	reloads := make(chan engine.Reload)
	c := &reloadingConsumer{consumer: consumer{b: b}, at: 6, reloads: reloads, next: pipeline()}
	err := run(t, engine.Config{Sources: []*engine.Source{pipeline()}, Consumer: c, Producer: producer{b},
		CommitInterval: time.Hour, Reloads: reloads, ShutdownGrace: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "a reload is waiting and the callback did not return") {
		t.Fatalf("run: %v, want the stuck callback cancelled", err)
	}
	if len(b.committed) != 0 {
		t.Errorf("committed %v: nothing was checkpointed before the stuck message", b.committed)
	}
}

// TestShutdownCancelsStuckCallback: once the run's context is done, a
// callback stuck on one message is cancelled after the grace period,
// even while an interval checkpoint waits for it; the run fails saying
// so, and nothing past the last checkpoint is committed. Messages queued
// behind it are not processed.
func TestShutdownCancelsStuckCallback(t *testing.T) {
	b := newBroker(1, 10, func(int32, int) string { return "k" })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := engine.Run(ctx, engine.Config{Sources: []*engine.Source{stuckPipeline(t)}, Consumer: &consumer{b: b},
		Producer: producer{b}, CommitInterval: 50 * time.Millisecond, ShutdownGrace: 100 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not return within the shutdown grace period") {
		t.Fatalf("run: %v, want the stuck callback cancelled at shutdown", err)
	}
	if got := b.committed[record.TopicPartition{Topic: "in", Partition: 0}]; got > 3 {
		t.Errorf("committed %d: past the stuck message at offset 3", got)
	}
	if len(b.visible) > 3 {
		t.Errorf("%d outputs: messages after the stuck one were processed", len(b.visible))
	}
}

// refusingSink asks for time on its first `refuse` flushes that hold
// records, then writes: it keeps the counts it was flushed, per key.
type refusingSink struct {
	mu      sync.Mutex
	refuse  int
	refused int
	added   []record.Offset
	counts  map[string][]int
	offsets map[record.TopicPartition][]int64
}

func (s *refusingSink) String() string { return "refusing" }

func (s *refusingSink) Add(_ *engine.Context, r engine.SinkRecord) error {
	d := r.Value.(*starlark.Dict)
	n, _, _ := d.Get(starlark.String("n"))
	ni, _ := starlark.AsInt32(n)
	k, _, _ := d.Get(starlark.String("key"))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.added = append(s.added, record.Offset{TopicPartition: record.TopicPartition{Topic: r.Topic + "\x00" + string(k.(starlark.String)), Partition: r.Partition}, Offset: int64(ni)*1_000_000 + r.Offset})
	return nil
}

func (s *refusingSink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.added) == 0 {
		return nil
	}
	if s.refused < s.refuse {
		s.refused++
		s.added = nil
		return &engine.BackpressureError{RetryAfter: 20 * time.Millisecond}
	}
	for _, a := range s.added {
		topic, key, _ := strings.Cut(a.Topic, "\x00")
		tp := record.TopicPartition{Topic: topic, Partition: a.Partition}
		s.counts[key] = append(s.counts[key], int(a.Offset/1_000_000))
		s.offsets[tp] = append(s.offsets[tp], a.Offset%1_000_000)
	}
	s.added = nil
	return nil
}

func (s *refusingSink) OnPaused() {
	s.mu.Lock()
	s.added = nil
	s.mu.Unlock()
}

// TestSinkBackpressureReplays: a sink refuses its first two flushes; each
// time the checkpoint is dropped (state changes too), the partitions are
// sought back, and once the sink accepts, every message reaches it once,
// with the counts it would have had without the refusals, and every offset
// is committed.
func TestSinkBackpressureReplays(t *testing.T) {
	b := newBroker(2, 30, keyOf)
	stores := memStores(t, engine.StoreSpec{Name: "default", Topic: "in"})
	sink := &refusingSink{refuse: 2, counts: map[string][]int{}, offsets: map[record.TopicPartition][]int64{}}
	root := engine.NewRoot()
	root.Then(engine.Apply(countFunc{engine.StoreID("in", "default")}, false), "").Then(engine.SinkTo(sink), "")
	err := run(t, engine.Config{Sources: []*engine.Source{{Topic: jsonTopic("in"), Root: root}}, Consumer: &consumer{b: b}, Producer: producer{b},
		Stores: stores, CommitInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if sink.refused != 2 {
		t.Fatalf("the sink refused %d flushes, want 2", sink.refused)
	}
	exact(t, sink.counts, allKeys, 10)
	for p := int32(0); p < 2; p++ {
		tp := record.TopicPartition{Topic: "in", Partition: p}
		offs := sink.offsets[tp]
		sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
		ok := len(offs) == 30
		for i := 0; ok && i < 30; i++ {
			ok = offs[i] == int64(i)
		}
		if !ok {
			t.Errorf("partition %d: the sink wrote offsets %v, want 0..29 once each", p, offs)
		}
		if got := b.committed[tp]; got != 30 {
			t.Errorf("partition %d committed %d, want 30", p, got)
		}
	}
}
