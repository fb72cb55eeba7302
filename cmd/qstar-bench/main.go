// Command qstar-bench measures qstar jobs against raw confluent-kafka-go
// pass-through on the same broker, in the same run, and writes the results
// into docs/benchmarks.md.
//
//	qstar-bench -qstar bin/qstar -messages 1000000 -write docs/benchmarks.md
//
// It starts `qstar broker` as a separate process (in-memory), produces the
// input once (JSON values of ~100 bytes, 1,000 distinct keys, 8
// partitions), then runs each job as a child process that stops after
// -idle without new messages. Throughput is messages / (wall time - idle),
// so the idle wait that ends every job is not counted; CPU seconds and peak
// RSS come from the child's rusage.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/qstar-dev/qstar/internal/procstats"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/record"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "passthrough" {
		if err := passthroughMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "qstar-bench passthrough:", err)
			os.Exit(1)
		}
		return
	}
	if err := benchMain(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "qstar-bench:", err)
		os.Exit(1)
	}
}

// job is one measured pipeline. script is a qstar job with %[1]s for the
// input topic, %[2]s for the output topic and %[3]s for the consumer group.
type job struct {
	name   string
	what   string
	script string
	// passing is the fraction of input messages the job writes out.
	passing func(n int) int64
	// transactional outputs hold transaction markers: their records are
	// counted by reading them (read_committed), not by end offsets.
	transactional bool
	// env is added to the job's environment (GOMAXPROCS=1).
	env []string
	// partitions, when set, runs the job on an input of this many
	// partitions (the same messages) instead of -partitions.
	partitions int
	// customers: the job joins topic bench-customers, of a record per
	// customer of the input (written before the job starts).
	customers bool
}

// cpuBoundJob spends ~10 µs of interpreter time per message: it runs
// with every core and with GOMAXPROCS=1, to measure how partitions
// spread over the cores.
const cpuBoundJob = `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
def burn(v):
    x = 0
    for i in range(150):
        x += i
    return {"id": v["id"], "x": x}
sdf = app.dataframe(inp)
sdf = sdf.apply(burn)
sdf.to_topic(out)
app.run()
`

// stateJob counts in state under the state key %[5]s, a Starlark
// expression of value (fill it with withParam).
const stateJob = `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[4]s")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
def count(value, state):
    k = %[5]s
    n = state.get(k, 0) + 1
    state.set(k, n)
    return {"customer": value["customer"], "n": n}
sdf = app.dataframe(inp)
sdf = sdf.apply(count, stateful=True)
sdf.to_topic(out)
app.run()
`

// withParam fills a job template's %[5]s with param and leaves the
// topics, group and state directory (%[1]s to %[4]s) for the run.
func withParam(script string, param any) string {
	p := strings.ReplaceAll(fmt.Sprint(param), "%", "%%")
	return fmt.Sprintf(script, "%[1]s", "%[2]s", "%[3]s", "%[4]s", p)
}

// statefulJob counts per message key in state; it runs in both
// guarantees.
var statefulJob = withParam(stateJob, `"n"`)

// stateKeysJob keeps n state keys in all (id modulo n, under the 1,000
// message keys): the same work per message at every state size.
func stateKeysJob(n int) string {
	return withParam(stateJob, fmt.Sprintf(`str(value["id"] %% %d)`, n))
}

// wideStateJob writes 10 state keys per message, each under the state key
// %[5]s, a Starlark expression of value and j (0 .. 9): 1M messages reach
// 10M keys.
const wideStateJob = `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[4]s")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
def count(value, state):
    n = 0
    for j in range(10):
        k = %[5]s
        n = state.get(k, 0) + 1
        state.set(k, n)
    return {"customer": value["customer"], "n": n}
sdf = app.dataframe(inp)
sdf = sdf.apply(count, stateful=True)
sdf.to_topic(out)
app.run()
`

// chainJob applies %[5]s steps of a small lambda.
const chainJob = `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
sdf = app.dataframe(inp)
for i in range(%[5]s):
    sdf = sdf.apply(lambda v: v)
sdf.to_topic(out)
app.run()
`

