package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
)

// qstarBin is the qstar binary built once for the CLI tests.
var qstarBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "qstar-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	qstarBin = filepath.Join(dir, "qstar")
	build := exec.Command("go", "build", "-o", qstarBin, "../cmd/qstar")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build qstar:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// qstar runs the binary with stdin and returns stdout; it fails the test
// on a non-zero exit.
func qstar(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(qstarBin, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("qstar %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	t.Logf("qstar %s stderr:\n%s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}

// cleanEnv drops Quix__ variables so the host environment cannot redirect
// a test to another broker.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "Quix__") {
			env = append(env, kv)
		}
	}
	return env
}

// startBrokerProcess runs `qstar broker` and returns its address.
func startBrokerProcess(t *testing.T, dir string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(qstarBin, "broker", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "broker-data"))
	cmd.Env = cleanEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("broker printed no address: %v", err)
	}
	return strings.TrimSpace(line), cmd
}

const cliJob = `from quixstreams import Application

app = Application(consumer_group="cli", auto_offset_reset="earliest")
inp = app.topic("in")
out = app.topic("out")

sdf = app.dataframe(inp)
sdf = sdf.apply(lambda v: {"n": v["n"] * 10})
sdf = sdf.filter(lambda v: v["n"] > 0)
sdf.to_topic(out)
app.run(sdf)
`

// TestCLIEndToEnd is the spine's acceptance path: a standalone broker,
// produce, run until idle, consume; the output records are the job's
// results with keys and timestamps preserved.
func TestCLIEndToEnd(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(cliJob), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, broker := startBrokerProcess(t, dir)
	qstar(t, dir, `{"key":"a","value":{"n":1},"timestamp":1000}
{"key":"b","value":{"n":2},"timestamp":2000}
{"value":{"n":0},"timestamp":3000}
`, "produce", "in", "--broker", addr)
	qstar(t, dir, "", "run", "job.star", "--broker", addr, "--stop-when-idle", "2s")
	got := parseRecords(t, strings.NewReader(qstar(t, dir, "", "consume", "out", "--broker", addr, "--from-beginning", "--stop-when-idle", "1s")))
	want := parseRecords(t, strings.NewReader(`{"topic":"out","key":"a","value":{"n":10},"timestamp":1000}
{"topic":"out","key":"b","value":{"n":20},"timestamp":2000}
`))
	diffRecords(t, got, want)

	// A second run finds the offsets committed: nothing is processed twice.
	qstar(t, dir, "", "run", "job.star", "--broker", addr, "--stop-when-idle", "1s")
	if again := consumeTopic(t, addr, "out"); len(again) != 2 {
		t.Errorf("after a second run the output has %d records, want 2", len(again))
	}

	// The broker stops on SIGINT.
	_ = broker.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- broker.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("broker exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("broker did not stop within 10s of SIGINT")
	}
}

// TestCLIEmbeddedBroker pins that commands without --broker share the
// embedded broker through its data directory, across processes.
func TestCLIEmbeddedBroker(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(cliJob), 0o644); err != nil {
		t.Fatal(err)
	}
	qstar(t, dir, `{"key":"k","value":{"n":4},"timestamp":5000,"headers":{"h":"v"}}`+"\n", "produce", "in", "--data-dir", "d")
	qstar(t, dir, "", "run", "job.star", "--data-dir", "d", "--stop-when-idle", "1s")
	out := qstar(t, dir, "", "consume", "out", "--data-dir", "d", "--from-beginning", "--stop-when-idle", "1s")
	want := `{"topic":"out","partition":0,"offset":0,"timestamp":5000,"key":"k","value":{"n":40},"headers":{"h":"v"}}` + "\n"
	if out != want {
		t.Errorf("consume printed\n%s\nwant\n%s", out, want)
	}
}

