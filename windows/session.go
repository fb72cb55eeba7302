package windows

import (
	"fmt"
	"sort"

	"go.starlark.net/starlark"
)

// Session is a session window definition (beyond Quix Streams, with Kafka
// Streams' SessionWindows semantics): a key's records within Timeout of
// each other form one session [first timestamp, last timestamp]. A record
// within Timeout of a session extends it; one within Timeout of two
// sessions merges them. The clock is the store partition's stream time
// (the largest timestamp seen, this record's included): a record is late,
// and dropped, when the session it would make ends before stream time -
// Grace; a session closes, for every key of the partition, once it ends
// before stream time - Grace - Timeout.
//
// Each session stores [aggregate, key] (key None for a bytes key, which
// is its state prefix), among its key's open sessions, and its records'
// [timestamp, value] in the collection: a merge recomputes the merged session from them, in
// timestamp order (the aggregators cannot merge two aggregates), and
// Collect() reads them when the session closes.
type Session struct {
	Timeout, Grace int64
	Agg            Aggregate
}

// SessionState is what session windows need of a store partition.
type SessionState interface {
	LatestTimestamp() int64
	AdvanceLatestTimestamp(ts int64)
	Collection
	// KeySessions returns the key's open sessions, by start.
	KeySessions() ([]Expired, error)
	// SetKeySessions replaces them; the store indexes keys by the
	// buckets of bucket ms their sessions end in.
	SetKeySessions(sessions []Expired, bucket int64) error
	// CloseSessions deletes and returns every key's sessions that end
	// before before, with their collections (collect) and the values
	// kept for them deleted.
	CloseSessions(before, bucket int64, collect bool) ([]KeyedWindow, error)
}

// Process implements the engine's window processor.
func (s Session) Process(th *starlark.Thread, st State, key, value starlark.Value, ts int64, late func(Late) error) (updated, expired []Result, err error) {
	ss, ok := st.(SessionState)
	if !ok {
		return nil, nil, fmt.Errorf("session windows need a session state")
	}
	if ts < 0 {
		return nil, nil, fmt.Errorf("timestamp cannot be negative: %d", ts)
	}
	streamTime := max(ss.LatestTimestamp(), ts)
	ss.AdvanceLatestTimestamp(ts)
	closeTime := streamTime - s.Grace
	all, err := ss.KeySessions()
	if err != nil {
		return nil, nil, err
	}
	var found, others []Expired
	for _, f := range all {
		if f.End >= ts-s.Timeout && f.Start <= ts+s.Timeout {
			found = append(found, f)
		} else {
			others = append(others, f)
		}
	}
	start, end := ts, ts
	for _, f := range found {
		start, end = min(start, f.Start), max(end, f.End)
	}
	if end < closeTime {
		if late != nil {
			if err := late(Late{Timestamp: ts, Window: Range{start, end}, MaxExpiredEnd: closeTime}); err != nil {
				return nil, nil, err
			}
		}
	} else if updated, err = s.add(th, ss, key, value, ts, found, others, start, end); err != nil {
		return nil, nil, err
	}
	closed, err := ss.CloseSessions(closeTime-s.Timeout, s.bucket(), s.Agg.Collects())
	if err != nil {
		return nil, nil, err
	}
	for _, c := range closed {
		agg, k, err := sessionValue(c.Value)
		if err != nil {
			return nil, nil, err
		}
		var collected []starlark.Value
		if s.Agg.Collects() {
			for _, rec := range c.Collected {
				_, v, err := sessionRecord(rec)
				if err != nil {
					return nil, nil, err
				}
				cv, err := s.Agg.CollectValue(v)
				if err != nil {
					return nil, nil, err
				}
				collected = append(collected, cv)
			}
		}
		rec, err := s.Agg.Record(agg, collected, c.Start, c.End)
		if err != nil {
			return nil, nil, err
		}
		if k == starlark.None {
			k = starlark.Bytes(c.Prefix)
		}
		expired = append(expired, Result{Start: c.Start, End: c.End, Value: rec, Key: k})
	}
	return updated, expired, nil
}

// add puts the record into the session [start, end] that it makes with
// the sessions found, and returns that session's record.
func (s Session) add(th *starlark.Thread, ss SessionState, key, value starlark.Value, ts int64, found, others []Expired, start, end int64) ([]Result, error) {
	if err := ss.AddToCollection(ts, starlark.NewList([]starlark.Value{starlark.MakeInt64(ts), value})); err != nil {
		return nil, err
	}
	var agg starlark.Value = starlark.None
	if s.Agg.Aggregates() {
		switch len(found) {
		case 0:
			var err error
			if agg, err = s.Agg.Step(th, s.Agg.Init(), value, ts); err != nil {
				return nil, err
			}
		case 1:
			cur, _, err := sessionValue(found[0].Value)
			if err != nil {
				return nil, err
			}
			if agg, err = s.Agg.Step(th, cur, value, ts); err != nil {
				return nil, err
			}
		default: // a merge: recompute from the records
			recs, err := ss.GetFromCollection(start, end+1)
			if err != nil {
				return nil, err
			}
			agg = s.Agg.Init()
			for _, r := range recs {
				t, v, err := sessionRecord(r)
				if err != nil {
					return nil, err
				}
				if agg, err = s.Agg.Step(th, agg, v, t); err != nil {
					return nil, err
				}
			}
		}
	}
	stored := key
	if _, ok := key.(starlark.Bytes); ok {
		stored = starlark.None // the state prefix is the key
	}
	sessions := append(others, Expired{Start: start, End: end, Value: starlark.NewList([]starlark.Value{agg, stored})})
	sort.Slice(sessions, func(i, j int) bool { return sessions[i].Start < sessions[j].Start })
	if err := ss.SetKeySessions(sessions, s.bucket()); err != nil {
		return nil, err
	}
	if !s.Agg.Aggregates() {
		return nil, nil
	}
	rec, err := s.Agg.Record(agg, nil, start, end)
	if err != nil {
		return nil, err
	}
	return []Result{{Start: start, End: end, Value: rec}}, nil
}

// bucket is the width of the time buckets the store indexes session ends
// by: one per timeout + grace.
func (s Session) bucket() int64 { return s.Timeout + s.Grace }

// sessionValue reads a stored [aggregate, key].
func sessionValue(v starlark.Value) (agg, key starlark.Value, err error) {
	l, ok := v.(*starlark.List)
	if !ok || l.Len() != 2 {
		return nil, nil, fmt.Errorf("session window state: want [aggregate, key], got %s", v)
	}
	return l.Index(0), l.Index(1), nil
}

// sessionRecord reads a kept [timestamp, value].
func sessionRecord(v starlark.Value) (int64, starlark.Value, error) {
	l, ok := v.(*starlark.List)
	if !ok || l.Len() != 2 {
		return 0, nil, fmt.Errorf("session window state: want [timestamp, value], got %s", v)
	}
	n, ok := l.Index(0).(starlark.Int)
	ts, ok2 := n.Int64()
	if !ok || !ok2 {
		return 0, nil, fmt.Errorf("session window state: bad timestamp %s", l.Index(0))
	}
	return ts, l.Index(1), nil
}