const nativeJob = `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
sdf = app.dataframe(inp)
sdf = sdf[sdf["amount"] >= 10]
sdf["amount_eur"] = sdf["amount"] * 0.92
sdf["amount_cents"] = sdf["amount"] * 100
sdf = sdf[["id", "customer", "amount", "amount_eur", "amount_cents"]]
sdf.to_topic(out)
app.run()
`

func all(n int) int64 { return int64(n) }

var jobs = []job{
	{
		name:    "native",
		what:    "native columns: `sdf[sdf[\"amount\"] >= 10]`, two arithmetic column assignments, projection, `to_topic`",
		script:  nativeJob,
		passing: passingAmount,
	},
	{
		name: "starlark",
		what: "JSON `apply(lambda)` → `filter(lambda)` → `to_topic`",
		script: `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
sdf = app.dataframe(inp)
sdf = sdf.apply(lambda v: {"id": v["id"], "customer": v["customer"], "amount": v["amount"], "amount_eur": v["amount"] * 0.92, "amount_cents": v["amount"] * 100})
sdf = sdf.filter(lambda v: v["amount"] >= 10)
sdf.to_topic(out)
app.run()
`,
		passing: passingAmount,
	},
	{
		name:    "stateful",
		what:    "count per key in RocksDB state (`apply(stateful=True)`), changelog on",
		script:  statefulJob,
		passing: all,
	},
	{
		name:          "stateful-eos",
		what:          "the stateful job with `processing_guarantee=\"exactly-once\"`: each checkpoint one Kafka transaction",
		script:        strings.Replace(statefulJob, `loglevel="WARNING",`, `loglevel="WARNING", processing_guarantee="exactly-once",`, 1),
		passing:       func(n int) int64 { return int64(n) },
		transactional: true,
	},
	{
		name:    "cpu-bound",
		what:    "a CPU-bound `apply` (a 150-step loop in the interpreter, ~10 µs per message), every core",
		script:  cpuBoundJob,
		passing: all,
	},
	{
		name:    "cpu-bound-1core",
		what:    "the cpu-bound job with `GOMAXPROCS=1`",
		script:  cpuBoundJob,
		passing: all,
		env:     []string{"GOMAXPROCS=1"},
	},
	{
		name: "window-count",
		what: "tumbling 1 s window `count().final()` per key (native aggregation)",
		script: `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[4]s")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
sdf = app.dataframe(inp).tumbling_window(1000).count().final()
sdf.to_topic(out)
app.run()
`,
		passing: func(n int) int64 { return closedWindows(n, 1000) },
	},
	{
		name: "window-sum",
		what: "tumbling 1 s window `sum().final()` of a column per key",
		script: `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[4]s")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
sdf = app.dataframe(inp)
sdf = sdf.apply(lambda v: v["amount"]).tumbling_window(1000).sum().final()
sdf.to_topic(out)
app.run()
`,
		passing: func(n int) int64 { return closedWindows(n, 1000) },
	},
	{
		name: "count-window",
		what: "tumbling count window of 100 messages `count().final()` per key (Quix Streams 3.x, native aggregation)",
		script: `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[4]s")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
sdf = app.dataframe(inp).tumbling_count_window(100).count().final()
sdf.to_topic(out)
app.run()
`,
		passing: func(n int) int64 { return closedCountWindows(n, 100) },
	},
	{
		name: "session-window",
		what: "session window (1 s timeout) `count().final()` per key, on bursts of 10 messages per key 100 ms apart every 10 s (timestamps from a `timestamp_extractor`)",
		script: `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[4]s")
def bursts(value, headers, timestamp, timestamp_type):
    i = value["id"]
    return 1700000000000 + (i // 1000) * 100 + (i // 10000) * 10000
inp = app.topic("%[1]s", timestamp_extractor=bursts)
out = app.topic("%[2]s")
sdf = app.dataframe(inp).session_window(1000).count().final()
sdf.to_topic(out)
app.run()
`,
		passing: closedSessions,
	},
	{
		name: "join-asof",
		what: "`join_asof` of each message with its customer's record (1,000 customers in a co-partitioned topic), `on_merge=\"keep-left\"`",
		script: `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[4]s")
inp = app.topic("%[1]s")
customers = app.topic("bench-customers")
out = app.topic("%[2]s")
sdf = app.dataframe(inp).join_asof(app.dataframe(customers), on_merge="keep-left")
sdf.to_topic(out)
app.run()
`,
		passing:   func(n int) int64 { return int64(n) },
		customers: true,
	},
	{
		name: "group-by",
		what: "`group_by(\"customer\")` (through a repartition topic) + stateful sum per customer",
		script: `app = Application(consumer_group="%[3]s", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[4]s")
inp = app.topic("%[1]s")
out = app.topic("%[2]s")
def total(value, state):
    t = state.get("total", 0) + value["amount"]
    state.set("total", t)
    return {"customer": value["customer"], "total": t}
sdf = app.dataframe(inp).group_by("customer").apply(total, stateful=True)
sdf.to_topic(out)
app.run()
`,
		passing: all,
	},
	{name: "state-1k", what: "1,000 state keys in all (`state.set(str(id % 1000))` under the 1,000 message keys)", script: stateKeysJob(1000), passing: all},
	{name: "state-100k", what: "the state-1k job with 100,000 state keys", script: stateKeysJob(100000), passing: all},
	{name: "state-1m", what: "the state-1k job with 1,000,000 state keys (every message a new key at 1M messages)", script: stateKeysJob(1000000), passing: all},
	{name: "state10-10k", what: "10 state writes per message (`str(j)` for j in 0..9 under the 1,000 message keys): 10,000 state keys in all", script: withParam(wideStateJob, "str(j)"), passing: all},
	{name: "state10-1m", what: "the state10-10k job with 1,000,000 state keys (`str((id * 10 + j) % 1000000)`): as many distinct writes per checkpoint as state10-10m", script: withParam(wideStateJob, `str((value["id"] * 10 + j) % 1000000)`), passing: all},
	{name: "state10-10m", what: "the state10-10k job with a new state key per write (`str(id * 10 + j)`): 10,000,000 state keys at 1M messages", script: withParam(wideStateJob, `str(value["id"] * 10 + j)`), passing: all},
	{name: "chain-1", what: "one `apply(lambda v: v)`", script: withParam(chainJob, 1), passing: all},
	{name: "chain-10", what: "ten chained `apply(lambda v: v)`", script: withParam(chainJob, 10), passing: all},
	{name: "native-32p", what: "the native job on an input of 32 partitions", script: nativeJob, passing: passingAmount, partitions: 32},
	{name: "native-256p", what: "the native job on an input of 256 partitions", script: nativeJob, passing: passingAmount, partitions: 256},
}

