// Package state keeps qstar's state in RocksDB, with Quix Streams 2.5.1's
// layout and encodings, backed by Kafka changelog topics.
//
// Model:
//   - One RocksDB database per (store, topic, partition), at
//     {state_dir}/{consumer_group}/{store}/{topic}/{partition}, with column
//     families "default" (data), "__metadata__" (offsets) and, for windowed
//     stores, "__expiration-index__".
//   - A data key is prefix + "|" + JSON(state key), where the prefix is the
//     message key: its raw bytes when the key is bytes, else its JSON
//     ("a" with quotes for a str key, null for None). Values are JSON.
//   - Metadata: "__topic_offset__" is the last processed offset of the
//     source partition and "__changelog_offset__" the next changelog offset
//     (the changelog's high watermark when the state was written), both as
//     8-byte big-endian signed integers.
//   - Changes go through a Transaction: an in-memory cache with
//     read-your-writes; Prepare produces one changelog record per changed
//     key (in cache order; a tombstone for a delete) with the headers
//     "__column_family__" and "__processed_tp_offset__"; Flush writes the
//     cache and both offsets in one WriteBatch. An unchanged transaction
//     writes nothing, not even offsets (as Quix Streams).
//   - The checkpoint order (engine) is: Prepare every transaction, flush the
//     producer, CheckChangelogOffset, commit (the consumer offsets, or the
//     Kafka transaction in exactly-once mode), Flush every transaction. A
//     crash anywhere loses nothing: the changelog is complete before the
//     commit, and Recover replays it into a database that lags, skipping
//     records whose processed offset is at or past the committed offset
//     (and, reading read_committed, those of aborted transactions).
//
// Backends: a Partition keeps its column families in RocksDB (rocks.go) or
// in memory (memory.go, Options.InMemory: sdf.test() and the engine's
// tests); the Transaction, windowed-state and recovery code is the same
// for both.
//
// Resources: every column-family handle, iterator, option object and
// slice is released here; Debian's RocksDB aborts if a handle outlives its
// database. A Partition is used by one goroutine at a time.
package state
