package kafka

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/qstar-dev/qstar/record"
)

// ProducerConfig configures a producer.
type ProducerConfig struct {
	Brokers string
	// Extra is passed to librdkafka after qstar's defaults
	// (partitioner=murmur2, enable.idempotence=true), which it may override.
	Extra map[string]string
	// Connection holds security settings (SASL, SSL), applied after Extra.
	Connection map[string]string
	// TransactionalID, when set, makes the producer transactional (for
	// exactly-once): NewProducer registers it with the broker, aborting a
	// transaction a previous producer with the same id left open, and
	// every message must be produced inside BeginTransaction and
	// CommitTransaction. An extra "transactional.id" overrides it.
	TransactionalID string
	// TransactionTimeout is transaction.timeout.ms for a transactional
	// producer. Default DefaultTransactionTimeout.
	TransactionTimeout time.Duration
	Logger             *slog.Logger
}

// Producer sends messages asynchronously and reports delivery failures on
// Flush. It is safe for concurrent use.
type Producer struct {
	p     *ckafka.Producer
	log   *slog.Logger
	quiet *quieter // for client errors
	done  chan struct{}
	txnID string // "" unless transactional
	inTxn atomic.Bool

	// outstanding counts messages produced whose delivery report has not
	// been handled yet; Flush waits for it to reach zero, so a failure is
	// always recorded before Flush reads it.
	outstanding atomic.Int64

	mu       sync.Mutex
	firstErr error                  // first delivery failure since the last Flush
	offsets  map[partitionKey]int64 // last delivered offset per partition
}

type partitionKey struct {
	topic     string
	partition int32
}

// NewProducer creates a producer with Quix Streams' defaults.
func NewProducer(cfg ProducerConfig) (*Producer, error) {
	if cfg.Brokers == "" {
		return nil, errors.New("kafka: producer: no broker address")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	base := map[string]string{
		"partitioner":        "murmur2",
		"enable.idempotence": "true",
		// Batching: librdkafka's default linger (5 ms) and batch size keep
		// latency low; a checkpoint's Flush sends whatever is queued.
		"linger.ms": "5",
	}
	if cfg.TransactionalID != "" {
		timeout := cfg.TransactionTimeout
		if timeout <= 0 {
			timeout = DefaultTransactionTimeout
		}
		base["transactional.id"] = cfg.TransactionalID
		base["transaction.timeout.ms"] = fmt.Sprint(timeout.Milliseconds())
	}
	forced := map[string]string{"bootstrap.servers": cfg.Brokers}
	cm, err := buildConfig(base, merge(cfg.Extra, cfg.Connection), forced, []string{"bootstrap.servers"})
	if err != nil {
		return nil, fmt.Errorf("kafka: producer: %w", err)
	}
	txnID, _ := cm.Get("transactional.id", "")
	// Delivery reports carry only the error and position: no copy of the
	// key and value back into Go.
	_ = cm.SetKey("go.delivery.report.fields", "none")
	p, err := ckafka.NewProducer(cm)
	if err != nil {
		return nil, fmt.Errorf("kafka: new producer: %w", err)
	}
	forwardLogs(p.Logs(), cfg.Logger)
	pr := &Producer{p: p, log: cfg.Logger, quiet: newQuieter(cfg.Logger), done: make(chan struct{}), offsets: map[partitionKey]int64{}}
	pr.txnID, _ = txnID.(string)
	go pr.events()
	if pr.txnID != "" {
		if err := pr.initTransactions(); err != nil {
			pr.p.Close()
			<-pr.done
			return nil, err
		}
	}
	return pr, nil
}

func (p *Producer) events() {
	defer close(p.done)
	for ev := range p.p.Events() {
		switch e := ev.(type) {
		case *ckafka.Message:
			if err := e.TopicPartition.Error; err != nil {
				p.record(fmt.Errorf("kafka: deliver to %s[%d]: %w", *e.TopicPartition.Topic, e.TopicPartition.Partition, err))
			} else {
				k := partitionKey{*e.TopicPartition.Topic, e.TopicPartition.Partition}
				p.mu.Lock()
				if last, ok := p.offsets[k]; !ok || int64(e.TopicPartition.Offset) > last {
					p.offsets[k] = int64(e.TopicPartition.Offset)
				}
				p.mu.Unlock()
			}
			p.outstanding.Add(-1)
		case ckafka.Error:
			if e.IsFatal() {
				p.record(fmt.Errorf("kafka: producer: %w", txnError(e)))
				continue
			}
			switch e.Code() {
			case ckafka.ErrAllBrokersDown, ckafka.ErrDestroy:
				// Ignored as Quix Streams does: librdkafka retries.
			default:
				p.quiet.Log(slog.LevelWarn, "kafka producer error", "error", e.Error())
			}
		}
	}
}

func (p *Producer) record(err error) {
	p.mu.Lock()
	if p.firstErr == nil {
		p.firstErr = err
	}
	p.mu.Unlock()
}

// Produce queues m. Key and value are copied before it returns. When
// librdkafka's queue is full it waits for room, up to a minute.
func (p *Producer) Produce(m *record.Record) error {
	partition := m.Partition
	if partition < 0 {
		partition = ckafka.PartitionAny
	}
	// Without a delivery channel or opaque, the client keeps neither cm
	// nor its topic pointer past Produce: &m.Topic saves a copy.
	cm := &ckafka.Message{
		TopicPartition: ckafka.TopicPartition{Topic: &m.Topic, Partition: partition},
		Key:            m.Key,
		Value:          m.Value,
	}
	if m.Timestamp != 0 {
		cm.Timestamp = time.UnixMilli(m.Timestamp)
	}
	if len(m.Headers) > 0 {
		cm.Headers = make([]ckafka.Header, len(m.Headers))
		for i, h := range m.Headers {
			cm.Headers[i] = ckafka.Header{Key: h.Key, Value: h.Value}
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		p.outstanding.Add(1)
		err := p.p.Produce(cm, nil)
		if err == nil {
			return nil
		}
		p.outstanding.Add(-1)
		var ke ckafka.Error
		if !errors.As(err, &ke) || ke.Code() != ckafka.ErrQueueFull || time.Now().After(deadline) {
			return fmt.Errorf("kafka: produce to %q: %w", m.Topic, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Flush waits until every queued message is delivered or failed, then
// returns (and clears) the first delivery failure since the last Flush.
func (p *Producer) Flush(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for p.outstanding.Load() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("kafka: flush: %d messages still undelivered after %s", p.outstanding.Load(), timeout)
		}
		if p.p.Len() > 0 {
			p.p.Flush(100)
		} else {
			// Reports are queued for the events goroutine.
			time.Sleep(100 * time.Microsecond)
		}
	}
	p.mu.Lock()
	err := p.firstErr
	p.firstErr = nil
	p.mu.Unlock()
	return err
}

// Close flushes for up to timeout and closes the producer.
func (p *Producer) Close(timeout time.Duration) error {
	err := p.Flush(timeout)
	p.p.Close()
	<-p.done
	return err
}

// Offset returns the offset of the last message delivered to a partition
// by this producer.
func (p *Producer) Offset(topic string, partition int32) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	off, ok := p.offsets[partitionKey{topic, partition}]
	return off, ok
}