// passingAmount is how many input messages have amount >= 10.
func passingAmount(n int) int64 {
	var c int64
	for i := 0; i < n; i++ {
		if amountCents(i) >= 1000 {
			c++
		}
	}
	return c
}

// closedWindows is how many (key, 1 s window) pairs final() emits for the
// input: message i has key i%1000 and timestamp base+i ms, so every key
// has one message per ms-window of 1000 consecutive messages; a key's
// window is emitted when that key sends in a later window (the last
// window of each key stays open). It is computed here from the same
// rules, independently of qstar.
func closedWindows(n int, durationMs int64) int64 {
	last := map[int]int64{} // key -> last window start seen
	var closed int64
	for i := 0; i < n; i++ {
		key := i % 1000
		ts := int64(1700000000000 + i)
		start := ts - ts%durationMs
		if prev, ok := last[key]; ok && start > prev {
			closed++
		}
		last[key] = start
	}
	return closed
}

// closedCountWindows is how many count windows of size final() emits:
// each key's full windows (message i has key i%1000).
func closedCountWindows(n int, size int) int64 {
	var closed int64
	for k := 0; k < 1000; k++ {
		msgs := n / 1000
		if k < n%1000 {
			msgs++
		}
		closed += int64(msgs / size)
	}
	return closed
}

// closedSessions is how many sessions the session-window job closes: its
// timestamps put message i in burst i/10000, round (i/1000)%10 of it; a
// key's messages of one burst make one session (100 ms apart, within the
// 1 s timeout), which the next burst (10 s later) closes, on every
// partition, as every partition has messages of every round (exact when
// n is a multiple of 1000, so that every key is in the last round).
func closedSessions(n int) int64 {
	var closed int64
	for k := 0; k < 1000; k++ {
		last := int64(-1) // the burst of the key's open session
		for i := k; i < n; i += 1000 {
			b := int64(i / 10000)
			if last >= 0 && b > last {
				closed++
			}
			last = b
		}
	}
	return closed
}

