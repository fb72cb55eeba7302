package windows

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Sliding is Quix Streams 3.x's sliding time window (SlidingWindow in
// quixstreams/dataframe/windows/sliding.py, v3.25.0): every record of a
// key at t has a left window [max(0, t - Duration), t] and a right window
// [t + 1, t + 1 + Duration], both ends included. Windows are kept per key
// with the largest timestamp they hold, as [max_timestamp, aggregate],
// and only "left" windows (end == max_timestamp) are emitted, by current()
// as they are updated and by final() once they close. The clock is the
// key's own latest timestamp (3.x's closing_strategy="key", the only one
// sliding windows have): a record is late when t <= latest - Grace - 1 -
// Duration, and a window closes when its start is at most that.
type Sliding struct {
	Duration, Grace int64
	Agg             Aggregate
}

// SlidingState is what sliding windows need beyond State.
type SlidingState interface {
	State
	KeyClock
	Collection
	// GetWindows returns the key's windows with startFrom < start <=
	// startTo, by (start, end).
	GetWindows(startFrom, startTo int64) ([]Expired, error)
	// ExpiredWindows returns the key's windows with start <= maxStart not
	// returned before, by (start, end), and keeps them in the state.
	ExpiredWindows(maxStart int64) ([]Expired, error)
	// DeleteWindows deletes the key's windows with start <= maxStart and,
	// with values, the collected values before maxStart.
	DeleteWindows(maxStart int64, values bool) error
}

// Process implements the engine's window processor, as the reference's
// process_window: it scans the key's windows from the right window's
// start down to the left window's start minus Duration, creating the
// right window, the right window of the previous record and the left
// window as needed and updating every window that holds t; then it
// returns the closed left windows and deletes the windows no later record
// can need.
func (s Sliding) Process(th *starlark.Thread, st State, key, value starlark.Value, ts int64, late func(Late) error) (updated, expired []Result, err error) {
	ss, ok := st.(SlidingState)
	if !ok {
		return nil, nil, fmt.Errorf("sliding windows need a state with per-key timestamps and collections")
	}
	if ts < 0 {
		return nil, nil, fmt.Errorf("timestamp cannot be negative: %d", ts)
	}
	d := s.Duration
	latest, err := ss.KeyLatestTimestamp()
	if err != nil {
		return nil, nil, err
	}
	latest = max(latest, ts)
	maxExpiredEnd := latest - s.Grace - 1
	maxExpiredStart := maxExpiredEnd - d
	maxDeletedStart := maxExpiredStart - d
	leftStart, leftEnd := max(0, ts-d), ts
	expiredWindow := func(start, end int64) error {
		if late == nil {
			return nil
		}
		return late(Late{Timestamp: ts, Window: Range{start, end}, MaxExpiredEnd: maxExpiredEnd + 1})
	}
	if ts <= maxExpiredStart {
		return nil, nil, expiredWindow(leftStart, leftEnd)
	}
	p := slidingPass{s: s, th: th, st: ss, value: value, ts: ts}
	rightStart := ts + 1
	rightExists := false
	starts := map[int64]bool{leftStart: true}
	windows, err := ss.GetWindows(max(0, leftStart-d)-1, rightStart)
	if err != nil {
		return nil, nil, err
	}
	leftDone := false
	for i := len(windows) - 1; i >= 0 && !leftDone; i-- {
		w := windows[i]
		maxTS, agg, err := slidingValue(w.Value)
		if err != nil {
			return nil, nil, err
		}
		starts[w.Start] = true
		switch {
		case w.Start == rightStart:
			rightExists = true
		case w.End > leftEnd:
			// The right window, unless it exists or would be empty.
			if !rightExists && maxTS > ts {
				if err := p.update(rightStart, rightStart+d, agg, maxTS, nil); err != nil {
					return nil, nil, err
				}
				rightExists = true
			}
			if w.Start > maxExpiredStart {
				maxTS = max(ts, maxTS)
				next, err := p.step(agg)
				if err != nil {
					return nil, nil, err
				}
				emit := &updated
				if w.End != maxTS {
					emit = nil // only left windows are emitted
				}
				if err := p.update(w.Start, w.End, next, maxTS, emit); err != nil {
					return nil, nil, err
				}
			} else if err := expiredWindow(w.Start, w.End); err != nil {
				return nil, nil, err
			}
		case w.End == leftEnd:
			// The right window of the previous record, then the left
			// window, which exists.
			if rs := maxTS + 1; !starts[rs] && maxTS < ts {
				next, err := p.step(p.init())
				if err != nil {
					return nil, nil, err
				}
				if err := p.update(rs, rs+d, next, ts, nil); err != nil {
					return nil, nil, err
				}
			}
			if w.Start > maxExpiredStart {
				next, err := p.step(agg)
				if err != nil {
					return nil, nil, err
				}
				if err := p.update(w.Start, w.End, next, ts, &updated); err != nil {
					return nil, nil, err
				}
			} else if err := expiredWindow(w.Start, w.End); err != nil {
				return nil, nil, err
			}
			leftDone = true
		default: // w.End < leftEnd
			if rs := maxTS + 1; !starts[rs] && rs+d >= ts {
				var next starlark.Value = starlark.None
				if s.Agg.Aggregates() {
					if next, err = p.step(p.init()); err != nil {
						return nil, nil, err
					}
				}
				if err := p.update(rs, rs+d, next, ts, nil); err != nil {
					return nil, nil, err
				}
			}
			// The left window starts from this window's aggregate if it
			// holds every record of this one.
			if leftStart > maxTS {
				agg = p.init()
			}
			next, err := p.step(agg)
			if err != nil {
				return nil, nil, err
			}
			if err := p.update(leftStart, leftEnd, next, ts, &updated); err != nil {
				return nil, nil, err
			}
			// No later record looks below this window.
			maxDeletedStart = min(w.Start-1, maxExpiredStart)
			leftDone = true
		}
	}
	if !leftDone && leftStart > maxExpiredStart {
		next, err := p.step(p.init())
		if err != nil {
			return nil, nil, err
		}
		if err := p.update(leftStart, leftEnd, next, ts, &updated); err != nil {
			return nil, nil, err
		}
	}
	if s.Agg.Collects() {
		v, err := s.Agg.CollectValue(value)
		if err != nil {
			return nil, nil, err
		}
		if err := ss.AddToCollection(ts, v); err != nil {
			return nil, nil, err
		}
	}
	if p.touched {
		if err := ss.AdvanceKeyLatestTimestamp(ts); err != nil {
			return nil, nil, err
		}
	}
	// All closed windows first: deleting could drop some not yet read.
	closed, err := ss.ExpiredWindows(maxExpiredStart)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range closed {
		maxTS, agg, err := slidingValue(w.Value)
		if err != nil {
			return nil, nil, err
		}
		if w.End != maxTS {
			continue
		}
		var collected []starlark.Value
		if s.Agg.Collects() {
			// Both ends included.
			if collected, err = ss.GetFromCollection(w.Start, w.End+1); err != nil {
				return nil, nil, err
			}
		}
		rec, err := s.Agg.Record(agg, collected, w.Start, w.End)
		if err != nil {
			return nil, nil, err
		}
		expired = append(expired, Result{Start: w.Start, End: w.End, Value: rec})
	}
	if err := ss.DeleteWindows(maxDeletedStart, s.Agg.Collects()); err != nil {
		return nil, nil, err
	}
	// The reference builds the updated windows from the right; emit them
	// ascending.
	for i, j := 0, len(updated)-1; i < j; i, j = i+1, j-1 {
		updated[i], updated[j] = updated[j], updated[i]
	}
	return updated, expired, nil
}

