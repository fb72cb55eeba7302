package windows

import (
	"fmt"

	"go.starlark.net/starlark"
)

// CountWindow is a count-based window definition, as Quix Streams 3.x
// defines them: a window closes when it holds Max records of its key.
// Step is 0 for tumbling windows (the next window opens with the next
// record); otherwise a new window opens every Step records (hopping;
// Step 1 is a sliding count window). A window's start and end are the
// smallest and largest timestamps of its records; it is emitted with its
// start as timestamp. Time plays no other part: there is no lateness.
//
// A key's windows are one value in its windowed state, under "metadata",
// in the reference's layout:
//
//	{"windows": [{"count", "start", "end", "aggregations", "collection_start_id"}, ...]}
//
// Collected values are in the Collection by their position in the key's
// stream: a window holds the ids [collection_start_id,
// collection_start_id + Max).
type CountWindow struct {
	Max, Step int64
	Agg       Aggregate
}

// KeyState is one value per message key beside its windows.
type KeyState interface {
	// Load returns the key's value stored under name.
	Load(name string) (starlark.Value, bool, error)
	// Save stores the key's value under name and advances the clock to ts.
	Save(name string, v starlark.Value, ts int64) error
}

const countWindowsKey = "metadata"

type countWindow struct {
	count, start, end, startID int64
	agg                        starlark.Value
}

// Process adds a record to the key's windows; it returns the windows it
// updated (for current(), when the window aggregates) and the one it
// filled (for final()).
func (c CountWindow) Process(th *starlark.Thread, st State, key, value starlark.Value, ts int64, _ func(Late) error) (updated, expired []Result, err error) {
	ks, ok := st.(KeyState)
	if !ok {
		return nil, nil, fmt.Errorf("count windows need a key-value state")
	}
	var coll Collection
	if c.Agg.Collects() {
		if coll, err = collection(st); err != nil {
			return nil, nil, err
		}
	}
	wins, err := loadCountWindows(ks)
	if err != nil {
		return nil, nil, err
	}
	// -1: no collection id yet (a window of a definition that does not
	// collect keeps -1).
	startID := int64(-1)
	switch {
	case len(wins) == 0:
		startID = 0
		wins = append(wins, countWindow{start: ts, end: ts, agg: c.Agg.Init(), startID: 0})
	case c.Step > 0 && wins[0].count%c.Step == 0:
		if coll != nil {
			startID = wins[0].startID + wins[0].count
		}
		wins = append(wins, countWindow{start: ts, end: ts, agg: c.Agg.Init(), startID: startID})
	}
	if coll != nil {
		if startID == -1 {
			startID = wins[0].startID + wins[0].count
		}
		v, err := c.Agg.CollectValue(value)
		if err != nil {
			return nil, nil, err
		}
		if err := coll.AddToCollection(startID, v); err != nil {
			return nil, nil, err
		}
	}
	kept := wins[:0]
	for _, w := range wins {
		w.count++
		if ts < w.start {
			w.start = ts
		} else if ts > w.end {
			w.end = ts
		}
		if c.Agg.Aggregates() {
			if w.agg, err = c.Agg.Step(th, w.agg, value, ts); err != nil {
				return nil, nil, err
			}
			rec, err := c.Agg.Record(w.agg, nil, w.start, w.end)
			if err != nil {
				return nil, nil, err
			}
			updated = append(updated, Result{Start: w.start, End: w.end, Value: rec})
		}
		if w.count < c.Max {
			kept = append(kept, w)
			continue
		}
		var collected []starlark.Value
		if coll != nil {
			if collected, err = coll.GetFromCollection(w.startID, w.startID+c.Max); err != nil {
				return nil, nil, err
			}
			// A tumbling window deletes from 0 (its ids start at 0
			// again); a hopping one its first step, which no later
			// window holds.
			from, step := int64(-1), c.Step
			if c.Step == 0 {
				from, step = 0, c.Max
			}
			if err := coll.DeleteFromCollection(from, w.startID+step); err != nil {
				return nil, nil, err
			}
		}
		rec, err := c.Agg.Record(w.agg, collected, w.start, w.end)
		if err != nil {
			return nil, nil, err
		}
		expired = append(expired, Result{Start: w.start, End: w.end, Value: rec})
	}
	if err := ks.Save(countWindowsKey, countWindowsValue(kept), ts); err != nil {
		return nil, nil, err
	}
	return updated, expired, nil
}

var (
	keyWindows           = starlark.String("windows")
	keyCount             = starlark.String("count")
	keyAggregations      = starlark.String("aggregations")
	keyCollectionStartID = starlark.String("collection_start_id")
)

func countWindowsValue(wins []countWindow) starlark.Value {
	list := make([]starlark.Value, len(wins))
	for i, w := range wins {
		d := starlark.NewDict(5)
		_ = d.SetKey(keyCount, starlark.MakeInt64(w.count))
		_ = d.SetKey(keyStart, starlark.MakeInt64(w.start))
		_ = d.SetKey(keyEnd, starlark.MakeInt64(w.end))
		_ = d.SetKey(keyAggregations, w.agg)
		_ = d.SetKey(keyCollectionStartID, starlark.MakeInt64(w.startID))
		list[i] = d
	}
	d := starlark.NewDict(1)
	_ = d.SetKey(keyWindows, starlark.NewList(list))
	return d
}

// loadCountWindows reads the key's windows; a window stored by an older
// Quix Streams has "value" instead of "aggregations" and
// "collection_start_id".
func loadCountWindows(ks KeyState) ([]countWindow, error) {
	v, ok, err := ks.Load(countWindowsKey)
	if err != nil || !ok {
		return nil, err
	}
	bad := func(what string) error {
		return fmt.Errorf("count window state: %s in %s", what, v)
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, bad("not a dict")
	}
	lv, _, _ := d.Get(keyWindows)
	list, ok := lv.(*starlark.List)
	if !ok {
		return nil, bad(`no "windows" list`)
	}
	wins := make([]countWindow, 0, list.Len()+1)
	for i := 0; i < list.Len(); i++ {
		wd, ok := list.Index(i).(*starlark.Dict)
		if !ok {
			return nil, bad("a window is not a dict")
		}
		var w countWindow
		for _, f := range []struct {
			key starlark.String
			dst *int64
		}{{keyCount, &w.count}, {keyStart, &w.start}, {keyEnd, &w.end}, {keyCollectionStartID, &w.startID}} {
			x, found, _ := wd.Get(f.key)
			if !found && f.key == keyCollectionStartID {
				x, found, _ = wd.Get(keyValue)
			}
			n, ok := x.(starlark.Int)
			if !found || !ok {
				return nil, bad(fmt.Sprintf("window %q is not an int", f.key))
			}
			*f.dst, _ = n.Int64()
		}
		agg, found, _ := wd.Get(keyAggregations)
		if !found {
			agg, _, _ = wd.Get(keyValue)
		}
		if agg == nil {
			agg = starlark.None
		}
		w.agg = agg
		wins = append(wins, w)
	}
	return wins, nil
}
