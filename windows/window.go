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
	// start <= maxStart not expired before, by (start, end).
	ExpireWindows(maxStart int64) ([]Expired, error)
}

// KeyClock is what closing_strategy="key" and "partition" need beyond
// State: the key's own latest timestamp (Quix Streams 3.x keeps it for
// both).
type KeyClock interface {
	KeyLatestTimestamp() (int64, error)
	// AdvanceKeyLatestTimestamp moves the key's latest timestamp forward
	// to ts.
	AdvanceKeyLatestTimestamp(ts int64) error
}

// PartitionWindows is what closing_strategy="partition" needs beyond
// KeyClock: the windows of every key of the store partition.
type PartitionWindows interface {
	KeyClock
	// LatestExpiredEnd is the end of the last window the partition
	// expired (0 before the first).
	LatestExpiredEnd() (int64, error)
	// ExpireAllWindows deletes and returns the windows of every key that
	// closed by maxEnd, as Quix Streams 3.x's expire_all_windows: the
	// windows ending at each step after the last expired end, up to
	// maxEnd (or, before the first expiry, every window ending by maxEnd
	// rounded down to step), by window, then key; with collect, each
	// with its collected values, deleting the key's values before it.
	ExpireAllWindows(maxEnd, step int64, collect bool) ([]KeyedWindow, error)
}

// Expired is a closed window with its stored aggregate. It aliases an
// unnamed struct type, as state.Window does, so that a store's
// []state.Window is a []Expired without conversion.
type Expired = struct {
	Start, End int64
	Value      starlark.Value
}

// KeyedWindow is an Expired window of some key (the key's state prefix,
// its serialized message key), with its collected values.
type KeyedWindow = struct {
	Prefix     []byte
	Start, End int64
	Value      starlark.Value
	Collected  []starlark.Value
}

// Result is an emitted window: Value is the whole record
// (Aggregate.Record), {"start", "end", "value"} or .agg()'s columns.
// Key, when not nil, is the key it comes out with instead of the
// message's: closing_strategy="partition" and session windows close the
// windows of other keys (3.x emits the former keyed by their state prefix,
// as bytes).
type Result struct {
	Start, End int64
	Value      starlark.Value
	Key        starlark.Value
}

// Closing is how a time window's windows close.
type Closing int

const (
	// ClosingPartitionClock is Quix Streams 2.5.1's: the store partition's
	// latest timestamp closes the key's windows when the key next sends.
	ClosingPartitionClock Closing = iota
	// ClosingKey is 3.x's closing_strategy="key": the key's own latest
	// timestamp closes its windows.
	ClosingKey
	// ClosingPartition is 3.x's closing_strategy="partition": every
	// message closes the windows of all keys that ended by its timestamp
	// minus grace, from the last expired window end on.
	ClosingPartition
)

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
	Timestamp int64
	Window    Range
	// MaxExpiredEnd is the latest end of a closed window: latest - grace,
	// latest being the clock (with the message's timestamp).
	MaxExpiredEnd int64
}

// LateBy is how late the message is: MaxExpiredEnd - Timestamp.
func (l Late) LateBy() int64 { return l.MaxExpiredEnd - l.Timestamp }

// Fixed is a tumbling (Step == Duration) or hopping window definition.
type Fixed struct {
	Duration, Step, Grace int64
	Agg                   Aggregate
	Closing               Closing
}

// Process is Quix Streams' TimeWindow.process_window: it updates the
// windows ts belongs to, skipping (and reporting to late) those that
// closed before this message (end <= latest - grace, latest being the
// larger of ts and the clock of the closing strategy), then expires the
// closed windows: the key's, or with ClosingPartition every key's. It
// returns the updated windows (for current()) and the expired ones (for
// final()), each ascending.
func (f Fixed) Process(th *starlark.Thread, st State, key, value starlark.Value, ts int64, late func(Late) error) (updated, expired []Result, err error) {
	if ts < 0 {
		return nil, nil, fmt.Errorf("timestamp cannot be negative: %d", ts)
	}
	var coll Collection
	if f.Agg.Collects() {
		if coll, err = collection(st); err != nil {
			return nil, nil, err
		}
	}
	var clock KeyClock
	var all PartitionWindows
	latest := st.LatestTimestamp()
	switch f.Closing {
	case ClosingKey:
		if clock, err = keyClock(st); err != nil {
			return nil, nil, err
		}
		if latest, err = clock.KeyLatestTimestamp(); err != nil {
			return nil, nil, err
		}
	case ClosingPartition:
		var ok bool
		if all, ok = st.(PartitionWindows); !ok {
			return nil, nil, fmt.Errorf(`closing_strategy="partition" needs a state with the partition's windows`)
		}
		clock = all
		if latest, err = all.LatestExpiredEnd(); err != nil {
			return nil, nil, err
		}
	}
	latest = max(latest, ts)
	maxExpiredEnd := latest - f.Grace
	touched := false
	for _, r := range Ranges(ts, f.Duration, f.Step) {
		if r.End <= maxExpiredEnd {
			if late != nil {
				if err := late(Late{Timestamp: ts, Window: r, MaxExpiredEnd: maxExpiredEnd}); err != nil {
					return nil, nil, err
				}
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
			updated = append(updated, Result{Start: r.Start, End: r.End, Value: rec})
		}
		if err := st.UpdateWindow(r.Start, r.End, agg, ts); err != nil {
			return nil, nil, err
		}
		touched = true
	}
	if clock != nil && touched {
		if err := clock.AdvanceKeyLatestTimestamp(ts); err != nil {
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
	if all != nil {
		expired, err = f.expireAll(all, maxExpiredEnd)
		return updated, expired, err
	}
	closed, err := st.ExpireWindows(maxExpiredEnd - f.Duration)
	if err != nil {
		return nil, nil, err
	}
	if expired, err = f.results(coll, closed); err != nil {
		return nil, nil, err
	}
	return updated, expired, nil
}

// results makes the records of the key's closed windows, ascending, with
// their collected values, and deletes the values no open window of the
// key needs.
func (f Fixed) results(coll Collection, closed []Expired) ([]Result, error) {
	out := make([]Result, 0, len(closed))
	for _, w := range closed {
		var collected []starlark.Value
		if coll != nil {
			var err error
			if collected, err = coll.GetFromCollection(w.Start, w.End); err != nil {
				return nil, err
			}
		}
		rec, err := f.Agg.Record(w.Value, collected, w.Start, w.End)
		if err != nil {
			return nil, err
		}
		out = append(out, Result{Start: w.Start, End: w.End, Value: rec})
	}
	if coll != nil && len(closed) > 0 {
		// The values before the last closed window's start belong to no
		// open window.
		if err := coll.DeleteFromCollection(-1, closed[len(closed)-1].Start); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// expireAll closes the windows of every key of the partition that ended
// by maxEnd; each comes out keyed by its key's state prefix.
func (f Fixed) expireAll(all PartitionWindows, maxEnd int64) ([]Result, error) {
	closed, err := all.ExpireAllWindows(maxEnd, f.Step, f.Agg.Collects())
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(closed))
	for _, w := range closed {
		rec, err := f.Agg.Record(w.Value, w.Collected, w.Start, w.End)
		if err != nil {
			return nil, err
		}
		out = append(out, Result{Start: w.Start, End: w.End, Value: rec, Key: starlark.Bytes(w.Prefix)})
	}
	return out, nil
}

func keyClock(st State) (KeyClock, error) {
	c, ok := st.(KeyClock)
	if !ok {
		return nil, fmt.Errorf(`closing_strategy="key" needs a state with per-key timestamps`)
	}
	return c, nil
}
