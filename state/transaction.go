package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/serde"
)

// Changelog receives a transaction's changelog records (the engine's
// producer). Produce must copy key and value before it returns.
type Changelog interface {
	Produce(topic string, partition int32, key, value []byte, headers []record.Header) error
}

// Transaction statuses.
const (
	statusStarted = iota
	statusPrepared
	statusComplete
	statusFailed
)

// ErrTransactionFailed is returned by every operation on a transaction
// after one of its operations failed.
var ErrTransactionFailed = errors.New("state: the transaction failed earlier and accepts no more operations")

// Transaction is a set of changes to one Partition, cached in memory until
// Flush. Reads see the transaction's own writes. Not safe for concurrent
// use.
type Transaction struct {
	p      *Partition
	status int
	cfs    map[string]*cfCache
	order  []string // column families in first-change order
	buf    []byte

	// Windowed stores: the partition's latest timestamp, as of the first
	// use, advanced by UpdateWindow and written by Flush.
	latest        int64
	latestLoaded  bool
	latestChanged bool
	lowestStart   map[string]int64 // changes to Partition.lowestStart, applied by Flush
	storeLow      map[string]int64 // changes to Partition.storeLow, applied by Flush
	sessionLow    map[string]int64 // changes to Partition.sessionLow, applied by Flush

	// timestamped holds the prefixes whose timestamped values were set,
	// for Prepare's expiry (timestamped.go).
	timestamped map[string]bool
	// Collections: the partition's counter, as of the first use.
	counter       int64
	counterLoaded bool
}

// cfCache holds one column family's changes, grouped by prefix in
// first-change order, each prefix's keys in first-change order: the order
// Quix Streams writes changelog records in.
type cfCache struct {
	prefixes []string
	byPrefix map[string]*prefixCache
}

type prefixCache struct {
	keys   []string
	values map[string]change
	noops  int // values that are noop()
}

// change is a key's value as of the transaction. absent records that the
// store has no value for the key (a read found none): deleting such a key
// is a no-op, which neither the changelog nor the store sees. A window
// that opens and closes within one checkpoint costs nothing there.
type change struct {
	value   []byte
	deleted bool
	absent  bool
}

func (c change) noop() bool { return c.deleted && c.absent }

// compactAfter is how many no-op changes a prefix keeps before they are
// dropped from its key list (scans of the transaction's changes, as the
// window expiry makes per message, stay short).
const compactAfter = 8

func (t *Transaction) check() error {
	switch t.status {
	case statusStarted:
		return nil
	case statusFailed:
		return ErrTransactionFailed
	}
	return errors.New("state: the transaction is already prepared and accepts no more changes")
}

func (t *Transaction) fail(err error) error {
	t.status = statusFailed
	return err
}

// Changed reports whether the transaction holds changes.
func (t *Transaction) Changed() bool {
	for _, c := range t.cfs {
		for _, pc := range c.byPrefix {
			if len(pc.keys) > pc.noops {
				return true
			}
		}
	}
	return false
}

func (t *Transaction) lookup(cf string, prefix, key []byte) (change, bool) {
	c := t.cfs[cf]
	if c == nil {
		return change{}, false
	}
	pc := c.byPrefix[string(prefix)]
	if pc == nil {
		return change{}, false
	}
	ch, ok := pc.values[string(key)]
	return ch, ok
}

func (t *Transaction) put(cf string, prefix, key []byte, ch change) {
	c := t.cfs[cf]
	if c == nil {
		c = &cfCache{byPrefix: map[string]*prefixCache{}}
		t.cfs[cf] = c
		t.order = append(t.order, cf)
	}
	pc := c.byPrefix[string(prefix)]
	if pc == nil {
		pc = &prefixCache{values: map[string]change{}}
		c.byPrefix[string(prefix)] = pc
		c.prefixes = append(c.prefixes, string(prefix))
	}
	prev, ok := pc.values[string(key)]
	if !ok {
		pc.keys = append(pc.keys, string(key))
	}
	if prev.absent {
		ch.absent = true // the store still has no value for it
	}
	if prev.noop() {
		pc.noops--
	}
	pc.values[string(key)] = ch
	if ch.noop() {
		pc.noops++
		if pc.noops > compactAfter && pc.noops > len(pc.keys)/2 {
			pc.compact()
		}
	}
}

// compact drops the no-op changes: the key list holds what the changelog
// and the store will see. (What they recorded, that the store lacks the
// key, is lost; a read asks the store again.)
func (pc *prefixCache) compact() {
	kept := pc.keys[:0]
	for _, k := range pc.keys {
		if pc.values[k].noop() {
			delete(pc.values, k)
			continue
		}
		kept = append(kept, k)
	}
	clear(pc.keys[len(kept):])
	pc.keys = kept
	pc.noops = 0
}

