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

// slidingMessage is a record of a sliding-window case and what follows
// it, as Quix Streams v3.25.0's test_sliding.py states it: the windows
// current() and final() emit ("start end value"), the windows deleted
// from and present in the state ("start end [max_timestamp, aggregate]"),
// and, for collect(), the values kept.
type slidingMessage struct {
	ts                                 int64
	value                              string
	updated, expired, deleted, present []string
	values                             []string
}

type slidingCase struct {
	name            string
	duration, grace int64
	messages        []slidingMessage
}

// The cases of test_sliding_window_reduce (reducer agg + [value],
// initializer [value]), with their inputs and expected outputs.
var slidingReduceCases = []slidingCase{
	{"right-window-exists", 10, 15, []slidingMessage{
		{23, "A", []string{`13 23 ["A"]`}, nil, nil, nil, nil},
		{12, "B", []string{`2 12 ["B"]`}, nil, nil, []string{`13 23 [23, ["A"]]`}, nil},
	}},
	{"right-window-created", 10, 15, []slidingMessage{
		{23, "A", []string{`13 23 ["A"]`}, nil, nil, nil, nil},
		{20, "B", []string{`10 20 ["B"]`, `13 23 ["A", "B"]`}, nil, nil, []string{`21 31 [23, ["A"]]`}, nil},
	}},
	{"right-window-updated", 10, 15, []slidingMessage{
		{23, "A", []string{`13 23 ["A"]`}, nil, nil, nil, nil},
		{20, "B", []string{`10 20 ["B"]`, `13 23 ["A", "B"]`}, nil, nil, []string{`21 31 [23, ["A"]]`}, nil},
		{27, "C", []string{`17 27 ["A", "B", "C"]`}, nil, nil, []string{`10 20 [20, ["B"]]`, `13 23 [23, ["A", "B"]]`, `21 31 [27, ["A", "C"]]`, `24 34 [27, ["C"]]`}, nil},
	}},
	{"left-window-exists", 10, 15, []slidingMessage{
		{17, "A", []string{`7 17 ["A"]`}, nil, nil, nil, nil},
		{17, "B", []string{`7 17 ["A", "B"]`}, nil, nil, nil, nil},
	}},
	{"right-window-becomes-left-window", 10, 15, []slidingMessage{
		{23, "A", []string{`13 23 ["A"]`}, nil, nil, nil, nil},
		{20, "B", []string{`10 20 ["B"]`, `13 23 ["A", "B"]`}, nil, nil, []string{`21 31 [23, ["A"]]`}, nil},
		{31, "C", []string{`21 31 ["A", "C"]`}, nil, nil, []string{`10 20 [20, ["B"]]`, `13 23 [23, ["A", "B"]]`, `24 34 [31, ["C"]]`}, nil},
		{31, "D", []string{`21 31 ["A", "C", "D"]`}, nil, nil, []string{`10 20 [20, ["B"]]`, `13 23 [23, ["A", "B"]]`, `24 34 [31, ["C", "D"]]`}, nil},
	}},
	{"right-window-for-revious-message-created", 10, 15, []slidingMessage{
		{11, "A", []string{`1 11 ["A"]`}, nil, nil, nil, nil},
		{19, "B", []string{`9 19 ["A", "B"]`}, nil, nil, []string{`1 11 [11, ["A"]]`, `12 22 [19, ["B"]]`}, nil},
	}},
	{"deletion-watermark-set-below-last-iterated-window", 10, 0, []slidingMessage{
		{16, "A", []string{`6 16 ["A"]`}, nil, nil, nil, nil},
		{24, "B", []string{`14 24 ["A", "B"]`}, []string{`6 16 ["A"]`}, nil, []string{`17 27 [24, ["B"]]`}, nil},
		{25, "C", []string{`15 25 ["A", "B", "C"]`}, []string{`14 24 ["A", "B"]`}, []string{`6 16 ["A"]`}, []string{`17 27 [25, ["B", "C"]]`, `25 35 [25, ["C"]]`}, nil},
	}},
	{"deletion-watermark-set-expiration-watermark", 10, 2, []slidingMessage{
		{16, "A", []string{`6 16 ["A"]`}, nil, nil, nil, nil},
		{24, "B", []string{`14 24 ["A", "B"]`}, []string{`6 16 ["A"]`}, nil, []string{`17 27 [24, ["B"]]`}, nil},
		{25, "C", []string{`15 25 ["A", "B", "C"]`}, nil, nil, []string{`14 24 [24, ["A", "B"]]`, `17 27 [25, ["B", "C"]]`, `25 35 [25, ["C"]]`}, nil},
	}},
	{"aggregation-from-min-eligible-window", 10, 15, []slidingMessage{
		{11, "A", []string{`1 11 ["A"]`}, nil, nil, nil, nil},
		{21, "B", []string{`11 21 ["A", "B"]`}, nil, nil, []string{`1 11 [11, ["A"]]`, `12 22 [21, ["B"]]`}, nil},
	}},
	{"aggregation-not-found", 10, 15, []slidingMessage{
		{11, "A", []string{`1 11 ["A"]`}, nil, nil, nil, nil},
		{22, "B", []string{`12 22 ["B"]`}, nil, nil, []string{`1 11 [11, ["A"]]`}, nil},
	}},
	{"prevent-negative-start-time", 10, 15, []slidingMessage{
		{3, "A", []string{`0 3 ["A"]`}, nil, nil, nil, nil},
	}},
	{"default-aggregation-used", 10, 15, []slidingMessage{
		{29, "A", []string{`19 29 ["A"]`}, nil, nil, nil, nil},
		{26, "B", []string{`16 26 ["B"]`, `19 29 ["A", "B"]`}, nil, nil, []string{`27 37 [29, ["A"]]`}, nil},
		{41, "C", []string{`31 41 ["C"]`}, nil, nil, []string{`16 26 [26, ["B"]]`, `19 29 [29, ["A", "B"]]`, `27 37 [29, ["A"]]`}, nil},
	}},
	{"expiration-without-grace", 10, 0, []slidingMessage{
		{22, "A", []string{`12 22 ["A"]`}, nil, nil, nil, nil},
		{23, "B", []string{`13 23 ["A", "B"]`}, []string{`12 22 ["A"]`}, nil, []string{`23 33 [23, ["B"]]`}, nil},
		{22, "C", []string{`13 23 ["A", "B", "C"]`}, nil, nil, []string{`12 22 [22, ["A"]]`, `23 33 [23, ["B"]]`}, nil},
	}},
	{"expiration-with-grace", 10, 3, []slidingMessage{
		{22, "A", []string{`12 22 ["A"]`}, nil, nil, nil, nil},
		{23, "B", []string{`13 23 ["A", "B"]`}, nil, nil, []string{`12 22 [22, ["A"]]`, `23 33 [23, ["B"]]`}, nil},
		{17, "C", []string{`12 22 ["A", "C"]`, `13 23 ["A", "B", "C"]`}, nil, nil, []string{`18 28 [23, ["A", "B"]]`, `23 33 [23, ["B"]]`}, nil},
		{26, "D", []string{`16 26 ["A", "B", "C", "D"]`}, []string{`12 22 ["A", "C"]`}, []string{`12 22 ["A", "C"]`}, []string{`13 23 [23, ["A", "B", "C"]]`, `18 28 [26, ["A", "B", "D"]]`, `23 33 [26, ["B", "D"]]`, `24 34 [26, ["D"]]`}, nil},
	}},
	{"late-message", 10, 0, []slidingMessage{
		{1, "A", []string{`0 1 ["A"]`}, nil, nil, nil, nil},
		{20, "B", []string{`10 20 ["B"]`}, []string{`0 1 ["A"]`}, nil, nil, nil},
		{5, "C", nil, nil, nil, []string{`0 1 [1, ["A"]]`, `10 20 [20, ["B"]]`}, nil},
	}},
	{"late-message-equal-to-expiration-watermark", 10, 0, []slidingMessage{
		{1, "A", []string{`0 1 ["A"]`}, nil, nil, nil, nil},
		{20, "B", []string{`10 20 ["B"]`}, []string{`0 1 ["A"]`}, nil, nil, nil},
		{9, "C", nil, nil, nil, []string{`0 1 [1, ["A"]]`, `10 20 [20, ["B"]]`}, nil},
	}},
}

