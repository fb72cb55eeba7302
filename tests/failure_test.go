package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/kafka"
	qrecord "github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/runtime"
)

// startQstar starts the qstar binary in dir with its stderr (and stdout)
// collected.
func startQstar(t *testing.T, dir string, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	t.Helper()
	cmd := exec.Command(qstarBin, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, out
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// produceNumbered produces values {"n": from..to-1} keyed k<n> to a topic
// of partitions partitions.
func produceNumbered(t *testing.T, addr, topic string, partitions, from, to int) {
	t.Helper()
	var lines strings.Builder
	for n := from; n < to; n++ {
		fmt.Fprintf(&lines, `{"key":"k%d","value":{"n":%d}}`+"\n", n, n)
	}
	if _, err := runtime.ProduceLines(context.Background(), strings.NewReader(lines.String()), addr, topic, runtime.ProduceOptions{Partitions: partitions, Logger: quietLogger()}); err != nil {
		t.Fatal(err)
	}
}

// outputNumbers returns the distinct n of topic's {"n": ...} values.
func outputNumbers(t *testing.T, addr, topic string) map[int]bool {
	t.Helper()
	got := map[int]bool{}
	for _, r := range consumeTopic(t, addr, topic) {
		var n int
		if _, err := fmt.Sscanf(string(r.Value), `{"n":%d}`, &n); err != nil {
			t.Fatalf("output value %s: %v", r.Value, err)
		}
		got[n] = true
	}
	return got
}

var listenAddr = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

const deadMemberJob = `from quixstreams import Application

app = Application(consumer_group="dead-member", auto_offset_reset="earliest",
                  consumer_extra_config={"session.timeout.ms": "6000"})
sdf = app.dataframe(app.topic("in"))
sdf.to_topic(app.topic("out"))
app.run(sdf)
`

// TestDeadMemberMidJoin kills a job while its JoinGroup waits on the
// embedded broker (its reply cannot be delivered, so kfake never starts
// its session timer) and checks that the next run, with
// --stop-when-idle, gets every partition within session.timeout.ms plus
// a few seconds and processes every message.
func TestDeadMemberMidJoin(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(deadMemberJob), 0o644); err != nil {
		t.Fatal(err)
	}
	// The first job is frozen for a while below: its session outlasts that.
	holderJob := strings.Replace(deadMemberJob, `"6000"`, `"30000"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "holder.star"), []byte(holderJob), 0o644); err != nil {
		t.Fatal(err)
	}
	_, brokerLog := startQstar(t, dir, "broker", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "broker-data"))
	var addr string
	waitFor(t, 10*time.Second, "the broker's address", func() bool {
		addr = listenAddr.FindString(brokerLog.String())
		return addr != ""
	})
	var holderLog *syncbuf.Buffer
	defer func() {
		if t.Failed() {
			t.Logf("broker log:\n%s", brokerLog.String())
			if holderLog != nil {
				t.Logf("first job's log:\n%s", holderLog.String())
			}
		}
	}()
	produceNumbered(t, addr, "in", 2, 0, 500)

	holder, hlog := startQstar(t, dir, "run", "holder.star", "--broker", addr)
	holderLog = hlog
	waitAssigned(t, holderLog, 20*time.Second)

	admin, err := kafka.NewAdmin(addr, nil, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// Freeze the first job so that it cannot rejoin: the second job's
	// JoinGroup then waits, with the group in PreparingRebalance, and is
	// killed there. Thawed, the first job rejoins and completes the
	// rebalance with the dead member in it (whose reply cannot be
	// delivered), then stops and leaves the group.
	if err := holder.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	victim, victimLog := startQstar(t, dir, "run", "job.star", "--broker", addr)
	waitFor(t, 20*time.Second, "the second job's join", func() bool {
		g, err := admin.DescribeGroup(context.Background(), "dead-member")
		return err == nil && g.State == "PreparingRebalance"
	})
	time.Sleep(300 * time.Millisecond)
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = victim.Wait()
	t.Logf("killed the second job mid-join; its log:\n%s", victimLog.String())
	time.Sleep(300 * time.Millisecond)
	if err := holder.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// It gives up a partition to the dead member (cooperative-sticky).
	waitFor(t, 10*time.Second, "the rebalance with the dead member", func() bool {
		return strings.Contains(holderLog.String(), "partitions revoked")
	})
	_ = holder.Process.Signal(syscall.SIGTERM)
	if err := holder.Wait(); err != nil {
		t.Fatalf("first job: %v\n%s", err, holderLog.String())
	}

	produceNumbered(t, addr, "in", 2, 500, 1500)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	run := exec.CommandContext(ctx, qstarBin, "run", "job.star", "--broker", addr, "--stop-when-idle", "1s")
	run.Dir, run.Env = dir, cleanEnv()
	var runLog syncbuf.Buffer
	run.Stdout, run.Stderr = &runLog, &runLog
	if err := run.Run(); err != nil {
		t.Fatalf("full run: %v\n%s", err, runLog.String())
	}
	if !strings.Contains(brokerLog.String(), "removed a group member whose client went away") {
		t.Errorf("the broker did not say it removed the dead member")
	}
	// session.timeout.ms is 6s; the dead member is removed 6s after it
	// went away, then the run joins, processes and idles for 1s.
	if took := time.Since(killed); took > 6*time.Second+14*time.Second {
		t.Errorf("the full run ended %s after the kill, want within session.timeout.ms + 14s", took)
	}
	got := outputNumbers(t, addr, "out")
	var missing []int
	for n := 0; n < 1500; n++ {
		if !got[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of 1500 messages never processed (first %v); full run's log:\n%s", len(missing), missing[:min(len(missing), 5)], runLog.String())
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// idleHolder is a group member that holds its partitions paused and
// processes nothing.
type idleHolder struct {
	c        *kafka.Consumer
	mu       sync.Mutex
	assigned []string
}

func (h *idleHolder) Assigned(tps []qrecord.TopicPartition) error {
	h.mu.Lock()
	for _, tp := range tps {
		h.assigned = append(h.assigned, tp.String())
	}
	h.mu.Unlock()
	return h.c.Pause(tps)
}
func (h *idleHolder) Revoked([]qrecord.TopicPartition) error { return nil }
func (h *idleHolder) Lost([]qrecord.TopicPartition) error    { return nil }

// TestStopWhenIdleWaitsForOtherPartitions checks that --stop-when-idle
// does not exit 0 while a partition of the subscription holds messages
// that another member of the group does not process: it waits, saying
// why, and finishes once the partition comes to it.
func TestStopWhenIdleWaitsForOtherPartitions(t *testing.T) {
	dir := t.TempDir()
	job := strings.Replace(deadMemberJob, `"dead-member"`, `"held"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startBroker(t)
	produceNumbered(t, addr, "in", 2, 0, 400)

	c, err := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: addr, GroupID: "held", AutoOffsetReset: "earliest",
		Extra: map[string]string{"session.timeout.ms": "6000"}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	h := &idleHolder{c: c}
	if err := c.Subscribe([]string{"in"}, h); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, _ = c.Poll(50 * time.Millisecond)
		}
	}()
	leave := func() {
		select {
		case <-stop:
		default:
			close(stop)
			<-polled
			_ = c.Close()
		}
	}
	defer leave()
	waitFor(t, 20*time.Second, "the holder's partitions", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.assigned) == 2
	})

	run, log := startQstar(t, dir, "run", "job.star", "--broker", addr, "--stop-when-idle", "1s")
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	waitFor(t, 30*time.Second, "the job to say why it does not stop", func() bool {
		return strings.Contains(log.String(), "not stopping while idle: partitions hold messages the group has not processed")
	})
	select {
	case err := <-exited:
		t.Fatalf("the job exited (%v) while in[...] was held by another member:\n%s", err, log.String())
	default:
	}
	if !strings.Contains(log.String(), "(assigned to another member or to none)") {
		t.Errorf("the job's log does not say where the partition is:\n%s", log.String())
	}
	leave()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("job: %v\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the job did not finish after the holder left:\n%s", log.String())
	}
	got := outputNumbers(t, addr, "out")
	if len(got) != 400 {
		t.Errorf("%d of 400 messages processed:\n%s", len(got), log.String())
	}
}

