package engine

import (
	"context"
	"fmt"
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

// Bind opens the stores of specs for a partition and gives them to c.
func (t *TestStores) Bind(c *Context, partition int32, specs []StoreSpec) error {
	clear(c.stores)
	for _, spec := range specs {
		key := fmt.Sprintf("%s/%s/%d", spec.Name, spec.Topic, partition)
		p, ok := t.parts[key]
		if !ok {
			var err error
			if p, err = t.stores.Open(context.Background(), spec, partition, nil); err != nil {
				return err
			}
			t.parts[key] = p
		}
		c.addStore(&taskStore{spec: spec, part: p})
	}
	return nil
}

// Commit writes the changes of c's transactions, as a checkpoint would,
// with processed as the processed offsets.
func (t *TestStores) Commit(c *Context, processed map[string]int64) error {
	for _, ts := range c.storeList() {
		if ts.tx == nil {
			continue
		}
		if err := ts.tx.Prepare(nil, "", 0, ts.spec.offsets(processed)); err != nil {
			return err
		}
		if err := ts.tx.Flush(ts.spec.offsets(processed), -1); err != nil {
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