// TestCLIRunStopsOnSignal pins graceful shutdown: SIGTERM stops a running
// job within a few seconds with exit code 0.
func TestCLIRunStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(cliJob), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, _ := startBrokerProcess(t, dir)
	cmd := exec.Command(qstarBin, "run", "job.star", "--broker", addr)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for !strings.Contains(stderr.String(), "partitions assigned") {
		if ctx.Err() != nil {
			t.Fatalf("job never got its partitions:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s to stop", d)
	}
}

// TestCLIErrors pins exit codes and messages for usage and script errors.
func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "bad.star"), []byte("app = Application()\nx = (\n"), 0o644)
	// A hard-coded broker address with nothing listening there (port 1).
	_ = os.WriteFile(filepath.Join(dir, "hardcoded.star"), []byte("from quixstreams import Application\n"+
		"app = Application(broker_address=\"127.0.0.1:1\", consumer_group=\"g\", auto_offset_reset=\"earliest\")\n"+
		"app.run(app.dataframe(app.topic(\"in\")))\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"run"}, 2, "want 1 argument(s), got 0"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"run", "bad.star"}, 1, "bad.star:3:1: got end of file"},
		{[]string{"run", "missing.star"}, 1, "no such file"},
		{[]string{"run", "hardcoded.star", "--broker-wait", "500ms"}, 1,
			"no Kafka broker answers at 127.0.0.1:1 (set by broker_address= of the Application at hardcoded.star:2:18) after 500ms: dial tcp 127.0.0.1:1: connect: connection refused; start the broker, pass --broker ADDR, or run on the embedded broker with `qstar run --broker embedded hardcoded.star`"},
		{[]string{"produce", "t", "--value-format", "xml"}, 2, "--value-format must be json or str"},
		{[]string{"consume", "t", "--isolation", "dirty"}, 2, "--isolation must be read_committed or read_uncommitted"},
	} {
		cmd := exec.Command(qstarBin, tc.args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("qstar %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
	// --broker embedded runs it anyway.
	qstar(t, dir, "", "run", "hardcoded.star", "--broker", "embedded", "--data-dir", filepath.Join(dir, "broker"), "--stop-when-idle", "500ms")
	for _, c := range []string{"run", "broker", "produce", "consume", "version", "test", "check", "migrate"} {
		out := qstar(t, dir, "", c, "--help")
		if !strings.Contains(out, "Usage: qstar "+c) {
			t.Errorf("qstar %s --help printed %q", c, out)
		}
	}
}

// TestCLITest pins `qstar test`: passing and failing tests, file:line of a
// failed assertion, -run, JUnit output and the exit code.
func TestCLITest(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "job.star"), []byte(cliJob), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "test_job.star"), []byte(`load("job.star", "sdf")

def test_scaled():
    assert.eq(sdf.test({"n": 2}, b"k", 1), [({"n": 20}, b"k", 1, None)])

def test_broken():
    assert.eq(sdf.test({"n": 0}, b"k", 1), [({"n": 0}, b"k", 1, None)])
`), 0o644)
	cmd := exec.Command(qstarBin, "test", "-v", "--junit", "report.xml")
	cmd.Dir = dir
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s", err, stdout.String())
	}
	for _, want := range []string{
		"--- PASS: test_scaled (test_job.star:3:1",
		"--- FAIL: test_broken (test_job.star:6:1",
		"test_job.star:7:14: assert.eq: got [], want [({\"n\": 0}, b\"k\", 1, None)]",
		"1 passed, 1 failed",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	report, err := os.ReadFile(filepath.Join(dir, "report.xml"))
	if err != nil || !strings.Contains(string(report), `<testsuite name="test_job.star" tests="2" failures="1"`) {
		t.Errorf("junit report: %v\n%s", err, report)
	}
	if out := qstar(t, dir, "", "test", "-run", "scaled"); !strings.Contains(out, "1 passed, 0 failed") {
		t.Errorf("-run scaled printed %q", out)
	}
}

