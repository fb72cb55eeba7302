package windows

import (
	"fmt"
	"sort"

	"go.starlark.net/starlark"
)

// Sliding is a sliding window definition: every message of a key at time
// t defines the window [t - Duration, t], both ends included: "the last
// Duration ms up to and including this message". Its value aggregates the
// key's messages with timestamps in that range, including ones that
// arrive later out of order, within Grace.
//
// The clock is the partition's, as for fixed windows. A message is late
// when t < clock - Grace (its window was already final); it is skipped.
// The window ending at t is final once t < clock - Grace; final() emits it
// then, once, when the key next sends (as fixed windows expire). current()
// emits, for each accepted message, the window ending at its timestamp.
// Several messages with one timestamp share one window.
//
// The state of a key is its messages within the horizon (JSON, under
// "__sliding__" in the key's windowed state): enough to aggregate any
// window not emitted yet; older messages are dropped as windows become
// final. Each message rewrites that list, so the cost grows with the
// number of a key's messages per Duration + Grace.
type Sliding struct {
	Duration, Grace int64
	Agg             Aggregate
}

// SlidingState is what sliding windows need beyond State: one value per
// key, and the clock.
type SlidingState interface {
	LatestTimestamp() int64
	KeyState
}

const slidingKey = "__sliding__"

type slidingEvent struct {
	ts    int64
	value starlark.Value
}

// Process implements the engine's window processor.
func (s Sliding) Process(th *starlark.Thread, st State, value starlark.Value, ts int64, late func(Late) error) (updated, expired []Result, err error) {
	ss, ok := st.(SlidingState)
	if !ok {
		return nil, nil, fmt.Errorf("sliding windows need a sliding-capable state")
	}
	if ts < 0 {
		return nil, nil, fmt.Errorf("timestamp cannot be negative: %d", ts)
	}
	clock := ss.LatestTimestamp()
	events, emitted, err := s.load(ss)
	if err != nil {
		return nil, nil, err
	}
	accepted := ts >= clock-s.Grace
	if !accepted {
		if late != nil {
			if err := late(Late{Timestamp: ts, Window: Range{ts - s.Duration, ts}, MaxExpiredEnd: clock - s.Grace}); err != nil {
				return nil, nil, err
			}
		}
	} else {
		i := sort.Search(len(events), func(i int) bool { return events[i].ts > ts })
		events = append(events, slidingEvent{})
		copy(events[i+1:], events[i:])
		events[i] = slidingEvent{ts, value}
		clock = max(clock, ts)
		v, err := s.aggregate(th, events, ts)
		if err != nil {
			return nil, nil, err
		}
		updated = append(updated, Result{Start: ts - s.Duration, End: ts, Value: v})
	}
	// Windows ending at each distinct timestamp after the last emitted one
	// and before clock - grace are final.
	for _, e := range events {
		if e.ts <= emitted || e.ts >= clock-s.Grace {
			continue
		}
		if n := len(expired); n > 0 && expired[n-1].End == e.ts {
			continue
		}
		v, err := s.aggregate(th, events, e.ts)
		if err != nil {
			return nil, nil, err
		}
		expired = append(expired, Result{Start: e.ts - s.Duration, End: e.ts, Value: v})
	}
	if n := len(expired); n > 0 {
		emitted = expired[n-1].End
	}
	// Keep what windows after the last emitted one may still need.
	kept := events[:0]
	for _, e := range events {
		if e.ts > emitted-s.Duration {
			kept = append(kept, e)
		}
	}
	if accepted || len(expired) > 0 {
		if err := s.save(ss, kept, emitted, clock); err != nil {
			return nil, nil, err
		}
	}
	return updated, expired, nil
}

// aggregate is the record of the window [end - Duration, end]: its
// values folded, or collected.
func (s Sliding) aggregate(th *starlark.Thread, events []slidingEvent, end int64) (starlark.Value, error) {
	cur := s.Agg.Init()
	var collected []starlark.Value
	for _, e := range events {
		if e.ts < end-s.Duration || e.ts > end {
			continue
		}
		var err error
		if s.Agg.Aggregates() {
			if cur, err = s.Agg.Step(th, cur, e.value, e.ts); err != nil {
				return nil, err
			}
		}
		if s.Agg.Collects() {
			v, err := s.Agg.CollectValue(e.value)
			if err != nil {
				return nil, err
			}
			collected = append(collected, v)
		}
	}
	return s.Agg.Record(cur, collected, end-s.Duration, end)
}

func (s Sliding) load(ss SlidingState) ([]slidingEvent, int64, error) {
	v, ok, err := ss.Load(slidingKey)
	if err != nil || !ok {
		return nil, -1, err
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, 0, fmt.Errorf("sliding window state is %s, not a dict", v.Type())
	}
	emitted := int64(-1)
	if e, ok, _ := d.Get(starlark.String("emitted")); ok {
		if n, ok := e.(starlark.Int); ok {
			emitted, _ = n.Int64()
		}
	}
	var events []slidingEvent
	if l, ok, _ := d.Get(starlark.String("events")); ok {
		list, ok := l.(*starlark.List)
		if !ok {
			return nil, 0, fmt.Errorf("sliding window state: events is %s", l.Type())
		}
		for i := 0; i < list.Len(); i++ {
			pair, ok := list.Index(i).(*starlark.List)
			if !ok || pair.Len() != 2 {
				return nil, 0, fmt.Errorf("sliding window state: bad event %s", list.Index(i))
			}
			t, ok := pair.Index(0).(starlark.Int)
			ts, ok2 := t.Int64()
			if !ok || !ok2 {
				return nil, 0, fmt.Errorf("sliding window state: bad timestamp %s", pair.Index(0))
			}
			events = append(events, slidingEvent{ts, pair.Index(1)})
		}
	}
	return events, emitted, nil
}

func (s Sliding) save(ss SlidingState, events []slidingEvent, emitted, clock int64) error {
	list := make([]starlark.Value, len(events))
	for i, e := range events {
		list[i] = starlark.NewList([]starlark.Value{starlark.MakeInt64(e.ts), e.value})
	}
	d := starlark.NewDict(2)
	_ = d.SetKey(starlark.String("events"), starlark.NewList(list))
	_ = d.SetKey(starlark.String("emitted"), starlark.MakeInt64(emitted))
	return ss.Save(slidingKey, d, clock)
}
