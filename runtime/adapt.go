package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/state"
)

// consumer adapts *kafka.Consumer to engine.Consumer.
type consumer struct{ c *kafka.Consumer }

func (a consumer) Subscribe(topics []string, r engine.Rebalancer) error {
	return a.c.Subscribe(topics, rebalancer{r})
}

func (a consumer) Poll(timeout time.Duration) (*engine.Message, error) {
	m, err := a.c.Poll(timeout)
	if m == nil || err != nil {
		return nil, err
	}
	// The two message types have the same fields (Header is one type), so
	// the consumed message passes to the engine without a copy; a field
	// added to one and not the other stops this from compiling.
	return (*engine.Message)(m), nil
}

func (a consumer) Commit(offsets []engine.Offset) error {
	tps := make([]kafka.TopicPartition, len(offsets))
	for i, o := range offsets {
		tps[i] = kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition, Offset: o.Offset}
	}
	err := a.c.Commit(tps)
	if errors.Is(err, kafka.ErrRebalanceInProgress) {
		return fmt.Errorf("%w: %v", engine.ErrCommitRetriable, err)
	}
	return err
}

func (a consumer) Close() error { return a.c.Close() }

func toKafka(tps []engine.TopicPartition) []kafka.TopicPartition {
	out := make([]kafka.TopicPartition, len(tps))
	for i, tp := range tps {
		out[i] = kafka.TopicPartition{Topic: tp.Topic, Partition: tp.Partition}
	}
	return out
}

func (a consumer) Committed(tps []engine.TopicPartition) ([]engine.Offset, error) {
	res, err := a.c.Committed(toKafka(tps))
	if err != nil {
		return nil, err
	}
	out := make([]engine.Offset, len(res))
	for i, r := range res {
		out[i] = engine.Offset{TopicPartition: engine.TopicPartition{Topic: r.Topic, Partition: r.Partition}, Offset: r.Offset}
	}
	return out, nil
}

func (a consumer) Pause(tps []engine.TopicPartition) error { return a.c.Pause(toKafka(tps)) }

func (a consumer) CachedWatermarks(tp engine.TopicPartition) (int64, int64, error) {
	return a.c.CachedWatermarks(tp.Topic, tp.Partition)
}
func (a consumer) Resume(tps []engine.TopicPartition) error { return a.c.Resume(toKafka(tps)) }

// changelogReader adapts kafka.ChangelogReader to state.ChangelogSource.
type changelogReader struct{ r *kafka.ChangelogReader }

func (c changelogReader) Watermarks(topic string, partition int32) (int64, int64, error) {
	return c.r.Watermarks(topic, partition)
}

func (c changelogReader) Read(ctx context.Context, topic string, partition int32, from int64, fn func(state.ChangelogRecord) error) error {
	return c.r.Read(ctx, topic, partition, from, func(m *kafka.Message) error {
		return fn(state.ChangelogRecord{Offset: m.Offset, Key: m.Key, Value: m.Value, Headers: m.Headers})
	})
}

type rebalancer struct{ r engine.Rebalancer }

func toEngine(tps []kafka.TopicPartition) []engine.TopicPartition {
	out := make([]engine.TopicPartition, len(tps))
	for i, tp := range tps {
		out[i] = engine.TopicPartition{Topic: tp.Topic, Partition: tp.Partition}
	}
	return out
}

func (r rebalancer) Assigned(tps []kafka.TopicPartition) error { return r.r.Assigned(toEngine(tps)) }
func (r rebalancer) Revoked(tps []kafka.TopicPartition) error  { return r.r.Revoked(toEngine(tps)) }
func (r rebalancer) Lost(tps []kafka.TopicPartition) error     { return r.r.Lost(toEngine(tps)) }

// producer adapts *kafka.Producer to engine.Producer.
type producer struct{ p *kafka.Producer }

// txProducer adapts a transactional *kafka.Producer to engine.Transactor:
// its transactions commit the offsets of c's group.
type txProducer struct {
	producer
	c *kafka.Consumer
}

func (a txProducer) BeginTransaction() error { return engineError(a.p.BeginTransaction()) }

func (a txProducer) CommitTransaction(offsets []engine.Offset) error {
	tps := make([]kafka.TopicPartition, len(offsets))
	for i, o := range offsets {
		tps[i] = kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition, Offset: o.Offset}
	}
	return engineError(a.p.CommitTransaction(tps, a.c))
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

func (a producer) Produce(m *engine.OutMessage) error {
	// Same fields, as for consumed messages; kafka does not keep m.
	return a.p.Produce((*kafka.OutMessage)(m))
}

func (a producer) Flush(timeout time.Duration) error { return a.p.Flush(timeout) }

func (a producer) Offset(topic string, partition int32) (int64, bool) {
	return a.p.Offset(topic, partition)
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
