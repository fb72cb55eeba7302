package state

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"

	"github.com/linxGnu/grocksdb"
)

// Store names a registered store of a source topic.
type Store struct {
	Name string
	// Topic is the stream the store belongs to: a source topic, or the
	// sorted names of the topics a concatenation merged, joined by "--".
	Topic string
	// Topics are the source topics whose messages change the store; nil:
	// Topic alone.
	Topics []string
	// Windowed stores have the expiration-index column family.
	Windowed bool
	// Timestamped stores (joins) have the min-eligible-timestamps column
	// family (timestamped.go).
	Timestamped bool
	// Changelog is the changelog topic; empty when changelogs are off.
	Changelog string
}

// Manager knows the registered stores and opens their partitions. Its
// methods are safe for concurrent use.
type Manager struct {
	opts       Options
	log        *slog.Logger
	changelogs bool
	cache      *grocksdb.Cache

	mu     sync.Mutex
	stores map[string][]Store // by source topic
	mem    map[string]*memory // by path, with Options.InMemory
}

// NewManager returns a manager for the stores under opts.Dir/opts.Group.
// With changelogs, each store is backed by its changelog topic.
func NewManager(opts Options, changelogs bool, log *slog.Logger) (*Manager, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{
		opts:       opts,
		log:        log,
		changelogs: changelogs,
		stores:     map[string][]Store{},
		mem:        map[string]*memory{},
	}
	if !opts.InMemory {
		m.cache = grocksdb.NewLRUCache(opts.RocksDB.BlockCacheSize)
	}
	return m, nil
}

// Close releases the shared block cache; every Partition must be closed.
func (m *Manager) Close() {
	if m.cache != nil {
		m.cache.Destroy()
	}
}

// Register adds a store to its source topic (once per name). Its
// Changelog is dropped when the manager keeps no changelogs, and required
// when it does.
func (m *Manager) Register(s Store) (Store, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, have := range m.stores[s.Topic] {
		if have.Name == s.Name {
			return have, nil
		}
	}
	switch {
	case !m.changelogs:
		s.Changelog = ""
	case s.Changelog == "":
		return Store{}, fmt.Errorf("state: store %q of topic %q has no changelog topic", s.Name, s.Topic)
	}
	m.stores[s.Topic] = append(m.stores[s.Topic], s)
	return s, nil
}

// Stores returns the stores of a source topic, in registration order.
func (m *Manager) Stores(topic string) []Store {
	var out []Store
	for _, s := range m.All() {
		for _, t := range s.SourceTopics() {
			if t == topic {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// SourceTopics returns the source topics whose messages change the store.
func (s Store) SourceTopics() []string {
	if len(s.Topics) == 0 {
		return []string{s.Topic}
	}
	return s.Topics
}

// All returns every registered store, sorted by topic then name.
func (m *Manager) All() []Store {
	m.mu.Lock()
	defer m.mu.Unlock()
	var all []Store
	for _, ss := range m.stores {
		all = append(all, ss...)
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Topic != all[j].Topic {
			return all[i].Topic < all[j].Topic
		}
		return all[i].Name < all[j].Name
	})
	return all
}

// Path returns the directory of a store partition:
// {dir}/{group}/{store}/{topic}/{partition}.
func (m *Manager) Path(store, topic string, partition int32) string {
	return filepath.Join(m.opts.Dir, m.opts.Group, store, topic, strconv.Itoa(int(partition)))
}

// Open opens a store's database for one partition.
func (m *Manager) Open(s Store, partition int32) (*Partition, error) {
	cfs := []string{CFDefault, CFMetadata}
	if s.Windowed {
		cfs = append(cfs, CFExpirationIndex, CFValues, CFValueDeletionIndex, CFGlobalCounter, CFLatestTimestamps, CFDeletionIndex, CFSessionIndex)
	}
	if s.Timestamped {
		cfs = append(cfs, CFMinEligibleTimestamps, CFGlobalCounter)
	}
	path := m.Path(s.Name, s.Topic, partition)
	if m.opts.InMemory {
		m.mu.Lock()
		defer m.mu.Unlock()
		mem := m.mem[path]
		if mem == nil {
			mem = newMemory(path, cfs)
			m.mem[path] = mem
		}
		mem.ensure(cfs)
		return newPartition(path, mem), nil
	}
	r, err := openRocks(path, cfs, m)
	if err != nil {
		return nil, err
	}
	return newPartition(path, r), nil
}

// Clear deletes every store of the group: {dir}/{group}.
func (m *Manager) Clear() error {
	if m.opts.InMemory {
		m.mu.Lock()
		m.mem = map[string]*memory{}
		m.mu.Unlock()
		return nil
	}
	for _, dir := range m.opts.GroupDirs() {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("state: clear %s: %w", dir, err)
		}
		m.log.Info("cleared the state directory", "path", dir)
	}
	return nil
}

// dbOptions returns the options of the database at path. A WAL or log
// directory set in the options holds a directory per database under it,
// at the database's path relative to the state directory, so that two
// partitions' logs never share one.
func (m *Manager) dbOptions(path string) (*grocksdb.Options, error) {
	r := m.opts.RocksDB
	opts := grocksdb.NewDefaultOptions()
	opts.SetCreateIfMissing(true)
	opts.SetCreateIfMissingColumnFamilies(true)
	opts.SetWriteBufferSize(r.WriteBufferSize)
	opts.SetTargetFileSizeBase(r.TargetFileSizeBase)
	opts.SetMaxWriteBufferNumber(r.MaxWriteBufferNumber)
	opts.SetDbWriteBufferSize(r.DBWriteBufferSize)
	opts.SetMaxTotalWalSize(r.MaxTotalWALSize)
	// A bloom filter of whole keys in each memtable: a state.get of a key
	// the store lacks (every new key) skips the memtables' skip lists.
	opts.SetMemTablePrefixBloomSizeRatio(0.05)
	opts.SetMemtableWholeKeyFiltering(true)
	c, _ := compression(r.Compression) // validated by NewManager
	opts.SetCompression(c)
	opts.SetEnablePipelinedWrite(r.EnablePipelinedWrite)
	rel, err := filepath.Rel(m.opts.Dir, path)
	if err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("state: %w", err)
	}
	for _, d := range []struct {
		dir string
		set func(string)
	}{{r.WALDir, opts.SetWalDir}, {r.DBLogDir, opts.SetDbLogDir}} {
		if d.dir == "" {
			continue
		}
		dir := filepath.Join(d.dir, rel)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("state: %w", err)
		}
		d.set(dir)
	}
	bbto := grocksdb.NewDefaultBlockBasedTableOptions()
	bbto.SetBlockCache(m.cache)
	bbto.SetFilterPolicy(grocksdb.NewBloomFilter(r.BloomBitsPerKey))
	opts.SetBlockBasedTableFactory(bbto)
	return opts, nil
}
