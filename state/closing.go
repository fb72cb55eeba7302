package state

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
)

// Quix Streams 3.x's closing strategies keep, beside 2.5.1's layout:
//
//	__latest-timestamps__  prefix|__latest_timestamp__  JSON(the key's latest timestamp)
//	__expiration-index__   __expired_start_gt__         JSON(the partition's last expired window end)
//
// Both are changelogged like every column family.

var keyLatestTimestampOfKey = []byte("__latest_timestamp__")

// KeyLatestTimestamp is the highest timestamp this key's windows were
// updated with under a 3.x closing strategy (0 if none).
func (w *WindowState) KeyLatestTimestamp() (int64, error) {
	return w.tx.timestamp(CFLatestTimestamps, w.prefix, keyLatestTimestampOfKey)
}

// AdvanceKeyLatestTimestamp moves the key's latest timestamp forward to
// ts.
func (w *WindowState) AdvanceKeyLatestTimestamp(ts int64) error {
	cur, err := w.KeyLatestTimestamp()
	if err != nil || ts <= cur {
		return err
	}
	return w.tx.setTimestamp(CFLatestTimestamps, w.prefix, keyLatestTimestampOfKey, ts)
}

// LatestExpiredEnd is the end of the last window closed by
// closing_strategy="partition" in the store partition (0 before the
// first).
func (w *WindowState) LatestExpiredEnd() (int64, error) {
	return w.tx.timestamp(CFExpirationIndex, nil, expiredStartGT)
}

// KeyedWindow is a closed window of some message key (its prefix), with
// its collected values.
type KeyedWindow = struct {
	Prefix     []byte
	Start, End int64
	Value      starlark.Value
	Collected  []starlark.Value
}

// ExpireAllWindows deletes and returns the windows of every key of the
// store partition that closed by maxEnd, as Quix Streams 3.x's
// expire_all_windows: after a last expired end L, the windows ending at
// L+step, L+2*step, ... up to maxEnd; before the first expiry (L is 0),
// every window ending by maxEnd rounded down to a multiple of step. L
// becomes the last of those ends. Sorted by (start, end, prefix). With
// collect, each window's collected values come with it, and each key's
// values before its closed window's start are deleted.
func (w *WindowState) ExpireAllWindows(maxEnd, step int64, collect bool) ([]KeyedWindow, error) {
	last, err := w.LatestExpiredEnd()
	if err != nil {
		return nil, err
	}
	var closes func(end int64) bool
	if last != 0 {
		first := last + step
		if first > maxEnd {
			return nil, nil
		}
		last = first + (maxEnd-first)/step*step
		closes = func(end int64) bool { return end >= first && end <= last && (end-first)%step == 0 }
	} else {
		last = maxEnd - ((maxEnd%step)+step)%step // Python's floor modulo
		closes = func(end int64) bool { return end <= last }
	}
	entries, err := w.tx.scan(CFDefault, nil, []byte{}, nil)
	if err != nil {
		return nil, err
	}
	var out []KeyedWindow
	for _, e := range entries {
		n := len(e.key) - 18
		if n < 0 {
			continue
		}
		prefix := e.key[:n]
		start, end, ok := parseWindowKey(prefix, e.key)
		if !ok || !closes(end) {
			continue
		}
		v, err := serde.JSON{}.Deserialize(e.value)
		if err != nil {
			return nil, fmt.Errorf("state: window [%d, %d) aggregate: %w", start, end, err)
		}
		out = append(out, KeyedWindow{Prefix: prefix, Start: start, End: end, Value: v})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		if a.End != b.End {
			return a.End < b.End
		}
		return bytes.Compare(a.Prefix, b.Prefix) < 0
	})
	for i, win := range out {
		if err := w.tx.DeleteBytes(CFDefault, win.Prefix, WindowKey(nil, win.Prefix, win.Start, win.End)); err != nil {
			return nil, err
		}
		if collect {
			k := &WindowState{tx: w.tx, prefix: win.Prefix}
			if out[i].Collected, err = k.GetFromCollection(win.Start, win.End); err != nil {
				return nil, err
			}
			if err := k.DeleteFromCollection(-1, win.Start); err != nil {
				return nil, err
			}
		}
	}
	return out, w.tx.setTimestamp(CFExpirationIndex, nil, expiredStartGT, last)
}

// timestamp reads a JSON integer (0 if absent).
func (t *Transaction) timestamp(cf string, prefix, name []byte) (int64, error) {
	raw, ok, err := t.GetBytes(cf, prefix, stateKey(prefix, name))
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("state: %s: invalid timestamp %q", cf, raw)
	}
	return n, nil
}

func (t *Transaction) setTimestamp(cf string, prefix, name []byte, ts int64) error {
	return t.SetBytes(cf, prefix, stateKey(prefix, name), strconv.AppendInt(nil, ts, 10))
}

// stateKey is prefix|name, or name alone for an empty prefix.
func stateKey(prefix, name []byte) []byte {
	if len(prefix) == 0 {
		return append([]byte(nil), name...)
	}
	return append(append(append([]byte(nil), prefix...), Separator), name...)
}