// The case of test_sliding_window_collect.
var slidingCollectCases = []slidingCase{
	{"collection-aggregation", 10, 5, []slidingMessage{
		{11, "A", nil, nil, nil, []string{`1 11 [11, None]`}, []string{`"A"`}},
		{12, "B", nil, nil, nil, []string{`1 11 [11, None]`, `2 12 [12, None]`, `12 22 [12, None]`}, []string{`"A"`, `"B"`}},
		{21, "C", nil, []string{`1 11 ["A"]`, `2 12 ["A", "B"]`}, []string{`1 11`}, []string{`2 12 [12, None]`, `11 21 [21, None]`, `12 22 [21, None]`, `13 23 [21, None]`}, []string{`"A"`, `"B"`, `"C"`}},
		{60, "D", nil, []string{`11 21 ["A", "B", "C"]`}, []string{`2 12`, `11 21`, `12 22`, `13 23`}, []string{`50 60 [60, None]`}, []string{`"D"`}},
	}},
}

func TestSlidingWindowReduce(t *testing.T) {
	reducer := starlark.NewBuiltin("reducer", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		l := args[0].(*starlark.List)
		out := starlark.NewList(nil)
		for i := 0; i < l.Len(); i++ {
			_ = out.Append(l.Index(i))
		}
		return out, out.Append(args[1])
	})
	initializer := starlark.NewBuiltin("initializer", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		return starlark.NewList([]starlark.Value{args[0]}), nil
	})
	for _, tc := range slidingReduceCases {
		t.Run(tc.name, func(t *testing.T) {
			runSliding(t, tc, windows.Named{Name: "value", Aggregator: windows.NewReduce(reducer, initializer)})
		})
	}
}

