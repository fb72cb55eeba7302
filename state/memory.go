package state

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
)

// memory is an in-memory backend: sorted keys per column family. Its data
// outlives close, as a database's files do, so that a partition closed at
// a revoke and opened again finds its state. Safe for concurrent use.
type memory struct {
	path string
	mu   sync.Mutex
	cfs  map[string]map[string][]byte
}

func newMemory(path string, cfNames []string) *memory {
	m := &memory{path: path, cfs: map[string]map[string][]byte{}}
	m.ensure(cfNames)
	return m
}

func (m *memory) ensure(cfNames []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range cfNames {
		if m.cfs[n] == nil {
			m.cfs[n] = map[string][]byte{}
		}
	}
}

func (m *memory) get(cf string, key []byte) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cfs[cf]
	if !ok {
		return nil, false, fmt.Errorf("state: %s has no column family %q", m.path, cf)
	}
	v, ok := c[string(key)]
	if !ok {
		return nil, false, nil
	}
	return append([]byte(nil), v...), true, nil
}

func (m *memory) write(b *batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, op := range b.ops {
		if m.cfs[op.cf] == nil {
			return fmt.Errorf("state: %s has no column family %q", m.path, op.cf)
		}
	}
	for _, op := range b.ops {
		if op.del {
			delete(m.cfs[op.cf], string(op.key))
		} else {
			m.cfs[op.cf][string(op.key)] = append([]byte(nil), op.value...)
		}
	}
	return nil
}

// iterator snapshots the keys in range, as a RocksDB iterator reads a
// consistent view.
func (m *memory) iterator(cf string, lower, upper []byte) (iterator, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.cfs[cf]
	if !ok {
		return nil, fmt.Errorf("state: %s has no column family %q", m.path, cf)
	}
	it := &memIterator{}
	for k, v := range c {
		kb := []byte(k)
		if (lower != nil && bytes.Compare(kb, lower) < 0) || (upper != nil && bytes.Compare(kb, upper) >= 0) {
			continue
		}
		it.keys = append(it.keys, kb)
		it.values = append(it.values, v)
	}
	sort.Sort(it)
	it.i = len(it.keys)
	return it, nil
}

func (m *memory) close() {}

type memIterator struct {
	keys, values [][]byte
	i            int
}

func (it *memIterator) Len() int           { return len(it.keys) }
func (it *memIterator) Less(i, j int) bool { return bytes.Compare(it.keys[i], it.keys[j]) < 0 }
func (it *memIterator) Swap(i, j int) {
	it.keys[i], it.keys[j] = it.keys[j], it.keys[i]
	it.values[i], it.values[j] = it.values[j], it.values[i]
}

func (it *memIterator) Seek(k []byte) {
	it.i = sort.Search(len(it.keys), func(i int) bool { return bytes.Compare(it.keys[i], k) >= 0 })
}
func (it *memIterator) Next()         { it.i++ }
func (it *memIterator) Valid() bool   { return it.i < len(it.keys) }
func (it *memIterator) Key() []byte   { return it.keys[it.i] }
func (it *memIterator) Value() []byte { return it.values[it.i] }
func (it *memIterator) Err() error    { return nil }
func (it *memIterator) Close()        {}