// recoveryJob keeps one state key per message, so that its changelog has
// a record per message to restore.
const recoveryJob = `app = Application(consumer_group="bench-recovery", auto_offset_reset="earliest", loglevel="WARNING", state_dir="%[2]s")
inp = app.topic("%[1]s")
def keep(value, state):
    state.set(value["id"], value["amount"])
sdf = app.dataframe(inp).update(keep, stateful=True)
app.run()
`

// amountCents is message i's amount in cents: 0 .. 99999.
func amountCents(i int) int { return (i * 7919) % 100000 }

func message(i int) (key, value []byte) {
	c := amountCents(i)
	key = []byte(fmt.Sprintf("c-%04d", i%1000))
	value = []byte(fmt.Sprintf(`{"id":%d,"customer":"c-%04d","amount":%d.%02d,"currency":"EUR","country":"DE","ts":%d,"ok":true}`,
		i, i%1000, c/100, c%100, 1700000000000+int64(i)))
	return key, value
}

type result struct {
	name, what string
	messages   int64
	wall       time.Duration // minus the idle wait
	cpu        time.Duration
	maxRSS     int64 // KiB
	stats      procstats.Stats
}

func (r result) rate() float64 { return float64(r.messages) / r.wall.Seconds() }

func benchMain(args []string) error {
	fs := flag.NewFlagSet("qstar-bench", flag.ContinueOnError)
	qstar := fs.String("qstar", "bin/qstar", "the qstar `binary` to measure")
	n := fs.Int("messages", 1_000_000, "input messages")
	partitions := fs.Int("partitions", 8, "input partitions")
	idle := fs.Duration("idle", 2*time.Second, "each job stops after this long without new messages")
	write := fs.String("write", "", "rewrite the results table in this markdown `file`")
	profile := fs.String("profile", "", "write each job's CPU profile to `DIR`/JOB.prof and heap profile to DIR/JOB.heap, and the restoring run's CPU profile to DIR/recovery.prof (go tool pprof)")
	only := fs.String("jobs", "", "run only these comma-separated `jobs` (and the baseline; \"recovery\" for the recovery measurement, \"pgsink\" for the PostgreSQL sink's); default all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	addr, stop, err := startBroker(*qstar)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(os.Stderr, "broker %s; producing %d messages to %d partitions\n", addr, *n, *partitions)
	if err := produceInput(addr, "bench-input", *n, *partitions, log); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "qstar-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var results []result
	var recoveries []recovery
	statsFile := func(name string) string { return filepath.Join(dir, name+".stats.json") }
	base, err := measure(exec.Command(self, "passthrough", "-broker", addr, "-input", "bench-input",
		"-output", "bench-out-baseline", "-group", "bench-baseline", "-idle", idle.String(),
		"-runtime-stats", statsFile("baseline")), *idle)
	if err == nil {
		base.stats, err = procstats.Read(statsFile("baseline"))
	}
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	base.name, base.what, base.messages = "baseline", "raw confluent-kafka-go consume → produce (no qstar)", int64(*n)
	if err := checkOutput(addr, "bench-out-baseline", int64(*n)); err != nil {
		return err
	}
	results = append(results, base)
	for _, j := range jobs {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), j.name) {
			continue
		}
		out := "bench-out-" + j.name
		script := filepath.Join(dir, j.name+".star")
		stateDir := filepath.Join(dir, "state-"+j.name)
		input := "bench-input"
		if j.partitions > 0 {
			input = fmt.Sprintf("bench-input-%dp", j.partitions)
			fmt.Fprintf(os.Stderr, "producing %d messages to %d partitions\n", *n, j.partitions)
			if err := produceInput(addr, input, *n, j.partitions, log); err != nil {
				return err
			}
		}
		if j.customers {
			if err := produceCustomers(addr, "bench-customers", *partitions, log); err != nil {
				return err
			}
		}
		if err := os.WriteFile(script, []byte(fmt.Sprintf(j.script, input, out, "bench-"+j.name, stateDir)), 0o644); err != nil {
			return err
		}
		cmd := exec.Command(*qstar, "run", script, "--broker", addr, "--stop-when-idle", idle.String(),
			"--runtime-stats", statsFile(j.name))
		if *profile != "" {
			cmd.Args = append(cmd.Args, "--cpuprofile", filepath.Join(*profile, j.name+".prof"),
				"--memprofile", filepath.Join(*profile, j.name+".heap"))
		}
		if len(j.env) > 0 {
			cmd.Env = append(os.Environ(), j.env...)
		}
		r, err := measure(cmd, *idle)
		if err == nil {
			r.stats, err = procstats.Read(statsFile(j.name))
		}
		if err != nil {
			return fmt.Errorf("job %s: %w", j.name, err)
		}
		r.name, r.what, r.messages = j.name, j.what, int64(*n)
		check := checkOutput
		if j.transactional {
			check = checkCommitted
		}
		if err := check(addr, out, j.passing(*n)); err != nil {
			return err
		}
		results = append(results, r)
	}
	if *only == "" || slices.Contains(strings.Split(*only, ","), "recovery") {
		rec, err := measureRecovery(*qstar, addr, dir, *idle, *profile)
		if err != nil {
			return fmt.Errorf("recovery: %w", err)
		}
		recoveries = append(recoveries, rec)
	}
	var pgSinks []pgSink
	if *only == "" || slices.Contains(strings.Split(*only, ","), "pgsink") {
		r, err := measurePgSink(*qstar, addr, dir, *n, *idle)
		if err != nil {
			return fmt.Errorf("PostgreSQL sink: %w", err)
		}
		pgSinks = append(pgSinks, r)
	}
	table := render(results, base) + renderGuarantees(results) + renderCores(results, *partitions) + renderGrowth(results, *partitions) + renderRecovery(recoveries) + renderPgSink(pgSinks, base)
	fmt.Print(table)
	if *write != "" {
		cmdline := fmt.Sprintf("make bench  # qstar-bench -messages %d -partitions %d -idle %s", *n, *partitions, *idle)
		return rewrite(*write, header(cmdline)+table)
	}
	return nil
}

