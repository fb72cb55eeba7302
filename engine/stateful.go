package engine

import (
	"context"
	"fmt"
	"log/slog"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/state"
)

// StateTx is a store transaction as a State object uses it
// (*state.Transaction implements it).
type StateTx interface {
	Get(prefix []byte, key starlark.Value) (starlark.Value, bool, error)
	Set(prefix []byte, key, value starlark.Value) error
	Delete(prefix []byte, key starlark.Value) error
	Exists(prefix []byte, key starlark.Value) (bool, error)
}

var _ StateTx = (*state.Transaction)(nil)

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
	prefix, err := state.Prefix(r.Key)
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
	store state.Store
	part  *state.Partition
	tx    *state.Transaction // nil until the first use after a checkpoint
}

// Transaction returns the open transaction of the named store for the
// partition being processed, starting one if needed.
func (c *Context) Transaction(store string) (*state.Transaction, error) {
	ts := c.stores[store]
	if ts == nil {
		topic := ""
		if c.Message != nil {
			topic = c.Message.Topic
		}
		return nil, fmt.Errorf("state store %q is not available for topic %q", store, topic)
	}
	if ts.tx == nil {
		ts.tx = ts.part.Begin()
	}
	return ts.tx, nil
}

// runnerState is what tasks need from the runner to open their stores.
type runnerState struct {
	state      *state.Manager
	changelogs state.ChangelogSource
	log        *slog.Logger
}

// openStores opens and recovers the stores of a task's partition.
func (t *task) openStores(ctx context.Context, r *runnerState) error {
	for _, s := range r.state.Stores(t.tp.Topic) {
		p, err := r.state.Open(s, t.tp.Partition)
		if err != nil {
			return err
		}
		t.ctx.stores[s.Name] = &taskStore{store: s, part: p}
		if s.Changelog != "" && r.changelogs != nil {
			if _, err := p.Recover(ctx, r.changelogs, s.Changelog, t.tp.Partition, t.committedAtAssign, r.log); err != nil {
				return fmt.Errorf("recover %s of %s: %w", s.Name, t.tp, err)
			}
		}
		if off, ok, err := p.ProcessedOffset(); err == nil && ok && t.committedAtAssign >= 0 && off+1 > t.committedAtAssign {
			r.log.Warn(fmt.Sprintf("offset %d for topic partition %s is behind the stored offset %d; it may lead to distortions in produced data", t.committedAtAssign, t.tp, off))
		}
	}
	return nil
}

// closeStores closes the task's store partitions, from the task's goroutine.
func (t *task) closeStores() {
	for name, ts := range t.ctx.stores {
		ts.part.Close()
		delete(t.ctx.stores, name)
	}
}

// changelogProducer adapts the engine's Producer to state.Changelog.
type changelogProducer struct {
	p   Producer
	msg OutMessage
}

func (c *changelogProducer) Produce(topic string, partition int32, key, value []byte, headers []state.Header) error {
	c.msg = OutMessage{Topic: topic, Partition: partition, Key: key, Value: value, Headers: headers}
	return c.p.Produce(&c.msg)
}
