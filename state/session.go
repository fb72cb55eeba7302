package state

import (
	"encoding/binary"
	"fmt"
	"sort"

	"go.starlark.net/starlark"
)

// Session windows keep each key's open sessions in one value, and an index
// of the store partition's keys by the time buckets their sessions end
// in, for closing sessions across keys:
//
//	default              prefix|"__sessions__"        JSON([[start, end, value], ...]) by start
//	__session-index__    >q(end / bucket)|prefix      "1"
//
// start and end are the timestamps of the session's first and last
// records (end may equal start). A record that extends a session rewrites
// the key's value and touches the index only when the session's end moves
// to another bucket. The values of a session's records are in the
// collection (collection.go), by timestamp.

const sessionsName = "__sessions__"

var sessionIndexed = []byte("1")

func sessionIndexKey(b int64, prefix []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(b)), prefix...)
}

// KeySessions returns this key's open sessions, by start.
func (w *WindowState) KeySessions() ([]Window, error) {
	v, ok, err := w.Load(sessionsName)
	if err != nil || !ok {
		return nil, err
	}
	l, ok := v.(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("state: sessions of %q: want a list, got %s", w.prefix, v.Type())
	}
	out := make([]Window, 0, l.Len())
	for i := 0; i < l.Len(); i++ {
		e, ok := l.Index(i).(*starlark.List)
		if !ok || e.Len() != 3 {
			return nil, fmt.Errorf("state: sessions of %q: bad entry %s", w.prefix, l.Index(i))
		}
		s, err1 := int64Of(e.Index(0))
		end, err2 := int64Of(e.Index(1))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("state: sessions of %q: bad entry %s", w.prefix, e)
		}
		out = append(out, Window{Start: s, End: end, Value: e.Index(2)})
	}
	return out, nil
}

func int64Of(v starlark.Value) (int64, error) {
	n, ok := v.(starlark.Int)
	if !ok {
		return 0, fmt.Errorf("not an int: %s", v)
	}
	i, ok := n.Int64()
	if !ok {
		return 0, fmt.Errorf("out of range: %s", n)
	}
	return i, nil
}

// SetKeySessions replaces this key's open sessions (sorted by start) and
// keeps the index of their end buckets.
func (w *WindowState) SetKeySessions(sessions []Window, bucket int64) error {
	old, err := w.KeySessions()
	if err != nil {
		return err
	}
	buckets := func(ss []Window) map[int64]bool {
		m := map[int64]bool{}
		for _, s := range ss {
			m[s.End/bucket] = true
		}
		return m
	}
	was, now := buckets(old), buckets(sessions)
	for b := range was {
		if !now[b] {
			if err := w.tx.DeleteBytes(CFSessionIndex, nil, sessionIndexKey(b, w.prefix)); err != nil {
				return err
			}
		}
	}
	for b := range now {
		if !was[b] {
			if err := w.tx.SetBytes(CFSessionIndex, nil, sessionIndexKey(b, w.prefix), sessionIndexed); err != nil {
				return err
			}
		}
	}
	if len(sessions) == 0 {
		return w.tx.Delete(w.prefix, starlark.String(sessionsName))
	}
	list := make([]starlark.Value, len(sessions))
	for i, s := range sessions {
		if s.Start < 0 || s.End < s.Start {
			return w.tx.fail(fmt.Errorf("state: invalid session [%d, %d]", s.Start, s.End))
		}
		list[i] = starlark.NewList([]starlark.Value{starlark.MakeInt64(s.Start), starlark.MakeInt64(s.End), s.Value})
	}
	return w.tx.Set(w.prefix, starlark.String(sessionsName), starlark.NewList(list))
}

// AdvanceLatestTimestamp moves the store partition's latest timestamp
// forward to ts.
func (w *WindowState) AdvanceLatestTimestamp(ts int64) { w.tx.advanceLatest(ts) }

// CloseSessions deletes and returns the sessions of every key of the
// store partition that end before before, by (end, start, prefix); with
// collect, each with its collected values; the values kept for them are
// deleted. It reads the index buckets that can hold such a session, from
// the bound it keeps on: the sessions that end before the last call's
// before are gone.
func (w *WindowState) CloseSessions(before, bucket int64, collect bool) ([]KeyedWindow, error) {
	before = max(before, 0)
	low, known := bound(w.tx.sessionLow, w.tx.p.sessionLow, nil)
	if known && low >= before {
		return nil, nil
	}
	lower := []byte{}
	if known {
		lower = binary.BigEndian.AppendUint64(nil, uint64(low/bucket))
	}
	entries, err := w.tx.scan(CFSessionIndex, nil, lower, binary.BigEndian.AppendUint64(nil, uint64((before-1)/bucket+1)))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []KeyedWindow
	for _, e := range entries {
		if len(e.key) < 8 {
			return nil, fmt.Errorf("state: bad session index key %q", e.key)
		}
		prefix := e.key[8:]
		if seen[string(prefix)] {
			continue
		}
		seen[string(prefix)] = true
		k := &WindowState{tx: w.tx, prefix: append([]byte(nil), prefix...)}
		sessions, err := k.KeySessions()
		if err != nil {
			return nil, err
		}
		var left []Window
		for _, s := range sessions {
			if s.End >= before {
				left = append(left, s)
				continue
			}
			win := KeyedWindow{Prefix: k.prefix, Start: s.Start, End: s.End, Value: s.Value}
			if collect {
				if win.Collected, err = k.GetFromCollection(s.Start, s.End+1); err != nil {
					return nil, err
				}
			}
			if err := k.DeleteFromCollection(-1, s.End+1); err != nil {
				return nil, err
			}
			out = append(out, win)
		}
		if len(left) != len(sessions) {
			if err := k.SetKeySessions(left, bucket); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.End != b.End {
			return a.End < b.End
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return string(a.Prefix) < string(b.Prefix)
	})
	setBound(&w.tx.sessionLow, nil, before)
	return out, nil
}
