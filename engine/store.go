package engine

import (
	"context"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/windows"
)

// StoreSpec describes a state store of a stream: a source topic, or the
// topics a concatenation or join merged.
type StoreSpec struct {
	Name string
	// Topic is the stream's ID: the topic's name, or the merged topics'
	// sorted names joined by "--" (Quix Streams' stream_id).
	Topic string
	// Topics are the source topics whose messages change the store (nil:
	// Topic alone). Their processed offsets go with its changes.
	Topics []string
	// Windowed stores keep windows (StoreTx.Windows).
	Windowed bool
	// Timestamped stores keep values by key and timestamp, for joins
	// (StoreTx.Timestamped).
	Timestamped bool
	// Changelog is the store's changelog topic; "" when it has none.
	Changelog string
}

// Stores is the engine's view of state: it opens the stores of the source
// partitions a run is assigned. Package state implements it on RocksDB
// and in memory (runtime plugs it in); the engine never knows which.
// Its methods are safe for concurrent use by tasks.
type Stores interface {
	// Of returns the stores changed by a source topic's messages (of its
	// own stream and of the merged streams it is part of), in
	// registration order; none for a stateless topic.
	Of(topic string) []StoreSpec
	// Open opens spec's store for one partition and brings it up to date
	// with its changelog. committed holds the group's committed offset of
	// that partition of each source topic (record.NoOffset if none):
	// changes made by messages at or after it are not recovered.
	Open(ctx context.Context, spec StoreSpec, partition int32, committed map[string]int64) (StorePartition, error)
}

// StorePartition is one open store of one source partition, used by its
// task's goroutine only.
type StorePartition interface {
	// Begin starts a transaction.
	Begin() StoreTx
	// Close releases the partition (a task's stores close when it stops).
	Close()
}

// StateTx is a store transaction as a State object uses it: keys under a
// message-key prefix.
type StateTx interface {
	Get(prefix []byte, key starlark.Value) (starlark.Value, bool, error)
	Set(prefix []byte, key, value starlark.Value) error
	Delete(prefix []byte, key starlark.Value) error
	Exists(prefix []byte, key starlark.Value) (bool, error)
}

// StoreTx is a transaction of a store partition: its changes are cached
// until Flush, and its reads see its own writes. A checkpoint Prepares
// it (changelog records out), checks it, and Flushes it once the
// checkpoint's commit step succeeded.
type StoreTx interface {
	StateTx
	// Changed reports whether the transaction holds changes.
	Changed() bool
	// Prefix returns the key prefix of a message key.
	Prefix(key starlark.Value) ([]byte, error)
	// Windows returns the windowed state of a message key prefix.
	Windows(prefix []byte) (windows.State, error)
	// Timestamped returns the timestamped state of a message key prefix
	// (a Timestamped store's).
	Timestamped(prefix []byte) (TimestampedState, error)
	// Prepare produces one changelog record per changed key to
	// partition of topic (nothing when topic is ""), with the processed
	// offset of each source topic; afterwards the transaction accepts no
	// more changes.
	Prepare(cl ChangelogWriter, topic string, partition int32, processed map[string]int64) error
	// CheckChangelogOffset fails when next, the changelog position the
	// state would be stored with, shows that the changelog is not the one
	// the stored state was written against.
	CheckChangelogOffset(next int64) error
	// CheckSpace fails when the store's disk has no room for Flush's
	// write (checked before the commit: a failed Flush comes after it).
	CheckSpace() error
	// Flush writes the changes with the processed source offsets and,
	// when changelogOffset >= 0, the next changelog offset.
	Flush(processed map[string]int64, changelogOffset int64) error
}

// TimestampedState is a key's values by timestamp, as joins keep them
// (Quix Streams' TimestampedStore): values older than the key's latest
// timestamp minus the grace are expired when the transaction is
// prepared.
type TimestampedState interface {
	// Latest returns the value with the greatest timestamp at or before
	// ts and not expired.
	Latest(ts int64) (starlark.Value, bool, error)
	// Interval returns the values with start <= timestamp < end and not
	// expired, in timestamp order (then insertion order).
	Interval(start, end int64) ([]starlark.Value, error)
	// Set stores value at ts: replacing the value there, or beside it
	// when keepDuplicates. The values before ts - grace expire.
	Set(ts int64, value starlark.Value, grace int64, keepDuplicates bool) error
}

// ChangelogWriter receives a transaction's changelog records; it must copy
// key and value before it returns.
type ChangelogWriter interface {
	Produce(topic string, partition int32, key, value []byte, headers []record.Header) error
}

// SourceTopics returns the source topics whose messages change the store.
func (s StoreSpec) SourceTopics() []string {
	if len(s.Topics) == 0 {
		return []string{s.Topic}
	}
	return s.Topics
}

// offsets picks the store's source topics from a task's processed offsets.
func (s StoreSpec) offsets(processed map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(s.Topics)+1)
	for _, t := range s.SourceTopics() {
		if off, ok := processed[t]; ok {
			out[t] = off
		}
	}
	return out
}
