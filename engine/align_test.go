package engine

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/record"
)

// wmConsumer is a fakeConsumer with high watermarks.
type wmConsumer struct {
	*fakeConsumer
	high map[record.TopicPartition]int64
}

func (c *wmConsumer) CachedWatermarks(tp record.TopicPartition) (int64, int64, error) {
	h, ok := c.high[tp]
	if !ok {
		return -1, -1, nil
	}
	return 0, h, nil
}

// alignedTask returns a runner and a task of partition 0 of topics a
// and b, with the given high watermarks.
func alignedTask(high map[string]int64) (*runner, *task, *wmConsumer) {
	c := &wmConsumer{fakeConsumer: newFakeConsumer(), high: map[record.TopicPartition]int64{}}
	for topic, h := range high {
		c.high[record.TopicPartition{Topic: topic, Partition: 0}] = h
	}
	cfg := Config{Consumer: c, QueueSize: 100, QueueBytes: 1 << 20, Metrics: &Metrics{}}
	r := &runner{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), tasks: map[record.TopicPartition]*task{}}
	t := &task{partition: 0, parts: map[string]*taskPart{}, in: make(chan taskItem, 100)}
	for _, topic := range []string{"a", "b"} {
		tp := record.TopicPartition{Topic: topic, Partition: 0}
		t.parts[topic] = &taskPart{tp: tp, processed: -1, dispatched: -1, received: -1, firstPolled: -1, committedAtAssign: record.NoOffset}
		r.tasks[tp] = t
	}
	return r, t, c
}

func handed(t *task) []string {
	var out []string
	for len(t.in) > 0 {
		it := <-t.in
		out = append(out, it.m.Topic+string(it.m.Value))
	}
	return out
}

func msgAt(topic string, offset, ts int64, v string) *record.Record {
	return &record.Record{Topic: topic, Offset: offset, Timestamp: ts, Value: []byte(v)}
}

// TestAlignment pins the timestamp alignment of a task of two topics: a
// message goes on only while the other partition has one buffered or is
// read to its end, smallest timestamp first; a partition that shows
// neither holds the other for at most alignWait.
func TestAlignment(t *testing.T) {
	r, tk, c := alignedTask(map[string]int64{"a": 3, "b": 3})
	r.buffer(tk, msgAt("a", 0, 10, "0"))
	r.buffer(tk, msgAt("a", 1, 30, "1"))
	if got := handed(tk); len(got) != 0 {
		t.Fatalf("handed %v while b, not read to its end, had nothing buffered", got)
	}
	r.buffer(tk, msgAt("b", 0, 20, "0"))
	if got := handed(tk); len(got) != 2 || got[0] != "a0" || got[1] != "b0" {
		t.Fatalf("handed %v, want [a0 b0] (a1 waits for b)", got)
	}
	r.buffer(tk, msgAt("b", 1, 40, "1"))
	if got := handed(tk); len(got) != 1 || got[0] != "a1" {
		t.Fatalf("handed %v, want [a1] (b1 waits for a)", got)
	}
	// a is read to its end (its high watermark is 2 now): b goes on.
	c.high[record.TopicPartition{Topic: "a", Partition: 0}] = 2
	r.aligning = []*task{tk}
	r.alignAll(time.Now().Add(2 * alignPoll))
	if got := handed(tk); len(got) != 1 || got[0] != "b1" {
		t.Fatalf("handed %v, want [b1] once a is idle", got)
	}
	if len(r.aligning) != 0 {
		t.Errorf("a task with nothing buffered stays aligning")
	}

	// A partition with an unknown watermark holds the other for alignWait.
	r, tk, _ = alignedTask(map[string]int64{"a": 5})
	start := time.Now()
	r.buffer(tk, msgAt("a", 0, 10, "0"))
	r.alignAll(start.Add(alignWait / 2))
	if got := handed(tk); len(got) != 0 {
		t.Fatalf("handed %v before alignWait", got)
	}
	r.alignAll(start.Add(alignWait + alignPoll))
	if got := handed(tk); len(got) != 1 || got[0] != "a0" {
		t.Fatalf("handed %v after alignWait, want [a0]", got)
	}
}
