package state

import (
	"fmt"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
)

// Collections hold the values of windows that collect (Quix Streams 3.x's
// .collect() and Collect()), with 3.x's layout:
//
//	__values__                prefix|>q(id)|>q(counter)        JSON(value)
//	__value-deletion-index__  prefix|__value_deleted_start_gt__ JSON(last deleted id)
//	__global-counter__        __global_counter__               JSON(last counter)
//
// The counter is the store partition's, one more for each value added,
// so that values with one id keep the order they came in. All three
// column families are changelogged like the others.

var (
	keyGlobalCounter    = []byte("__global_counter__")
	valueDeletedStartGT = []byte("__value_deleted_start_gt__")
)

// collectionItem is a collected value's id, counter and stored bytes.
type collectionItem struct {
	id, counter int64
	raw         []byte
}

// AddToCollection keeps value under id for this key.
func (w *WindowState) AddToCollection(id int64, value starlark.Value) error {
	if id < 0 {
		return w.tx.fail(fmt.Errorf("state: collection id cannot be negative: %d", id))
	}
	counter, err := w.tx.nextCounter()
	if err != nil {
		return err
	}
	raw, err := serde.JSON{}.Serialize(nil, value)
	if err != nil {
		return w.tx.fail(fmt.Errorf("state: collected value: %w", err))
	}
	return w.tx.SetBytes(CFValues, w.prefix, WindowKey(nil, w.prefix, id, counter), raw)
}

// GetFromCollection returns this key's values with start <= id < end,
// by id and then counter.
func (w *WindowState) GetFromCollection(start, end int64) ([]starlark.Value, error) {
	items, err := w.collection(start, end)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(items))
	for i, it := range items {
		v, err := serde.JSON{}.Deserialize(it.raw)
		if err != nil {
			return nil, fmt.Errorf("state: collected value %d: %w", it.id, err)
		}
		out[i] = v
	}
	return out, nil
}

// DeleteFromCollection deletes this key's values with start <= id < end;
// a negative start is the last id deleted before (the deletion index),
// as the reference's delete_from_collection does.
func (w *WindowState) DeleteFromCollection(start, end int64) error {
	indexKey := append(append(append([]byte(nil), w.prefix...), Separator), valueDeletedStartGT...)
	if start < 0 {
		raw, ok, err := w.tx.GetBytes(CFValueDeletionIndex, w.prefix, indexKey)
		if err != nil {
			return err
		}
		if ok {
			n, err := strconv.ParseInt(string(raw), 10, 64)
			if err != nil {
				return fmt.Errorf("state: value deletion index %q: %w", raw, err)
			}
			start = n
		}
	}
	items, err := w.collection(start, end)
	if err != nil || len(items) == 0 {
		return err
	}
	last := int64(0)
	for _, it := range items {
		last = max(last, it.id)
		if err := w.tx.DeleteBytes(CFValues, w.prefix, WindowKey(nil, w.prefix, it.id, it.counter)); err != nil {
			return err
		}
	}
	return w.tx.SetBytes(CFValueDeletionIndex, w.prefix, indexKey, strconv.AppendInt(nil, last, 10))
}

// collection returns this key's collected values with start <= id < end,
// from the store and the transaction's own changes.
func (w *WindowState) collection(start, end int64) ([]collectionItem, error) {
	start = max(start, 0)
	if end <= start {
		return nil, nil
	}
	entries, err := w.tx.scan(CFValues, w.prefix, windowBound(w.prefix, start), windowBound(w.prefix, end))
	if err != nil {
		return nil, err
	}
	// Keys sort by (id, counter), neither negative.
	items := make([]collectionItem, 0, len(entries))
	for _, e := range entries {
		if id, n, ok := parseWindowKey(w.prefix, e.key); ok {
			items = append(items, collectionItem{id, n, e.value})
		}
	}
	return items, nil
}

// nextCounter returns the store partition's next collection counter.
func (t *Transaction) nextCounter() (int64, error) {
	if !t.counterLoaded {
		t.counter = -1
		raw, ok, err := t.GetBytes(CFGlobalCounter, nil, keyGlobalCounter)
		if err != nil {
			return 0, err
		}
		if ok {
			if t.counter, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
				return 0, fmt.Errorf("state: collection counter %q: %w", raw, err)
			}
		}
		t.counterLoaded = true
	}
	t.counter++
	if err := t.SetBytes(CFGlobalCounter, nil, keyGlobalCounter, strconv.AppendInt(nil, t.counter, 10)); err != nil {
		return 0, err
	}
	return t.counter, nil
}
