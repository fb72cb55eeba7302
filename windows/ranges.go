package windows

// Range is a window [Start, End).
type Range struct{ Start, End int64 }

// Ranges returns the windows a timestamp belongs to, ascending by start,
// as Quix Streams' get_window_ranges: starts at multiples of step (step 0
// means tumbling: step = duration) from ts - ts%step down while
// start > ts - duration and start >= 0.
func Ranges(ts, duration, step int64) []Range {
	if step <= 0 {
		step = duration
	}
	var out []Range
	for s := ts - mod(ts, step); s > ts-duration && s >= 0; s -= step {
		out = append(out, Range{s, s + duration})
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// mod is Python's %: the result has the sign of the divisor.
func mod(a, b int64) int64 {
	m := a % b
	if m != 0 && (m < 0) != (b < 0) {
		m += b
	}
	return m
}
