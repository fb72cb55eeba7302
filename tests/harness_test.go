package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/runtime"
)

// testLogger sends logs to the test's log, shown on failure or with -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startBroker starts a kfake broker on a free port for this test only.
func startBroker(t *testing.T) string {
	t.Helper()
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Addr()
}

// record is the part of a JSON Lines record the tests compare.
type record struct {
	Topic     string            `json:"topic"`
	Key       json.RawMessage   `json:"key"`
	Value     json.RawMessage   `json:"value"`
	Timestamp int64             `json:"timestamp"`
	Headers   map[string]string `json:"headers,omitempty"`
}

// String renders a record with its value in compact JSON, keeping the
// exact number formatting and key order of the bytes on the topic.
func (r record) String() string {
	var v bytes.Buffer
	_ = json.Compact(&v, r.Value)
	return string(r.Key) + " " + v.String() + " @" + time.UnixMilli(r.Timestamp).UTC().Format("15:04:05.000")
}

// JSON renders a record as one compact JSON line for want files.
func (r record) JSON() string {
	var v bytes.Buffer
	_ = json.Compact(&v, r.Value)
	key := string(r.Key)
	if key == "" {
		key = "null"
	}
	return `{"topic":"` + r.Topic + `","key":` + key + `,"value":` + v.String() + `,"timestamp":` + strconv.FormatInt(r.Timestamp, 10) + `}`
}

func readRecords(t *testing.T, path string) []record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return parseRecords(t, f)
}

func parseRecords(t *testing.T, r io.Reader) []record {
	t.Helper()
	var out []record
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("bad record %s: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// produceRecords produces records to their topics, in order.
func produceRecords(t *testing.T, addr string, recs []record) {
	t.Helper()
	for _, rec := range recs {
		fields := map[string]any{"key": rec.Key, "value": rec.Value, "timestamp": rec.Timestamp}
		if len(rec.Headers) > 0 {
			fields["headers"] = rec.Headers
		}
		line, _ := json.Marshal(fields)
		if _, err := runtime.ProduceLines(context.Background(), bytes.NewReader(line), addr, rec.Topic, runtime.ProduceOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// consumeTopic reads a whole topic.
func consumeTopic(t *testing.T, addr, topic string) []record {
	t.Helper()
	return readTopic(t, addr, topic, runtime.ReadCommitted, 700*time.Millisecond)
}

// readTopic reads a whole topic at an isolation level, until it has been
// idle for idle.
func readTopic(t *testing.T, addr, topic, isolation string, idle time.Duration) []record {
	t.Helper()
	var buf bytes.Buffer
	if _, err := runtime.ConsumeLines(context.Background(), &buf, addr, topic, runtime.ConsumeOptions{
		FromBeginning: true, StopWhenIdle: idle, Isolation: isolation,
	}); err != nil {
		t.Fatal(err)
	}
	return parseRecords(t, &buf)
}

// diffRecords reports the first difference between two record lists.
func diffRecords(t *testing.T, got, want []record) {
	t.Helper()
	n := max(len(got), len(want))
	for i := 0; i < n; i++ {
		var g, w string
		if i < len(got) {
			g = got[i].String()
		}
		if i < len(want) {
			w = want[i].String()
		}
		if g != w {
			t.Errorf("record %d:\n got  %s\n want %s", i, g, w)
		}
	}
}

func noEnv(string) string { return "" }

// ensureTopics creates the topics (those that do not exist).
func ensureTopics(t *testing.T, addr string, specs ...kafka.TopicSpec) {
	t.Helper()
	admin, err := kafka.NewAdmin(addr, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.EnsureTopics(ctx, specs); err != nil {
		t.Fatal(err)
	}
}
