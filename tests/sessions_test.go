package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/qstar-dev/qstar/runtime"
)

const sessionJob = `from quixstreams import Application
from quixstreams.dataframe.windows import Count, Sum

app = Application(consumer_group="sessions", auto_offset_reset="earliest", commit_interval=0.5)
clicks = app.topic("clicks")
out = app.topic("sessions")

sdf = app.dataframe(clicks)
sdf = sdf.session_window(timeout_ms=3000).agg(clicks=Count(), total=Sum("n")).final()
sdf.to_topic(out)
app.run()
`

// TestSessionRestart is the session windows' restart test: a session job
// stops cleanly twice while sessions are open, and starts again with its
// state directory kept, or deleted (the open sessions come back from the
// changelog). Every session closes exactly once, with the count and sum of
// its records, as the gaps of each key's records make them. Records come
// in timestamp order, so none is late on any partition.
func TestSessionRestart(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("keep_state=%v", keep), func(t *testing.T) {
			addr := startBroker(t)
			stateDir := t.TempDir()
			keys := []string{"u1", "u2", "u3", "u4", "u5", "u6"}
			rng := rand.New(rand.NewSource(7))
			// A record per second for each key, skipped at random: a
			// gap of more than 3 s ends a session.
			var recs []click
			for step := int64(1); step <= 90; step++ {
				for _, k := range keys {
					if rng.Intn(10) < 6 {
						recs = append(recs, click{k, step * 1000, step})
					}
				}
			}
			want := sessionsOf(recs, 3000)
			// A last record per key, far later, closes every session
			// before it (and opens one that stays open).
			for _, k := range keys {
				recs = append(recs, click{k, 1_000_000, 0})
			}
			for _, batch := range [][]click{recs[:len(recs)/3], recs[len(recs)/3 : 2*len(recs)/3], recs[2*len(recs)/3:]} {
				produceClicks(t, addr, batch)
				runUntilIdle(t, sessionJob, addr, stateDir)
				if !keep {
					if err := os.RemoveAll(stateDir); err != nil {
						t.Fatal(err)
					}
				}
			}
			var got []string
			for _, r := range consumeTopic(t, addr, "sessions") {
				var v struct{ Start, End, Clicks, Total int64 }
				if err := json.Unmarshal(r.Value, &v); err != nil {
					t.Fatal(err)
				}
				var key string
				_ = json.Unmarshal(r.Key, &key)
				got = append(got, fmt.Sprintf("%s [%d,%d] clicks=%d total=%d", key, v.Start, v.End, v.Clicks, v.Total))
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("sessions (%d, want %d):\n got  %v\n want %v", len(got), len(want), got, want)
			}
		})
	}
}

type click struct {
	key string
	ts  int64
	n   int64
}

// sessionsOf is the sessions of each key's records (in timestamp order)
// split at gaps over timeout, as sorted lines.
func sessionsOf(recs []click, timeout int64) []string {
	byKey := map[string][]click{}
	for _, r := range recs {
		byKey[r.key] = append(byKey[r.key], r)
	}
	var out []string
	for k, rs := range byKey {
		for i := 0; i < len(rs); {
			j, total := i, int64(0)
			for ; j < len(rs) && (j == i || rs[j].ts-rs[j-1].ts <= timeout); j++ {
				total += rs[j].n
			}
			out = append(out, fmt.Sprintf("%s [%d,%d] clicks=%d total=%d", k, rs[i].ts, rs[j-1].ts, j-i, total))
			i = j
		}
	}
	sort.Strings(out)
	return out
}

func produceClicks(t *testing.T, addr string, recs []click) {
	t.Helper()
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, `{"key": %q, "value": {"n": %d}, "timestamp": %d}`+"\n", r.key, r.n, r.ts)
	}
	if _, err := runtime.ProduceLines(context.Background(), strings.NewReader(b.String()), addr, "clicks", runtime.ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
}