const diskFullJob = `from quixstreams import Application

app = Application(consumer_group="full", auto_offset_reset="earliest", commit_interval=0.2)

def count(value, state):
    c = state.get("count", 0) + 1
    state.set("count", c)
    # Bulk that fills a small disk: 20 kB of state per message.
    state.set("pad-" + str(value["n"]), "x" * 20000)
    return {"n": value["n"], "count": c}

sdf = app.dataframe(app.topic("in"))
sdf = sdf.apply(count, stateful=True)
sdf.to_topic(app.topic("out"))
app.run(sdf)
`

// TestStateDiskFull fills the state directory's file system (a 16 MiB
// tmpfs): the job stops with "state: no space left on tmpfs for DIR (N
// MiB free)" and exit code 1 instead of RocksDB's assertion and a crash
// dump, and commits nothing past its last written checkpoint: run again
// with the same state on a larger disk, it ends with every message
// counted exactly once per key.
func TestStateDiskFull(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.Mkdir(small, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("this machine does not let the test mount a 16 MiB tmpfs (needs root or CAP_SYS_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", small).Run() })
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(diskFullJob), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startBroker(t)
	const total, keys = 1500, 5
	var lines strings.Builder
	for n := 0; n < total; n++ {
		fmt.Fprintf(&lines, `{"key":"k%d","value":{"n":%d}}`+"\n", n%keys, n)
	}
	if _, err := runtime.ProduceLines(context.Background(), strings.NewReader(lines.String()), addr, "in", runtime.ProduceOptions{Logger: quietLogger()}); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(qstarBin, "run", "job.star", "--broker", addr, "--state-dir", small, "--stop-when-idle", "2s")
	cmd.Dir, cmd.Env = dir, cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want exit code 1\n%s", err, stderr.String())
	}
	want := "state: no space left on tmpfs for " + small + " ("
	if !strings.Contains(stderr.String(), want) || !strings.Contains(stderr.String(), " MiB free)") {
		t.Errorf("stderr lacks %q ... MiB free):\n%s", want, stderr.String())
	}
	if strings.Contains(stderr.String(), "Assertion") || strings.Count(stderr.String(), "\n") > 30 {
		t.Errorf("the job crashed or printed a dump:\n%s", stderr.String())
	}

	// The same state on a disk with room: nothing lost, nothing counted twice.
	large := filepath.Join(dir, "large")
	if out, err := exec.Command("cp", "-a", small+"/.", large).CombinedOutput(); err != nil {
		t.Fatalf("copy the state: %v: %s", err, out)
	}
	qstar(t, dir, "", "run", "job.star", "--broker", addr, "--state-dir", large, "--stop-when-idle", "2s")
	seen := map[int]bool{}
	counts := map[string]int{}
	for _, r := range consumeTopic(t, addr, "out") {
		var n, c int
		if _, err := fmt.Sscanf(string(r.Value), `{"n":%d,"count":%d}`, &n, &c); err != nil {
			t.Fatalf("output value %s: %v", r.Value, err)
		}
		seen[n] = true
		counts[string(r.Key)] = max(counts[string(r.Key)], c)
	}
	if len(seen) != total {
		t.Errorf("after the rerun: %d of %d messages in the output", len(seen), total)
	}
	for k := 0; k < keys; k++ {
		if key := fmt.Sprintf(`"k%d"`, k); counts[key] != total/keys {
			t.Errorf("key %s counted %d times, want %d", key, counts[key], total/keys)
		}
	}
}