// GetBytes returns the value of the full key in cf, with the
// transaction's own changes applied.
func (t *Transaction) GetBytes(cf string, prefix, key []byte) ([]byte, bool, error) {
	if t.status == statusFailed {
		return nil, false, ErrTransactionFailed
	}
	if ch, ok := t.lookup(cf, prefix, key); ok {
		if ch.deleted {
			return nil, false, nil
		}
		return ch.value, true, nil
	}
	v, ok, err := t.p.get(cf, key)
	if err == nil && !ok && t.status == statusStarted {
		t.put(cf, prefix, key, change{deleted: true, absent: true})
	}
	return v, ok, err
}

// SetBytes sets the full key (which starts with prefix) in cf. value is
// kept: the caller must not modify it.
func (t *Transaction) SetBytes(cf string, prefix, key, value []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	t.put(cf, prefix, key, change{value: value})
	return nil
}

// DeleteBytes deletes the full key in cf.
func (t *Transaction) DeleteBytes(cf string, prefix, key []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	t.put(cf, prefix, key, change{deleted: true})
	return nil
}

// Get returns the value of the state key under prefix.
func (t *Transaction) Get(prefix []byte, key starlark.Value) (starlark.Value, bool, error) {
	k, err := Key(t.buf[:0], prefix, key)
	if err != nil {
		return nil, false, err
	}
	t.buf = k
	v, ok, err := t.GetBytes(CFDefault, prefix, k)
	if err != nil || !ok {
		return nil, false, err
	}
	val, err := serde.JSON{}.Deserialize(v)
	if err != nil {
		return nil, false, fmt.Errorf("state: stored value of %s is not JSON: %w", key, err)
	}
	return val, true, nil
}

// Exists reports whether the state key exists under prefix.
func (t *Transaction) Exists(prefix []byte, key starlark.Value) (bool, error) {
	k, err := Key(t.buf[:0], prefix, key)
	if err != nil {
		return false, err
	}
	t.buf = k
	_, ok, err := t.GetBytes(CFDefault, prefix, k)
	return ok, err
}

// Set stores value (any JSON-serializable value) under the state key.
// A value that cannot be serialized fails the transaction, as in Quix
// Streams.
func (t *Transaction) Set(prefix []byte, key, value starlark.Value) error {
	if err := t.check(); err != nil {
		return err
	}
	k, err := Key(nil, prefix, key)
	if err != nil {
		return t.fail(err)
	}
	v, err := serde.JSON{}.Serialize(nil, value)
	if err != nil {
		return t.fail(fmt.Errorf("state: value for %s: %w", key, err))
	}
	return t.SetBytes(CFDefault, prefix, k, v)
}

// Delete deletes the state key (whether or not it exists).
func (t *Transaction) Delete(prefix []byte, key starlark.Value) error {
	if err := t.check(); err != nil {
		return err
	}
	k, err := Key(nil, prefix, key)
	if err != nil {
		return t.fail(err)
	}
	return t.DeleteBytes(CFDefault, prefix, k)
}

// Prepare produces one changelog record per changed key to partition of
// topic, with the column family and processedOffset as headers, and
// accepts no more changes. A delete produces a tombstone.
func (t *Transaction) Prepare(cl Changelog, topic string, partition int32, processedOffset int64) error {
	return t.prepare(cl, topic, partition, HeaderProcessedOffset, []byte(strconv.FormatInt(processedOffset, 10)))
}

// PrepareOffsets is Prepare for a store changed by the messages of
// several source topics: the header holds each one's processed offset
// (HeaderProcessedOffsets).
func (t *Transaction) PrepareOffsets(cl Changelog, topic string, partition int32, processed map[string]int64) error {
	raw, err := json.Marshal(processed)
	if err != nil {
		return t.fail(err)
	}
	return t.prepare(cl, topic, partition, HeaderProcessedOffsets, raw)
}

func (t *Transaction) prepare(cl Changelog, topic string, partition int32, header string, offset []byte) error {
	if t.status == statusFailed {
		return ErrTransactionFailed
	}
	if t.status != statusStarted {
		return errors.New("state: the transaction is already prepared")
	}
	if err := t.expireTimestamped(); err != nil {
		return t.fail(err)
	}
	if cl != nil && topic != "" {
		for _, cf := range t.order {
			c := t.cfs[cf]
			headers := []record.Header{{Key: HeaderColumnFamily, Value: []byte(cf)}, {Key: header, Value: offset}}
			for _, prefix := range c.prefixes {
				pc := c.byPrefix[prefix]
				for _, k := range pc.keys {
					ch := pc.values[k]
					if ch.noop() {
						continue
					}
					var value []byte
					if !ch.deleted {
						value = ch.value
					}
					if err := cl.Produce(topic, partition, []byte(k), value, headers); err != nil {
						return t.fail(fmt.Errorf("state: produce changelog record: %w", err))
					}
				}
			}
		}
	}
	t.status = statusPrepared
	return nil
}

