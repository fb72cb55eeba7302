package engine_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/windows"
)

// TestOnLateDecidesTheWarning: on_late gets the late record and its
// window, as Quix Streams 3.x calls it, and the 3.x warning is logged only
// when it returns a true value; without on_late, 2.5.1's warning is.
func TestOnLateDecidesTheWarning(t *testing.T) {
	for _, tc := range []struct {
		name   string
		onLate bool
		ret    bool
		want   string
	}{
		{"returns True", true, true, "Skipping window processing for the closed window timestamp_ms=19000 window=(10000, 20000) late_by_ms=1000 store_name=w partition=in[0] offset=2"},
		{"returns False", true, false, ""},
		{"2.5.1", false, false, "Skipping window processing for expired window timestamp=19000 window=[10000,20000) min_valid_window_end=20001 partition=in[0] offset=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(1, 3, func(int32, int) string { return "k" })
			for i, ts := range []int64{1000, 20000, 19000} {
				b.input[0][i].Timestamp = ts
			}
			var calls []string
			opts := engine.WindowOptions{Quix3: tc.onLate}
			if tc.onLate {
				opts.OnLate = starlark.NewBuiltin("on_late", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
					calls = append(calls, fmt.Sprint(args))
					return starlark.Bool(tc.ret), nil
				})
			}
			root := engine.NewRoot()
			root.Then(engine.Apply(column("i"), false), "").
				Then(engine.Window(engine.StoreID("in", "w"), windows.Fixed{Duration: 10000, Step: 10000, Agg: windows.Sum()}, false, opts), "").
				Then(engine.ToTopic(jsonTopic("out"), nil), "")
			var log syncbuf.Buffer
			err := run(t, engine.Config{Sources: []*engine.Source{{Topic: jsonTopic("in"), Root: root}}, Consumer: &consumer{b: b}, Producer: producer{b},
				Stores: memStores(t, engine.StoreSpec{Name: "w", Topic: "in", Windowed: true}), Logger: slog.New(slog.NewTextHandler(&log, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if tc.onLate && fmt.Sprint(calls) != `[(2, b"k", 19000, 1000, 10000, 20000, "w", "in", 0, 2)]` {
				t.Errorf("on_late calls: %v", calls)
			}
			warned := strings.Count(log.String(), "Skipping window processing")
			switch {
			case tc.want == "" && warned > 0:
				t.Errorf("warned although on_late returned False:\n%s", log.String())
			case tc.want != "" && (warned != 1 || !strings.Contains(log.String(), tc.want)):
				t.Errorf("log:\n%s\nwant one warning: %s", log.String(), tc.want)
			}
		})
	}
}
