package runtime

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/state"
)

// consumer adapts *kafka.Consumer to engine.Consumer. Both speak the
// record package's types; the adapter only maps the rebalance handler and
// the errors the engine acts on.
type consumer struct{ *kafka.Consumer }

func (a consumer) Subscribe(topics []string, r engine.Rebalancer) error {
	return a.Consumer.Subscribe(topics, r)
}

func (a consumer) Commit(offsets []record.Offset) error {
	err := a.Consumer.Commit(offsets)
	if errors.Is(err, kafka.ErrRebalanceInProgress) {
		return fmt.Errorf("%w: %v", engine.ErrCommitRetriable, err)
	}
	return err
}

func (a consumer) CachedWatermarks(tp record.TopicPartition) (int64, int64, error) {
	return a.Consumer.CachedWatermarks(tp.Topic, tp.Partition)
}

func (a consumer) Position(tp record.TopicPartition) (int64, error) {
	return a.Consumer.Position(tp.Topic, tp.Partition)
}

// *kafka.ChangelogReader reads changelogs for the state package as it is.
var _ state.ChangelogSource = (*kafka.ChangelogReader)(nil)

// producer adapts *kafka.Producer to engine.Producer.
type producer struct{ p *kafka.Producer }

func (a producer) Produce(m *record.Record) error { return a.p.Produce(m) }

func (a producer) Flush(timeout time.Duration) error { return a.p.Flush(timeout) }

func (a producer) Offset(topic string, partition int32) (int64, bool) {
	return a.p.Offset(topic, partition)
}

// txProducer adapts a transactional *kafka.Producer to engine.Transactor:
// its transactions commit the offsets of c's group.
type txProducer struct {
	producer
	c *kafka.Consumer
}

func (a txProducer) BeginTransaction() error { return engineError(a.p.BeginTransaction()) }

func (a txProducer) CommitTransaction(offsets []record.Offset) error {
	return engineError(a.p.CommitTransaction(offsets, a.c))
}

func (a txProducer) AbortTransaction() error { return engineError(a.p.AbortTransaction()) }

func (a txProducer) Flush(timeout time.Duration) error { return engineError(a.p.Flush(timeout)) }

// engineError marks kafka's fencing errors with engine.ErrFenced.
func engineError(err error) error {
	if errors.Is(err, kafka.ErrFenced) && !errors.Is(err, engine.ErrFenced) {
		return fmt.Errorf("%w: %w", engine.ErrFenced, err)
	}
	return err
}

// lineWriter serializes whole-line writes from concurrent tasks.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (a consumer) Unprocessed(topics []string, positions map[record.TopicPartition]int64) ([]fmt.Stringer, error) {
	left, err := a.Consumer.Unprocessed(topics, positions)
	out := make([]fmt.Stringer, len(left))
	for i, u := range left {
		out[i] = u
	}
	return out, err
}
