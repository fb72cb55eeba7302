package runtime

import (
	"context"
	"fmt"
	"log/slog"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/state"
	"github.com/qstar-dev/qstar/windows"
)

// stateStores gives the engine package state's stores (engine.Stores):
// RocksDB for a run, memory for sdf.test(). A spec not registered yet is
// registered when first opened (sdf.test() opens the stores of the
// pipeline under test as it meets them).
type stateStores struct {
	m          *state.Manager
	changelogs state.ChangelogSource // nil: no recovery
	log        *slog.Logger
}

var _ engine.Stores = (*stateStores)(nil)

func (s *stateStores) Of(topic string) []engine.StoreSpec {
	var out []engine.StoreSpec
	for _, st := range s.m.Stores(topic) {
		out = append(out, engine.StoreSpec{Name: st.Name, Topic: st.Topic, Windowed: st.Windowed, Changelog: st.Changelog})
	}
	return out
}

// Open opens a store partition and recovers it from its changelog, then
// warns, as the reference does, when the group's committed offset is
// behind the offset the state was stored with.
func (s *stateStores) Open(ctx context.Context, spec engine.StoreSpec, partition int32, committed int64) (engine.StorePartition, error) {
	st, err := s.m.Register(state.Store{Name: spec.Name, Topic: spec.Topic, Windowed: spec.Windowed, Changelog: spec.Changelog})
	if err != nil {
		return nil, err
	}
	p, err := s.m.Open(st, partition)
	if err != nil {
		return nil, err
	}
	if st.Changelog != "" && s.changelogs != nil {
		if _, err := p.Recover(ctx, s.changelogs, st.Changelog, partition, committed, s.log); err != nil {
			p.Close()
			return nil, fmt.Errorf("recover %s of %s[%d]: %w", st.Name, st.Topic, partition, err)
		}
	}
	if off, ok, err := p.ProcessedOffset(); err == nil && ok && committed >= 0 && off+1 > committed {
		s.log.Warn(fmt.Sprintf("offset %d for topic partition %s[%d] is behind the stored offset %d; it may lead to distortions in produced data", committed, st.Topic, partition, off))
	}
	return statePartition{p}, nil
}

type statePartition struct{ p *state.Partition }

func (p statePartition) Begin() engine.StoreTx { return stateTx{p.p.Begin()} }
func (p statePartition) Close()                { p.p.Close() }

// stateTx is a *state.Transaction as the engine sees it.
type stateTx struct{ *state.Transaction }

func (stateTx) Prefix(key starlark.Value) ([]byte, error) { return state.Prefix(key) }

func (t stateTx) Windows(prefix []byte) (windows.State, error) {
	w, err := t.Transaction.Windows(prefix)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (t stateTx) Prepare(cl engine.ChangelogWriter, topic string, partition int32, processedOffset int64) error {
	var c state.Changelog
	if cl != nil {
		c = cl
	}
	return t.Transaction.Prepare(c, topic, partition, processedOffset)
}

// MemoryStores returns package state's stores in memory, without
// changelogs, as engine.Stores, and a function releasing them: the stores
// of sdf.test() and `qstar test`, and of the engine's own tests. The same
// Transaction and windowed-state code runs as on RocksDB.
// The stores of specs are registered at once (Of lists them); others are
// registered when first opened.
func MemoryStores(specs ...engine.StoreSpec) (engine.Stores, func(), error) {
	m, err := state.NewManager(state.Options{Group: "test", InMemory: true}, false, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	for _, s := range specs {
		if _, err := m.Register(state.Store{Name: s.Name, Topic: s.Topic, Windowed: s.Windowed}); err != nil {
			m.Close()
			return nil, nil, err
		}
	}
	return &stateStores{m: m, log: slog.New(slog.DiscardHandler)}, m.Close, nil
}
