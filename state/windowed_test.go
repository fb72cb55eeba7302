package state

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/windows"
)

// memWindows is the reference: every window in a map.
type memWindows struct {
	latest  *int64
	windows map[[2]int64]starlark.Value
	lastExp int64
}

func (m *memWindows) LatestTimestamp() int64 { return *m.latest }
func (m *memWindows) GetWindow(s, e int64) (starlark.Value, bool, error) {
	v, ok := m.windows[[2]int64{s, e}]
	return v, ok, nil
}
func (m *memWindows) UpdateWindow(s, e int64, v starlark.Value, ts int64) error {
	m.windows[[2]int64{s, e}] = v
	*m.latest = max(*m.latest, ts)
	return nil
}
func (m *memWindows) ExpireWindows(to int64) ([]windows.Expired, error) {
	var out []windows.Expired
	for se, v := range m.windows {
		if se[0] > m.lastExp && se[0] <= to {
			out = append(out, windows.Expired{Start: se[0], End: se[1], Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Start < out[j].Start || out[i].Start == out[j].Start && out[i].End < out[j].End
	})
	if len(out) > 0 {
		m.lastExp = out[len(out)-1].Start
	}
	for _, w := range out {
		delete(m.windows, [2]int64{w.Start, w.End})
	}
	return out, nil
}

// TestWindowedStoreMatchesReference runs random streams through fixed
// windows twice: on the RocksDB windowed store (transactions flushed every
// few messages, the store reopened midway) and on an in-memory reference;
// every emitted window must be the same. It pins the key layout, the
// range scans merged with uncommitted changes, the expiration index, the
// stored clock and the scan-skipping bound.
func TestWindowedStoreMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for trial := 0; trial < 40; trial++ {
		m := newManager(t)
		store := register(t, m, Store{Topic: "input", Name: fmt.Sprint("w", trial), Windowed: true})
		p, err := m.Open(store, 0)
		if err != nil {
			t.Fatal(err)
		}
		duration := int64(1 + rng.Intn(30))
		step := duration
		if rng.Intn(2) == 0 && duration > 1 {
			step = int64(1 + rng.Intn(int(duration-1)))
		}
		def := windows.Fixed{Duration: duration, Step: step, Grace: int64(rng.Intn(10)), Agg: windows.Sum()}
		latest := int64(0)
		refs := map[string]*memWindows{}
		tx := p.Begin()
		ts := int64(rng.Intn(40))
		for i := 0; i < 120; i++ {
			ts = max(0, ts+int64(rng.Intn(12))-4)
			key := fmt.Sprint("k", rng.Intn(3))
			v := starlark.MakeInt(rng.Intn(9))
			ws, err := tx.Windows([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			u1, e1, err := def.Process(nil, ws, starlark.None, v, ts, nil)
			if err != nil {
				t.Fatal(err)
			}
			ref := refs[key]
			if ref == nil {
				ref = &memWindows{latest: &latest, windows: map[[2]int64]starlark.Value{}, lastExp: -1}
				refs[key] = ref
			}
			u2, e2, _ := def.Process(nil, ref, starlark.None, v, ts, nil)
			if fmt.Sprint(u1, e1) != fmt.Sprint(u2, e2) {
				t.Fatalf("trial %d message %d (%s@%d): store %v %v, reference %v %v", trial, i, key, ts, u1, e1, u2, e2)
			}
			if rng.Intn(5) == 0 { // a checkpoint
				if err := tx.Prepare(nil, "", 0, int64(i)); err != nil {
					t.Fatal(err)
				}
				if err := tx.Flush(int64(i), -1); err != nil {
					t.Fatal(err)
				}
				tx = p.Begin()
			}
			if i == 60 { // a restart
				must(t, tx.Prepare(nil, "", 0, int64(i)))
				must(t, tx.Flush(int64(i), -1))
				p.Close()
				if p, err = m.Open(store, 0); err != nil {
					t.Fatal(err)
				}
				tx = p.Begin()
			}
		}
		p.Close()
	}
}

// TestExpiryScansOncePerClosedWindow: a 10 ms tumbling window fed one
// message per millisecond scans its store when a window can close, not
// at every message: after a scan the bound of the windows left is the
// first one's start.
func TestExpiryScansOncePerClosedWindow(t *testing.T) {
	m := newManager(t)
	store := register(t, m, Store{Topic: "input", Name: "scans", Windowed: true})
	p, err := m.Open(store, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	def := windows.Fixed{Duration: 10, Step: 10, Agg: windows.Sum()}
	tx := p.Begin()
	closed, checkpoints := 0, 0
	cl := &recorder{}
	for ts := int64(0); ts < 1000; ts++ {
		ws, err := tx.Windows([]byte("k"))
		if err != nil {
			t.Fatal(err)
		}
		_, expired, err := def.Process(nil, ws, starlark.None, starlark.MakeInt(1), ts, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range expired {
			v, _, _ := w.Value.(*starlark.Dict).Get(starlark.String("value"))
			if n, _ := starlark.AsInt32(v); n != 10 {
				t.Fatalf("window [%d, %d) closed with %s, want 10", w.Start, w.End, w.Value)
			}
		}
		closed += len(expired)
		if ts%50 == 49 { // a checkpoint every 5 windows
			must(t, tx.Prepare(cl, "changelog", 0, ts))
			must(t, tx.Flush(ts, -1))
			tx = p.Begin()
			checkpoints++
		}
	}
	if closed != 99 {
		t.Fatalf("%d windows closed, want 99", closed)
	}
	// Within a checkpoint only the transaction's own windows can close:
	// the store is scanned once per checkpoint, for the window it holds.
	t.Logf("%d scans, %d changelog records", p.scans, len(cl.out))
	if p.scans > checkpoints+1 {
		t.Errorf("%d scans for %d closed windows over %d checkpoints", p.scans, closed, checkpoints)
	}
	// Per checkpoint: the window left open, the tombstone of the one the
	// previous checkpoint left open, the expiration index. The windows
	// opened and closed within a checkpoint reach neither the changelog
	// nor the store.
	if len(cl.out) > 3*checkpoints {
		t.Errorf("%d changelog records over %d checkpoints, want at most 3 each", len(cl.out), checkpoints)
	}
	for _, r := range cl.out {
		if s, e, ok := parseWindowKey([]byte("k"), []byte(r.key)); ok && r.value == nil && e != s+10 {
			t.Errorf("tombstone of a window of length %d", e-s)
		}
	}
}
