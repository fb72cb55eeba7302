package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/kafka"
	qrecord "github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/runtime"
)

// joinJob enriches orders with the customer record current at each
// order's time (join_asof), over 4 co-partitioned partitions.
const joinJob = `
app = Application(consumer_group="join-e2e", auto_offset_reset="earliest", commit_interval=0.5)
orders = app.topic("orders", config=TopicConfig(num_partitions=4, replication_factor=1))
customers = app.topic("customers", config=TopicConfig(num_partitions=4, replication_factor=1))
sdf = app.dataframe(orders).join_asof(app.dataframe(customers), how="inner", on_merge="keep-left")
sdf.to_topic(app.topic("joined"))
app.run()
`

type joinInput struct {
	topic string
	key   string
	value map[string]any
	ts    int64
}

// joinInputs returns 1,000 customers (each with 1 to 3 versions over
// time) and 100,000 orders, each topic in timestamp order. Orders of 50
// unknown customers, and orders placed before their customer's first
// record, have no match.
func joinInputs(rng *rand.Rand) (customers, orders []joinInput) {
	for c := 0; c < 1000; c++ {
		versions := 1 + rng.IntN(3)
		for v := 0; v < versions; v++ {
			ts := int64(1_000_000 + rng.IntN(100_000_000))
			customers = append(customers, joinInput{"customers", fmt.Sprintf("c%04d", c), map[string]any{"customer": fmt.Sprintf("c%04d", c), "tier": fmt.Sprintf("t%d-%d", c, v), "since": ts}, ts})
		}
	}
	for o := 0; o < 100_000; o++ {
		ts := int64(1_000_000 + o*1000)
		c := rng.IntN(1050)
		orders = append(orders, joinInput{"orders", fmt.Sprintf("c%04d", c), map[string]any{"order": o, "amount": rng.IntN(500)}, ts})
	}
	sort.SliceStable(customers, func(i, j int) bool { return customers[i].ts < customers[j].ts })
	return customers, orders
}

// bruteForceAsOf joins each order with the latest record of its customer
// at or before its timestamp, as the job should: map from order id to the
// joined value's JSON.
func bruteForceAsOf(customers, orders []joinInput) map[int]string {
	byKey := map[string][]joinInput{}
	for _, c := range customers {
		byKey[c.key] = append(byKey[c.key], c)
	}
	want := map[int]string{}
	for _, o := range orders {
		var match *joinInput
		for i, c := range byKey[o.key] {
			if c.ts <= o.ts && (match == nil || c.ts >= match.ts) {
				match = &byKey[o.key][i]
			}
		}
		if match == nil {
			continue
		}
		merged := map[string]any{}
		for k, v := range match.value {
			merged[k] = v
		}
		for k, v := range o.value {
			merged[k] = v
		}
		b, _ := json.Marshal(merged)
		want[o.value["order"].(int)] = string(b)
	}
	return want
}