// Flush writes the changes with the processed offset and, when
// changelogOffset >= 0, the next changelog offset, in one batch. A
// transaction without changes writes nothing.
func (t *Transaction) Flush(processedOffset, changelogOffset int64) error {
	return t.flush(&processedOffset, changelogOffset)
}

// FlushOffsets is Flush for a store changed by the messages of several
// source topics (PrepareOffsets): no single processed offset is stored.
func (t *Transaction) FlushOffsets(changelogOffset int64) error {
	return t.flush(nil, changelogOffset)
}

func (t *Transaction) flush(processedOffset *int64, changelogOffset int64) error {
	if t.status == statusFailed {
		return ErrTransactionFailed
	}
	if t.status == statusComplete {
		return errors.New("state: the transaction is already flushed")
	}
	defer func() {
		if t.status != statusFailed {
			t.status = statusComplete
		}
	}()
	if !t.Changed() {
		return nil
	}
	var wb batch
	for _, cf := range t.order {
		c := t.cfs[cf]
		for _, prefix := range c.prefixes {
			pc := c.byPrefix[prefix]
			for _, k := range pc.keys {
				ch := pc.values[k]
				if ch.noop() {
					continue
				}
				if ch.deleted {
					wb.del(cf, []byte(k))
				} else {
					wb.put(cf, []byte(k), ch.value)
				}
			}
		}
	}
	if processedOffset != nil {
		wb.put(CFMetadata, keyProcessedOffset, EncodeInt64(*processedOffset))
	}
	if t.latestChanged {
		wb.put(CFMetadata, keyLatestTimestamp, EncodeInt64(t.latest))
	}
	if changelogOffset >= 0 {
		if err := t.CheckChangelogOffset(changelogOffset); err != nil {
			return t.fail(err)
		}
		wb.put(CFMetadata, keyChangelogOffset, EncodeInt64(changelogOffset))
	}
	if err := t.p.write(&wb); err != nil {
		return t.fail(err)
	}
	maps.Copy(t.p.lowestStart, t.lowestStart)
	maps.Copy(t.p.sessionLow, t.sessionLow)
	t.flushedWindows()
	return nil
}

// flushedWindows updates Partition.storeLow once the transaction's
// changes are in the store: its scans' findings, lowered to the starts of
// the windows it wrote.
func (t *Transaction) flushedWindows() {
	maps.Copy(t.p.storeLow, t.storeLow)
	c := t.cfs[CFDefault]
	if c == nil || len(t.p.storeLow) == 0 {
		return
	}
	for _, prefix := range c.prefixes {
		low, known := t.p.storeLow[prefix]
		if !known {
			continue
		}
		pc := c.byPrefix[prefix]
		for _, k := range pc.keys {
			if ch := pc.values[k]; ch.deleted {
				continue
			}
			if s, _, ok := parseWindowKey([]byte(prefix), []byte(k)); ok && s < low {
				low = s
			}
		}
		t.p.storeLow[prefix] = low
	}
}

// CheckSpace fails with a *NoSpaceError when the disk has no room for
// Flush's write, so that a checkpoint can fail before it commits.
func (t *Transaction) CheckSpace() error {
	if !t.Changed() || t.p.be == nil {
		return nil
	}
	need := uint64(64) // the metadata keys
	for _, cf := range t.order {
		c := t.cfs[cf]
		for _, prefix := range c.prefixes {
			pc := c.byPrefix[prefix]
			for _, k := range pc.keys {
				need += uint64(len(k)+len(pc.values[k].value)) + 16
			}
		}
	}
	return t.p.room(need)
}

// CheckChangelogOffset fails when next, the changelog offset this
// transaction's state would be stored with, is lower than the one already
// stored: the changelog is not the one the state was written against (the
// broker's data was reset, or the topic recreated). The engine calls it
// before committing, so that no offset is committed for state that cannot
// be written.
func (t *Transaction) CheckChangelogOffset(next int64) error {
	stored, ok, err := t.p.ChangelogOffset()
	if err != nil {
		return err
	}
	if ok && next < stored {
		return fmt.Errorf("state: %s was written up to changelog offset %d, but the changelog now ends at %d: "+
			"the broker's data was reset or the changelog topic recreated since; "+
			"delete the state directory %s to rebuild the state from the changelog", t.p.Path, stored, next, t.p.Path)
	}
	return nil
}
