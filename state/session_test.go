package state

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/windows"
)

// bruteSessions is the reference for session windows: every accepted
// record kept, sessions recomputed from scratch. A record joins the
// sessions within timeout of it (merging them); it is dropped when the
// session it would make ends before stream time - grace; sessions of
// every key close once they end before stream time - grace - timeout.
type bruteSessions struct {
	timeout, grace int64
	streamTime     int64
	seq            int64
	merges, drops  int                       // records that bridged sessions, late records
	open           map[string][][]sessionRec // per key, sessions of records
}

type sessionRec struct{ ts, v, seq int64 }

func (b *bruteSessions) process(key string, ts, v int64) (closed []string) {
	b.streamTime = max(b.streamTime, ts)
	closeTime := b.streamTime - b.grace
	var keep [][]sessionRec
	b.seq++
	merged := []sessionRec{{ts, v, b.seq}}
	start, end := ts, ts
	joined := 0
	for _, s := range b.open[key] {
		if s[len(s)-1].ts >= ts-b.timeout && s[0].ts <= ts+b.timeout {
			merged = append(merged, s...)
			joined++
			start, end = min(start, s[0].ts), max(end, s[len(s)-1].ts)
		} else {
			keep = append(keep, s)
		}
	}
	if joined > 1 {
		b.merges++
	}
	if end < closeTime {
		b.drops++
	} else {
		// By timestamp, then arrival, as the collection keeps them.
		sort.Slice(merged, func(i, j int) bool {
			return merged[i].ts < merged[j].ts || merged[i].ts == merged[j].ts && merged[i].seq < merged[j].seq
		})
		b.open[key] = append(keep, merged)
	}
	type out struct {
		key        string
		start, end int64
		text       string
	}
	var outs []out
	for k, ss := range b.open {
		var left [][]sessionRec
		for _, s := range ss {
			if s[len(s)-1].ts < closeTime-b.timeout {
				sum, vals := int64(0), []string{}
				for _, r := range s {
					sum += r.v
					vals = append(vals, fmt.Sprint(r.v))
				}
				outs = append(outs, out{k, s[0].ts, s[len(s)-1].ts, fmt.Sprintf("%s [%d,%d] count=%d sum=%d values=[%s]", k, s[0].ts, s[len(s)-1].ts, len(s), sum, strings.Join(vals, ", "))})
			} else {
				left = append(left, s)
			}
		}
		b.open[k] = left
	}
	sort.Slice(outs, func(i, j int) bool {
		a, c := outs[i], outs[j]
		if a.end != c.end {
			return a.end < c.end
		}
		if a.start != c.start {
			return a.start < c.start
		}
		return a.key < c.key
	})
	for _, o := range outs {
		closed = append(closed, o.text)
	}
	return closed
}

// TestSessionsMatchBruteForce: session windows over random streams of a
// few keys — out of order within and beyond grace, records bridging two
// sessions, late records — with random timeouts, graces and checkpoints
// (a restart of the store partition among them), close the same sessions
// with the same counts, sums and collected values as the reference.
func TestSessionsMatchBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	th := &starlark.Thread{}
	m := newManager(t)
	merges, drops := 0, 0
	for trial := 0; trial < 15; trial++ {
		timeout := int64(1 + rng.Intn(10))
		grace := int64(rng.Intn(3)) * int64(rng.Intn(8))
		agg, err := windows.NewAggregators([]windows.Named{
			{Name: "count", Aggregator: windows.NewCount("")},
			{Name: "sum", Aggregator: windows.NewSum("")},
			{Name: "values", Collector: &windows.Collector{}},
		}, false)
		if err != nil {
			t.Fatal(err)
		}
		def := windows.Session{Timeout: timeout, Grace: grace, Agg: agg}
		store := register(t, m, Store{Topic: "input", Name: fmt.Sprint("sessions", trial), Windowed: true})
		p, err := m.Open(store, 0)
		if err != nil {
			t.Fatal(err)
		}
		tx := p.Begin()
		ref := &bruteSessions{timeout: timeout, grace: grace, open: map[string][][]sessionRec{}}
		ts := int64(rng.Intn(20))
		for i := 0; i < 200; i++ {
			ts = max(0, ts+int64(rng.Intn(9))-3)
			key := fmt.Sprint("k", rng.Intn(3))
			v := int64(rng.Intn(10))
			ws, err := tx.Windows([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			_, expired, err := def.Process(th, ws, starlark.Bytes(key), starlark.MakeInt64(v), ts, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range expired {
				d := w.Value.(*starlark.Dict)
				n, _, _ := d.Get(starlark.String("count"))
				s, _, _ := d.Get(starlark.String("sum"))
				vals, _, _ := d.Get(starlark.String("values"))
				got = append(got, fmt.Sprintf("%s [%d,%d] count=%s sum=%s values=%s", string(w.Key.(starlark.Bytes)), w.Start, w.End, n, s, vals))
			}
			want := ref.process(key, ts, v)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("trial %d (timeout %d, grace %d) record %d %s@%d=%d:\n got  %q\n want %q", trial, timeout, grace, i, key, ts, v, got, want)
			}
			if rng.Intn(5) == 0 {
				must(t, tx.Prepare(nil, "", 0, int64(i)))
				must(t, tx.Flush(int64(i), -1))
				if i == 75 {
					p.Close()
					if p, err = m.Open(store, 0); err != nil {
						t.Fatal(err)
					}
				}
				tx = p.Begin()
			}
		}
		p.Close()
		merges, drops = merges+ref.merges, drops+ref.drops
	}
	t.Logf("%d records bridged sessions, %d were late", merges, drops)
	if merges == 0 || drops == 0 {
		t.Errorf("the streams had %d merges and %d late records: both must occur", merges, drops)
	}
}
