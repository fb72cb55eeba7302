// Package record is qstar's one Kafka record vocabulary: the record that
// is consumed and produced, its headers, and the names of partitions and
// positions. Every other package passes these types on; none re-declares
// them. It imports nothing of qstar.
package record

import "fmt"

// Header is one Kafka message header.
type Header struct {
	Key   string
	Value []byte
}

// Record is one Kafka message, consumed or to produce. A consumer hands
// its records to their new owner (nothing keeps them); a producer copies
// Key and Value before Produce returns.
type Record struct {
	Topic string
	// Partition of a record to produce: -1 lets the partitioner choose
	// from the key.
	Partition int32
	// Offset of a consumed record; ignored when producing.
	Offset int64
	Key    []byte // nil: no key
	Value  []byte // nil: no value (a tombstone)
	// Timestamp in milliseconds since the epoch; when producing, 0 lets
	// the producer set it.
	Timestamp int64
	// TimestampType of a consumed record: 0 not available, 1 create time,
	// 2 log append time (confluent-kafka's TIMESTAMP_* values).
	TimestampType int
	Headers       []Header // nil: none
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s[%d]", tp.Topic, tp.Partition) }

// Offset is a position in a partition; to commit, the offset of the next
// record to read.
type Offset struct {
	TopicPartition
	Offset int64
}

// NoOffset is the committed offset of a partition whose group never
// committed (librdkafka's OFFSET_INVALID).
const NoOffset = -1001
