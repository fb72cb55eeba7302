package windows

import (
	"fmt"

	"go.starlark.net/starlark"
)

// State is one message key's windows in one store partition.
type State interface {
	// LatestTimestamp is the partition's clock: the highest timestamp any
	// window of the store partition was updated with.
	LatestTimestamp() int64
	GetWindow(start, end int64) (starlark.Value, bool, error)
	// UpdateWindow stores an aggregate and advances the clock to ts.
	UpdateWindow(start, end int64, value starlark.Value, ts int64) error
	// ExpireWindows deletes and returns the key's windows with
	// start <= clock - duration - grace not expired before, by (start, end).
	ExpireWindows(duration, grace int64) ([]Expired, error)
}

// Expired is a closed window with its stored aggregate. It aliases an
// unnamed struct type, as state.Window does, so that a store's
// []state.Window is a []Expired without conversion.
type Expired = struct {
	Start, End int64
	Value      starlark.Value
}

// Result is an emitted window: Value is the whole record
// (Aggregate.Record), {"start", "end", "value"} or .agg()'s columns.
type Result = Expired

// Collection keeps the values of collecting windows (Aggregate.Collects)
// beside their aggregates, by an id (a timestamp for time windows, a
// position for count windows) and a partition-wide counter, as Quix
// Streams 3.x does.
type Collection interface {
	// AddToCollection keeps a value under id.
	AddToCollection(id int64, value starlark.Value) error
	// GetFromCollection returns the values with start <= id < end, by
	// id, then in the order they were added.
	GetFromCollection(start, end int64) ([]starlark.Value, error)
	// DeleteFromCollection deletes the values with start <= id < end;
	// start < 0 means from the last id deleted before.
	DeleteFromCollection(start, end int64) error
}

func collection(st any) (Collection, error) {
	c, ok := st.(Collection)
	if !ok {
		return nil, fmt.Errorf("collect() needs a state with collections")
	}
	return c, nil
}

// Late describes a window a message came too late for.
type Late struct {
	Timestamp      int64
	Window         Range
	MinValidEndRaw int64 // latest - grace + 1
}

// Fixed is a tumbling (Step == Duration) or hopping window definition.
type Fixed struct {
	Duration, Step, Grace int64
	Agg                   Aggregate
}

// Process is Quix Streams' FixedTimeWindow.process_window: it updates the
// windows ts belongs to (skipping, and reporting to late, those that
// closed before this message: end <= latest - grace, latest being the
// clock before it), then expires the key's closed windows against the
// updated clock. It returns the updated windows (for current()) and the
// expired ones (for final()), each ascending.
func (f Fixed) Process(th *starlark.Thread, st State, value starlark.Value, ts int64, late func(Late)) (updated, expired []Result, err error) {
	if ts < 0 {
		return nil, nil, fmt.Errorf("timestamp cannot be negative: %d", ts)
	}
	var coll Collection
	if f.Agg.Collects() {
		if coll, err = collection(st); err != nil {
			return nil, nil, err
		}
	}
	latest := st.LatestTimestamp()
	minValidEnd := latest - f.Grace + 1
	for _, r := range Ranges(ts, f.Duration, f.Step) {
		if r.End < minValidEnd {
			if late != nil {
				late(Late{Timestamp: ts, Window: r, MinValidEndRaw: minValidEnd})
			}
			continue
		}
		// A window that only collects stores None: its values are in
		// the collection.
		var agg starlark.Value = starlark.None
		if f.Agg.Aggregates() {
			cur, found, err := st.GetWindow(r.Start, r.End)
			if err != nil {
				return nil, nil, err
			}
			if !found || cur == starlark.None {
				cur = f.Agg.Init()
			}
			if agg, err = f.Agg.Step(th, cur, value, ts); err != nil {
				return nil, nil, err
			}
			rec, err := f.Agg.Record(agg, nil, r.Start, r.End)
			if err != nil {
				return nil, nil, err
			}
			updated = append(updated, Result{r.Start, r.End, rec})
		}
		if err := st.UpdateWindow(r.Start, r.End, agg, ts); err != nil {
			return nil, nil, err
		}
	}
	if coll != nil {
		// As the reference does, also for a message late for every window.
		v, err := f.Agg.CollectValue(value)
		if err != nil {
			return nil, nil, err
		}
		if err := coll.AddToCollection(ts, v); err != nil {
			return nil, nil, err
		}
	}
	closed, err := st.ExpireWindows(f.Duration, f.Grace)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range closed {
		var collected []starlark.Value
		if coll != nil {
			if collected, err = coll.GetFromCollection(w.Start, w.End); err != nil {
				return nil, nil, err
			}
		}
		rec, err := f.Agg.Record(w.Value, collected, w.Start, w.End)
		if err != nil {
			return nil, nil, err
		}
		expired = append(expired, Result{w.Start, w.End, rec})
	}
	if coll != nil && len(closed) > 0 {
		// The values before the last closed window's start belong to no
		// open window.
		if err := coll.DeleteFromCollection(-1, closed[len(closed)-1].Start); err != nil {
			return nil, nil, err
		}
	}
	return updated, expired, nil
}
