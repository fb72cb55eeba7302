package state

import (
	"encoding/binary"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
)

// Session windows keep each key's open sessions, and an index of all the
// store partition's sessions by end, for closing them across keys:
//
//	default              prefix|>q(start)|>q(end)   JSON(session value)
//	__session-index__    >q(end)|>q(start)|prefix   "1"
//
// start and end are the timestamps of the session's first and last
// records (end may equal start). The values of a session's records are in
// the collection (collection.go), by timestamp.

// sessionIndexKey is >q(end)|>q(start)|prefix.
func sessionIndexKey(end, start int64, prefix []byte) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(end))
	k = append(k, Separator)
	k = binary.BigEndian.AppendUint64(k, uint64(start))
	k = append(k, Separator)
	return append(k, prefix...)
}

var sessionIndexed = []byte("1")

// Sessions returns this key's sessions with end >= from and start <= to,
// by start.
func (w *WindowState) Sessions(from, to int64) ([]Window, error) {
	if to < 0 {
		return nil, nil
	}
	entries, err := w.tx.scan(CFDefault, w.prefix, windowBound(w.prefix, 0), windowBound(w.prefix, to+1))
	if err != nil {
		return nil, err
	}
	var out []Window
	for _, e := range entries {
		start, end, ok := parseWindowKey(w.prefix, e.key)
		if !ok || end < from {
			continue
		}
		v, err := serde.JSON{}.Deserialize(e.value)
		if err != nil {
			return nil, fmt.Errorf("state: session [%d, %d]: %w", start, end, err)
		}
		out = append(out, Window{Start: start, End: end, Value: v})
	}
	return out, nil
}

// PutSession stores a session of this key.
func (w *WindowState) PutSession(start, end int64, value starlark.Value) error {
	if start < 0 || end < start {
		return w.tx.fail(fmt.Errorf("state: invalid session [%d, %d]", start, end))
	}
	raw, err := serde.JSON{}.Serialize(nil, value)
	if err != nil {
		return w.tx.fail(fmt.Errorf("state: session value: %w", err))
	}
	if err := w.tx.SetBytes(CFDefault, w.prefix, WindowKey(nil, w.prefix, start, end), raw); err != nil {
		return err
	}
	if low, known := bound(w.tx.sessionLow, w.tx.p.sessionLow, nil); known && end < low {
		setBound(&w.tx.sessionLow, nil, end)
	}
	return w.tx.SetBytes(CFSessionIndex, nil, sessionIndexKey(end, start, w.prefix), sessionIndexed)
}

// DeleteSession deletes a session of this key.
func (w *WindowState) DeleteSession(start, end int64) error {
	if err := w.tx.DeleteBytes(CFDefault, w.prefix, WindowKey(nil, w.prefix, start, end)); err != nil {
		return err
	}
	return w.tx.DeleteBytes(CFSessionIndex, nil, sessionIndexKey(end, start, w.prefix))
}

// AdvanceLatestTimestamp moves the store partition's latest timestamp
// forward to ts.
func (w *WindowState) AdvanceLatestTimestamp(ts int64) { w.tx.advanceLatest(ts) }

// CloseSessions deletes and returns the sessions of every key of the
// store partition that end before before, by (end, start, prefix); with
// collect, each with its collected values (deleted with it). It scans
// the index only when such a session can exist.
func (w *WindowState) CloseSessions(before int64, collect bool) ([]KeyedWindow, error) {
	if low, known := bound(w.tx.sessionLow, w.tx.p.sessionLow, nil); known && low >= before {
		return nil, nil
	}
	entries, err := w.tx.scan(CFSessionIndex, nil, []byte{}, binary.BigEndian.AppendUint64(nil, uint64(max(before, 0))))
	if err != nil {
		return nil, err
	}
	out := make([]KeyedWindow, 0, len(entries))
	for _, e := range entries {
		if len(e.key) < 18 || e.key[8] != Separator || e.key[17] != Separator {
			return nil, fmt.Errorf("state: bad session index key %q", e.key)
		}
		end, start := int64(binary.BigEndian.Uint64(e.key[:8])), int64(binary.BigEndian.Uint64(e.key[9:17]))
		k := &WindowState{tx: w.tx, prefix: append([]byte(nil), e.key[18:]...)}
		raw, ok, err := w.tx.GetBytes(CFDefault, k.prefix, WindowKey(nil, k.prefix, start, end))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("state: session [%d, %d] of %q is indexed but not stored", start, end, k.prefix)
		}
		v, err := serde.JSON{}.Deserialize(raw)
		if err != nil {
			return nil, fmt.Errorf("state: session [%d, %d]: %w", start, end, err)
		}
		win := KeyedWindow{Prefix: k.prefix, Start: start, End: end, Value: v}
		if collect {
			if win.Collected, err = k.GetFromCollection(start, end+1); err != nil {
				return nil, err
			}
		}
		if err := k.DeleteFromCollection(-1, end+1); err != nil {
			return nil, err
		}
		if err := k.DeleteSession(start, end); err != nil {
			return nil, err
		}
		out = append(out, win)
	}
	// Every session left ends at before or later.
	setBound(&w.tx.sessionLow, nil, max(before, 0))
	return out, nil
}
