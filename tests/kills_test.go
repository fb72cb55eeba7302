package tests

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/kafka"
	qrecord "github.com/qstar-dev/qstar/record"
)

// crashRuns is a crash test's series of runs of one job: the group and
// input topic whose committed offsets measure its progress, the number of
// messages in the input, and how to start a run.
type crashRuns struct {
	addr, group, topic string
	partitions         int32
	total              int64
	start              func(extra ...string) (*exec.Cmd, *syncbuf.Buffer)
}

// killAtRandomPoints runs the job kills times, each SIGKILLed at a random
// point of the input, then once more to the end (--stop-when-idle). The
// points are drawn from 5% to 75% of the input and sorted; run i waits
// until the group has committed point i's share of the input, then is
// killed a random 0-400 ms later, so that kills land anywhere in a
// checkpoint's cycle (commit_interval 0.3 s): while records are processed,
// between a flush and its commit, during recovery. Drawing the points
// from progress rather than from time keeps every kill mid-stream on a
// fast machine as on a slow one, and the test fails if one is not. The
// seed is logged, so a failure replays with QSTAR_KILL_SEED.
func killAtRandomPoints(t *testing.T, kills int, runs crashRuns) {
	t.Helper()
	seed := time.Now().UnixNano()
	if s := os.Getenv("QSTAR_KILL_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("kill points: seed %d (replay with QSTAR_KILL_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	points := make([]int64, kills)
	for i := range points {
		points[i] = int64((0.05 + 0.7*rng.Float64()) * float64(runs.total))
	}
	sort.Slice(points, func(i, j int) bool { return points[i] < points[j] })

	progress := newCommitWatch(t, runs.addr, runs.group, runs.topic, runs.partitions)
	defer progress.Close()
	for i, point := range points {
		cmd, stderr := runs.start()
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		waitAssigned(t, stderr, 60*time.Second)
		deadline := time.Now().Add(2 * time.Minute)
		for progress.committed(t) < point {
			select {
			case err := <-exited:
				t.Fatalf("run %d ended before its kill (%v):\n%s", i+1, err, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("run %d did not commit %d of %d messages within 2 minutes:\n%s", i+1, point, runs.total, stderr.String())
			}
		}
		after := time.Duration(rng.Intn(400)) * time.Millisecond
		time.Sleep(after)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		done := progress.committed(t)
		t.Logf("run %d killed %s after %d of %d messages were committed; %d committed at the kill", i+1, after, point, runs.total, done)
		if done >= runs.total {
			t.Fatalf("run %d finished the input before its kill: the kill did not land mid-stream", i+1)
		}
	}
	cmd, stderr := runs.start("--stop-when-idle", "4s")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final run: %v\n%s", err, stderr.String())
	}
}

// commitWatch reads a group's committed offsets of a topic's partitions
// without joining the group.
type commitWatch struct {
	c   *kafka.Consumer
	tps []qrecord.TopicPartition
}

func newCommitWatch(t *testing.T, addr, group, topic string, partitions int32) *commitWatch {
	t.Helper()
	// read_uncommitted: a read_committed consumer asks for stable offsets
	// (KIP-447), which the broker refuses while a killed process's
	// transaction is still open, until transaction.timeout.ms aborts it.
	// The offsets of committed transactions are what this counts.
	c, err := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: addr, GroupID: group,
		Extra:  map[string]string{"isolation.level": "read_uncommitted"},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w := &commitWatch{c: c}
	for p := int32(0); p < partitions; p++ {
		w.tps = append(w.tps, qrecord.TopicPartition{Topic: topic, Partition: p})
	}
	return w
}

// Close closes the watch's consumer.
func (w *commitWatch) Close() { w.c.Close() }

// committed returns how many messages the group has committed.
func (w *commitWatch) committed(t *testing.T) int64 {
	t.Helper()
	offs, err := w.c.Committed(w.tps)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, o := range offs {
		total += max(o.Offset, 0)
	}
	return total
}

// committedTotal returns how many messages of the 4 partitions of topic
// the group has committed.
func committedTotal(t *testing.T, addr, group, topic string) int64 {
	t.Helper()
	return committedTotalOf(t, addr, group, topic, 4)
}

// committedTotalOf is committedTotal for a topic of n partitions.
func committedTotalOf(t *testing.T, addr, group, topic string, n int32) int64 {
	t.Helper()
	w := newCommitWatch(t, addr, group, topic, n)
	defer w.Close()
	return w.committed(t)
}
