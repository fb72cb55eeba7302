package windows

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"go.starlark.net/starlark"
)

// TestRanges pins Quix Streams' get_window_ranges, including its test
// examples.
func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		ts, duration, step int64
		want               string
	}{
		{100, 30, 10, "[{80 110} {90 120} {100 130}]"},
		{1, 20, 20, "[{0 20}]"},
		{100, 60, 0, "[{60 120}]"},
		{1, 10, 5, "[{0 10}]"},
		{0, 10, 0, "[{0 10}]"},
		{10, 10, 0, "[{10 20}]"},
		{9, 10, 0, "[{0 10}]"},
		{12, 10, 5, "[{5 15} {10 20}]"},
		{1700000000123, 1000, 0, "[{1700000000000 1700000001000}]"},
	} {
		if got := fmt.Sprint(Ranges(tc.ts, tc.duration, tc.step)); got != tc.want {
			t.Errorf("Ranges(%d, %d, %d) = %s, want %s", tc.ts, tc.duration, tc.step, got, tc.want)
		}
	}
}

// memState is an in-memory State with the reference's semantics.
type memState struct {
	latest  *int64 // shared by the keys of a partition
	windows map[[2]int64]starlark.Value
	lastExp int64
}

func newMem(latest *int64) *memState {
	return &memState{latest: latest, windows: map[[2]int64]starlark.Value{}, lastExp: -1}
}

func (m *memState) LatestTimestamp() int64 { return *m.latest }
func (m *memState) GetWindow(s, e int64) (starlark.Value, bool, error) {
	v, ok := m.windows[[2]int64{s, e}]
	return v, ok, nil
}
func (m *memState) UpdateWindow(s, e int64, v starlark.Value, ts int64) error {
	m.windows[[2]int64{s, e}] = v
	if ts > *m.latest {
		*m.latest = ts
	}
	return nil
}
func (m *memState) ExpireWindows(to int64) ([]Expired, error) {
	var out []Expired
	for se, v := range m.windows {
		if se[0] > m.lastExp && se[0] <= to {
			out = append(out, Expired{se[0], se[1], v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].End < out[j].End
	})
	if len(out) > 0 {
		m.lastExp = out[len(out)-1].Start
		for _, w := range out {
			delete(m.windows, [2]int64{w.Start, w.End})
		}
	}
	return out, nil
}

type event struct {
	key   string
	ts    int64
	value int64
}

// bruteForce computes final() outputs directly from the definition:
// windows [s, s+duration) at multiples of step; a message is late for a
// window whose end <= clock - grace (the clock before it); the clock only
// moves when a message updates a window; a key's closed windows
// (end <= clock - grace) are emitted, ascending, when that key sends.
func bruteForce(events []event, duration, step, grace int64) []string {
	clock := int64(0)
	open := map[string]map[[2]int64]int64{}
	var out []string
	for _, e := range events {
		w := open[e.key]
		if w == nil {
			w = map[[2]int64]int64{}
			open[e.key] = w
		}
		updated := false
		for s := (e.ts / step) * step; s >= 0 && s > e.ts-duration; s -= step {
			if s+duration <= clock-grace {
				continue // late
			}
			w[[2]int64{s, s + duration}] += e.value
			updated = true
		}
		if updated && e.ts > clock {
			clock = e.ts
		}
		var closed [][2]int64
		for se := range w {
			if se[1] <= clock-grace {
				closed = append(closed, se)
			}
		}
		sort.Slice(closed, func(i, j int) bool { return closed[i][0] < closed[j][0] })
		for _, se := range closed {
			out = append(out, fmt.Sprintf("%s[%d,%d)=%d", e.key, se[0], se[1], w[se]))
			delete(w, se)
		}
	}
	return out
}

// TestFinalMatchesBruteForce is the property test of the windows issue:
// for random event streams (several keys, timestamps that wander forward
// and back), Fixed.Process's final() results equal a brute-force
// computation of the definition, for tumbling and hopping windows with and
// without grace.
func TestFinalMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 300; trial++ {
		duration := int64(1 + rng.Intn(50))
		step := duration
		if rng.Intn(2) == 0 && duration > 1 {
			step = int64(1 + rng.Intn(int(duration-1)))
		}
		grace := int64(0)
		if rng.Intn(2) == 0 {
			grace = int64(rng.Intn(30))
		}
		var events []event
		ts := int64(rng.Intn(100))
		for i := 0; i < 60; i++ {
			ts += int64(rng.Intn(25)) - 8
			if ts < 0 {
				ts = 0
			}
			events = append(events, event{key: fmt.Sprint("k", rng.Intn(3)), ts: ts, value: int64(rng.Intn(10))})
		}
		def := Fixed{Duration: duration, Step: step, Grace: grace, Agg: Sum()}
		latest := int64(0)
		states := map[string]*memState{}
		var got []string
		for _, e := range events {
			st := states[e.key]
			if st == nil {
				st = newMem(&latest)
				states[e.key] = st
			}
			_, expired, err := def.Process(nil, st, starlark.None, starlark.MakeInt64(e.value), e.ts, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range expired {
				got = append(got, fmt.Sprintf("%s[%d,%d)=%s", e.key, w.Start, w.End, recordValue(w.Value)))
			}
		}
		want := bruteForce(events, duration, step, grace)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("duration %d step %d grace %d, events %v:\n got  %v\n want %v", duration, step, grace, events, got, want)
		}
	}
}

func TestAggregations(t *testing.T) {
	for _, tc := range []struct {
		agg  Aggregation
		in   []starlark.Value
		want string
	}{
		{Sum(), []starlark.Value{starlark.MakeInt(1), starlark.Float(2.5)}, "3.5"},
		{Count(), []starlark.Value{starlark.String("a"), starlark.None}, "2"},
		{Mean(), []starlark.Value{starlark.MakeInt(1), starlark.MakeInt(2)}, "1.5"},
		{Mean(), []starlark.Value{starlark.MakeInt(2)}, "2.0"},
		{Max(), []starlark.Value{starlark.MakeInt(1), starlark.Float(3.5), starlark.MakeInt(2)}, "3.5"},
		{Min(), []starlark.Value{starlark.MakeInt(4), starlark.Float(3.5), starlark.MakeInt(9)}, "3.5"},
	} {
		var cur starlark.Value
		found := false
		for _, v := range tc.in {
			var err error
			cur, err = tc.agg.step(nil, cur, found, v)
			if err != nil {
				t.Fatal(err)
			}
			found = true
		}
		got, err := tc.agg.result(cur)
		if err != nil || got.String() != tc.want {
			t.Errorf("%s%v = %v (%v), want %s", tc.agg.Name, tc.in, got, err, tc.want)
		}
	}
}

// recordValue is the "value" of an emitted {"start", "end", "value"} record.
func recordValue(rec starlark.Value) starlark.Value {
	v, _, _ := rec.(*starlark.Dict).Get(keyValue)
	return v
}
