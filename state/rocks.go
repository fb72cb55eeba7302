package state

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/linxGnu/grocksdb"
)

// rocks is a RocksDB database, the backend of every store qstar runs.
// Every handle, option object and slice is released here.
type rocks struct {
	path    string
	db      *grocksdb.DB
	opts    *grocksdb.Options
	ro      *grocksdb.ReadOptions
	wo      *grocksdb.WriteOptions
	handles []*grocksdb.ColumnFamilyHandle
	cfs     map[string]*grocksdb.ColumnFamilyHandle
	space   *diskSpace
}

// ErrLocked is returned when another process holds a partition's database
// after every retry.
var ErrLocked = errors.New("state: the store is locked by another process")

// openRocks opens (creating if needed) the database at path with at least
// the column families cfNames, retrying while another process holds its
// lock.
func openRocks(path string, cfNames []string, m *Manager) (*rocks, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	space := newDiskSpace(path, m.opts.Dir)
	if err := space.check(0); err != nil {
		return nil, err
	}
	opts, err := m.dbOptions(path)
	if err != nil {
		return nil, err
	}
	names := append([]string(nil), cfNames...)
	if existing, err := grocksdb.ListColumnFamilies(opts, path); err == nil {
		for _, n := range existing {
			if !slices.Contains(names, n) {
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
	)
	for attempt := 0; ; attempt++ {
		db, handles, err = grocksdb.OpenDbColumnFamilies(opts, path, names, cfOpts)
		if err == nil {
			break
		}
		if err := space.fromRocks(err); errors.Is(err, ErrNoSpace) {
			opts.Destroy()
			return nil, err
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
	r := &rocks{
		path:    path,
		db:      db,
		opts:    opts,
		ro:      grocksdb.NewDefaultReadOptions(),
		wo:      grocksdb.NewDefaultWriteOptions(),
		handles: handles,
		cfs:     make(map[string]*grocksdb.ColumnFamilyHandle, len(names)),
		space:   space,
	}
	for i, n := range names {
		r.cfs[n] = handles[i]
	}
	return r, nil
}

// close releases the database. Column-family handles go first: Debian's
// RocksDB is built with assertions and aborts otherwise.
func (r *rocks) close() {
	if r.db == nil {
		return
	}
	for _, h := range r.handles {
		h.Destroy()
	}
	r.db.Close()
	r.ro.Destroy()
	r.wo.Destroy()
	r.opts.Destroy()
	r.db = nil
}

func (r *rocks) cf(name string) (*grocksdb.ColumnFamilyHandle, error) {
	h, ok := r.cfs[name]
	if !ok {
		return nil, fmt.Errorf("state: %s has no column family %q", r.path, name)
	}
	return h, nil
}

func (r *rocks) get(cf string, key []byte) ([]byte, bool, error) {
	h, err := r.cf(cf)
	if err != nil {
		return nil, false, err
	}
	s, err := r.db.GetCF(r.ro, h, key)
	if err != nil {
		return nil, false, fmt.Errorf("state: read %s: %w", r.path, err)
	}
	defer s.Free()
	if !s.Exists() {
		return nil, false, nil
	}
	return append([]byte(nil), s.Data()...), true, nil
}

// write applies b once the file system has room for it (room).
func (r *rocks) write(b *batch) error {
	need := uint64(0)
	for _, op := range b.ops {
		need += uint64(len(op.key)+len(op.value)) + 16
	}
	if err := r.room(need); err != nil {
		return err
	}
	wb := grocksdb.NewWriteBatch()
	defer wb.Destroy()
	for _, op := range b.ops {
		h, err := r.cf(op.cf)
		if err != nil {
			return err
		}
		if op.del {
			wb.DeleteCF(h, op.key)
		} else {
			wb.PutCF(h, op.key, op.value)
		}
	}
	if err := r.db.Write(r.wo, wb); err != nil {
		if err := r.space.fromRocks(err); errors.Is(err, ErrNoSpace) {
			return err
		}
		return fmt.Errorf("state: write %s: %w", r.path, err)
	}
	return nil
}

// room checks that the file system has room for a write of need bytes:
// the write (to the WAL, then the memtable) plus the memtables, which a
// flush the write may trigger turns into SST files.
func (r *rocks) room(need uint64) error {
	if mem, err := strconv.ParseUint(r.db.GetProperty("rocksdb.cur-size-all-mem-tables"), 10, 64); err == nil {
		need += mem
	}
	return r.space.check(need)
}

func (r *rocks) iterator(cf string, lower, upper []byte) (iterator, error) {
	h, err := r.cf(cf)
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
	return &rocksIterator{it: r.db.NewIteratorCF(ro, h), ro: ro}, nil
}

type rocksIterator struct {
	it *grocksdb.Iterator
	ro *grocksdb.ReadOptions
}

func (i *rocksIterator) Seek(k []byte) { i.it.Seek(k) }
func (i *rocksIterator) Next()         { i.it.Next() }
func (i *rocksIterator) Valid() bool   { return i.it.Valid() }
func (i *rocksIterator) Err() error    { return i.it.Err() }
func (i *rocksIterator) Key() []byte   { return i.it.Key().Data() }
func (i *rocksIterator) Value() []byte { return i.it.Value().Data() }
func (i *rocksIterator) Close() {
	i.it.Close()
	i.ro.Destroy()
}