// slidingPass is one record's pass over a key's sliding windows.
type slidingPass struct {
	s       Sliding
	th      *starlark.Thread
	st      SlidingState
	value   starlark.Value
	ts      int64
	touched bool
}

// init is a new window's aggregate (None for a window that only
// collects).
func (p *slidingPass) init() starlark.Value {
	if !p.s.Agg.Aggregates() {
		return starlark.None
	}
	return p.s.Agg.Init()
}

// step folds the record into agg.
func (p *slidingPass) step(agg starlark.Value) (starlark.Value, error) {
	if !p.s.Agg.Aggregates() {
		return starlark.None, nil
	}
	return p.s.Agg.Step(p.th, agg, p.value, p.ts)
}

// update stores [maxTS, agg] for the window and, with emit, appends its
// record.
func (p *slidingPass) update(start, end int64, agg starlark.Value, maxTS int64, emit *[]Result) error {
	if err := p.st.UpdateWindow(start, end, starlark.NewList([]starlark.Value{starlark.MakeInt64(maxTS), agg}), p.ts); err != nil {
		return err
	}
	p.touched = true
	if emit == nil || !p.s.Agg.Aggregates() {
		return nil
	}
	rec, err := p.s.Agg.Record(agg, nil, start, end)
	if err != nil {
		return err
	}
	*emit = append(*emit, Result{Start: start, End: end, Value: rec})
	return nil
}

// slidingValue reads a stored [max_timestamp, aggregate].
func slidingValue(v starlark.Value) (int64, starlark.Value, error) {
	l, ok := v.(*starlark.List)
	if !ok || l.Len() != 2 {
		return 0, nil, fmt.Errorf("sliding window state: want [max_timestamp, aggregate], got %s", v)
	}
	n, ok := l.Index(0).(starlark.Int)
	if !ok {
		return 0, nil, fmt.Errorf("sliding window state: max_timestamp %s is not an int", l.Index(0))
	}
	ts, ok := n.Int64()
	if !ok {
		return 0, nil, fmt.Errorf("sliding window state: max_timestamp %s is out of range", n)
	}
	return ts, l.Index(1), nil
}
