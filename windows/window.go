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

// Result is an emitted window: {"start", "end", "value"}.
type Result = Expired

// Late describes a window a message came too late for.
type Late struct {
	Timestamp      int64
	Window         Range
	MinValidEndRaw int64 // latest - grace + 1
}

// Fixed is a tumbling (Step == Duration) or hopping window definition.
type Fixed struct {
	Duration, Step, Grace int64
	Agg                   Aggregation
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
	latest := st.LatestTimestamp()
	minValidEnd := latest - f.Grace + 1
	for _, r := range Ranges(ts, f.Duration, f.Step) {
		if r.End < minValidEnd {
			if late != nil {
				late(Late{Timestamp: ts, Window: r, MinValidEndRaw: minValidEnd})
			}
			continue
		}
		cur, found, err := st.GetWindow(r.Start, r.End)
		if err != nil {
			return nil, nil, err
		}
		agg, err := f.Agg.step(th, cur, found, value)
		if err != nil {
			return nil, nil, err
		}
		if err := st.UpdateWindow(r.Start, r.End, agg, ts); err != nil {
			return nil, nil, err
		}
		v, err := f.Agg.result(agg)
		if err != nil {
			return nil, nil, err
		}
		updated = append(updated, Result{r.Start, r.End, v})
	}
	closed, err := st.ExpireWindows(f.Duration, f.Grace)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range closed {
		v, err := f.Agg.result(w.Value)
		if err != nil {
			return nil, nil, err
		}
		expired = append(expired, Result{w.Start, w.End, v})
	}
	return updated, expired, nil
}