// startBroker runs `qstar broker` in memory as a separate process.
func startBroker(qstar string) (string, func(), error) {
	cmd := exec.Command(qstar, "broker", "--listen", "127.0.0.1:0", "--data-dir", "")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start broker: %w", err)
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("broker printed no address: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

func produceInput(addr, topic string, n, partitions int, log *slog.Logger) error {
	admin, err := kafka.NewAdmin(addr, nil, nil)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.EnsureTopics(ctx, []kafka.TopicSpec{{Name: topic, NumPartitions: partitions, ReplicationFactor: 1}}); err != nil {
		return err
	}
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: addr, Logger: log})
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		k, v := message(i)
		if err := p.Produce(&record.Record{Topic: topic, Partition: -1, Key: k, Value: v, Timestamp: 1700000000000 + int64(i)}); err != nil {
			return err
		}
	}
	return p.Close(5 * time.Minute)
}

// produceCustomers writes a record per customer of the input messages
// (keys c-0000 to c-0999), timestamped before every message.
func produceCustomers(addr, topic string, partitions int, log *slog.Logger) error {
	admin, err := kafka.NewAdmin(addr, nil, nil)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.EnsureTopics(ctx, []kafka.TopicSpec{{Name: topic, NumPartitions: partitions, ReplicationFactor: 1}}); err != nil {
		return err
	}
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: addr, Logger: log})
	if err != nil {
		return err
	}
	for c := 0; c < 1000; c++ {
		v := fmt.Sprintf(`{"name":"customer %d","tier":"t%d","since":2019}`, c, c%4)
		if err := p.Produce(&record.Record{Topic: topic, Partition: -1, Key: []byte(fmt.Sprintf("c-%04d", c)), Value: []byte(v), Timestamp: 1700000000000 - 1}); err != nil {
			return err
		}
	}
	return p.Close(time.Minute)
}

func measure(cmd *exec.Cmd, idle time.Duration) (result, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("%v\n%s", err, stderr.String())
	}
	wall := time.Since(start) - idle
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r := result{wall: wall}
	if ru != nil {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		r.maxRSS = ru.Maxrss
	}
	return r, nil
}

func checkOutput(addr, topic string, want int64) error {
	admin, err := kafka.NewAdmin(addr, nil, nil)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := admin.EndOffsets(ctx, topic)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("topic %s has %d messages, want %d", topic, got, want)
	}
	return nil
}

