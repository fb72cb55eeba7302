package state

import (
	"testing"

	"go.starlark.net/starlark"
)

// Quix Streams v3.25.0's
// tests/test_quixstreams/test_state/test_rocksdb/test_timestamped.py,
// case by case, on RocksDB: a transaction is committed (prepared and
// flushed) where the Python tests leave their `with transaction()` block.

type tsStore struct {
	t     *testing.T
	p     *Partition
	grace int64
	dups  bool
}

func openTimestamped(t *testing.T) *tsStore {
	t.Helper()
	m := newManager(t)
	p, err := m.Open(register(t, m, Store{Topic: "input", Name: "join", Timestamped: true}), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &tsStore{t: t, p: p, grace: 7 * 24 * 3600 * 1000}
}

// tx runs f in a transaction and commits it.
func (s *tsStore) tx(f func(tx *Transaction)) {
	s.t.Helper()
	tx := s.p.Begin()
	f(tx)
	if err := tx.Prepare(nil, "", 0, 0); err != nil {
		s.t.Fatal(err)
	}
	if err := tx.Flush(0, -1); err != nil {
		s.t.Fatal(err)
	}
}

func (s *tsStore) set(tx *Transaction, prefix string, ts int64, v string) {
	s.t.Helper()
	st, _ := tx.Timestamped([]byte(prefix))
	if err := st.Set(ts, starlark.String(v), s.grace, s.dups); err != nil {
		s.t.Fatal(err)
	}
}

func (s *tsStore) latest(tx *Transaction, prefix string, ts int64) string {
	s.t.Helper()
	st, _ := tx.Timestamped([]byte(prefix))
	v, ok, err := st.Latest(ts)
	if err != nil {
		s.t.Fatal(err)
	}
	if !ok {
		return "None"
	}
	return string(v.(starlark.String))
}

// raw reads the value at encode_integer_pair(ts, counter) under prefix.
func (s *tsStore) raw(tx *Transaction, prefix string, ts, counter int64) string {
	s.t.Helper()
	v, ok, err := tx.GetBytes(CFDefault, []byte(prefix), timestampedKey([]byte(prefix), ts, counter))
	if err != nil {
		s.t.Fatal(err)
	}
	if !ok {
		return "None"
	}
	return string(v)
}

func expect(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestTimestamped(t *testing.T) {
	for _, c := range []struct {
		name     string
		set, get int64
		want     string
	}{{"equal", 10, 10, "value"}, {"less", 10, 11, "value"}, {"greater", 10, 9, "None"}} {
		t.Run("get_latest_from_cache/"+c.name, func(t *testing.T) {
			s := openTimestamped(t)
			s.tx(func(tx *Transaction) {
				s.set(tx, "key", c.set, "value")
				expect(t, s.latest(tx, "key", c.get), c.want)
			})
		})
		t.Run("get_latest_from_store/"+c.name, func(t *testing.T) {
			s := openTimestamped(t)
			s.tx(func(tx *Transaction) { s.set(tx, "key", c.set, "value") })
			s.tx(func(tx *Transaction) { expect(t, s.latest(tx, "key", c.get), c.want) })
		})
	}
	for _, c := range []struct {
		name           string
		stored, cached int64
		want           string
	}{{"stored-greater-than-cached", 3, 2, "stored"}, {"cached-greater-than-stored", 2, 3, "cached"}} {
		t.Run("get_latest_returns_value_for_greater_timestamp/"+c.name, func(t *testing.T) {
			s := openTimestamped(t)
			s.tx(func(tx *Transaction) { s.set(tx, "key", c.stored, "stored") })
			s.tx(func(tx *Transaction) {
				s.set(tx, "key", c.cached, "cached")
				expect(t, s.latest(tx, "key", 5), c.want)
			})
		})
	}
	t.Run("prefix_not_bytes", func(t *testing.T) {
		// A str key "key" is the prefix `"key"` (JSON), as in Quix Streams.
		s := openTimestamped(t)
		prefix, _ := Prefix(starlark.String("key"))
		s.tx(func(tx *Transaction) {
			s.set(tx, string(prefix), 10, "value")
			expect(t, s.latest(tx, `"key"`, 10), "value")
		})
	})
	t.Run("get_latest_for_out_of_order_timestamp", func(t *testing.T) {
		s := openTimestamped(t)
		s.grace = 5
		s.tx(func(tx *Transaction) {
			s.set(tx, "key", 10, "value10")
			expect(t, s.latest(tx, "key", 10), "value10")
			s.set(tx, "key", 5, "value5")
			s.set(tx, "key", 4, "value4")
		})
		s.tx(func(tx *Transaction) {
			expect(t, s.latest(tx, "key", 5), "value5")
			// The retention watermark is 10 - 5 = 5: everything lower is ignored.
			expect(t, s.latest(tx, "key", 4), "None")
		})
	})
	t.Run("set_for_timestamp_with_grace_cached", func(t *testing.T) {
		s := openTimestamped(t)
		s.grace = 2
		s.tx(func(tx *Transaction) {
			s.set(tx, "key", 2, "v2")
			s.set(tx, "key", 5, "v5")
			expect(t, s.latest(tx, "key", 2), "None")
			expect(t, s.latest(tx, "key", 5), "v5")
		})
	})
	t.Run("set_for_timestamp_with_grace_stored", func(t *testing.T) {
		s := openTimestamped(t)
		s.grace = 2
		s.tx(func(tx *Transaction) {
			s.set(tx, "key", 2, "v2")
			s.set(tx, "key", 5, "v5")
		})
		s.tx(func(tx *Transaction) {
			expect(t, s.latest(tx, "key", 2), "None")
			expect(t, s.latest(tx, "key", 5), "v5")
		})
	})
	t.Run("expire_multiple_keys", func(t *testing.T) {
		s := openTimestamped(t)
		s.grace = 10
		s.tx(func(tx *Transaction) {
			s.set(tx, "key1", 1, "11")
			s.set(tx, "key2", 1, "21")
			s.set(tx, "key1", 12, "112")
			s.set(tx, "key2", 12, "212")
		})
		s.tx(func(tx *Transaction) {
			expect(t, s.raw(tx, "key1", 1, 0), "None")
			expect(t, s.raw(tx, "key2", 1, 0), "None")
			expect(t, s.raw(tx, "key1", 12, 0), `"112"`)
			expect(t, s.raw(tx, "key2", 12, 0), `"212"`)
			// Expiration advances only on Set.
			expect(t, s.latest(tx, "key1", 30), "112")
			expect(t, s.latest(tx, "key2", 30), "212")
		})
	})
	t.Run("expire_does_not_affect_keys_sharing_byte_prefix", func(t *testing.T) {
		s := openTimestamped(t)
		s.grace = 5
		s.tx(func(tx *Transaction) { s.set(tx, "key2", 3, "key2val") })
		s.tx(func(tx *Transaction) { s.set(tx, "key", 100, "keyval") })
		s.tx(func(tx *Transaction) {
			expect(t, s.latest(tx, "key2", 3), "key2val")
			expect(t, s.latest(tx, "key", 100), "keyval")
		})
	})
	t.Run("overwrites_value_with_same_timestamp", func(t *testing.T) {
		s := openTimestamped(t)
		s.tx(func(tx *Transaction) {
			s.set(tx, "key", 1, "11")
			s.set(tx, "key", 1, "21")
			expect(t, s.latest(tx, "key", 1), "21")
		})
		s.tx(func(tx *Transaction) { expect(t, s.latest(tx, "key", 1), "21") })
	})
	t.Run("without_keep_duplicates", func(t *testing.T) {
		s := openTimestamped(t)
		s.tx(func(tx *Transaction) {
			s.set(tx, "key", 123, "1")
			s.set(tx, "key", 123, "2")
		})
		s.tx(func(tx *Transaction) {
			expect(t, s.latest(tx, "key", 123), "2")
			expect(t, s.raw(tx, "key", 123, 0), `"2"`)
			expect(t, s.raw(tx, "key", 123, 1), "None")
		})
	})
	t.Run("with_keep_duplicates", func(t *testing.T) {
		s := openTimestamped(t)
		s.dups = true
		s.tx(func(tx *Transaction) {
			s.set(tx, "key", 123, "1")
			s.set(tx, "key", 123, "2")
		})
		s.tx(func(tx *Transaction) {
			expect(t, s.latest(tx, "key", 123), "2")
			expect(t, s.raw(tx, "key", 123, 0), `"1"`)
			expect(t, s.raw(tx, "key", 123, 1), `"2"`)
			st, _ := tx.Timestamped([]byte("key"))
			vs, err := st.Interval(0, 124)
			if err != nil || len(vs) != 2 || vs[0] != starlark.String("1") || vs[1] != starlark.String("2") {
				t.Errorf("interval %v %v, want [1 2] in insertion order", vs, err)
			}
		})
	})
}
