package state

import (
	"fmt"

	"github.com/qstar-dev/qstar/serde"
)

// Sliding windows (Quix Streams 3.x) keep, beyond the windows and the
// expiration index:
//
//	__deletion-index__  prefix|__deleted_start_gt__  JSON(the last deleted window start)

var deletedStartGT = []byte("__deleted_start_gt__")

// GetWindows returns this key's windows with startFrom < start <= startTo,
// by (start, end), as the transaction sees them.
func (w *WindowState) GetWindows(startFrom, startTo int64) ([]Window, error) {
	if startTo <= startFrom {
		return nil, nil
	}
	entries, err := w.tx.scan(CFDefault, w.prefix, windowBound(w.prefix, max(startFrom+1, 0)), windowBound(w.prefix, startTo+1))
	if err != nil {
		return nil, err
	}
	out := make([]Window, 0, len(entries))
	for _, e := range entries {
		start, end, ok := parseWindowKey(w.prefix, e.key)
		if !ok {
			continue
		}
		v, err := serde.JSON{}.Deserialize(e.value)
		if err != nil {
			return nil, fmt.Errorf("state: window [%d, %d) value: %w", start, end, err)
		}
		out = append(out, Window{Start: start, End: end, Value: v})
	}
	return out, nil
}

// DeleteWindows deletes this key's windows with start <= maxStart, from
// the last start deleted before (the deletion index) on, as the
// reference's delete_windows; with values, also the collected values
// before maxStart.
func (w *WindowState) DeleteWindows(maxStart int64, values bool) error {
	last, err := w.tx.timestamp(CFDeletionIndex, w.prefix, deletedStartGT)
	if err != nil {
		return err
	}
	from := int64(-1) // the index is never 0 (see below)
	if last > 0 {
		from = last
	}
	windows, err := w.GetWindows(from, maxStart)
	if err != nil {
		return err
	}
	for _, win := range windows {
		if err := w.tx.DeleteBytes(CFDefault, w.prefix, WindowKey(nil, w.prefix, win.Start, win.End)); err != nil {
			return err
		}
	}
	// As the reference, which keeps no index for a last start of 0.
	if n := len(windows); n > 0 && windows[n-1].Start != 0 {
		if err := w.tx.setTimestamp(CFDeletionIndex, w.prefix, deletedStartGT, windows[n-1].Start); err != nil {
			return err
		}
	}
	if values {
		return w.DeleteFromCollection(-1, maxStart)
	}
	return nil
}