// checkCommitted reads a transactional topic read_committed and checks it
// holds exactly want records.
func checkCommitted(addr, topic string, want int64) error {
	r, err := kafka.NewReader(addr, topic, true, map[string]string{"isolation.level": "read_committed"}, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer r.Close()
	var got int64
	for last := time.Now(); time.Since(last) < 2*time.Second; {
		m, err := r.Poll(100 * time.Millisecond)
		if err != nil {
			return err
		}
		if m != nil {
			got++
			last = time.Now()
		}
	}
	if got != want {
		return fmt.Errorf("topic %s has %d committed records, want %d", topic, got, want)
	}
	return nil
}

func header(cmdline string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("Measured %s on %s (%d cores, %s, %s) with:\n\n    %s\n\n",
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), cpuModel(), runtime.Version(), cmdline)
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "unknown CPU"
}

func render(rs []result, base result) string {
	var b strings.Builder
	b.WriteString("| job | what | messages | msg/s | ratio to baseline | CPU s per 1M msgs | CPU ÷ baseline's | allocs per msg | GC CPU share | peak RSS |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %.2f | %.2f | %.2f | %.1f | %.0f%% | %d MiB |\n",
			r.name, r.what, r.messages, r.rate(), r.rate()/base.rate(),
			r.cpu.Seconds()*1e6/float64(r.messages), r.cpu.Seconds()/base.cpu.Seconds(),
			float64(r.stats.Mallocs)/float64(r.messages), 100*r.stats.GCCPUSeconds/r.cpu.Seconds(), r.maxRSS/1024)
	}
	return b.String()
}

// renderGuarantees compares the stateful job in exactly-once mode with the
// same job at-least-once, measured in the same run.
func renderGuarantees(rs []result) string {
	var alo, eos *result
	for i := range rs {
		switch rs[i].name {
		case "stateful":
			alo = &rs[i]
		case "stateful-eos":
			eos = &rs[i]
		}
	}
	if alo == nil || eos == nil {
		return ""
	}
	return fmt.Sprintf("\nExactly-once against at-least-once (stateful job, same run): %.2f of the throughput, %.2f× the CPU per message.\n",
		eos.rate()/alo.rate(), eos.cpu.Seconds()/alo.cpu.Seconds())
}

// renderCores compares the CPU-bound job on every core with the same job
// on one (GOMAXPROCS=1).
func renderCores(rs []result, partitions int) string {
	var all, one *result
	for i := range rs {
		switch rs[i].name {
		case "cpu-bound":
			all = &rs[i]
		case "cpu-bound-1core":
			one = &rs[i]
		}
	}
	if all == nil || one == nil {
		return ""
	}
	return fmt.Sprintf("\nCPU-bound callback, every core against GOMAXPROCS=1 (same run, %d partitions): %.2f× the throughput.\n",
		partitions, all.rate()/one.rate())
}

// renderGrowth compares the jobs that differ only in state size, in
// partitions or in steps, each against its smallest variant.
func renderGrowth(rs []result, partitions int) string {
	byName := map[string]*result{}
	for i := range rs {
		byName[rs[i].name] = &rs[i]
	}
	var b strings.Builder
	line := func(label, base string, others ...string) {
		r0 := byName[base]
		if r0 == nil {
			return
		}
		var parts []string
		for _, o := range others {
			if r := byName[o]; r != nil {
				parts = append(parts, fmt.Sprintf("%s %.2f of the throughput, %.2f× the CPU per message, peak RSS %d MiB", o, r.rate()/r0.rate(), r.cpu.Seconds()/r0.cpu.Seconds(), r.maxRSS/1024))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "\n%s, against %s (peak RSS %d MiB): %s.\n", label, base, r0.maxRSS/1024, strings.Join(parts, "; "))
		}
	}
	line("State size (same work per message)", "state-1k", "state-100k", "state-1m")
	line("State size, 10 writes per message", "state10-10k", "state10-1m", "state10-10m")
	line("Chained steps", "chain-1", "chain-10")
	line(fmt.Sprintf("Partitions on one process (the native job; its row has %d)", partitions), "native", "native-32p", "native-256p")
	return b.String()
}

