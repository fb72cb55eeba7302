package runtime

import (
	"context"
	"fmt"
	"log/slog"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
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
		out = append(out, engine.StoreSpec{Name: st.Name, Topic: st.Topic, Topics: st.Topics, Windowed: st.Windowed, Timestamped: st.Timestamped, Changelog: st.Changelog})
	}
	return out
}

// Open opens a store partition and recovers it from its changelog, then
// warns, as the reference does, when the group's committed offset is
// behind the offset the state was stored with.
func (s *stateStores) Open(ctx context.Context, spec engine.StoreSpec, partition int32, committed map[string]int64) (engine.StorePartition, error) {
	st, err := s.m.Register(state.Store{Name: spec.Name, Topic: spec.Topic, Topics: spec.Topics, Windowed: spec.Windowed, Timestamped: spec.Timestamped, Changelog: spec.Changelog})
	if err != nil {
		return nil, err
	}
	p, err := s.m.Open(st, partition)
	if err != nil {
		return nil, err
	}
	own := map[string]int64{}
	for _, t := range spec.SourceTopics() {
		own[t] = record.NoOffset
		if c, ok := committed[t]; ok {
			own[t] = c
		}
	}
	if st.Changelog != "" && s.changelogs != nil {
		if _, err := p.RecoverOffsets(ctx, s.changelogs, st.Changelog, partition, own, s.log); err != nil {
			p.Close()
			return nil, fmt.Errorf("recover %s of %s[%d]: %w", st.Name, st.Topic, partition, err)
		}
	}
	if c := own[st.Topic]; len(own) == 1 {
		if off, ok, err := p.ProcessedOffset(); err == nil && ok && c >= 0 && off+1 > c {
			s.log.Warn(fmt.Sprintf("offset %d for topic partition %s[%d] is behind the stored offset %d; it may lead to distortions in produced data", c, st.Topic, partition, off))
		}
	}
	return statePartition{p, len(own) > 1}, nil
}

// statePartition is a store partition; multi when the messages of more
// than one source topic change it (its changelog headers then carry each
// one's offset).
type statePartition struct {
	p     *state.Partition
	multi bool
}

func (p statePartition) Begin() engine.StoreTx { return stateTx{p.p.Begin(), p.multi} }
func (p statePartition) Close()                { p.p.Close() }

// stateTx is a *state.Transaction as the engine sees it.
type stateTx struct {
	*state.Transaction
	multi bool
}

func (t stateTx) Timestamped(prefix []byte) (engine.TimestampedState, error) {
	s, err := t.Transaction.Timestamped(prefix)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (t stateTx) Flush(processed map[string]int64, changelogOffset int64) error {
	if t.multi {
		return t.Transaction.FlushOffsets(changelogOffset)
	}
	off, ok := single(processed)
	if !ok {
		return t.Transaction.FlushOffsets(changelogOffset)
	}
	return t.Transaction.Flush(off, changelogOffset)
}

// single returns the only offset of processed.
func single(processed map[string]int64) (int64, bool) {
	for _, off := range processed {
		if len(processed) == 1 {
			return off, true
		}
	}
	return 0, false
}

func (stateTx) Prefix(key starlark.Value) ([]byte, error) { return state.Prefix(key) }

func (t stateTx) Windows(prefix []byte) (windows.State, error) {
	w, err := t.Transaction.Windows(prefix)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (t stateTx) Prepare(cl engine.ChangelogWriter, topic string, partition int32, processed map[string]int64) error {
	var c state.Changelog
	if cl != nil {
		c = cl
	}
	if off, ok := single(processed); ok && !t.multi {
		return t.Transaction.Prepare(c, topic, partition, off)
	}
	return t.Transaction.PrepareOffsets(c, topic, partition, processed)
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
		if _, err := m.Register(state.Store{Name: s.Name, Topic: s.Topic, Topics: s.Topics, Windowed: s.Windowed, Timestamped: s.Timestamped}); err != nil {
			m.Close()
			return nil, nil, err
		}
	}
	return &stateStores{m: m, log: slog.New(slog.DiscardHandler)}, m.Close, nil
}
