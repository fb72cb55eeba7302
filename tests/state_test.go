package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/kafka"
	qrecord "github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/runtime"
)

// countJob counts messages per key in state and writes every new count.
//
// The consumer's session timeout is 6 s (the broker's minimum) instead of
// 45 s, so that after a SIGKILL the group gives the dead member's
// partitions away quickly.
const countJob = `app = Application(consumer_group="counter", auto_offset_reset="earliest", commit_interval=0.3,
    consumer_extra_config={"session.timeout.ms": 6000})
events = app.topic("events")
counts = app.topic("counts")

def count(value, state):
    for i in range(WORK):
        pass
    n = state.get("n", 0) + 1
    state.set("n", n)
    return {"key": value["k"], "n": n}

sdf = app.dataframe(events)
sdf = sdf.apply(count, stateful=True)
sdf.to_topic(counts)
app.run()
`

// produceEvents writes perKey messages for each of keys keys to a topic
// of 4 partitions (created if needed).
func produceEvents(t *testing.T, addr string, keys, perKey int) {
	t.Helper()
	produceKeyed(t, addr, "events", keys, perKey, func(key string, _ int) ([]byte, int64) {
		return []byte(`{"k":"` + key + `"}`), 0
	})
}

// produceKeyed writes, perKey rounds over keys keys ("k000", ...), the
// value and timestamp (0: now) of f(key, round) to topic, of 4 partitions
// (created if needed).
func produceKeyed(t *testing.T, addr, topic string, keys, perKey int, f func(key string, i int) ([]byte, int64)) {
	t.Helper()
	ensureTopics(t, addr, kafka.TopicSpec{Name: topic, NumPartitions: 4, ReplicationFactor: 1})
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: addr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < perKey; i++ {
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("k%03d", k)
			value, ts := f(key, i)
			if err := p.Produce(&qrecord.Record{Topic: topic, Partition: -1, Key: []byte(key), Value: value, Timestamp: ts}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Close(time.Minute); err != nil {
		t.Fatal(err)
	}
}

// lastCounts reads the counts topic and returns the last count per key
// (a key's counts are all in one partition, in order).
func lastCounts(t *testing.T, addr string) map[string]int {
	t.Helper()
	var buf bytes.Buffer
	if _, err := runtime.ConsumeLines(context.Background(), &buf, addr, "counts", runtime.ConsumeOptions{FromBeginning: true, StopWhenIdle: time.Second}); err != nil {
		t.Fatal(err)
	}
	last := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Value struct {
				Key string `json:"key"`
				N   int    `json:"n"`
			} `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		last[rec.Value.Key] = rec.Value.N
	}
	return last
}

// jobProcess starts `qstar run` on the count job with its own state dir;
// work is the busy loop's length per message (to slow the job down).
func jobProcess(t *testing.T, dir, addr, stateDir string, work int, extra ...string) (*exec.Cmd, *syncbuf.Buffer) {
	t.Helper()
	return startJob(t, dir, addr, stateDir, countJob, work, extra...)
}

// startJob runs `qstar run` on src, with WORK defined and state_dir set
// (after commit_interval=0.3), its stderr captured.
func startJob(t *testing.T, dir, addr, stateDir, src string, work int, extra ...string) (*exec.Cmd, *syncbuf.Buffer) {
	t.Helper()
	job := filepath.Join(dir, filepath.Base(stateDir)+".star")
	src = strings.Replace(src, `commit_interval=0.3,`, `commit_interval=0.3, state_dir="`+stateDir+`",`, 1)
	src = fmt.Sprintf("WORK = %d\n", work) + src
	if err := os.WriteFile(job, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(qstarBin, append([]string{"run", job, "--broker", addr}, extra...)...)
	cmd.Env = cleanEnv()
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stderr
}

var assignedSome = regexp.MustCompile(`partitions assigned" partitions="?\[\w`)

// waitAssigned waits until a job logs a non-empty assignment.
func waitAssigned(t *testing.T, log *syncbuf.Buffer, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !assignedSome.MatchString(log.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no partitions assigned within %s:\n%s", within, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkCounts(t *testing.T, got map[string]int, keys, want int) {
	t.Helper()
	if len(got) != keys {
		t.Errorf("%d keys have counts, want %d", len(got), keys)
	}
	bad := 0
	for k, n := range got {
		if n != want {
			bad++
			if bad <= 5 {
				t.Errorf("key %s counted %d, want %d", k, n, want)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d keys in all are wrong", bad)
	}
}

// TestCrashRecovery is the crash test of the state issue: a stateful count
// per key over 100,000 messages on 4 partitions, the qstar process killed
// with SIGKILL at four random points of the input and restarted, then run
// to the end. No count is lost, and none is over-counted: the changelog is
// complete before offsets are committed, and recovery skips changelog
// records of messages after the last commit, so the state matches the
// committed offsets exactly. Then the recovery test: the state directory is
// deleted, one more message per key arrives, and the counts continue from
// the values restored from the changelog.
func TestCrashRecovery(t *testing.T) {
	const keys, perKey = 100, 1000
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	produceEvents(t, addr, keys, perKey)
	stateDir := filepath.Join(dir, "state")
	killAtRandomPoints(t, 4, crashRuns{addr: addr, group: "counter", topic: "events", partitions: 4, total: keys * perKey,
		start: func(extra ...string) (*exec.Cmd, *syncbuf.Buffer) {
			// Slowed down, so that the input takes many checkpoints.
			return jobProcess(t, dir, addr, stateDir, 3000, extra...)
		}})
	checkCounts(t, lastCounts(t, addr), keys, perKey)

	// Recovery: without the state directory, counts come back from the
	// changelog.
	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	produceEvents(t, addr, keys, 1)
	cmd, stderr := jobProcess(t, dir, addr, stateDir, 0, "--stop-when-idle", "2s")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("recovery run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "finished recovering") {
		t.Errorf("the recovery run did not recover:\n%s", stderr.String())
	}
	checkCounts(t, lastCounts(t, addr), keys, perKey+1)
}

// TestRebalance is the rebalance test: two processes in one group share
// the partitions while both process (the job is slowed down); one is
// stopped mid-stream; the survivor takes over its partitions, recovers
// their state from the changelogs, and the final counts are complete.
func TestRebalance(t *testing.T) {
	const keys, perKey, work = 100, 300, 3000
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	produceEvents(t, addr, keys, perKey)
	a, aLog := jobProcess(t, dir, addr, filepath.Join(dir, "state-a"), work)
	waitAssigned(t, aLog, 30*time.Second)
	b, bLog := jobProcess(t, dir, addr, filepath.Join(dir, "state-b"), work, "--stop-when-idle", "5s")
	waitAssigned(t, bLog, 30*time.Second)
	_ = a.Process.Signal(syscall.SIGTERM)
	if err := a.Wait(); err != nil {
		t.Fatalf("a: %v\n%s", err, aLog.String())
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("b: %v\n%s", err, bLog.String())
	}
	t.Logf("a:\n%s\nb:\n%s", aLog.String(), bLog.String())
	if !strings.Contains(bLog.String(), "finished recovering") {
		t.Error("the survivor recovered no store from a changelog")
	}
	consumedByA := regexp.MustCompile(`msg=stopped consumed=(\d+)`).FindStringSubmatch(aLog.String())
	if consumedByA == nil || consumedByA[1] == "0" {
		t.Errorf("the stopped process consumed nothing, so nothing was taken over: %v", consumedByA)
	}
	checkCounts(t, lastCounts(t, addr), keys, perKey)
}