// TestCLICheckJoin pins that `qstar check` draws a join as a node with
// two parents: one node, an edge from each side, in every format.
func TestCLICheckJoin(t *testing.T) {
	dir := t.TempDir()
	job, _ := filepath.Abs("../scripts/examples/join_orders.star")
	text := qstar(t, dir, "", "check", job)
	for _, want := range []string{
		`source "customers" (value json, key bytes)`,
		`join_asof (right) (store "join", grace 2592000000ms)`,
		`join_asof (merges "customers" and "orders")    ` + job + `:21:20` + "\n",
		`join_asof (merges "customers" and "orders")    ` + job + `:21:20 (operations after it: above)`,
		`join (timestamped, for a join) on "customers", changelog changelog__join-orders--customers--join`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("check output lacks %q:\n%s", want, text)
		}
	}
	m := qstar(t, dir, "", "check", job, "--format", "mermaid")
	if strings.Count(m, `join_asof (merges`) != 1 || !strings.Contains(m, "op2 --> op3") || !strings.Contains(m, "op6 --> op3") {
		t.Errorf("mermaid: the merge must be one node with two parents:\n%s", m)
	}
	d := qstar(t, dir, "", "check", job, "--format", "dot")
	if strings.Count(d, `join_asof (merges`) != 1 || !strings.Contains(d, "op2 -> op3;") || !strings.Contains(d, "op6 -> op3;") {
		t.Errorf("dot:\n%s", d)
	}
}

