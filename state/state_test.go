package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/record"
	"go.starlark.net/starlark"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newManager returns a manager of RocksDB stores, or of memory stores
// under TestMemoryBackend.
func newManager(t *testing.T) *Manager {
	t.Helper()
	inMemory := strings.HasPrefix(t.Name(), "TestMemoryBackend/")
	m, err := NewManager(Options{Dir: t.TempDir(), Group: "g", OpenRetries: 1, OpenBackoff: 10 * time.Millisecond, InMemory: inMemory}, true, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// register registers s, with a changelog named as the application would.
func register(t *testing.T, m *Manager, s Store) Store {
	t.Helper()
	s.Changelog = "changelog__g--" + s.Topic + "--" + s.Name
	s, err := m.Register(s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openStore(t *testing.T, m *Manager, windowed bool) *Partition {
	t.Helper()
	p, err := m.Open(register(t, m, Store{Topic: "input", Name: "default", Windowed: windowed}), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestKeyLayout pins Quix Streams' byte layout of state keys and prefixes.
func TestKeyLayout(t *testing.T) {
	for _, tc := range []struct {
		msgKey starlark.Value
		key    starlark.Value
		want   string
	}{
		{starlark.Bytes("k"), starlark.String("n"), `k|"n"`},
		{starlark.String("a"), starlark.String("n"), `"a"|"n"`},
		{starlark.None, starlark.String("n"), `null|"n"`},
		{starlark.MakeInt(5), starlark.MakeInt(1), `5|1`},
		{starlark.Bytes(""), starlark.String("n"), `"n"`},
	} {
		prefix, err := Prefix(tc.msgKey)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Key(nil, prefix, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("key(%s, %s) = %q, want %q", tc.msgKey, tc.key, got, tc.want)
		}
	}
	if got := EncodeInt64(101); string(got) != "\x00\x00\x00\x00\x00\x00\x00\x65" {
		t.Errorf("EncodeInt64(101) = % x", got)
	}
}

type recorded struct {
	topic     string
	partition int32
	key       string
	value     []byte
	headers   map[string]string
}

type recorder struct{ out []recorded }

func (r *recorder) Produce(topic string, partition int32, key, value []byte, headers []record.Header) error {
	h := map[string]string{}
	for _, x := range headers {
		h[x.Key] = string(x.Value)
	}
	r.out = append(r.out, recorded{topic, partition, string(key), value, h})
	return nil
}

// TestTransaction pins read-your-writes, deletes, the changelog records
// (order, tombstones, headers) and what Flush writes.
func TestTransaction(t *testing.T) {
	m := newManager(t)
	p := openStore(t, m, false)
	prefix := []byte("k")
	tx := p.Begin()
	n := starlark.String("n")
	if _, ok, _ := tx.Get(prefix, n); ok {
		t.Fatal("empty store has n")
	}
	must(t, tx.Set(prefix, n, starlark.MakeInt(1)))
	must(t, tx.Set(prefix, starlark.String("gone"), starlark.MakeInt(2)))
	must(t, tx.Delete(prefix, starlark.String("gone")))
	must(t, tx.Delete(prefix, starlark.String("never")))
	must(t, tx.Set([]byte("other"), n, starlark.NewList([]starlark.Value{starlark.MakeInt(1), starlark.String("x")})))
	must(t, tx.Set(prefix, n, starlark.MakeInt(2)))
	if v, ok, err := tx.Get(prefix, n); err != nil || !ok || v.String() != "2" {
		t.Errorf("read your write: %v %v %v", v, ok, err)
	}
	if ok, _ := tx.Exists(prefix, starlark.String("gone")); ok {
		t.Error("deleted key exists")
	}
	rec := &recorder{}
	must(t, tx.Prepare(rec, "changelog__g--input--default", 0, 101))
	want := []recorded{
		{key: `k|"n"`, value: []byte("2")},
		{key: `k|"gone"`},
		{key: `k|"never"`},
		{key: `other|"n"`, value: []byte(`[1,"x"]`)},
	}
	if len(rec.out) != len(want) {
		t.Fatalf("%d changelog records, want %d: %+v", len(rec.out), len(want), rec.out)
	}
	for i, w := range want {
		g := rec.out[i]
		if g.key != w.key || string(g.value) != string(w.value) || (w.value == nil) != (g.value == nil) {
			t.Errorf("record %d: %q=%q, want %q=%q", i, g.key, g.value, w.key, w.value)
		}
		if g.headers[HeaderColumnFamily] != "default" || g.headers[HeaderProcessedOffset] != "101" || g.partition != 0 {
			t.Errorf("record %d headers %v partition %d", i, g.headers, g.partition)
		}
	}
	if err := tx.Set(prefix, n, starlark.MakeInt(3)); err == nil {
		t.Error("a prepared transaction accepted a change")
	}
	must(t, tx.Flush(101, 4))
	if off, ok, _ := p.ProcessedOffset(); !ok || off != 101 {
		t.Errorf("processed offset %d %v", off, ok)
	}
	if off, ok, _ := p.ChangelogOffset(); !ok || off != 4 {
		t.Errorf("changelog offset %d %v", off, ok)
	}
	raw, ok, _ := p.get(CFDefault, []byte(`k|"n"`))
	if !ok || string(raw) != "2" {
		t.Errorf("stored %q %v", raw, ok)
	}
	tx2 := p.Begin()
	if v, ok, _ := tx2.Get(prefix, n); !ok || v.String() != "2" {
		t.Errorf("a new transaction reads %v %v", v, ok)
	}
}

// TestEmptyFlushWritesNothing pins the reference's quirk: no changes, no
// write, not even the offsets.
func TestEmptyFlushWritesNothing(t *testing.T) {
	p := openStore(t, newManager(t), false)
	tx := p.Begin()
	must(t, tx.Prepare(&recorder{}, "cl", 0, 5))
	must(t, tx.Flush(5, 1))
	if _, ok, _ := p.ProcessedOffset(); ok {
		t.Error("an empty transaction wrote the processed offset")
	}
}

// TestFailedTransaction pins that a value that cannot be serialized fails
// the transaction and every later operation.
func TestFailedTransaction(t *testing.T) {
	p := openStore(t, newManager(t), false)
	tx := p.Begin()
	err := tx.Set([]byte("k"), starlark.String("x"), starlark.Bytes("raw"))
	if err == nil || !strings.Contains(err.Error(), "not JSON serializable") {
		t.Fatalf("got %v", err)
	}
	if _, _, err := tx.Get([]byte("k"), starlark.String("x")); !errors.Is(err, ErrTransactionFailed) {
		t.Errorf("get after failure: %v", err)
	}
	if err := tx.Prepare(&recorder{}, "cl", 0, 1); !errors.Is(err, ErrTransactionFailed) {
		t.Errorf("prepare after failure: %v", err)
	}
}

type memChangelog struct {
	records []record.Record
	low     int64
}

func (m *memChangelog) Watermarks(string, int32) (int64, int64, error) {
	if len(m.records) == 0 {
		return m.low, m.low, nil
	}
	return m.low, m.records[len(m.records)-1].Offset + 1, nil
}

func (m *memChangelog) Read(_ context.Context, _ string, _ int32, from int64, fn func(*record.Record) error) error {
	for i := range m.records {
		if r := &m.records[i]; r.Offset >= from {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func rec(offset int64, key, value string, processed string) record.Record {
	hs := []record.Header{{Key: HeaderColumnFamily, Value: []byte("default")}}
	if processed != "" {
		hs = append(hs, record.Header{Key: HeaderProcessedOffset, Value: []byte(processed)})
	}
	var v []byte
	if value != "" {
		v = []byte(value)
	}
	return record.Record{Offset: offset, Key: []byte(key), Value: v, Headers: hs}
}

// TestRecover pins the reference's recovery rules: records whose processed
// offset is at or past the committed offset are skipped (processed 4, 5, 6
// with committed 6 apply 4 and 5), a delete removes, and the changelog
// offset ends one past the last record, skipped or not.
func TestRecover(t *testing.T) {
	p := openStore(t, newManager(t), false)
	cl := &memChangelog{records: []record.Record{
		rec(0, `k|"a"`, "1", "4"),
		rec(1, `k|"b"`, "2", "5"),
		rec(2, `k|"a"`, "", "5"),
		rec(3, `k|"c"`, "3", "6"),
		rec(4, `k|"d"`, "4", ""),
	}}
	stats, err := p.Recover(context.Background(), cl, "cl", 0, 6, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Applied != 4 || stats.Skipped != 1 {
		t.Errorf("stats %+v, want 4 applied, 1 skipped", stats)
	}
	for key, want := range map[string]string{`k|"a"`: "", `k|"b"`: "2", `k|"c"`: "", `k|"d"`: "4"} {
		got, ok, _ := p.get(CFDefault, []byte(key))
		if string(got) != want || ok != (want != "") {
			t.Errorf("%s = %q %v, want %q", key, got, ok, want)
		}
	}
	if off, _, _ := p.ChangelogOffset(); off != 5 {
		t.Errorf("changelog offset %d, want 5", off)
	}
	// Up to date: nothing more is read.
	cl.records = append(cl.records[:0:0], cl.records...)
	if stats, _ := p.Recover(context.Background(), cl, "cl", 0, 6, quiet()); stats.Applied+stats.Skipped != 0 {
		t.Errorf("second recovery did %+v", stats)
	}
}

// TestRecoverManyBatches replays a changelog of several write batches
// and finds every record applied in order: a later record of a key wins,
// and the offset is past the last.
func TestRecoverManyBatches(t *testing.T) {
	p := openStore(t, newManager(t), false)
	n := 3*recoveryBatch + 7
	cl := &memChangelog{}
	for i := 0; i < n; i++ {
		cl.records = append(cl.records, rec(int64(i), fmt.Sprintf("k|%d", i%(recoveryBatch+1)), strconv.Itoa(i), ""))
	}
	stats, err := p.Recover(context.Background(), cl, "cl", 0, 0, quiet())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Applied != int64(n) {
		t.Errorf("applied %d, want %d", stats.Applied, n)
	}
	for k := 0; k <= recoveryBatch; k++ {
		last := k + (n-1-k)/(recoveryBatch+1)*(recoveryBatch+1)
		got, ok, err := p.get(CFDefault, []byte(fmt.Sprintf("k|%d", k)))
		if err != nil || !ok || string(got) != strconv.Itoa(last) {
			t.Fatalf("k|%d = %q %v %v, want %d", k, got, ok, err, last)
		}
	}
	if off, _, _ := p.ChangelogOffset(); off != int64(n) {
		t.Errorf("changelog offset %d, want %d", off, n)
	}
}

// TestRecoverAgainstEmptiedChangelog pins the checkpoint-order hazard's
// fix: state written against a changelog that is now empty (the broker's
// data was reset, the state directory kept) is refused when the partition
// is opened, before anything is processed or committed, with the
// directory to delete.
func TestRecoverAgainstEmptiedChangelog(t *testing.T) {
	p := openStore(t, newManager(t), false)
	tx := p.Begin()
	must(t, tx.Set([]byte("k"), starlark.String("n"), starlark.MakeInt(1)))
	must(t, tx.Prepare(&recorder{}, "cl", 0, 9))
	must(t, tx.Flush(9, 7))
	_, err := p.Recover(context.Background(), &memChangelog{}, "cl", 0, 10, quiet())
	if err == nil || !strings.Contains(err.Error(), "delete the state directory "+p.Path) {
		t.Fatalf("recover against an empty changelog: %v", err)
	}
	// The check a checkpoint makes before committing says the same.
	tx = p.Begin()
	if err := tx.CheckChangelogOffset(3); err == nil || !strings.Contains(err.Error(), "delete the state directory") {
		t.Errorf("CheckChangelogOffset(3) with 7 stored: %v", err)
	}
	if err := tx.CheckChangelogOffset(7); err != nil {
		t.Errorf("CheckChangelogOffset(7) with 7 stored: %v", err)
	}
}

// TestRecoverWithoutCommit pins the reference's quirk: when the source
// partition has no committed offset, every record with a processed-offset
// header is skipped.
func TestRecoverWithoutCommit(t *testing.T) {
	p := openStore(t, newManager(t), false)
	cl := &memChangelog{records: []record.Record{rec(0, `k|"a"`, "1", "0"), rec(1, `k|"b"`, "1", "")}}
	stats, err := p.Recover(context.Background(), cl, "cl", 0, NoCommit, quiet())
	if err != nil || stats.Applied != 1 || stats.Skipped != 1 {
		t.Fatalf("%+v %v", stats, err)
	}
}

func TestRecoverRejectsRecordWithoutColumnFamily(t *testing.T) {
	p := openStore(t, newManager(t), false)
	cl := &memChangelog{records: []record.Record{{Offset: 0, Key: []byte("k"), Value: []byte("1")}}}
	if _, err := p.Recover(context.Background(), cl, "cl", 0, 10, quiet()); err == nil || !strings.Contains(err.Error(), "__column_family__") {
		t.Errorf("got %v", err)
	}
}

// TestLocked pins the error when another holder has the database: it
// names the path.
func TestLocked(t *testing.T) {
	m := newManager(t)
	p := openStore(t, m, false)
	_, err := m.Open(register(t, m, Store{Topic: "input", Name: "default"}), 0)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), p.Path) {
		t.Fatalf("second open: %v", err)
	}
}

func TestWindowedStoreHasExpirationIndex(t *testing.T) {
	p := openStore(t, newManager(t), true)
	if _, _, err := p.get(CFExpirationIndex, []byte("k")); err != nil {
		t.Fatal(err)
	}
}

// TestMemoryBackend runs the store tests on the memory backend: the
// same Transaction, windowed state and recovery code must behave the
// same on it as on RocksDB (locking excepted: memory stores have none).
func TestMemoryBackend(t *testing.T) {
	for name, test := range map[string]func(*testing.T){
		"KeyLayout":                     TestKeyLayout,
		"Transaction":                   TestTransaction,
		"EmptyFlushWritesNothing":       TestEmptyFlushWritesNothing,
		"FailedTransaction":             TestFailedTransaction,
		"Recover":                       TestRecover,
		"RecoverWithoutCommit":          TestRecoverWithoutCommit,
		"RecoverAgainstEmptiedLog":      TestRecoverAgainstEmptiedChangelog,
		"RecoverRejectsRecordWithoutCF": TestRecoverRejectsRecordWithoutColumnFamily,
		"WindowedStoreHasExpirationIdx": TestWindowedStoreHasExpirationIndex,
		"WindowedStoreMatchesReference": TestWindowedStoreMatchesReference,
	} {
		t.Run(name, test)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzKey: any message key and state key either encode or fail cleanly,
// and the prefix is a prefix of the key.
func FuzzKey(f *testing.F) {
	f.Add([]byte("k"), "n")
	f.Fuzz(func(t *testing.T, msgKey []byte, key string) {
		prefix, err := Prefix(starlark.Bytes(msgKey))
		if err != nil {
			t.Fatal(err)
		}
		k, err := Key(nil, prefix, starlark.String(key))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(k), string(prefix)) {
			t.Fatalf("%q does not start with %q", k, prefix)
		}
	})
}

// A key the store was read not to have, then set and deleted within the
// transaction, reaches neither the changelog nor the store; a key the
// store has gets its tombstone.
func TestDeleteOfAbsentKeyIsNoOp(t *testing.T) {
	m := newManager(t)
	p := openStore(t, m, false)
	prefix := []byte("k")
	kept, fresh, unread := starlark.String("kept"), starlark.String("fresh"), starlark.String("unread")
	tx := p.Begin()
	must(t, tx.Set(prefix, kept, starlark.MakeInt(1)))
	must(t, tx.Prepare(nil, "", 0, 1))
	must(t, tx.Flush(1, -1))

	tx = p.Begin()
	for _, k := range []starlark.Value{kept, fresh} {
		if _, _, err := tx.Get(prefix, k); err != nil {
			t.Fatal(err)
		}
	}
	must(t, tx.Set(prefix, fresh, starlark.MakeInt(2)))
	must(t, tx.Delete(prefix, fresh))
	must(t, tx.Delete(prefix, kept))
	must(t, tx.Set(prefix, unread, starlark.MakeInt(3)))
	must(t, tx.Delete(prefix, unread))
	rec := &recorder{}
	must(t, tx.Prepare(rec, "cl", 0, 2))
	must(t, tx.Flush(2, -1))
	var keys []string
	for _, r := range rec.out {
		if r.value != nil {
			t.Errorf("record %s has a value", r.key)
		}
		keys = append(keys, r.key)
	}
	if want := []string{`k|"kept"`, `k|"unread"`}; fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("changelog keys %v, want %v (no record for the key read absent)", keys, want)
	}
	tx = p.Begin()
	for _, k := range []starlark.Value{kept, fresh, unread} {
		if _, ok, err := tx.Get(prefix, k); err != nil || ok {
			t.Errorf("%s: found %v, err %v; want deleted", k, ok, err)
		}
	}
}

// TestRecoverOffsets pins recovery of a store changed by several source
// topics (Quix Streams 3.x's __processed_tp_offsets__ header, which
// PrepareOffsets writes): a record is skipped when any of its topics'
// processed offsets is at or after that topic's committed offset, or the
// topic has no committed offset.
func TestRecoverOffsets(t *testing.T) {
	var produced recorder
	src := openStore(t, newManager(t), false)
	for i, offs := range []map[string]int64{{"a": 4, "b": 9}, {"a": 5}, {"a": 4, "b": 10}, {"c": 0}} {
		tx := src.Begin()
		if err := tx.Set([]byte("k"), starlark.MakeInt(i), starlark.MakeInt(i)); err != nil {
			t.Fatal(err)
		}
		if err := tx.PrepareOffsets(&produced, "cl", 0, offs); err != nil {
			t.Fatal(err)
		}
	}
	cl := &memChangelog{}
	for i, r := range produced.out {
		h, ok := r.headers[HeaderProcessedOffsets]
		if !ok {
			t.Fatalf("record %d has headers %v, want %s", i, r.headers, HeaderProcessedOffsets)
		}
		cl.records = append(cl.records, record.Record{Offset: int64(i), Key: []byte(r.key), Value: r.value, Headers: []record.Header{
			{Key: HeaderColumnFamily, Value: []byte(r.headers[HeaderColumnFamily])}, {Key: HeaderProcessedOffsets, Value: []byte(h)}}})
	}
	if got := produced.out[0].headers[HeaderProcessedOffsets]; got != `{"a":4,"b":9}` {
		t.Errorf("header value %s", got)
	}
	p := openStore(t, newManager(t), false)
	stats, err := p.RecoverOffsets(context.Background(), cl, "cl", 0, map[string]int64{"a": 5, "b": 10}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	// Applied: {a:4, b:9}. Skipped: a at 5, b at 10, and c (no committed offset).
	if stats.Applied != 1 || stats.Skipped != 3 {
		t.Errorf("stats %+v, want 1 applied, 3 skipped", stats)
	}
	for i, want := range []bool{true, false, false, false} {
		k, _ := Key(nil, []byte("k"), starlark.MakeInt(i))
		if _, ok, _ := p.get(CFDefault, k); ok != want {
			t.Errorf("key %d recovered %v, want %v", i, ok, want)
		}
	}
}
