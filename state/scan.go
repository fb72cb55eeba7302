package state

import (
	"bytes"
	"fmt"
	"sort"
)

// entry is a key and its value as a transaction sees them.
type entry struct{ key, value []byte }

// scan returns the keys of cf in [lower, upper) with their values, sorted,
// as the transaction sees them: its own changes (of prefix, or of every
// prefix when prefix is nil) over the store's. A nil upper is unbounded.
func (t *Transaction) scan(cf string, prefix, lower, upper []byte) ([]entry, error) {
	in := func(k []byte) bool {
		return bytes.Compare(k, lower) >= 0 && (upper == nil || bytes.Compare(k, upper) < 0)
	}
	found := map[string][]byte{}
	it, err := t.p.iterator(cf, lower, upper)
	if err != nil {
		return nil, err
	}
	for it.Seek(lower); it.Valid(); it.Next() {
		k := it.Key()
		if !in(k) {
			break
		}
		found[string(k)] = append([]byte(nil), it.Value()...)
	}
	err = it.Err()
	it.Close()
	if err != nil {
		return nil, fmt.Errorf("state: scan %s: %w", cf, err)
	}
	if c := t.cfs[cf]; c != nil {
		overlay := func(pc *prefixCache) {
			for _, k := range pc.keys {
				if !in([]byte(k)) {
					continue
				}
				if ch := pc.values[k]; ch.deleted {
					delete(found, k)
				} else {
					found[k] = ch.value
				}
			}
		}
		if prefix != nil {
			if pc := c.byPrefix[string(prefix)]; pc != nil {
				overlay(pc)
			}
		} else {
			for _, p := range c.prefixes {
				overlay(c.byPrefix[p])
			}
		}
	}
	out := make([]entry, 0, len(found))
	for k, v := range found {
		out = append(out, entry{[]byte(k), v})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].key, out[j].key) < 0 })
	return out, nil
}