// TestCLICheck pins `qstar check`: the topology of a group_by + stateful
// job in text, mermaid and dot, and exit code 1 on a broken script.
func TestCLICheck(t *testing.T) {
	dir := t.TempDir()
	job, _ := filepath.Abs("../scripts/examples/customer_totals.star")
	text := qstar(t, dir, "", "check", job)
	for _, want := range []string{
		`source "orders-by-id" (value json, key bytes)`,
		`to_topic ("repartition__customer-totals--orders-by-id--customer", key=value["customer"])`,
		`└─ apply (add, stateful)    ` + job + `:17:16`,
		`default (key-value) on "repartition__customer-totals--orders-by-id--customer", changelog changelog__customer-totals--repartition.orders-by-id.customer--default`,
		`sinks: "totals-by-customer"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("check output lacks %q:\n%s", want, text)
		}
	}
	if m := qstar(t, dir, "", "check", job, "--format", "mermaid"); !strings.HasPrefix(m, "flowchart LR\n") || !strings.Contains(m, "t_orders_by_id --> op1") {
		t.Errorf("mermaid:\n%s", m)
	}
	if d := qstar(t, dir, "", "check", job, "--format", "dot"); !strings.HasPrefix(d, "digraph qstar {") || !strings.Contains(d, "op3 -> t_totals_by_customer;") {
		t.Errorf("dot:\n%s", d)
	}
	_ = os.WriteFile(filepath.Join(dir, "bad.star"), []byte("app = Application()\nsdf = app.dataframe(app.topic(\"t\"))\nsdf = sdf[3]\n"), 0o644)
	cmd := exec.Command(qstarBin, "check", "bad.star")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "bad.star:3:10: StreamingDataFrame[...]: unsupported key type int") {
		t.Errorf("check bad.star: %v\n%s", err, out)
	}
}

const clientsProducer = `app = Application(consumer_group="gen")
nums = app.topic("nums", value_serializer="json")
producer = app.get_producer()
for i in range(3):
    producer.produce(nums, {"n": i}, key="k%d" % i, headers={"h": "v"}, timestamp=1000 + i)
producer.produce("raw", b"hello", key="x")
# None is a tombstone, as to_topic sends it, for every format but json.
producer.produce(app.topic("strs", value_serializer="str", key_serializer="str"), None, key="gone")
producer.flush()
`

const clientsConsumer = `app = Application(consumer_group="reader", auto_offset_reset="earliest")
consumer = app.get_consumer()
consumer.subscribe([app.topic("nums")])
got = 0
for _ in range(30):
    m = consumer.poll(1.0)
    if m == None:
        continue
    print(m.topic, m.partition, m.offset, m.key, m.value, m.timestamp, m.headers)
    got += 1
    if got == 3:
        break
consumer.close()
`

// TestCLIClients pins app.get_producer() and app.get_consumer(): a script
// that only produces or consumes runs to completion without app.run(),
// Topic serializers apply to produced values as to_topic applies them,
// and polled messages carry
// their raw bytes, timestamps and headers.
func TestCLIClients(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"gen.star": clientsProducer, "read.star": clientsConsumer} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr, _ := startBrokerProcess(t, dir)
	qstar(t, dir, "", "run", "gen.star", "--broker", addr)
	raw := consumeTopic(t, addr, "raw")
	if len(raw) != 1 || string(raw[0].Key) != `"x"` || string(raw[0].Value) != `"hello"` {
		t.Errorf("raw topic holds %v, want one record x=hello", raw)
	}
	if strs := consumeTopic(t, addr, "strs"); len(strs) != 1 || string(strs[0].Key) != `"gone"` || string(strs[0].Value) != "null" {
		t.Errorf("strs topic holds %v, want one tombstone for gone", strs)
	}
	out := qstar(t, dir, "", "run", "read.star", "--broker", addr)
	// print() writes str() of each value as Python does: bytes as b'...'.
	want := `nums 0 0 b'k0' b'{"n":0}' 1000 [('h', b'v')]
nums 0 1 b'k1' b'{"n":1}' 1001 [('h', b'v')]
nums 0 2 b'k2' b'{"n":2}' 1002 [('h', b'v')]
`
	if out != want {
		t.Errorf("the consumer script printed\n%s\nwant\n%s", out, want)
	}

	// A value that a bare topic name cannot carry fails at its line.
	bad := "app = Application()\np = app.get_producer()\np.produce(\"raw\", {\"n\": 1})\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.star"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(qstarBin, "run", "bad.star", "--broker", addr)
	cmd.Dir, cmd.Env = dir, cleanEnv()
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "bad.star:3:10") || !strings.Contains(string(msg), "value must be bytes or str") {
		t.Errorf("producing a dict to a topic name: err %v, output\n%s", err, msg)
	}
}

// stuckJob's callback never returns on the message with n == 3.
const stuckJob = `app = Application(consumer_group="stuck", auto_offset_reset="earliest", commit_interval=0.5)
inp = app.topic("in")
out = app.topic("out")

def f(v):
    if v["n"] == 3:
        for i in range(1000000000000):
            pass
    return v

sdf = app.dataframe(inp)
sdf = sdf.apply(f)
sdf.to_topic(out)
app.run()
`

// TestCLIStuckCallbackStops pins shutdown with a callback that loops
// forever: on SIGTERM the job waits the shutdown grace (5 s) for it, then
// cancels the Starlark thread, exits non-zero saying so, and commits
// nothing past the stuck message (offset 2).
func TestCLIStuckCallbackStops(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(stuckJob), 0o644); err != nil {
		t.Fatal(err)
	}
	addr, _ := startBrokerProcess(t, dir)
	qstar(t, dir, `{"value":{"n":1}}
{"value":{"n":2}}
{"value":{"n":3}}
{"value":{"n":4}}
`, "produce", "in", "--broker", addr)
	cmd := exec.Command(qstarBin, "run", "job.star", "--broker", addr)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitAssigned(t, stderr, 30*time.Second)
	time.Sleep(2 * time.Second) // the interval checkpoint commits 1 and 2; 3 is stuck
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("exit 0 after cancelling a stuck callback:\n%s", stderr.String())
		}
		t.Logf("stopped %s after SIGTERM", time.Since(start).Round(100*time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatalf("a job whose callback loops forever did not stop within 30s of SIGTERM:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "did not return within the shutdown grace period") {
		t.Errorf("the error does not say the callback was cancelled:\n%s", stderr.String())
	}
	if got := committedTotalOf(t, addr, "stuck", "in", 1); got > 2 {
		t.Errorf("committed %d messages: past the stuck message at offset 2", got)
	}
	if got := len(consumeTopic(t, addr, "out")); got != 2 {
		t.Errorf("%d outputs, want the 2 before the stuck message", got)
	}
}