const (
	beginMark = "<!-- bench:begin -->"
	endMark   = "<!-- bench:end -->"
)

// rewrite replaces the text between the bench markers of path.
func rewrite(path, body string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(raw)
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	if i < 0 || j < i {
		return errors.New(path + " has no " + beginMark + " ... " + endMark + " section")
	}
	s = s[:i+len(beginMark)] + "\n" + body + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}

// recovery compares restoring a store from its changelog with reading the
// same changelog raw.
type recovery struct {
	records  int64
	restored time.Duration // qstar: the slowest partition's restore
	raw      time.Duration // raw consume of every partition of the changelog
}

var finished = regexp.MustCompile(`msg="finished recovering" changelog=\S+ applied=(\d+) skipped=(\d+) took=(\S+)`)

// measureRecovery runs recoveryJob to build a changelog of one record per
// input message, deletes its state, runs it again (no new input) and reads
// the restore figures from its log; then times a raw parallel read of the
// same changelog partitions with the reader recovery uses. With profile
// set, the restoring run writes its CPU profile there as recovery.prof.
func measureRecovery(qstar, addr, dir string, idle time.Duration, profile string) (recovery, error) {
	var rec recovery
	stateDir := filepath.Join(dir, "state-recovery")
	script := filepath.Join(dir, "recovery.star")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(recoveryJob, "bench-input", stateDir)), 0o644); err != nil {
		return rec, err
	}
	if _, err := measure(exec.Command(qstar, "run", script, "--broker", addr, "--stop-when-idle", idle.String()), idle); err != nil {
		return rec, err
	}
	if err := os.RemoveAll(stateDir); err != nil {
		return rec, err
	}
	// The job logs at WARNING; the recovery figures are INFO.
	cmd := exec.Command(qstar, "run", script, "--broker", addr, "--stop-when-idle", "1s", "--log-level", "INFO")
	if profile != "" {
		cmd.Args = append(cmd.Args, "--cpuprofile", filepath.Join(profile, "recovery.prof"))
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return rec, fmt.Errorf("%v\n%s", err, stderr.String())
	}
	for _, m := range finished.FindAllStringSubmatch(stderr.String(), -1) {
		applied, _ := strconv.ParseInt(m[1], 10, 64)
		skipped, _ := strconv.ParseInt(m[2], 10, 64)
		took, err := time.ParseDuration(m[3])
		if err != nil {
			return rec, err
		}
		rec.records += applied + skipped
		rec.restored = max(rec.restored, took)
	}
	if rec.records == 0 {
		return rec, fmt.Errorf("the job restored nothing:\n%s", stderr.String())
	}
	changelog := "changelog__bench-recovery--bench-input--default"
	admin, err := kafka.NewAdmin(addr, nil, nil)
	if err != nil {
		return rec, err
	}
	parts, err := admin.Partitions(context.Background(), []string{changelog})
	admin.Close()
	if err != nil {
		return rec, err
	}
	reader := &kafka.ChangelogReader{Brokers: addr}
	defer reader.Close()
	var wg sync.WaitGroup
	var read atomic.Int64
	errs := make(chan error, parts[changelog])
	start := time.Now()
	for p := 0; p < parts[changelog]; p++ {
		wg.Add(1)
		go func(p int32) {
			defer wg.Done()
			errs <- reader.Read(context.Background(), changelog, p, 0, func(*record.Record) error { read.Add(1); return nil })
		}(int32(p))
	}
	wg.Wait()
	rec.raw = time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			return rec, err
		}
	}
	if read.Load() != rec.records {
		return rec, fmt.Errorf("raw read %d changelog records, restored %d", read.Load(), rec.records)
	}
	return rec, nil
}

func renderRecovery(rs []recovery) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "\nState recovery (a job keeping one state key per message, state directory deleted, run again): %d changelog records restored in %s (%.0f records/s, partitions in parallel); a raw read of the same changelog partitions in parallel with the same reader took %s (%.0f records/s): ratio %.2f.\n",
			r.records, r.restored.Round(time.Millisecond), float64(r.records)/r.restored.Seconds(),
			r.raw.Round(time.Millisecond), float64(r.records)/r.raw.Seconds(), r.raw.Seconds()/r.restored.Seconds())
	}
	return b.String()
}
