package engine

import (
	"errors"
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/serde"
)

// Row is one record flowing through a pipeline: the deserialized value and
// key, the timestamp in milliseconds, and the headers (nil when none).
type Row struct {
	Value     starlark.Value
	Key       starlark.Value
	Timestamp int64
	Headers   []record.Header
}

// Consumer is the engine's view of a Kafka consumer in a consumer group.
// Its methods are called from one goroutine.
type Consumer interface {
	// Subscribe joins the group for topics; r is called from inside Poll
	// on every assignment change.
	Subscribe(topics []string, r Rebalancer) error
	// Poll waits up to timeout for a message; (nil, nil) on timeout.
	Poll(timeout time.Duration) (*record.Record, error)
	// Commit commits offsets synchronously.
	Commit(offsets []record.Offset) error
	// Committed returns the committed offsets of tps (record.NoOffset for
	// a partition without one).
	Committed(tps []record.TopicPartition) ([]record.Offset, error)
	// Pause stops fetching tps; Resume starts again from the position.
	Pause(tps []record.TopicPartition) error
	Resume(tps []record.TopicPartition) error
	// Seek moves the position of assigned partitions to the offsets
	// (what is prefetched from before is dropped).
	Seek(offsets []record.Offset) error
	// Close leaves the group. Close may call r.Revoked.
	Close() error
}

// Rebalancer receives assignment changes. Its methods run on the goroutine
// that calls Consumer.Poll or Consumer.Close.
type Rebalancer interface {
	Assigned(tps []record.TopicPartition) error
	Revoked(tps []record.TopicPartition) error
	Lost(tps []record.TopicPartition) error
}

// Producer is the engine's view of a Kafka producer. Produce is safe for
// concurrent use by tasks.
type Producer interface {
	// Produce queues m for delivery. A delivery failure is reported by the
	// next Flush.
	Produce(m *record.Record) error
	// Flush waits until every queued message is delivered or failed, and
	// returns the first failure since the previous Flush.
	Flush(timeout time.Duration) error
	// Offset returns the offset of the last message delivered to a
	// partition by this producer.
	Offset(topic string, partition int32) (int64, bool)
}

// Topic is a topic as the pipeline sees it: its name and codecs. A nil codec
// means the topic is not read (or not written) by the pipeline.
type Topic struct {
	Name              string
	KeyDeserializer   serde.Deserializer
	ValueDeserializer serde.Deserializer
	KeySerializer     serde.Serializer
	ValueSerializer   serde.Serializer
	// TimestampExtractor, when set, replaces each consumed record's
	// timestamp with f(value, headers, timestamp, timestamp_type).
	TimestampExtractor starlark.Callable
}

// Serialize appends the key and value, serialized with the topic's codecs,
// to buf and returns the grown buffer with the key and value as slices of
// it. A None key is no key. A None value is no value (a tombstone, as
// librdkafka sends Python's None), except with json, which writes null.
func (t *Topic) Serialize(buf []byte, key, value starlark.Value) (out, k, v []byte, err error) {
	keyStart, keyEnd := len(buf), -1
	if key != starlark.None {
		if buf, err = t.KeySerializer.Serialize(buf, key); err != nil {
			return buf, nil, nil, fmt.Errorf("key for topic %q: %w", t.Name, err)
		}
		keyEnd = len(buf)
	}
	if _, isJSON := t.ValueSerializer.(serde.JSON); value != starlark.None || isJSON {
		start := len(buf)
		if buf, err = t.ValueSerializer.Serialize(buf, value); err != nil {
			return buf, nil, nil, fmt.Errorf("value for topic %q: %w", t.Name, err)
		}
		v = buf[start:len(buf):len(buf)]
	}
	if keyEnd >= 0 {
		k = buf[keyStart:keyEnd:keyEnd]
	}
	return buf, k, v, nil
}

// ExtraHeaders returns the headers the value serializer adds to every
// message (Quix formats, extra_headers), or nil.
func (t *Topic) ExtraHeaders() []record.Header {
	hs, ok := t.ValueSerializer.(serde.HeaderSerializer)
	if !ok {
		return nil
	}
	return append([]record.Header(nil), hs.ExtraHeaders()...)
}

// Deserialize decodes m into a Row with the topic's codecs; a nil key or value
// becomes None without calling the codec.
func (t *Topic) Deserialize(m *record.Record) (Row, error) {
	r := Row{Key: starlark.None, Value: starlark.None, Timestamp: m.Timestamp, Headers: m.Headers}
	var err error
	if m.Key != nil {
		if r.Key, err = t.KeyDeserializer.Deserialize(m.Key); err != nil {
			return r, &DeserializeError{Message: m, Part: "key", Err: err}
		}
	}
	if m.Value != nil {
		if r.Value, err = t.ValueDeserializer.Deserialize(m.Value); err != nil {
			return r, &DeserializeError{Message: m, Part: "value", Err: err}
		}
	}
	return r, nil
}

// DeserializeRows decodes m into its rows: one, or several for a
// splitting deserializer (Quix formats), or serde.ErrIgnoreMessage for a
// message without data. The rows share the key, timestamp and headers.
// They are appended to dst[:0], so a caller may reuse one slice.
func (t *Topic) DeserializeRows(m *record.Record, dst []Row) ([]Row, error) {
	split, ok := t.ValueDeserializer.(serde.SplitDeserializer)
	if !ok || m.Value == nil {
		r, err := t.Deserialize(m)
		if err != nil {
			return nil, err
		}
		return append(dst[:0], r), nil
	}
	key := starlark.Value(starlark.None)
	if m.Key != nil {
		k, err := t.KeyDeserializer.Deserialize(m.Key)
		if err != nil {
			return nil, &DeserializeError{Message: m, Part: "key", Err: err}
		}
		key = k
	}
	values, err := split.DeserializeSplit(m.Value, m.Headers)
	if errors.Is(err, serde.ErrIgnoreMessage) {
		return nil, err
	}
	if err != nil {
		return nil, &DeserializeError{Message: m, Part: "value", Err: err}
	}
	if len(values) == 0 {
		return nil, serde.ErrIgnoreMessage
	}
	rows := dst[:0]
	for _, v := range values {
		rows = append(rows, Row{Value: v, Key: key, Timestamp: m.Timestamp, Headers: m.Headers})
	}
	return rows, nil
}