func produceJoinInputs(t *testing.T, addr string, recs []joinInput) {
	t.Helper()
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: addr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		v, _ := json.Marshal(r.value)
		if err := p.Produce(&qrecord.Record{Topic: r.topic, Partition: -1, Key: []byte(r.key), Value: v, Timestamp: r.ts}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(time.Minute); err != nil {
		t.Fatal(err)
	}
}

// TestJoinAsOfRestart runs a join_asof job over 100,000 orders and 1,000
// customers on 4 partitions in two runs: the first reads every customer
// and half of the orders; its state directory is then deleted, so the
// second rebuilds the customers' store from its changelog before it
// reads the other half. Every joined record must equal a brute-force join
// of the inputs, once.
func TestJoinAsOfRestart(t *testing.T) {
	addr := startBroker(t)
	ensureTopics(t, addr,
		kafka.TopicSpec{Name: "orders", NumPartitions: 4, ReplicationFactor: 1},
		kafka.TopicSpec{Name: "customers", NumPartitions: 4, ReplicationFactor: 1})
	customers, orders := joinInputs(rand.New(rand.NewPCG(16, 1)))
	want := bruteForceAsOf(customers, orders)

	stateDir := t.TempDir()
	half := len(orders) / 2
	produceJoinInputs(t, addr, customers)
	produceJoinInputs(t, addr, orders[:half])
	runUntilIdle(t, joinJob, addr, stateDir)
	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	produceJoinInputs(t, addr, orders[half:])
	runUntilIdle(t, joinJob, addr, stateDir)

	got := map[int]string{}
	dup := 0
	for _, r := range consumeTopic(t, addr, "joined") {
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		id := int(v["order"].(float64))
		if _, seen := got[id]; seen {
			dup++
		}
		b, _ := json.Marshal(v)
		got[id] = string(b)
	}
	if dup > 0 {
		t.Errorf("%d orders came out more than once", dup)
	}
	missing, wrong := 0, 0
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			missing++
		case g != w:
			if wrong < 3 {
				t.Errorf("order %d: got %s, want %s", id, g, w)
			}
			wrong++
		}
	}
	extra := 0
	for id := range got {
		if _, ok := want[id]; !ok {
			extra++
		}
	}
	if missing+wrong+extra > 0 {
		t.Errorf("%d joined orders missing, %d wrong, %d unexpected (of %d expected)", missing, wrong, extra, len(want))
	}
	if len(want) < len(orders)/2 || len(want) == len(orders) {
		t.Fatalf("the inputs join %d of %d orders: the test needs both matches and misses", len(want), len(orders))
	}
	t.Logf("%d of %d orders joined, as the brute-force join says", len(got), len(orders))
}

