package python

import (
	"testing"

	"go.starlark.net/starlark"
)

func eval(t *testing.T, expr string) (starlark.Value, error) {
	t.Helper()
	return starlark.Eval(&starlark.Thread{}, "t.star", expr, starlark.StringDict{"timedelta": starlark.NewBuiltin("timedelta", NewTimedelta)})
}

// TestTimedeltaMilliseconds pins Quix Streams' ensure_milliseconds,
// including its float quirk (1.005 s -> 1004 ms).
func TestTimedeltaMilliseconds(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want int64
	}{
		{"timedelta(seconds=1)", 1000},
		{"timedelta(minutes=1)", 60000},
		{"timedelta(milliseconds=1500)", 1500},
		{"timedelta(seconds=1.005)", 1004},
		{"timedelta(microseconds=1500)", 2},
		{"timedelta(microseconds=1499)", 1},
		{"timedelta(hours=1, minutes=30)", 5400000},
		{"timedelta(days=1)", 86400000},
		{"timedelta(weeks=1)", 604800000},
	} {
		v, err := eval(t, tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.(Timedelta).Milliseconds(); got != tc.want {
			t.Errorf("%s: %d ms, want %d", tc.expr, got, tc.want)
		}
	}
}

func TestTimedeltaOps(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"timedelta(seconds=90)", "datetime.timedelta(seconds=90)"},
		{"timedelta(days=-1)", "datetime.timedelta(days=-1)"},
		{"timedelta(seconds=1) + timedelta(milliseconds=500)", "datetime.timedelta(seconds=1, microseconds=500000)"},
		{"timedelta(minutes=1) * 2", "datetime.timedelta(seconds=120)"},
		{"timedelta(minutes=1) // timedelta(seconds=7)", "8"},
		{"timedelta(minutes=1).total_seconds()", "60.0"},
		{"timedelta(hours=25).days", "1"},
		{"timedelta(hours=25).seconds", "3600"},
		{"timedelta(seconds=1) < timedelta(seconds=2)", "True"},
		{"timedelta(seconds=60) == timedelta(minutes=1)", "True"},
		{"-timedelta(seconds=1)", "datetime.timedelta(days=-1, seconds=86399)"},
	} {
		v, err := eval(t, tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if v.String() != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, v, tc.want)
		}
	}
	if _, err := eval(t, `timedelta(seconds="1")`); err == nil {
		t.Error("timedelta(seconds=\"1\") accepted")
	}
}
