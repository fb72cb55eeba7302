package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/runtime"
)

const windowJob = `from quixstreams import Application
from datetime import timedelta

app = Application(consumer_group="windows", auto_offset_reset="earliest", commit_interval=0.5)
readings = app.topic("readings")
out = app.topic("window-counts")

sdf = app.dataframe(readings)
sdf = sdf.apply(lambda v: v["temp"])
sdf = sdf.tumbling_window(timedelta(seconds=10)).count().final()
sdf.to_topic(out)
app.run()
`

// runWindowJob runs the window job until idle with a given state dir.
func runWindowJob(t *testing.T, addr, stateDir string) { runUntilIdle(t, windowJob, addr, stateDir) }

// runUntilIdle runs the job src in process until it is idle for a second,
// with a given state dir.
func runUntilIdle(t *testing.T, src, addr, stateDir string) {
	t.Helper()
	s, err := runtime.Load("job.star", []byte(src), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := runtime.Run(context.Background(), s, runtime.Options{
		Broker: addr, StopWhenIdle: time.Second, Stdout: &bytes.Buffer{},
		Logger: testLogger(t), Getenv: noEnv, StateDir: stateDir,
	}); err != nil {
		t.Fatal(err)
	}
}

type windowCount struct {
	key        string
	start, end int64
	count      int
}

func readWindowCounts(t *testing.T, addr string) []windowCount {
	t.Helper()
	var out []windowCount
	for _, r := range consumeTopic(t, addr, "window-counts") {
		var v struct {
			Start, End int64
			Value      int
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		var key string
		_ = json.Unmarshal(r.Key, &key)
		// A window starting at the epoch is produced with timestamp 0,
		// which librdkafka (and so Quix Streams) replaces with the
		// current time.
		if v.Start > 0 && r.Timestamp != v.Start {
			t.Errorf("window record timestamp %d, want its start %d", r.Timestamp, v.Start)
		}
		out = append(out, windowCount{key, v.Start, v.End, v.Value})
	}
	return out
}

func produceReadings(t *testing.T, addr string, keys []string, from, to, every int64) {
	t.Helper()
	var b strings.Builder
	for ts := from; ts < to; ts += every {
		for _, k := range keys {
			fmt.Fprintf(&b, `{"key": %q, "value": {"temp": 20}, "timestamp": %d}`+"\n", k, ts)
		}
	}
	if _, err := runtime.ProduceLines(context.Background(), strings.NewReader(b.String()), addr, "readings", runtime.ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestWindowRestart is the windows issue's restart test: a windowed job
// stops (its checkpoint completes) while windows are open, more data
// arrives, and it starts again, once with its state directory kept and
// once with it deleted (the open windows come back from the changelog).
// Every closed window must be emitted exactly once, with the count of the
// messages in it.
func TestWindowRestart(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("keep_state=%v", keep), func(t *testing.T) {
			addr := startBroker(t)
			stateDir := t.TempDir()
			keys := []string{"s1", "s2"}
			// Windows of 10 s; readings every second. Run 1 sees 1..25 s:
			// [0,10) and [10,20) close, [20,30) stays open.
			produceReadings(t, addr, keys, 1000, 26000, 1000)
			runWindowJob(t, addr, stateDir)
			first := readWindowCounts(t, addr)
			if len(first) != 4 {
				t.Fatalf("after run 1: %v, want [0,10) and [10,20) for both keys", first)
			}
			if !keep {
				if err := os.RemoveAll(stateDir); err != nil {
					t.Fatal(err)
				}
			}
			produceReadings(t, addr, keys, 26000, 46000, 1000)
			runWindowJob(t, addr, stateDir)
			got := readWindowCounts(t, addr)
			sort.Slice(got, func(i, j int) bool {
				if got[i].key != got[j].key {
					return got[i].key < got[j].key
				}
				return got[i].start < got[j].start
			})
			var want []windowCount
			for _, k := range keys {
				want = append(want,
					windowCount{k, 0, 10000, 9}, // 1..9 s
					windowCount{k, 10000, 20000, 10},
					windowCount{k, 20000, 30000, 10}, // open across the restart
					windowCount{k, 30000, 40000, 10},
				)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("windows:\n got  %v\n want %v", got, want)
			}
		})
	}
}
