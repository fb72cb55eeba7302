package tests

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/runtime"
)

// eosCountJob is countJob in exactly-once mode: each checkpoint is one
// transaction holding the counts produced, the changelog records and the
// consumer offsets.
var eosCountJob = strings.Replace(countJob, `commit_interval=0.3,`, `commit_interval=0.3, processing_guarantee="exactly-once",`, 1)

// eosWindowJob sums each key's values over 10 s tumbling windows and
// produces every closed window once (final), in exactly-once mode.
const eosWindowJob = `from datetime import timedelta
app = Application(consumer_group="eos-windows", auto_offset_reset="earliest", commit_interval=0.3,
    processing_guarantee="exactly-once", consumer_extra_config={"session.timeout.ms": 6000})
readings = app.topic("readings")
sums = app.topic("window-sums")

def slow(v):
    for i in range(WORK):
        pass
    return v["n"]

sdf = app.dataframe(readings)
sdf = sdf.apply(slow)
sdf = sdf.tumbling_window(timedelta(seconds=10)).sum().final()
sdf.to_topic(sums)
app.run()
`

// committedCounts reads the counts topic as a read_committed consumer and
// returns each key's counts in order.
func committedCounts(t *testing.T, addr string) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, r := range readTopic(t, addr, "counts", runtime.ReadCommitted, 2*time.Second) {
		var v struct {
			Key string `json:"key"`
			N   int    `json:"n"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		out[v.Key] = append(out[v.Key], v.N)
	}
	return out
}

// checkExactlyOnce checks that every key's counts are exactly 1..perKey:
// one output per input, no duplicate, no gap.
func checkExactlyOnce(t *testing.T, got map[string][]int, keys, perKey int) {
	t.Helper()
	if len(got) != keys {
		t.Errorf("%d keys have counts, want %d", len(got), keys)
	}
	bad := 0
	for k, ns := range got {
		ok := len(ns) == perKey
		for i := 0; ok && i < len(ns); i++ {
			ok = ns[i] == i+1
		}
		if !ok {
			bad++
			if bad <= 5 {
				t.Errorf("key %s: %d outputs %v, want exactly 1..%d", k, len(ns), abbreviate(ns), perKey)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d keys in all are wrong", bad)
	}
}

func abbreviate(ns []int) string {
	if len(ns) <= 20 {
		return fmt.Sprint(ns)
	}
	return fmt.Sprint(ns[:10]) + "..." + fmt.Sprint(ns[len(ns)-10:])
}

// TestExactlyOnceCrash is the exactly-once crash test: a stateful count
// per key over 20,000 messages on 4 partitions, in exactly-once mode,
// SIGKILLed at ten random points of the input and restarted, then run to the
// end. Read with read_committed, the output holds exactly one record per
// input, and every key's counts run 1, 2, ... with no duplicate and no
// gap: what a killed process produced after its last committed
// transaction is aborted (its restart, with the same transactional.id,
// aborts it at once), and its state is restored to that transaction.
func TestExactlyOnceCrash(t *testing.T) {
	const keys, perKey, work = 40, 500, 60000
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	produceEvents(t, addr, keys, perKey)
	killAtRandomPoints(t, 10, crashRuns{addr: addr, group: "counter", topic: "events", partitions: 4, total: keys * perKey,
		start: func(extra ...string) (*exec.Cmd, *syncbuf.Buffer) {
			return startJob(t, dir, addr, filepath.Join(dir, "state-count"), eosCountJob, work, extra...)
		}})
	checkExactlyOnce(t, committedCounts(t, addr), keys, perKey)
	// For the log: read_uncommitted also sees the aborted transactions'
	// records.
	all := readTopic(t, addr, "counts", runtime.ReadUncommitted, time.Second)
	t.Logf("records on the topic including aborted transactions: %d (inputs: %d)", len(all), keys*perKey)
}

// TestExactlyOnceWindowCrash: the same kills for a tumbling window
// sum().final() job. Every closed window comes out exactly once with the
// sum of its values.
func TestExactlyOnceWindowCrash(t *testing.T) {
	const keys, n, work = 20, 800, 120000
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	// Reading i of each key is {"n": i} at (i+1) s.
	produceKeyed(t, addr, "readings", keys, n, func(_ string, i int) ([]byte, int64) {
		return []byte(fmt.Sprintf(`{"n":%d}`, i)), int64(i+1) * 1000
	})
	killAtRandomPoints(t, 10, crashRuns{addr: addr, group: "eos-windows", topic: "readings", partitions: 4, total: keys * n,
		start: func(extra ...string) (*exec.Cmd, *syncbuf.Buffer) {
			return startJob(t, dir, addr, filepath.Join(dir, "state-windows"), eosWindowJob, work, extra...)
		}})
	got := map[string][]string{}
	for _, r := range readTopic(t, addr, "window-sums", runtime.ReadCommitted, 2*time.Second) {
		var v struct{ Start, End, Value int64 }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		var key string
		_ = json.Unmarshal(r.Key, &key)
		got[key] = append(got[key], fmt.Sprintf("[%d,%d)=%d", v.Start, v.End, v.Value))
	}
	// Reading i is at (i+1) s. Windows of 10 s close once a reading at
	// or past their end + 10 s... as the reference: start <= latest - 10 s.
	// The latest is n s, so windows starting at 0 .. n-10 s close.
	var want []string
	for start := int64(0); start <= int64(n)*1000-10000; start += 10000 {
		sum := int64(0)
		for i := int64(0); i < int64(n); i++ {
			if ts := (i + 1) * 1000; ts >= start && ts < start+10000 {
				sum += i
			}
		}
		want = append(want, fmt.Sprintf("[%d,%d)=%d", start, start+10000, sum))
	}
	if len(got) != keys {
		t.Errorf("%d keys have windows, want %d", len(got), keys)
	}
	keysSorted := make([]string, 0, len(got))
	for k := range got {
		keysSorted = append(keysSorted, k)
	}
	sort.Strings(keysSorted)
	for _, k := range keysSorted {
		if fmt.Sprint(got[k]) != fmt.Sprint(want) {
			t.Errorf("key %s windows:\n got  %v\n want %v", k, got[k], want)
		}
	}
}

// TestExactlyOnceFencing is the zombie test: a first process is frozen
// (SIGSTOP) mid-stream with a transaction open; the group gives its
// partitions to a second process, which processes everything; the first
// is thawed, finds it was fenced, and stops with the error, producing
// nothing more. The committed output has every count exactly once.
func TestExactlyOnceFencing(t *testing.T) {
	const keys, perKey, work = 40, 100, 5000
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	produceEvents(t, addr, keys, perKey)
	a, aLog := startJob(t, dir, addr, filepath.Join(dir, "state-a"), eosCountJob, work)
	waitAssigned(t, aLog, 60*time.Second)
	time.Sleep(1500 * time.Millisecond)
	if err := a.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	b, bLog := startJob(t, dir, addr, filepath.Join(dir, "state-b"), eosCountJob, 0, "--stop-when-idle", "5s")
	waitAssigned(t, bLog, 60*time.Second)
	if err := a.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	errA := make(chan error, 1)
	go func() { errA <- a.Wait() }()
	select {
	case err := <-errA:
		if err == nil {
			t.Errorf("the fenced process exited 0:\n%s", aLog.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("the fenced process did not stop within 90s:\n%s", aLog.String())
	}
	if !strings.Contains(aLog.String(), "fenced") {
		t.Errorf("the first process stopped without saying it was fenced:\n%s", aLog.String())
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("b: %v\n%s", err, bLog.String())
	}
	t.Logf("a:\n%s", aLog.String())
	checkExactlyOnce(t, committedCounts(t, addr), keys, perKey)
}
