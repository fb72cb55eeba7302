package tests

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/runtime"
)

// TestTopicCreation pins how topics are created: app topics with
// TopicConfig's partition count (default 1), the repartition topic of a
// group_by and the changelog topics with their source's partition count,
// and Quix Streams' names for them.
func TestTopicCreation(t *testing.T) {
	addr := startBroker(t)
	s, err := runtime.Load("job.star", []byte(`
app = Application(consumer_group="shop", auto_offset_reset="earliest")
orders = app.topic("orders", config=TopicConfig(num_partitions=3))
out = app.topic("out")
def total(v, state):
    state.set("t", state.get("t", 0) + 1)
    return v
sdf = app.dataframe(orders).group_by("customer").apply(total, stateful=True)
sdf.to_topic(out)
app.run()
`), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if err := runtime.Run(context.Background(), s, runtime.Options{
		Broker: addr, StopWhenIdle: 500 * time.Millisecond, Logger: testLogger(t), Getenv: noEnv, StateDir: t.TempDir(), Stdout: &bytes.Buffer{},
	}); err != nil {
		t.Fatal(err)
	}
	admin, err := kafka.NewAdmin(addr, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	want := map[string]int{
		"orders":                              3,
		"out":                                 1,
		"repartition__shop--orders--customer": 3,
		"changelog__shop--repartition.orders.customer--default": 3,
	}
	var names []string
	for n := range want {
		names = append(names, n)
	}
	got, err := admin.Partitions(context.Background(), names)
	if err != nil {
		t.Fatal(err)
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("topic %s has %d partitions, want %d", n, got[n], w)
		}
	}
}

// TestChangelogValidation pins the startup validation of existing
// changelog topics: a wrong partition count and a changelog that is not
// compacted are reported together, and the job does not start.
func TestChangelogValidation(t *testing.T) {
	addr := startBroker(t)
	admin, err := kafka.NewAdmin(addr, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.EnsureTopics(context.Background(), []kafka.TopicSpec{
		{Name: "events", NumPartitions: 2, ReplicationFactor: 1},
		{Name: "changelog__v--events--default", NumPartitions: 1, ReplicationFactor: 1, Config: map[string]string{"cleanup.policy": "delete"}},
		{Name: "changelog__v--events--tumbling_window_1000_count", NumPartitions: 2, ReplicationFactor: 1, Config: map[string]string{"cleanup.policy": "compact,delete"}},
	}); err != nil {
		t.Fatal(err)
	}
	s, err := runtime.Load("job.star", []byte(`
app = Application(consumer_group="v", auto_offset_reset="earliest")
sdf = app.dataframe(app.topic("events"))
def count(v, state):
    state.set("n", state.get("n", 0) + 1)
    return v
sdf = sdf.apply(count, stateful=True)
sdf = sdf.tumbling_window(1000).count().final()
app.run()
`), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	err = runtime.Run(context.Background(), s, runtime.Options{
		Broker: addr, StopWhenIdle: 500 * time.Millisecond, Logger: testLogger(t), Getenv: noEnv, StateDir: t.TempDir(), Stdout: &bytes.Buffer{},
	})
	if err == nil {
		t.Fatal("the job started on a changelog with the wrong partition count and no compaction")
	}
	for _, want := range []string{
		`changelog topic "changelog__v--events--default" has 1 partitions; its source topic "events" has 2`,
		`changelog topic "changelog__v--events--default" has cleanup.policy=delete`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "changelog__v--events--tumbling_window_1000_count") {
		t.Errorf("error %q reports the compacted changelog", err)
	}
}

// TestChangelogReplication pins that changelog topics are created with
// their source topic's replication factor and that an existing changelog
// with another one is reported.
func TestChangelogReplication(t *testing.T) {
	b, err := kafka.StartBroker(kafka.BrokerConfig{Brokers: 3, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	admin, err := kafka.NewAdmin(b.Addr(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.EnsureTopics(context.Background(), []kafka.TopicSpec{
		{Name: "replicated", NumPartitions: 2, ReplicationFactor: 2},
	}); err != nil {
		t.Fatal(err)
	}
	run := func(group string) error {
		s, err := runtime.Load("job.star", []byte(`
app = Application(consumer_group="`+group+`", auto_offset_reset="earliest")
def count(v, state):
    state.set("n", state.get("n", 0) + 1)
    return v
app.dataframe(app.topic("replicated")).apply(count, stateful=True)
app.run()
`), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		return runtime.Run(context.Background(), s, runtime.Options{
			Broker: b.Addr(), StopWhenIdle: 500 * time.Millisecond, Logger: testLogger(t), Getenv: noEnv, StateDir: t.TempDir(), Stdout: &bytes.Buffer{},
		})
	}
	if err := run("created"); err != nil {
		t.Fatal(err)
	}
	rf, err := admin.ReplicationFactors(context.Background(), []string{"changelog__created--replicated--default"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rf["changelog__created--replicated--default"]; got != 2 {
		t.Errorf("the changelog was created with replication factor %d, want 2 (its source's)", got)
	}

	if _, err := admin.EnsureTopics(context.Background(), []kafka.TopicSpec{
		{Name: "changelog__existing--replicated--default", NumPartitions: 2, ReplicationFactor: 1, Config: map[string]string{"cleanup.policy": "compact"}},
	}); err != nil {
		t.Fatal(err)
	}
	err = run("existing")
	want := `changelog topic "changelog__existing--replicated--default" has replication factor 1; its source topic "replicated" has 2`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a changelog with another replication factor: error %v, want %q", err, want)
	}
}

// TestJoinRepartitionPartitions pins that a group_by's repartition topic
// that is joined takes the partition count of the topic it is joined
// with (the topic it re-keys has another), and that the joined output
// comes out.
func TestJoinRepartitionPartitions(t *testing.T) {
	addr := startBroker(t)
	ensureTopics(t, addr,
		kafka.TopicSpec{Name: "orders", NumPartitions: 2, ReplicationFactor: 1},
		kafka.TopicSpec{Name: "customers", NumPartitions: 4, ReplicationFactor: 1})
	produceJoinInputs(t, addr, []joinInput{
		{"customers", "c1", map[string]any{"name": "Ada"}, 1000},
		{"orders", "o1", map[string]any{"order": 1, "customer": "c1"}, 2000},
	})
	runUntilIdle(t, `
app = Application(consumer_group="shop", auto_offset_reset="earliest")
customers = app.dataframe(app.topic("customers", key_deserializer="str"))
orders = app.dataframe(app.topic("orders")).group_by("customer", key_serializer="str", key_deserializer="str")
orders.join_asof(customers).to_topic(app.topic("joined"))
app.run()
`, addr, t.TempDir())
	admin, err := kafka.NewAdmin(addr, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	got, err := admin.Partitions(context.Background(), []string{"repartition__shop--orders--customer", "changelog__shop--customers--join"})
	if err != nil {
		t.Fatal(err)
	}
	if got["repartition__shop--orders--customer"] != 4 || got["changelog__shop--customers--join"] != 4 {
		t.Errorf("partitions %v: the repartition topic and the changelog must have the 4 of customers", got)
	}
	out := consumeTopic(t, addr, "joined")
	if len(out) != 1 || !strings.Contains(string(out[0].Value), `"name":"Ada"`) {
		t.Errorf("joined %v", out)
	}
}
