package state

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/linxGnu/grocksdb"
)

// Partition is one RocksDB database: one store of one source partition.
type Partition struct {
	Path string

	db      *grocksdb.DB
	opts    *grocksdb.Options
	ro      *grocksdb.ReadOptions
	wo      *grocksdb.WriteOptions
	handles []*grocksdb.ColumnFamilyHandle
	cfs     map[string]*grocksdb.ColumnFamilyHandle

	// lowestStart is, per message-key prefix of a windowed store, a lower
	// bound of the starts of the windows stored (absent: unknown). It lets
	// ExpireWindows skip the range scan while no window can have closed.
	lowestStart map[string]int64
}

// ErrLocked is returned when another process holds a partition's database
// after every retry.
var ErrLocked = errors.New("state: the store is locked by another process")

// openPartition opens (creating if needed) the database at path with at
// least the column families cfNames, retrying while another process holds
// its lock.
func openPartition(path string, cfNames []string, m *Manager) (*Partition, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	opts := m.dbOptions()
	names := append([]string(nil), cfNames...)
	if existing, err := grocksdb.ListColumnFamilies(opts, path); err == nil {
		for _, n := range existing {
			if !contains(names, n) {
				names = append(names, n)
			}
		}
	}
	cfOpts := make([]*grocksdb.Options, len(names))
	for i := range cfOpts {
		cfOpts[i] = opts
	}
	var (
		db      *grocksdb.DB
		handles []*grocksdb.ColumnFamilyHandle
		err     error
	)
	for attempt := 0; ; attempt++ {
		db, handles, err = grocksdb.OpenDbColumnFamilies(opts, path, names, cfOpts)
		if err == nil {
			break
		}
		if !strings.HasPrefix(strings.ToLower(err.Error()), "io error") {
			opts.Destroy()
			return nil, fmt.Errorf("state: open %s: %w", path, err)
		}
		if attempt >= m.opts.OpenRetries {
			opts.Destroy()
			return nil, fmt.Errorf("%w: %s after %d attempts: %v", ErrLocked, path, attempt+1, err)
		}
		m.log.Warn("failed to open rocksdb partition, cannot acquire a lock; retrying", "path", path, "in", m.opts.OpenBackoff)
		time.Sleep(m.opts.OpenBackoff)
	}
	p := &Partition{
		Path:        path,
		db:          db,
		opts:        opts,
		ro:          grocksdb.NewDefaultReadOptions(),
		wo:          grocksdb.NewDefaultWriteOptions(),
		handles:     handles,
		cfs:         make(map[string]*grocksdb.ColumnFamilyHandle, len(names)),
		lowestStart: map[string]int64{},
	}
	for i, n := range names {
		p.cfs[n] = handles[i]
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Close releases the database. Column-family handles go first: Debian's
// RocksDB is built with assertions and aborts otherwise.
func (p *Partition) Close() {
	if p.db == nil {
		return
	}
	for _, h := range p.handles {
		h.Destroy()
	}
	p.db.Close()
	p.ro.Destroy()
	p.wo.Destroy()
	p.opts.Destroy()
	p.db = nil
}

func (p *Partition) cf(name string) (*grocksdb.ColumnFamilyHandle, error) {
	h, ok := p.cfs[name]
	if !ok {
		return nil, fmt.Errorf("state: %s has no column family %q", p.Path, name)
	}
	return h, nil
}

// get returns a copy of the value of key in column family cf.
func (p *Partition) get(cf string, key []byte) ([]byte, bool, error) {
	h, err := p.cf(cf)
	if err != nil {
		return nil, false, err
	}
	s, err := p.db.GetCF(p.ro, h, key)
	if err != nil {
		return nil, false, fmt.Errorf("state: read %s: %w", p.Path, err)
	}
	defer s.Free()
	if !s.Exists() {
		return nil, false, nil
	}
	return append([]byte(nil), s.Data()...), true, nil
}

func (p *Partition) metadata(key []byte) (int64, bool, error) {
	v, ok, err := p.get(CFMetadata, key)
	if err != nil || !ok {
		return 0, false, err
	}
	n, err := DecodeInt64(v)
	return n, err == nil, err
}

// ProcessedOffset returns the last processed source offset stored with
// the state, if any.
func (p *Partition) ProcessedOffset() (int64, bool, error) {
	n, ok, err := p.metadata(keyProcessedOffset)
	if err != nil || ok {
		return n, ok, err
	}
	// Quix Streams' legacy layout kept it in the default column family.
	v, ok, err := p.get(CFDefault, keyProcessedOffset)
	if err != nil || !ok {
		return 0, false, err
	}
	n, err = DecodeInt64(v)
	return n, err == nil, err
}

// ChangelogOffset returns the next changelog offset stored with the state,
// if any.
func (p *Partition) ChangelogOffset() (int64, bool, error) { return p.metadata(keyChangelogOffset) }

func (p *Partition) write(wb *grocksdb.WriteBatch) error {
	if err := p.db.Write(p.wo, wb); err != nil {
		return fmt.Errorf("state: write %s: %w", p.Path, err)
	}
	return nil
}

// Begin starts a transaction.
func (p *Partition) Begin() *Transaction {
	return &Transaction{p: p, cfs: map[string]*cfCache{}}
}

// Iterator walks keys of one column family in order. Key and Value are
// valid until the next move; Close releases it.
type Iterator struct {
	it *grocksdb.Iterator
	ro *grocksdb.ReadOptions
}

// NewIterator returns an iterator over cf bounded to [lower, upper) (nil
// bounds are open).
func (p *Partition) NewIterator(cf string, lower, upper []byte) (*Iterator, error) {
	h, err := p.cf(cf)
	if err != nil {
		return nil, err
	}
	ro := grocksdb.NewDefaultReadOptions()
	if lower != nil {
		ro.SetIterateLowerBound(lower)
	}
	if upper != nil {
		ro.SetIterateUpperBound(upper)
	}
	return &Iterator{it: p.db.NewIteratorCF(ro, h), ro: ro}, nil
}

func (i *Iterator) Seek(k []byte) { i.it.Seek(k) }
func (i *Iterator) Next()         { i.it.Next() }
func (i *Iterator) Valid() bool   { return i.it.Valid() }
func (i *Iterator) Err() error    { return i.it.Err() }

// Key returns the current key, valid until the next move.
func (i *Iterator) Key() []byte { return i.it.Key().Data() }

// Value returns the current value, valid until the next move.
func (i *Iterator) Value() []byte { return i.it.Value().Data() }

// Close releases the iterator.
func (i *Iterator) Close() {
	i.it.Close()
	i.ro.Destroy()
}
