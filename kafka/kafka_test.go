package kafka

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/record"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// brokerWithTopic starts an in-memory broker with one topic and returns its
// address and an admin client, both closed when the test ends.
func brokerWithTopic(t *testing.T, topic string, partitions int) (string, *Admin) {
	t.Helper()
	b, err := StartBroker(BrokerConfig{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	admin, err := NewAdmin(b.Addr(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.EnsureTopics(ctx, []TopicSpec{{Name: topic, NumPartitions: partitions}}); err != nil {
		t.Fatal(err)
	}
	return b.Addr(), admin
}

func TestBuildConfigRejectsManagedKeys(t *testing.T) {
	for _, key := range []string{"group.id", "enable.auto.commit", "enable.auto.offset.store", "bootstrap.servers", "go.events.channel.enable"} {
		_, err := NewConsumer(ConsumerConfig{Brokers: "x:1", GroupID: "g", Extra: map[string]string{key: "1"}})
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("extra %q: got %v", key, err)
		}
	}
	if _, err := NewConsumer(ConsumerConfig{Brokers: "x:1", GroupID: "g", AutoOffsetReset: "middle"}); err == nil {
		t.Error("auto_offset_reset=middle accepted")
	}
}

// TestEmbeddedAttach pins the data-directory protocol: the first opener
// starts the broker, a second attaches to its address, and after the first
// closes the directory can be opened again, with its topics persisted.
func TestEmbeddedAttach(t *testing.T) {
	dir := t.TempDir()
	first, err := OpenEmbedded(dir, "127.0.0.1:0", quiet())
	if err != nil {
		t.Fatal(err)
	}
	if first.Broker == nil {
		t.Fatal("first open did not start a broker")
	}
	second, err := OpenEmbedded(dir, "127.0.0.1:0", quiet())
	if err != nil {
		t.Fatal(err)
	}
	if second.Broker != nil || second.Addr != first.Addr {
		t.Fatalf("second open: broker %v addr %s, want to attach to %s", second.Broker, second.Addr, first.Addr)
	}
	admin, err := NewAdmin(first.Addr, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.EnsureTopics(ctx, []TopicSpec{{Name: "kept", NumPartitions: 3}}); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	first.Close()

	third, err := OpenEmbedded(dir, "127.0.0.1:0", quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if third.Broker == nil {
		t.Fatal("reopen after close did not start a broker")
	}
	admin, err = NewAdmin(third.Addr, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	parts, err := admin.Partitions(ctx, []string{"kept"})
	if err != nil || parts["kept"] != 3 {
		t.Errorf("after restart topic kept has %v partitions (%v), want 3", parts["kept"], err)
	}
}

// TestRoundTrip produces and reads back key, value, timestamp and headers,
// including a message without a key.
func TestRoundTrip(t *testing.T) {
	addr, admin := brokerWithTopic(t, "rt", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := NewProducer(ProducerConfig{Brokers: addr, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []record.Record{
		{Topic: "rt", Partition: -1, Key: []byte("k"), Value: []byte("v1"), Timestamp: 1234, Headers: []record.Header{{Key: "h", Value: []byte("x")}}},
		{Topic: "rt", Partition: -1, Value: []byte("v2"), Timestamp: 5678},
	}
	for i := range msgs {
		if err := p.Produce(&msgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if n, err := admin.EndOffsets(ctx, "rt"); err != nil || n != 2 {
		t.Errorf("EndOffsets = %d, %v; want 2", n, err)
	}
	r, err := NewReader(addr, "rt", true, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []*record.Record
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < 2 && time.Now().Before(deadline) {
		m, err := r.Poll(100 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if m != nil {
			got = append(got, m)
		}
	}
	if len(got) != 2 {
		t.Fatalf("read %d messages, want 2", len(got))
	}
	if string(got[0].Key) != "k" || string(got[0].Value) != "v1" || got[0].Timestamp != 1234 ||
		len(got[0].Headers) != 1 || got[0].Headers[0].Key != "h" || string(got[0].Headers[0].Value) != "x" {
		t.Errorf("first message %+v", got[0])
	}
	if got[1].Key != nil || got[1].Headers != nil || got[1].Timestamp != 5678 {
		t.Errorf("second message %+v: want no key, no headers", got[1])
	}
}

// TestFlushReportsDeliveryFailure pins that a message librdkafka cannot
// deliver is reported by Flush: the engine relies on it to never commit
// past lost outputs.
func TestFlushReportsDeliveryFailure(t *testing.T) {
	addr, _ := brokerWithTopic(t, "one", 1)
	p, err := NewProducer(ProducerConfig{Brokers: addr, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(time.Second)
	if err := p.Produce(&record.Record{Topic: "one", Partition: 7, Value: []byte("x")}); err != nil {
		return // rejected synchronously: also never silently lost
	}
	err = p.Flush(30 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "one[7]") {
		t.Errorf("Flush = %v, want a delivery error for one[7]", err)
	}
	if err := p.Flush(time.Second); err != nil {
		t.Errorf("the failure was reported twice: %v", err)
	}
}

func TestSplitListen(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
		ok   bool
	}{
		{"127.0.0.1:9092", "127.0.0.1", 9092, true},
		{":0", "0.0.0.0", 0, true},
		{"localhost", "", 0, false},
		{"h:99999", "", 0, false},
	} {
		h, p, err := splitListen(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (h != tc.host || p != tc.port)) {
			t.Errorf("splitListen(%q) = %q, %d, %v", tc.in, h, p, err)
		}
	}
}

// TestLibrdkafkaLogsGoToTheLogger: librdkafka's own log lines reach the
// client's logger (not stderr), at confluent-kafka-python's levels, for
// every kind of client.
func TestLibrdkafkaLogsGoToTheLogger(t *testing.T) {
	addr, _ := brokerWithTopic(t, "logs", 1)
	var buf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	debug := map[string]string{"debug": "generic"} // level-7 lines on creation
	c, err := NewConsumer(ConsumerConfig{Brokers: addr, GroupID: "g", Extra: debug, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	// The forwarding goroutines poll every 100ms; what is still queued when
	// a client closes is dropped.
	settle := func() { time.Sleep(300 * time.Millisecond) }
	settle()
	_ = c.Close()
	p, err := NewProducer(ProducerConfig{Brokers: addr, Extra: debug, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	settle()
	_ = p.Close(time.Second)
	a, err := NewAdmin(addr, debug, log)
	if err != nil {
		t.Fatal(err)
	}
	settle()
	a.Close()
	r, err := NewReader(addr, "logs", true, debug, log)
	if err != nil {
		t.Fatal(err)
	}
	settle()
	_ = r.Close()
	out := buf.String()
	// Four clients: the consumer and the reader are librdkafka consumers,
	// the producer and the admin client librdkafka producers.
	clients := map[string]bool{}
	for _, m := range regexp.MustCompile(`client=(rdkafka#\w+-\d+)`).FindAllStringSubmatch(out, -1) {
		clients[m[1]] = true
	}
	if len(clients) != 4 {
		t.Errorf("log lines came from %v, want four clients:\n%s", clients, out)
	}
	if !strings.Contains(out, "level=DEBUG") {
		t.Errorf("librdkafka's debug lines are not at DEBUG:\n%s", out)
	}
}

// TestUnreachableBrokerIsNamed: an admin request that cannot reach the
// cluster says which brokers it tried.
func TestUnreachableBrokerIsNamed(t *testing.T) {
	a, err := NewAdmin("127.0.0.1:1", nil, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := a.Partitions(ctx, []string{"t"}); err == nil || !strings.Contains(err.Error(), "kafka: read metadata from 127.0.0.1:1: ") {
		t.Errorf("error = %v", err)
	}
}

// TestChangelogReaderWatermarks: concurrent Watermarks calls share one
// consumer and see what was produced; Close releases it and a later call
// opens another.
func TestChangelogReaderWatermarks(t *testing.T) {
	addr, _ := brokerWithTopic(t, "cl", 4)
	p, err := NewProducer(ProducerConfig{Brokers: addr, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	for part := int32(0); part < 4; part++ {
		for i := int32(0); i <= part; i++ {
			if err := p.Produce(&record.Record{Topic: "cl", Partition: part, Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := p.Close(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	r := &ChangelogReader{Brokers: addr, Logger: quiet()}
	var wg sync.WaitGroup
	for part := int32(0); part < 4; part++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			low, high, err := r.Watermarks("cl", part)
			if err != nil || low != 0 || high != int64(part)+1 {
				t.Errorf("Watermarks(cl, %d) = %d, %d, %v; want 0, %d", part, low, high, err, part+1)
			}
		}()
	}
	wg.Wait()
	r.Close()
	if _, high, err := r.Watermarks("cl", 3); err != nil || high != 4 {
		t.Errorf("after Close: high %d, %v", high, err)
	}
	r.Close()
}

func TestQuieterHoldsBackRepeats(t *testing.T) {
	var buf bytes.Buffer
	q := newQuieter(slog.New(slog.NewTextHandler(&buf, nil)))
	for i := 0; i < 50; i++ {
		q.Log(slog.LevelError, fmt.Sprintf("127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after %dms in state CONNECT)", i))
		q.Log(slog.LevelWarn, "kafka consumer error", "error", "1/1 brokers are down")
	}
	q.Log(slog.LevelWarn, "kafka consumer error", "error", "2/2 brokers are down")
	q.Log(slog.LevelInfo, "kafka consumer error", "error", "2/2 brokers are down")
	q.Log(slog.LevelInfo, "kafka consumer error", "error", "2/2 brokers are down")
	if n := strings.Count(buf.String(), "\n"); n != 5 {
		t.Errorf("logged %d lines, want 5 (one per distinct warning, info always):\n%s", n, buf.String())
	}
	// After the window, the next one says how many were held back.
	for _, r := range q.seen {
		r.since = r.since.Add(-repeatWindow)
	}
	buf.Reset()
	q.Log(slog.LevelWarn, "kafka consumer error", "error", "1/1 brokers are down")
	if !strings.Contains(buf.String(), "repeated=49 in_last=30s") {
		t.Errorf("after the window: %q", buf.String())
	}
}

type noHandler struct{}

func (noHandler) Assigned([]record.TopicPartition) error { return nil }
func (noHandler) Revoked([]record.TopicPartition) error  { return nil }
func (noHandler) Lost([]record.TopicPartition) error     { return nil }

// TestFromStart: with auto.offset.reset=latest, a FromStart topic (a
// repartition topic) without committed offsets is read from its start,
// while the other topics start at their end.
func TestFromStart(t *testing.T) {
	addr, _ := brokerWithTopic(t, "rep", 1)
	p, err := NewProducer(ProducerConfig{Brokers: addr, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"rep", "rep", "other"} {
		if err := p.Produce(&record.Record{Topic: topic, Partition: -1, Value: []byte(topic)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	c, err := NewConsumer(ConsumerConfig{Brokers: addr, GroupID: "fs", AutoOffsetReset: "latest", FromStart: []string{"rep"}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe([]string{"rep", "other"}, noHandler{}); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		m, err := c.Poll(100 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if m != nil {
			got[m.Topic]++
		}
	}
	if got["rep"] != 2 || got["other"] != 0 {
		t.Errorf("read %v: want both messages of rep (from its start) and none of other (latest)", got)
	}
}
