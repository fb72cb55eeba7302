package engine

import (
	"context"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
)

// StateFactory makes the script's State object for one call of a stateful
// callback: the transaction of the callback's store and the message-key
// prefix. Package builtins provides it (it owns the State type).
type StateFactory func(tx StateTx, prefix []byte) starlark.Value

// Stateful wraps a Callback so that it also receives a State, scoped by
// the record's key, of the named store as its last argument.
type Stateful struct {
	Callback
	Store    string
	NewState StateFactory
}

// Call implements Func.
func (s *Stateful) Call(c *Context, r *Row) (starlark.Value, error) {
	tx, err := c.Transaction(s.Store)
	if err != nil {
		return nil, err
	}
	prefix, err := tx.Prefix(r.Key)
	if err != nil {
		return nil, err
	}
	st := s.NewState(tx, prefix)
	c.Row = r
	defer func() { c.Row = nil }()
	if !s.Metadata {
		args := [2]starlark.Value{r.Value, st}
		return starlark.Call(c.Thread, s.Fn, args[:], nil)
	}
	args := [5]starlark.Value{r.Value, r.Key, starlark.MakeInt64(r.Timestamp), HeadersValue(r.Headers), st}
	return starlark.Call(c.Thread, s.Fn, args[:], nil)
}

// taskStore is one open store partition of a task.
type taskStore struct {
	spec StoreSpec
	part StorePartition
	tx   StoreTx // nil until the first use after a checkpoint
}

// Transaction returns the open transaction of the named store for the
// partition being processed, starting one if needed.
func (c *Context) Transaction(store string) (StoreTx, error) {
	ts := c.stores[store]
	if ts == nil {
		topic := ""
		if c.Message != nil {
			topic = c.Message.Topic
		}
		return nil, fmt.Errorf("state store %q is not available for topic %q", storeName(store), topic)
	}
	if ts.tx == nil {
		ts.tx = ts.part.Begin()
	}
	return ts.tx, nil
}

// openStores opens (and recovers) the stores of a task's partition.
func (t *task) openStores(ctx context.Context, stores Stores, specs []StoreSpec) error {
	committed := make(map[string]int64, len(t.parts))
	for topic, p := range t.parts {
		committed[topic] = p.committedAtAssign
	}
	for _, s := range specs {
		p, err := stores.Open(ctx, s, t.partition, committed)
		if err != nil {
			return err
		}
		t.ctx.addStore(&taskStore{spec: s, part: p})
	}
	return nil
}

// StoreID names a store of a stream (a source topic, or the topics a
// concatenation merged) within a task: ops that use a store hold its ID.
func StoreID(stream, name string) string { return stream + "/" + name }

// storeName returns the store name of a StoreID (topic names have no
// "/"); a bare name is returned as it is.
func storeName(id string) string {
	if _, name, ok := strings.Cut(id, "/"); ok {
		return name
	}
	return id
}

// addStore makes ts available under its StoreID.
func (c *Context) addStore(ts *taskStore) {
	c.stores[StoreID(ts.spec.Topic, ts.spec.Name)] = ts
}

// closeStores closes the task's store partitions, from the task's goroutine.
func (t *task) closeStores() {
	for _, ts := range t.ctx.storeList() {
		ts.part.Close()
	}
	clear(t.ctx.stores)
}

// storeList returns the stores of c.
func (c *Context) storeList() []*taskStore {
	out := make([]*taskStore, 0, len(c.stores))
	for _, ts := range c.stores {
		out = append(out, ts)
	}
	return out
}

// changelogProducer adapts the engine's Producer to ChangelogWriter.
type changelogProducer struct {
	p   Producer
	msg record.Record
}

func (c *changelogProducer) Produce(topic string, partition int32, key, value []byte, headers []record.Header) error {
	c.msg = record.Record{Topic: topic, Partition: partition, Key: key, Value: value, Headers: headers}
	return c.p.Produce(&c.msg)
}
