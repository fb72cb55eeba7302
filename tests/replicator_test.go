package tests

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/kafka"
	qrecord "github.com/qstar-dev/qstar/record"
)

// replicatorJob copies the topic "orders" of another cluster through
// KafkaReplicatorSource into its default topic source__mirror, and
// doubles each order's amount into "doubled".
const replicatorJob = `from quixstreams import Application
from quixstreams.sources.core.kafka import KafkaReplicatorSource

app = Application(consumer_group="mirror", auto_offset_reset="earliest", commit_interval=0.3,
    consumer_extra_config={"session.timeout.ms": 6000})
src = KafkaReplicatorSource(name="mirror", app_config=app.config, topic="orders",
    broker_address=%q, auto_offset_reset="earliest")
sdf = app.dataframe(source=src)
sdf = sdf.apply(lambda v: {"id": v["id"], "amount": v["amount"] * 2})
sdf.to_topic(app.topic("doubled"))
app.run()
`

// TestKafkaReplicatorSource replicates a 3-partition topic of one broker
// into a job running on another while orders keep arriving and the job
// is SIGKILLed twice. The replicated topic (read committed) holds each
// order exactly once, in its source partition and order, with its key,
// value bytes, headers and timestamp; the job's output holds every order.
func TestKafkaReplicatorSource(t *testing.T) {
	const orders, partitions, kills = 30000, 3, 2
	dir := t.TempDir()
	srcAddr, _ := startBrokerProcess(t, filepath.Join(dir, "a"))
	dstAddr, _ := startBrokerProcess(t, filepath.Join(dir, "b"))
	ensureTopics(t, srcAddr, kafka.TopicSpec{Name: "orders", NumPartitions: partitions, ReplicationFactor: 1})

	// Orders arrive for about six seconds, over the kills.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: srcAddr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	const base = int64(1_700_000_000_000)
	var produced sync.WaitGroup
	produced.Add(1)
	go func() {
		defer produced.Done()
		for i := 0; i < orders; i++ {
			r := &qrecord.Record{Topic: "orders", Partition: int32(i % partitions), Key: []byte(fmt.Sprintf("k%02d", i%50)),
				Value: []byte(fmt.Sprintf(`{"id": %d, "amount": %d}`, i, i%100)), Timestamp: base + int64(i),
				Headers: []qrecord.Header{{Key: "n", Value: []byte(strconv.Itoa(i))}}}
			if err := p.Produce(r); err != nil {
				t.Error(err)
				return
			}
			if i%100 == 99 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if err := p.Close(time.Minute); err != nil {
			t.Error(err)
		}
	}()

	src := fmt.Sprintf(replicatorJob, srcAddr)
	stateDir := filepath.Join(dir, "state")
	killSourceRuns(t, kills, 500*time.Millisecond, 1500*time.Millisecond, func() (*exec.Cmd, *syncbuf.Buffer) {
		return startJob(t, dir, dstAddr, stateDir, src, 0)
	}, func(run int) {
		t.Logf("run %d killed; orders replicated: %d", run, len(readAll(t, dstAddr, "source__mirror")))
	})
	produced.Wait()
	cmd, stderr := startJob(t, dir, dstAddr, stateDir, src, 0, "--stop-when-idle", "5s")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final run: %v\n%s", err, stderr.String())
	}

	got := readAll(t, dstAddr, "source__mirror")
	next := make([]int, partitions) // the next id expected in each partition
	for p := range next {
		next[p] = p
	}
	bad := 0
	for _, r := range got {
		p := int(r.Partition)
		want := next[p]
		ok := p < partitions && string(r.Value) == fmt.Sprintf(`{"id": %d, "amount": %d}`, want, want%100) &&
			string(r.Key) == fmt.Sprintf("k%02d", want%50) && r.Timestamp == base+int64(want) &&
			len(r.Headers) == 1 && r.Headers[0].Key == "n" && string(r.Headers[0].Value) == strconv.Itoa(want)
		if !ok {
			if bad++; bad <= 5 {
				t.Errorf("partition %d: got key %q value %s timestamp %d headers %v; want order %d", p, r.Key, r.Value, r.Timestamp, r.Headers, want)
			}
			continue
		}
		next[p] += partitions
	}
	if len(got) != orders || bad > 0 {
		t.Errorf("source__mirror holds %d records (%d wrong), want %d: each order once, in its partition and order", len(got), bad, orders)
	}
	seen := map[string]bool{}
	for _, r := range readAll(t, dstAddr, "doubled") {
		seen[string(r.Value)] = true
	}
	for i := 0; i < orders; i++ {
		if v := fmt.Sprintf(`{"id":%d,"amount":%d}`, i, i%100*2); !seen[v] {
			t.Fatalf("doubled lacks %s (it has %d distinct records)", v, len(seen))
		}
	}

	// A topic the other cluster lacks, and a callback qstar does not
	// take, are errors naming them.
	for _, c := range []struct{ args, want string }{
		{`topic="nope", broker_address=%q`, `source mirror: topic "nope" not found on ` + srcAddr},
		{`topic="orders", broker_address=%q, on_consumer_error=lambda e, m, l: True`, `KafkaReplicatorSource: on_consumer_error is not supported`},
	} {
		job := filepath.Join(dir, "bad.star")
		src := fmt.Sprintf(`app = Application(consumer_group="bad")
sdf = app.dataframe(source=KafkaReplicatorSource(name="mirror", app_config=app.config, `+c.args+`))
app.run()
`, srcAddr)
		if err := os.WriteFile(job, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := runQstar(t, "run", job, "--broker", dstAddr, "--stop-when-idle", "2s")
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("qstar run with %s: %v\n%s\nwant an error with %q", c.args, err, out, c.want)
		}
	}
}

// readAll reads every committed record of a topic, in each partition's
// order.
func readAll(t *testing.T, addr, topic string) []*qrecord.Record {
	t.Helper()
	r, err := kafka.NewReader(addr, topic, true, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*qrecord.Record
	for idle := 0; idle < 2; {
		rec, err := r.Poll(500 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if rec == nil {
			idle++
			continue
		}
		idle = 0
		out = append(out, rec)
	}
	return out
}
