package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
)

// Windowed stores keep one aggregate per (message key, window), with
// Quix Streams 2.5.1's layout:
//
//	default               prefix|>q(start)|>q(end)          JSON(aggregate)
//	__expiration-index__  prefix|__expired_start_gt__       JSON(last expired start)
//	__metadata__          __topic_latest_timestamp__        >q(latest timestamp)
//
// Window keys sort by start, then end, within a message key (starts are
// never negative). The latest timestamp is per store partition, written
// on Flush, and not changelogged (after a recovery from scratch it is 0,
// as in the reference).

var (
	keyLatestTimestamp = []byte("__topic_latest_timestamp__")
	expiredStartGT     = []byte("__expired_start_gt__")
)

// WindowKey returns prefix|>q(start)|>q(end), appended to dst.
func WindowKey(dst, prefix []byte, start, end int64) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, Separator)
	dst = binary.BigEndian.AppendUint64(dst, uint64(start))
	dst = append(dst, Separator)
	return binary.BigEndian.AppendUint64(dst, uint64(end))
}

func windowBound(prefix []byte, start int64) []byte {
	b := append(append([]byte(nil), prefix...), Separator)
	return binary.BigEndian.AppendUint64(b, uint64(start))
}

// parseWindowKey reads start and end from a window key of prefix.
func parseWindowKey(prefix, key []byte) (int64, int64, bool) {
	rest := key[len(prefix):]
	if len(rest) != 18 || rest[0] != Separator || rest[9] != Separator {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(rest[1:9])), int64(binary.BigEndian.Uint64(rest[10:18])), true
}

// latestTimestamp returns the partition's latest timestamp as stored.
func (p *Partition) latestTimestamp() (int64, error) {
	n, ok, err := p.metadata(keyLatestTimestamp)
	if err != nil || !ok {
		return 0, err
	}
	return n, nil
}

// WindowState is the windowed state of one message key in a transaction.
type WindowState struct {
	tx     *Transaction
	prefix []byte
}

// Windows returns the windowed state of the message key prefix.
func (t *Transaction) Windows(prefix []byte) (*WindowState, error) {
	if !t.latestLoaded {
		l, err := t.p.latestTimestamp()
		if err != nil {
			return nil, err
		}
		t.latest, t.latestLoaded = l, true
	}
	return &WindowState{tx: t, prefix: prefix}, nil
}

// LatestTimestamp is the highest timestamp any window of the store
// partition was updated with (0 if none).
func (w *WindowState) LatestTimestamp() int64 { return w.tx.latest }

// GetWindow returns a window's aggregate.
func (w *WindowState) GetWindow(start, end int64) (starlark.Value, bool, error) {
	raw, ok, err := w.tx.GetBytes(CFDefault, w.prefix, WindowKey(nil, w.prefix, start, end))
	if err != nil || !ok {
		return nil, false, err
	}
	v, err := serde.JSON{}.Deserialize(raw)
	if err != nil {
		return nil, false, fmt.Errorf("state: window [%d, %d) aggregate: %w", start, end, err)
	}
	return v, true, nil
}

// UpdateWindow stores a window's aggregate and advances the latest
// timestamp to ts.
func (w *WindowState) UpdateWindow(start, end int64, value starlark.Value, ts int64) error {
	if ts < 0 {
		return w.tx.fail(fmt.Errorf("timestamp cannot be negative: %d", ts))
	}
	if end <= start {
		return w.tx.fail(fmt.Errorf("invalid window duration: [%d, %d)", start, end))
	}
	raw, err := serde.JSON{}.Serialize(nil, value)
	if err != nil {
		return w.tx.fail(fmt.Errorf("state: window aggregate: %w", err))
	}
	if err := w.tx.SetBytes(CFDefault, w.prefix, WindowKey(nil, w.prefix, start, end), raw); err != nil {
		return err
	}
	if low, known := w.lowest(); known && start < low {
		w.setLowest(start)
	}
	w.tx.advanceLatest(ts)
	return nil
}

// Window is a window and its aggregate. It aliases an unnamed struct
// type, as windows.Expired does, so that *WindowState is a windows.State
// without an adapter.
type Window = struct {
	Start, End int64
	Value      starlark.Value
}

// ExpireWindows deletes and returns, sorted by (start, end), this key's
// windows that closed: start <= startTo, beyond the
// last start expired before (the expiration index), as the reference's
// expire_windows does, from the store and the transaction's own changes.
func (w *WindowState) ExpireWindows(startTo int64) ([]Window, error) {
	return w.expire(startTo, true)
}

// ExpiredWindows is ExpireWindows without deleting the windows (sliding
// windows delete them later, by DeleteWindows): each is returned once, by
// the expiration index.
func (w *WindowState) ExpiredWindows(startTo int64) ([]Window, error) {
	return w.expire(startTo, false)
}

func (w *WindowState) expire(startTo int64, del bool) ([]Window, error) {
	if low, known := w.lowest(); known && startTo < low {
		return nil, nil // no window of this key can have closed
	}
	startFrom := int64(-1)
	indexKey := append(append(append([]byte(nil), w.prefix...), Separator), expiredStartGT...)
	if raw, ok, err := w.tx.GetBytes(CFExpirationIndex, w.prefix, indexKey); err != nil {
		return nil, err
	} else if ok {
		v, err := serde.JSON{}.Deserialize(raw)
		if err != nil {
			return nil, fmt.Errorf("state: expiration index: %w", err)
		}
		if n, ok := v.(starlark.Int); ok {
			if last, ok := n.Int64(); ok && last > startFrom {
				startFrom = last
			}
		}
	}
	if startTo <= startFrom {
		return nil, nil
	}
	windows, next, err := w.windows(startFrom, startTo)
	if err != nil {
		return nil, err
	}
	// The windows left start at next or later: until startTo reaches it,
	// no window of this key can close (no scan per message).
	w.setLowest(next)
	if len(windows) == 0 {
		return nil, nil
	}
	last := windows[len(windows)-1].Start
	if err := w.tx.SetBytes(CFExpirationIndex, w.prefix, indexKey, strconv.AppendInt(nil, last, 10)); err != nil {
		return nil, err
	}
	for _, win := range windows {
		if !del {
			break
		}
		if err := w.tx.DeleteBytes(CFDefault, w.prefix, WindowKey(nil, w.prefix, win.Start, win.End)); err != nil {
			return nil, err
		}
	}
	return windows, nil
}

