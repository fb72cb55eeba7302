package runtime

import (
	"io"
	"sync"
	"time"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/kafka"
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
	out := &engine.Message{
		Topic:     m.Topic,
		Partition: m.Partition,
		Offset:    m.Offset,
		Key:       m.Key,
		Value:     m.Value,
		Timestamp: m.Timestamp,
	}
	if len(m.Headers) > 0 {
		out.Headers = make([]engine.Header, len(m.Headers))
		for i, h := range m.Headers {
			out.Headers[i] = engine.Header(h)
		}
	}
	return out, nil
}

func (a consumer) Commit(offsets []engine.Offset) error {
	tps := make([]kafka.TopicPartition, len(offsets))
	for i, o := range offsets {
		tps[i] = kafka.TopicPartition{Topic: o.Topic, Partition: o.Partition, Offset: o.Offset}
	}
	return a.c.Commit(tps)
}

func (a consumer) Close() error { return a.c.Close() }

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

func (a producer) Produce(m *engine.OutMessage) error {
	out := kafka.OutMessage{
		Topic:     m.Topic,
		Partition: m.Partition,
		Key:       m.Key,
		Value:     m.Value,
		Timestamp: m.Timestamp,
	}
	if len(m.Headers) > 0 {
		out.Headers = make([]kafka.Header, len(m.Headers))
		for i, h := range m.Headers {
			out.Headers[i] = kafka.Header(h)
		}
	}
	return a.p.Produce(&out)
}

func (a producer) Flush(timeout time.Duration) error { return a.p.Flush(timeout) }

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
