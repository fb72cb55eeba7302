package engine

import (
	"context"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/windows"
)

// StoreSpec describes a state store of a source topic.
type StoreSpec struct {
	Name  string
	Topic string
	// Windowed stores keep windows (StoreTx.Windows).
	Windowed bool
	// Changelog is the store's changelog topic; "" when it has none.
	Changelog string
}

// Stores is the engine's view of state: it opens the stores of the source
// partitions a run is assigned. Package state implements it on RocksDB
// and in memory (runtime plugs it in); the engine never knows which.
// Its methods are safe for concurrent use by tasks.
type Stores interface {
	// Of returns the stores of a source topic, in registration order;
	// none for a stateless topic.
	Of(topic string) []StoreSpec
	// Open opens spec's store for one partition of its topic and brings it
	// up to date with its changelog. committed is the group's committed
	// offset of that source partition (record.NoOffset if none): changes
	// made by messages at or after it are not recovered.
	Open(ctx context.Context, spec StoreSpec, partition int32, committed int64) (StorePartition, error)
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
	// Prepare produces one changelog record per changed key to
	// partition of topic (nothing when topic is ""); afterwards the
	// transaction accepts no more changes.
	Prepare(cl ChangelogWriter, topic string, partition int32, processedOffset int64) error
	// CheckChangelogOffset fails when next, the changelog position the
	// state would be stored with, shows that the changelog is not the one
	// the stored state was written against.
	CheckChangelogOffset(next int64) error
	// CheckSpace fails when the store's disk has no room for Flush's
	// write (checked before the commit: a failed Flush comes after it).
	CheckSpace() error
	// Flush writes the changes with the processed source offset and,
	// when changelogOffset >= 0, the next changelog offset.
	Flush(processedOffset, changelogOffset int64) error
}

// ChangelogWriter receives a transaction's changelog records; it must copy
// key and value before it returns.
type ChangelogWriter interface {
	Produce(topic string, partition int32, key, value []byte, headers []record.Header) error
}