// TestCopartitioningMismatch pins that a join of topics with different
// partition counts fails at start with the topics and their counts.
func TestCopartitioningMismatch(t *testing.T) {
	addr := startBroker(t)
	ensureTopics(t, addr,
		kafka.TopicSpec{Name: "orders", NumPartitions: 4, ReplicationFactor: 1},
		kafka.TopicSpec{Name: "customers", NumPartitions: 2, ReplicationFactor: 1})
	s, err := runtime.Load("job.star", []byte(`
app = Application(consumer_group="mismatch", auto_offset_reset="earliest")
sdf = app.dataframe(app.topic("orders")).join_asof(app.dataframe(app.topic("customers")))
sdf.to_topic(app.topic("joined"))
app.run()
`), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	err = runtime.Run(context.Background(), s, runtime.Options{
		Broker: addr, StopWhenIdle: 500 * time.Millisecond, Logger: testLogger(t), Getenv: noEnv, StateDir: t.TempDir(), Stdout: &bytes.Buffer{},
	})
	if err == nil {
		t.Fatal("the job started although its joined topics have different partition counts")
	}
	for _, want := range []string{`"customers" (2 partitions)`, `"orders" (4 partitions)`, "co-partitioned"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
}

// TestJoinIntervalBroker runs join_interval over two topics of 4
// partitions through the embedded broker: 5,000 orders and 5,000
// payments on 200 keys, each topic in timestamp order. Processed in
// timestamp order across the topics, every pair of a key with
// -forward_ms <= order.ts - payment.ts <= backward_ms comes out exactly
// once, which a brute force over the inputs counts.
func TestJoinIntervalBroker(t *testing.T) {
	addr := startBroker(t)
	ensureTopics(t, addr,
		kafka.TopicSpec{Name: "orders", NumPartitions: 4, ReplicationFactor: 1},
		kafka.TopicSpec{Name: "payments", NumPartitions: 4, ReplicationFactor: 1})
	rng := rand.New(rand.NewPCG(17, 2))
	gen := func(topic, field string) []joinInput {
		var out []joinInput
		ts := int64(1_000_000)
		for i := 0; i < 5000; i++ {
			ts += int64(rng.IntN(20))
			out = append(out, joinInput{topic, fmt.Sprintf("k%03d", rng.IntN(200)), map[string]any{field: i}, ts})
		}
		return out
	}
	orders, payments := gen("orders", "order"), gen("payments", "payment")
	const backward, forward = 2000, 1500
	want := map[[2]int]bool{}
	for _, o := range orders {
		for _, p := range payments {
			if d := o.ts - p.ts; o.key == p.key && d >= -forward && d <= backward {
				want[[2]int{o.value["order"].(int), p.value["payment"].(int)}] = true
			}
		}
	}
	produceJoinInputs(t, addr, payments)
	produceJoinInputs(t, addr, orders)
	runUntilIdle(t, fmt.Sprintf(`
app = Application(consumer_group="interval-e2e", auto_offset_reset="earliest")
orders = app.dataframe(app.topic("orders"))
payments = app.dataframe(app.topic("payments"))
sdf = orders.join_interval(payments, backward_ms=%d, forward_ms=%d)
sdf.to_topic(app.topic("paired"))
app.run()
`, backward, forward), addr, t.TempDir())
	got := map[[2]int]int{}
	for _, r := range consumeTopic(t, addr, "paired") {
		var v struct{ Order, Payment int }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		got[[2]int{v.Order, v.Payment}]++
	}
	missing, dup, extra := 0, 0, 0
	for p := range want {
		switch got[p] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	for p := range got {
		if !want[p] {
			extra++
		}
	}
	if missing+dup+extra > 0 || len(want) < 1000 {
		t.Errorf("%d pairs expected: %d missing, %d more than once, %d unexpected", len(want), missing, dup, extra)
	}
	t.Logf("%d pairs, as the brute force says", len(got))
}

// TestConcatStatefulRestart counts records per key over the
// concatenation of two topics (a store of the merged stream, changed by
// both), in two runs with the state directory deleted in between: the
// second rebuilds the count from a changelog whose records carry both
// topics' offsets (__processed_tp_offsets__). The last count of each key
// must be its number of records in both topics.
func TestConcatStatefulRestart(t *testing.T) {
	addr := startBroker(t)
	ensureTopics(t, addr,
		kafka.TopicSpec{Name: "eu", NumPartitions: 4, ReplicationFactor: 1},
		kafka.TopicSpec{Name: "us", NumPartitions: 4, ReplicationFactor: 1})
	rng := rand.New(rand.NewPCG(18, 3))
	total := map[string]int{}
	gen := func(topic string, n int) []joinInput {
		var out []joinInput
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("k%02d", rng.IntN(50))
			total[k]++
			out = append(out, joinInput{topic, k, map[string]any{"i": i}, int64(1_000_000 + i)})
		}
		return out
	}
	eu, us := gen("eu", 4000), gen("us", 3000)
	job := `
app = Application(consumer_group="concat-e2e", auto_offset_reset="earliest", commit_interval=0.5)
def count(value, key, timestamp, headers, state):
    n = state.get("n", 0) + 1
    state.set("n", n)
    return {"key": str(key), "n": n}
sdf = app.dataframe(app.topic("eu")).concat(app.dataframe(app.topic("us")))
sdf = sdf.apply(count, stateful=True, metadata=True)
sdf.to_topic(app.topic("counts"))
app.run()
`
	stateDir := t.TempDir()
	produceJoinInputs(t, addr, eu[:2000])
	produceJoinInputs(t, addr, us[:1500])
	runUntilIdle(t, job, addr, stateDir)
	if err := os.RemoveAll(stateDir); err != nil {
		t.Fatal(err)
	}
	produceJoinInputs(t, addr, eu[2000:])
	produceJoinInputs(t, addr, us[1500:])
	runUntilIdle(t, job, addr, stateDir)
	last := map[string]int{}
	records := 0
	for _, r := range consumeTopic(t, addr, "counts") {
		var v struct {
			Key string
			N   int
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		records++
		last[v.Key] = max(last[v.Key], v.N)
	}
	if records != len(eu)+len(us) {
		t.Errorf("%d counts, want one per record (%d)", records, len(eu)+len(us))
	}
	for k, n := range total {
		if last["b'"+k+"'"] != n {
			t.Errorf("key %s: last count %d, want %d", k, last["b'"+k+"'"], n)
		}
	}
}
