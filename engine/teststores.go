package engine

import (
	"context"
	"fmt"

	"github.com/qstar-dev/qstar/record"
)

// TestStores are the state stores of sdf.test(): stores without
// changelogs (in memory: the caller passes such Stores), committed after
// every call so that later calls in the same test see earlier ones.
// Not safe for concurrent use.
type TestStores struct {
	stores Stores
	parts  map[string]StorePartition // by store/topic/partition
}

// NewTestStores keeps the partitions it opens from stores until Close.
func NewTestStores(stores Stores) *TestStores {
	return &TestStores{stores: stores, parts: map[string]StorePartition{}}
}

// Bind opens the named stores of topic's partition and gives them to c.
func (t *TestStores) Bind(c *Context, topic string, partition int32, stores []string, windowed map[string]bool) error {
	c.stores = map[string]*taskStore{}
	for _, name := range stores {
		key := fmt.Sprintf("%s/%s/%d", name, topic, partition)
		spec := StoreSpec{Name: name, Topic: topic, Windowed: windowed[name]}
		p, ok := t.parts[key]
		if !ok {
			var err error
			if p, err = t.stores.Open(context.Background(), spec, partition, record.NoOffset); err != nil {
				return err
			}
			t.parts[key] = p
		}
		c.stores[name] = &taskStore{spec: spec, part: p}
	}
	return nil
}

// Commit writes the changes of c's transactions, as a checkpoint would,
// with offset as the processed offset.
func (t *TestStores) Commit(c *Context, offset int64) error {
	for _, ts := range c.stores {
		if ts.tx == nil {
			continue
		}
		if err := ts.tx.Prepare(nil, "", 0, offset); err != nil {
			return err
		}
		if err := ts.tx.Flush(offset, -1); err != nil {
			return err
		}
		ts.tx = nil
	}
	return nil
}

// Close closes the stores.
func (t *TestStores) Close() {
	for _, p := range t.parts {
		p.Close()
	}
}