func TestSlidingWindowCollect(t *testing.T) {
	for _, tc := range slidingCollectCases {
		t.Run(tc.name, func(t *testing.T) {
			runSliding(t, tc, windows.Named{Name: "value", Collector: &windows.Collector{}})
		})
	}
}

// runSliding feeds each message in a transaction of its own, then checks
// the emitted windows and, in a new transaction, the state.
func runSliding(t *testing.T, tc slidingCase, n windows.Named) {
	agg, err := windows.NewAggregators([]windows.Named{n}, true)
	if err != nil {
		t.Fatal(err)
	}
	def := windows.Sliding{Duration: tc.duration, Grace: tc.grace, Agg: agg}
	p := openStore(t, newManager(t), true)
	th := &starlark.Thread{}
	key := []byte("key")
	show := func(rs []windows.Result) []string {
		var out []string
		for _, r := range rs {
			v, _, _ := r.Value.(*starlark.Dict).Get(starlark.String("value"))
			out = append(out, fmt.Sprintf("%d %d %s", r.Start, r.End, v))
		}
		return out
	}
	for i, m := range tc.messages {
		tx := p.Begin()
		ws, err := tx.Windows(key)
		if err != nil {
			t.Fatal(err)
		}
		updated, expired, err := def.Process(th, ws, starlark.None, starlark.String(m.value), m.ts, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n.Aggregator != nil {
			eq(t, fmt.Sprintf("message %d updated", i), show(updated), m.updated...)
		}
		eq(t, fmt.Sprintf("message %d expired", i), show(expired), m.expired...)
		must(t, tx.Prepare(nil, "", 0, int64(i)))
		must(t, tx.Flush(int64(i), -1))

		tx = p.Begin()
		if ws, err = tx.Windows(key); err != nil {
			t.Fatal(err)
		}
		for _, d := range m.deleted {
			var s, e int64
			fmt.Sscan(d, &s, &e)
			if v, ok, _ := ws.GetWindow(s, e); ok {
				t.Errorf("message %d: window %d %d is still in the state: %s", i, s, e, v)
			}
		}
		for _, want := range m.present {
			var s, e int64
			fmt.Sscan(want, &s, &e)
			v, ok, err := ws.GetWindow(s, e)
			if got := fmt.Sprintf("%d %d %s", s, e, v); err != nil || !ok || got != want {
				t.Errorf("message %d: window in the state %s (found %v, %v), want %s", i, got, ok, err, want)
			}
		}
		all, err := ws.GetWindows(-1, 99)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, w := range all {
			got = append(got, fmt.Sprintf("%d %d", w.Start, w.End))
		}
		eq(t, fmt.Sprintf("message %d windows in the state", i), got, expectedWindows(m)...)
		if n.Collector != nil {
			vals, err := ws.GetFromCollection(-1, 99)
			if err != nil {
				t.Fatal(err)
			}
			var gotVals []string
			for _, v := range vals {
				gotVals = append(gotVals, v.String())
			}
			eq(t, fmt.Sprintf("message %d values in the state", i), gotVals, m.values...)
		}
	}
}

// expectedWindows are the reference's expected_windows_in_state: the
// updated, expired and present windows but the deleted ones, sorted.
func expectedWindows(m slidingMessage) []string {
	set := map[string]bool{}
	for _, w := range append(append(append([]string(nil), m.updated...), m.expired...), m.present...) {
		f := strings.Fields(w)
		set[f[0]+" "+f[1]] = true
	}
	for _, w := range m.deleted {
		f := strings.Fields(w)
		delete(set, f[0]+" "+f[1])
	}
	var out []string
	for w := range set {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		var a0, a1, b0, b1 int64
		fmt.Sscan(out[i], &a0, &a1)
		fmt.Sscan(out[j], &b0, &b1)
		return a0 < b0 || a0 == b0 && a1 < b1
	})
	return out
}