// maxWindowStart bounds the window keys a scan reads: the keys a window
// state keeps beside its windows (Save) sort after it.
const maxWindowStart = 1 << 55

// windows returns this key's windows with startFrom < start <= startTo,
// and the lowest start after startTo of those left (math.MaxInt64 when
// none is).
func (w *WindowState) windows(startFrom, startTo int64) ([]Window, int64, error) {
	found := map[[2]int64][]byte{}
	next, err := w.storeWindows(startFrom, startTo, found)
	if err != nil {
		return nil, 0, err
	}
	// The transaction's own changes win over the store.
	if c := w.tx.cfs[CFDefault]; c != nil {
		if pc := c.byPrefix[string(w.prefix)]; pc != nil {
			for _, k := range pc.keys {
				s, e, ok := parseWindowKey(w.prefix, []byte(k))
				if !ok || s <= startFrom {
					continue
				}
				if s > startTo {
					if !pc.values[k].deleted {
						next = min(next, s)
					}
					continue
				}
				if ch := pc.values[k]; ch.deleted {
					delete(found, [2]int64{s, e})
				} else {
					found[[2]int64{s, e}] = ch.value
				}
			}
		}
	}
	out := make([]Window, 0, len(found))
	for se, raw := range found {
		v, err := serde.JSON{}.Deserialize(raw)
		if err != nil {
			return nil, 0, fmt.Errorf("state: window [%d, %d) aggregate: %w", se[0], se[1], err)
		}
		out = append(out, Window{Start: se[0], End: se[1], Value: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End < out[j].End
	})
	return out, next, nil
}

// storeWindows adds to found the windows in the store (not the
// transaction) with startFrom < start <= startTo, and returns the lowest
// start after startTo there (math.MaxInt64 when none is). It scans only
// when the store can hold such a window (Partition.storeLow).
func (w *WindowState) storeWindows(startFrom, startTo int64, found map[[2]int64][]byte) (int64, error) {
	if low, known := w.storeLow(); known && low > startTo {
		return low, nil
	}
	next := int64(math.MaxInt64)
	lower := windowBound(w.prefix, max(startFrom, 0))
	upper := windowBound(w.prefix, maxWindowStart)
	it, err := w.tx.p.iterator(CFDefault, lower, upper)
	if err != nil {
		return 0, err
	}
	for it.Seek(lower); it.Valid(); it.Next() {
		k := it.Key()
		if !bytes.HasPrefix(k, w.prefix) {
			continue
		}
		s, e, ok := parseWindowKey(w.prefix, k)
		if !ok || s <= startFrom {
			continue
		}
		if s > startTo {
			next = s // keys sort by start: the first one left
			break
		}
		found[[2]int64{s, e}] = append([]byte(nil), it.Value()...)
	}
	err = it.Err()
	it.Close()
	if err != nil {
		return 0, fmt.Errorf("state: scan windows: %w", err)
	}
	// The windows found are expired by this transaction: what the store
	// keeps after it starts at next, and at what the transaction writes.
	setBound(&w.tx.storeLow, w.prefix, next)
	return next, nil
}

// Load returns a value stored for the key under name (not a window).
func (w *WindowState) Load(name string) (starlark.Value, bool, error) {
	return w.tx.Get(w.prefix, starlark.String(name))
}

// Save stores a value for the key under name and advances the latest
// timestamp to ts.
func (w *WindowState) Save(name string, v starlark.Value, ts int64) error {
	if err := w.tx.Set(w.prefix, starlark.String(name), v); err != nil {
		return err
	}
	w.tx.advanceLatest(ts)
	return nil
}

// advanceLatest moves the latest timestamp seen forward to ts.
func (t *Transaction) advanceLatest(ts int64) {
	if ts > t.latest {
		t.latest = ts
		t.latestChanged = true
	}
}

// lowest returns the known lower bound of this key's window starts.
func (w *WindowState) lowest() (int64, bool) {
	return bound(w.tx.lowestStart, w.tx.p.lowestStart, w.prefix)
}

func (w *WindowState) setLowest(low int64) { setBound(&w.tx.lowestStart, w.prefix, low) }

// storeLow returns the known lower bound of the starts of this key's
// windows in the store itself (Partition.storeLow).
func (w *WindowState) storeLow() (int64, bool) {
	return bound(w.tx.storeLow, w.tx.p.storeLow, w.prefix)
}

// bound reads a per-key bound: the transaction's, else the partition's.
func bound(tx, p map[string]int64, prefix []byte) (int64, bool) {
	if v, ok := tx[string(prefix)]; ok {
		return v, true
	}
	v, ok := p[string(prefix)]
	return v, ok
}

// setBound sets a per-key bound in a transaction's map of changes.
func setBound(m *map[string]int64, prefix []byte, v int64) {
	if *m == nil {
		*m = map[string]int64{}
	}
	(*m)[string(prefix)] = v
}