// TestUnreachableBroker points a job at an address where no broker
// listens: it says so once, stops within 2s of SIGINT with one error
// naming where the address came from, and, given up on, names the
// setting and the embedded broker as the remedy.
func TestUnreachableBroker(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hardcoded.star"), []byte("from quixstreams import Application\n"+
		"app = Application(broker_address=\"127.0.0.1:1\", consumer_group=\"g\")\n"+
		"app.run(app.dataframe(app.topic(\"in\")))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, log := startQstar(t, dir, "run", "hardcoded.star")
	waitFor(t, 10*time.Second, "the job to say it waits for the broker", func() bool {
		return strings.Contains(log.String(), "waiting for the Kafka broker")
	})
	sent := time.Now()
	_ = cmd.Process.Signal(syscall.SIGINT)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
		t.Fatalf("still running 2s after SIGINT:\n%s", log.String())
	}
	t.Logf("stopped %s after SIGINT", time.Since(sent).Round(time.Millisecond))
	out := log.String()
	if n := strings.Count(out, "waiting for the Kafka broker"); n != 1 {
		t.Errorf("logged the wait %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "\n"); n > 3 {
		t.Errorf("%d lines of output, want the warning and one error:\n%s", n, out)
	}
	want := "qstar run: interrupted while waiting for a Kafka broker at 127.0.0.1:1 (set by broker_address= of the Application at hardcoded.star:2:18); nothing was processed"
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}

	// The address from the environment, given up on after --broker-wait.
	env := exec.Command(qstarBin, "run", "hardcoded.star", "--broker-wait", "300ms")
	env.Dir = dir
	_ = os.WriteFile(filepath.Join(dir, "hardcoded.star"), []byte("from quixstreams import Application\n"+
		"app = Application(consumer_group=\"g\")\napp.run(app.dataframe(app.topic(\"in\")))\n"), 0o644)
	env.Env = append(cleanEnv(), "Quix__Broker__Address=127.0.0.1:1")
	var stderr bytes.Buffer
	env.Stderr = &stderr
	if err := env.Run(); err == nil {
		t.Fatal("the job ran without a broker")
	}
	for _, want := range []string{"no Kafka broker answers at 127.0.0.1:1 (set by $Quix__Broker__Address) after 300ms",
		"`qstar run --broker embedded hardcoded.star`"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestRecursionOverflowTraceback runs a callback that recurses without
// end: the job fails with a traceback a person can read (under 200 lines)
// that still names the message and the call sites.
func TestRecursionOverflowTraceback(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(`from quixstreams import Application

app = Application(consumer_group="rec", auto_offset_reset="earliest")

def deep(n):
    return deep(n + 1)

sdf = app.dataframe(app.topic("in"))
sdf = sdf.apply(lambda v: deep(0))
sdf.to_topic(app.topic("out"))
app.run(sdf)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startBroker(t)
	produceNumbered(t, addr, "in", 1, 0, 1)
	cmd := exec.Command(qstarBin, "run", "job.star", "--broker", addr, "--stop-when-idle", "2s")
	cmd.Dir, cmd.Env = dir, cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		t.Fatal("the job did not fail")
	}
	out := stderr.String()
	if n := strings.Count(out, "\n"); n >= 200 {
		t.Errorf("%d lines of output, want under 200", n)
	}
	for _, want := range []string{
		`qstar run: job.star:9:16: apply failed on the message at topic "in" partition 0 offset 0:` + "\nTraceback (most recent call last):\n  job.star:9:31: in lambda\n  job.star:6:16: in deep\n",
		"  [Previous line repeated ",
		"Error: Starlark stack overflow",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%.3000s", want, out)
		}
	}
}

// TestConsumeKeyFormats prints a message whose key and value are not
// UTF-8 in each of qstar consume's formats: never replaced by U+FFFD.
func TestConsumeKeyFormats(t *testing.T) {
	addr := startBroker(t)
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: addr, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Produce(&qrecord.Record{Topic: "bin", Partition: -1, Key: []byte("k\xff\x00é"), Value: []byte("\x80v")}); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	_ = p.Close(time.Second)
	dir := t.TempDir()
	for _, tc := range []struct {
		args       []string
		key, value string
	}{
		{nil, `"k\\xff\u0000é"`, `"\\x80v"`},
		{[]string{"--key-format", "str", "--value-format", "str"}, `"k\\xff\u0000é"`, `"\\x80v"`},
		{[]string{"--key-format", "hex", "--value-format", "hex"}, `"6bff00c3a9"`, `"8076"`},
		{[]string{"--key-format", "base64", "--value-format", "base64"}, `"a/8Aw6k="`, `"gHY="`},
	} {
		args := append([]string{"consume", "bin", "--broker", addr, "--from-beginning", "--stop-when-idle", "1s"}, tc.args...)
		out := qstar(t, dir, "", args...)
		if !strings.Contains(out, `"key":`+tc.key+`,"value":`+tc.value) {
			t.Errorf("qstar %v printed\n%s\nwant key %s and value %s", tc.args, out, tc.key, tc.value)
		}
		if strings.Contains(out, "\ufffd") || strings.Contains(out, `\ufffd`) {
			t.Errorf("qstar %v replaced bytes with U+FFFD: %s", tc.args, out)
		}
	}
	cmd := exec.Command(qstarBin, "consume", "bin", "--key-format", "utf8")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), `--key-format must be str, hex or base64, not "utf8"`) {
		t.Errorf("a bad --key-format: %v %s", err, stderr.String())
	}
}

const resetJob = `from quixstreams import Application

app = Application(consumer_group="reset", auto_offset_reset="latest", rocksdb_options=RocksDBOptions(wal_dir="wal"))
sdf = app.dataframe(app.topic("in"))
sdf = sdf.group_by("g")

def count(value, state):
    c = state.get("count", 0) + 1
    state.set("count", c)
    return {"n": value["n"], "count": c}

sdf = sdf.apply(count, stateful=True)
sdf.to_topic(app.topic("out"))
app.run(sdf)
`

// TestReset runs a stateful group_by job on the embedded broker, resets
// it with qstar reset, and runs it again: the second run reprocesses
// every input message from empty state (its output equals the first
// run's), although the job reads from "latest". A reset while the job
// runs is refused. The job keeps its RocksDB WAL in a directory of its
// own (RocksDBOptions(wal_dir=)), which the reset removes with the state.
// (kafka's TestFromStart pins that the new repartition topic is read from
// its start.)
func TestReset(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(resetJob), 0o644); err != nil {
		t.Fatal(err)
	}
	var input strings.Builder
	for n := 0; n < 30; n++ {
		fmt.Fprintf(&input, `{"key":"k%d","value":{"n":%d,"g":"g%d"}}`+"\n", n%4, n, n%3)
	}
	first, log := startQstar(t, dir, "run", "job.star", "--data-dir", "d", "--stop-when-idle", "8s")
	waitAssigned(t, log, 20*time.Second)
	// "latest" is resolved shortly after the assignment: produce after it.
	time.Sleep(2 * time.Second)
	qstar(t, dir, input.String(), "produce", "in", "--data-dir", "d")

	refused := exec.Command(qstarBin, "reset", "job.star", "--data-dir", "d")
	refused.Dir, refused.Env = dir, cleanEnv()
	var stderr bytes.Buffer
	refused.Stderr = &stderr
	if err := refused.Run(); err == nil || !strings.Contains(stderr.String(), `consumer group "reset" has 1 active member(s)`) || !strings.Contains(stderr.String(), "stop the job first") {
		t.Errorf("reset while the job runs: %v\n%s", err, stderr.String())
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, log.String())
	}
	outputs := func() []string {
		var vals []string
		var buf bytes.Buffer
		buf.WriteString(qstar(t, dir, "", "consume", "out", "--data-dir", "d", "--from-beginning", "--stop-when-idle", "1s"))
		for _, r := range parseRecords(t, &buf) {
			vals = append(vals, string(r.Key)+" "+string(r.Value))
		}
		slices.Sort(vals)
		return vals
	}
	before := outputs()
	if len(before) != 30 {
		t.Fatalf("the first run wrote %d records, want 30", len(before))
	}

	if wals, _ := filepath.Glob(filepath.Join(dir, "wal", "reset", "default", "*", "*", "*.log")); len(wals) == 0 {
		t.Errorf("the job wrote no WAL under wal/reset")
	}
	dry := qstar(t, dir, "", "reset", "job.star", "--data-dir", "d", "--dry-run")
	if !strings.Contains(dry, "topics deleted: repartition__reset--in--g, changelog__reset--repartition.in.g--default, out\n") ||
		!strings.Contains(dry, "dry run: nothing was changed") {
		t.Errorf("qstar reset --dry-run printed\n%s", dry)
	}
	if got := outputs(); !slices.Equal(got, before) {
		t.Errorf("the dry run changed the output topic: %d records", len(got))
	}
	out := qstar(t, dir, "", "reset", "job.star", "--data-dir", "d")
	for _, want := range []string{
		`reset consumer group "reset": 1 partition(s) of in from their start`,
		"deleted topic repartition__reset--in--g\n",
		"deleted topic changelog__reset--repartition.in.g--default\n",
		"deleted topic out\n",
		"removed " + filepath.Join("state", "reset") + "\n",
		"removed " + filepath.Join("wal", "reset") + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("qstar reset printed\n%s\nwant %q", out, want)
		}
	}
	qstar(t, dir, "", "run", "job.star", "--data-dir", "d", "--stop-when-idle", "2s")
	if after := outputs(); !slices.Equal(after, before) {
		t.Errorf("after the reset the run wrote\n%s\nwant what the first run wrote\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// resetSourceJob copies a CSV file through a source into "out".
const resetSourceJob = `app = Application(consumer_group="resetsrc", auto_offset_reset="earliest", commit_interval=0.2)
sdf = app.dataframe(source=CSVSource(path="rows.csv", name="rows", key_extractor=lambda row: row["id"]))
sdf.to_topic(app.topic("out"))
app.run()
`

// TestResetSources: after qstar reset on the embedded broker, a job's
// source reads its file again from the start, into a new topic: the
// second run's source topic and output hold each row once, as the first
// run's did.
func TestResetSources(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(resetSourceJob), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rows.csv"), []byte("id\n1\n2\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	count := func(topic string) int {
		out := qstar(t, dir, "", "consume", topic, "--data-dir", "d", "--from-beginning", "--stop-when-idle", "1s")
		return strings.Count(out, "\n")
	}
	for run := 1; run <= 2; run++ {
		qstar(t, dir, "", "run", "job.star", "--data-dir", "d", "--stop-when-idle", "2s")
		if s, o := count("source__rows"), count("out"); s != 3 || o != 3 {
			t.Fatalf("run %d: source__rows holds %d records, out %d; want 3 each", run, s, o)
		}
		if run == 1 {
			out := qstar(t, dir, "", "reset", "job.star", "--data-dir", "d")
			for _, want := range []string{"deleted topic source__rows\n", "deleted topic changelog__resetsrc--source-rows\n", "deleted topic out\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("qstar reset printed\n%s\nwant %q", out, want)
				}
			}
		}
	}
}