// TestSlidingFinalMatchesBruteForce: on random streams whose records come
// in timestamp order per key (ties allowed; keys interleaved), with random
// durations, graces and checkpoints, final() emits, for each distinct
// timestamp t of a key, the window [max(0, t - duration), t] with the sum
// of the key's records in it, once, when a record of the key brings its
// latest timestamp past start + duration + grace. Out-of-order records
// are the table cases' business (their semantics are the reference's
// algorithm, not a closed form).
func TestSlidingFinalMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	th := &starlark.Thread{}
	m := newManager(t)
	for trial := 0; trial < 25; trial++ {
		duration := int64(1 + rng.Intn(30))
		grace := int64(rng.Intn(3)) * int64(rng.Intn(15))
		agg, err := windows.NewAggregators([]windows.Named{{Name: "value", Aggregator: windows.NewSum("")}}, true)
		if err != nil {
			t.Fatal(err)
		}
		def := windows.Sliding{Duration: duration, Grace: grace, Agg: agg}
		p, err := m.Open(register(t, m, Store{Topic: "input", Name: fmt.Sprint("sliding", trial), Windowed: true}), 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		tx := p.Begin()
		type rec struct{ ts, v int64 }
		seen := map[string][]rec{}
		emitted := map[string]map[int64]bool{}
		clock := map[string]int64{}
		for i := 0; i < 100; i++ {
			key := fmt.Sprint("k", rng.Intn(3))
			ts := max(1, clock[key]+int64(rng.Intn(12))) // at 0 the left window [0, 0] is invalid, as in the reference
			v := int64(rng.Intn(10))
			ws, err := tx.Windows([]byte(key))
			if err != nil {
				t.Fatal(err)
			}
			_, expired, err := def.Process(th, ws, starlark.None, starlark.MakeInt64(v), ts, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range expired {
				s, _, _ := w.Value.(*starlark.Dict).Get(starlark.String("value"))
				got = append(got, fmt.Sprintf("[%d,%d]=%s", w.Start, w.End, s))
			}
			// The reference: the windows of distinct timestamps that close now.
			seen[key] = append(seen[key], rec{ts, v})
			clock[key] = ts
			if emitted[key] == nil {
				emitted[key] = map[int64]bool{}
			}
			var want []string
			for _, r := range seen[key] {
				start := max(0, r.ts-duration)
				if emitted[key][r.ts] || start > ts-grace-1-duration {
					continue
				}
				emitted[key][r.ts] = true
				sum := int64(0)
				for _, o := range seen[key] {
					if o.ts >= start && o.ts <= r.ts {
						sum += o.v
					}
				}
				want = append(want, fmt.Sprintf("[%d,%d]=%d", start, r.ts, sum))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("trial %d (duration %d, grace %d) record %d %s@%d: final() %v, want %v", trial, duration, grace, i, key, ts, got, want)
			}
			if rng.Intn(4) == 0 {
				must(t, tx.Prepare(nil, "", 0, int64(i)))
				must(t, tx.Flush(int64(i), -1))
				tx = p.Begin()
			}
		}
	}
}
