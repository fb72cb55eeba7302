package state

import (
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/windows"
)

// closingRun feeds one windowed store partition through a window whose
// closing strategy a test may change between transactions, as Quix
// Streams v3.25.0's test_*_expiration_to_* tests do.
type closingRun struct {
	t   *testing.T
	p   *Partition
	tx  *Transaction
	def windows.Fixed
}

// process feeds value for key at ts and returns the updated and expired
// windows as "key [start,end) value".
func (r *closingRun) process(key string, value, ts int64) (updated, expired []string) {
	r.t.Helper()
	ws, err := r.tx.Windows([]byte(key))
	if err != nil {
		r.t.Fatal(err)
	}
	u, e, err := r.def.Process(nil, ws, starlark.None, starlark.MakeInt64(value), ts, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	show := func(rs []windows.Result) []string {
		var out []string
		for _, w := range rs {
			k := key
			if b, ok := w.Key.(starlark.Bytes); ok {
				k = string(b)
			}
			v, _, _ := w.Value.(*starlark.Dict).Get(starlark.String("value"))
			out = append(out, fmt.Sprintf("%s [%d,%d) %s", k, w.Start, w.End, v))
		}
		return out
	}
	return show(u), show(e)
}

// commit ends the transaction and starts the next.
func (r *closingRun) commit(offset int64) {
	r.t.Helper()
	must(r.t, r.tx.Prepare(nil, "", 0, offset))
	must(r.t, r.tx.Flush(offset, -1))
	r.tx = r.p.Begin()
}

// switchAfterFirstTransaction is the reference tests' common start: key1
// at 100 and 106, key2 at 102 and 105 in one transaction, then, under the
// closing strategy switched to, key1 at 107 and key2 at 108.
func (r *closingRun) switchAfterFirstTransaction(to windows.Closing) {
	r.t.Helper()
	r.process("key1", 1, 100)
	r.process("key2", 1, 102)
	r.process("key2", 1, 105)
	r.process("key1", 1, 106)
	r.commit(0)
	r.def.Closing = to
	r.process("key1", 1, 107)
	r.process("key2", 1, 108)
}

func newClosingRun(t *testing.T, duration, step int64, closing windows.Closing) *closingRun {
	p := openStore(t, newManager(t), true)
	def := windows.Fixed{Duration: duration, Step: step, Agg: windows.Sum(), Closing: closing}
	return &closingRun{t: t, p: p, tx: p.Begin(), def: def}
}

func eq(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// TestKeyExpirationToPartition is v3.25.0's test_tumbling_ and
// test_hopping_key_expiration_to_partition: windows left by the key
// strategy are closed by the partition strategy's first expiry.
func TestKeyExpirationToPartition(t *testing.T) {
	for _, tc := range []struct {
		step, last  int64
		wantUpdated []string
	}{
		{10, 115, []string{"key3 [110,120) 1"}},
		{5, 114, []string{"key3 [105,115) 1", "key3 [110,120) 1"}},
	} {
		r := newClosingRun(t, 10, tc.step, windows.ClosingKey)
		r.switchAfterFirstTransaction(windows.ClosingPartition)
		updated, expired := r.process("key3", 1, tc.last)
		eq(t, "updated", updated, tc.wantUpdated...)
		eq(t, "expired", expired, "key1 [100,110) 3", "key2 [100,110) 3")
	}
}

// TestPartitionExpirationToKey is v3.25.0's test_tumbling_ and
// test_hopping_partition_expiration_to_key.
func TestPartitionExpirationToKey(t *testing.T) {
	for _, tc := range []struct {
		step, last                int64
		wantKey3, wantKey1, wantX []string
	}{
		{10, 115, []string{"key3 [110,120) 1"}, []string{"key1 [110,120) 1"}, []string{"key1 [100,110) 3"}},
		{5, 114, []string{"key3 [105,115) 1", "key3 [110,120) 1"}, []string{"key1 [110,120) 1", "key1 [115,125) 1"}, []string{"key1 [100,110) 3", "key1 [105,115) 2"}},
	} {
		r := newClosingRun(t, 10, tc.step, windows.ClosingPartition)
		r.switchAfterFirstTransaction(windows.ClosingKey)
		updated, expired := r.process("key3", 1, tc.last)
		eq(t, "key3 updated", updated, tc.wantKey3...)
		eq(t, "key3 expired", expired)
		updated, expired = r.process("key1", 1, 116)
		eq(t, "key1 updated", updated, tc.wantKey1...)
		eq(t, "key1 expired", expired, tc.wantX...)
	}
}

// TestClosingStateIsChangelogged: the key's latest timestamp and the
// partition's last expired end go to the changelog with their column
// families, in Quix Streams 3.x's layout, and are read back after Flush
// (100 closes nothing and sets the end to 100; 125 closes the ends 110
// and 120).
func TestClosingStateIsChangelogged(t *testing.T) {
	r := newClosingRun(t, 10, 10, windows.ClosingPartition)
	r.process("k", 1, 100)
	r.process("k", 1, 125)
	cl := &recorder{}
	must(t, r.tx.Prepare(cl, "changelog", 0, 1))
	must(t, r.tx.Flush(1, -1))
	got := map[string]string{}
	for _, rec := range cl.out {
		if cf := rec.headers[HeaderColumnFamily]; cf != CFDefault {
			got[cf+" "+rec.key] = string(rec.value)
		}
	}
	if got["__latest-timestamps__ k|__latest_timestamp__"] != "125" || got["__expiration-index__ __expired_start_gt__"] != "120" {
		t.Fatalf("changelog records: %q", got)
	}
	r.tx = r.p.Begin()
	ws, err := r.tx.Windows([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := ws.KeyLatestTimestamp(); err != nil || n != 125 {
		t.Fatalf("key latest timestamp after flush: %d, %v", n, err)
	}
	if n, err := ws.LatestExpiredEnd(); err != nil || n != 120 {
		t.Fatalf("latest expired end after flush: %d, %v", n, err)
	}
}
