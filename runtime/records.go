package runtime

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/record"
)

// Record is one message in qstar's JSON Lines format, the same for
// `qstar produce` (input) and `qstar consume` (output):
//
//	{"topic": str, "partition": int, "offset": int, "timestamp": int ms,
//	 "key": str|null, "value": any, "headers": {name: str}}
//
// On input only "value" is required; "topic" and "offset" are ignored.
type Record struct {
	Topic     string            `json:"topic"`
	Partition *int32            `json:"partition,omitempty"`
	Offset    int64             `json:"offset"`
	Timestamp *int64            `json:"timestamp,omitempty"`
	Key       json.RawMessage   `json:"key"`
	Value     json.RawMessage   `json:"value"`
	Headers   map[string]string `json:"headers"`
}

// ProduceOptions configures ProduceLines.
type ProduceOptions struct {
	// ValueFormat is "json" (the value is written as compact JSON) or
	// "str" (the value must be a JSON string, written as raw UTF-8 text).
	ValueFormat string
	// Partitions is the partition count of the topic if it must be created.
	Partitions int
	// Logger receives the clients' logs; default slog.Default().
	Logger *slog.Logger
}

// ProduceLines reads JSON Lines records from r and produces them to topic,
// creating the topic if it does not exist. It returns how many it produced.
func ProduceLines(ctx context.Context, r io.Reader, brokers, topic string, opts ProduceOptions) (int, error) {
	if opts.ValueFormat == "" {
		opts.ValueFormat = "json"
	}
	if opts.ValueFormat != "json" && opts.ValueFormat != "str" {
		return 0, fmt.Errorf("value format must be json or str, not %q", opts.ValueFormat)
	}
	admin, err := kafka.NewAdmin(brokers, nil, opts.Logger)
	if err != nil {
		return 0, err
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	_, err = admin.EnsureTopics(tctx, []kafka.TopicSpec{{Name: topic, NumPartitions: max(opts.Partitions, 1), ReplicationFactor: 1}})
	cancel()
	admin.Close()
	if err != nil {
		return 0, err
	}
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: brokers, Logger: opts.Logger})
	if err != nil {
		return 0, err
	}
	n := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		m, err := parseRecord(raw, topic, opts.ValueFormat)
		if err != nil {
			_ = p.Close(30 * time.Second)
			return n, fmt.Errorf("stdin:%d: %w", line, err)
		}
		if err := p.Produce(m); err != nil {
			_ = p.Close(30 * time.Second)
			return n, fmt.Errorf("stdin:%d: %w", line, err)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		_ = p.Close(30 * time.Second)
		return n, fmt.Errorf("read stdin: %w", err)
	}
	if err := p.Close(time.Minute); err != nil {
		return n, err
	}
	return n, nil
}

func parseRecord(raw []byte, topic, valueFormat string) (*record.Record, error) {
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("not a record (%v); want {\"key\": ..., \"value\": ..., \"timestamp\": ms, \"partition\": n, \"headers\": {...}}", err)
	}
	if rec.Value == nil {
		return nil, errors.New(`the record has no "value"`)
	}
	m := &record.Record{Topic: topic, Partition: -1}
	if rec.Partition != nil {
		if *rec.Partition < 0 {
			return nil, fmt.Errorf("partition %d is negative", *rec.Partition)
		}
		m.Partition = *rec.Partition
	}
	if rec.Timestamp != nil {
		if *rec.Timestamp <= 0 {
			return nil, fmt.Errorf("timestamp %d must be positive milliseconds", *rec.Timestamp)
		}
		m.Timestamp = *rec.Timestamp
	}
	if len(rec.Key) > 0 && string(rec.Key) != "null" {
		var k string
		if err := json.Unmarshal(rec.Key, &k); err != nil {
			return nil, fmt.Errorf("key must be a JSON string or null, got %s", rec.Key)
		}
		m.Key = []byte(k)
	}
	switch valueFormat {
	case "str":
		var s string
		if err := json.Unmarshal(rec.Value, &s); err != nil {
			return nil, fmt.Errorf("with --value-format str the value must be a JSON string, got %s", rec.Value)
		}
		m.Value = []byte(s)
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, rec.Value); err != nil {
			return nil, err
		}
		m.Value = buf.Bytes()
	}
	names := make([]string, 0, len(rec.Headers))
	for k := range rec.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		m.Headers = append(m.Headers, record.Header{Key: k, Value: []byte(rec.Headers[k])})
	}
	return m, nil
}

// ConsumeOptions configures ConsumeLines.
type ConsumeOptions struct {
	FromBeginning bool
	// StopWhenIdle, when positive, returns once nothing new arrived for
	// that long.
	StopWhenIdle time.Duration
	// Isolation is "read_committed" (the default: messages of aborted or
	// open transactions are not shown) or "read_uncommitted".
	Isolation string
	// KeyFormat is how keys are printed: "str" (the default: UTF-8 text,
	// with each byte that is not valid UTF-8 escaped as \xNN), "hex" or
	// "base64".
	KeyFormat string
	// ValueFormat is how values are printed: "json" (the default: as JSON
	// when the value is valid JSON, else as "str" prints it), "str",
	// "hex" or "base64".
	ValueFormat string
	// Logger receives the client's logs; default slog.Default().
	Logger *slog.Logger
}

// ByteFormats are the formats of ConsumeOptions.KeyFormat; ValueFormat
// also takes "json".
var ByteFormats = []string{"str", "hex", "base64"}

// Isolation levels of ConsumeOptions.
const (
	ReadCommitted   = "read_committed"
	ReadUncommitted = "read_uncommitted"
)

// ConsumeLines writes topic's messages to w as JSON Lines records until ctx
// is done or the topic is idle for StopWhenIdle. It returns how many it
// wrote.
func ConsumeLines(ctx context.Context, w io.Writer, brokers, topic string, opts ConsumeOptions) (int, error) {
	switch opts.Isolation {
	case "":
		opts.Isolation = ReadCommitted
	case ReadCommitted, ReadUncommitted:
	default:
		return 0, fmt.Errorf("consume: isolation must be %s or %s, not %q", ReadCommitted, ReadUncommitted, opts.Isolation)
	}
	opts.KeyFormat = cmp.Or(opts.KeyFormat, "str")
	opts.ValueFormat = cmp.Or(opts.ValueFormat, "json")
	if !slices.Contains(ByteFormats, opts.KeyFormat) {
		return 0, fmt.Errorf("consume: key format must be str, hex or base64, not %q", opts.KeyFormat)
	}
	if opts.ValueFormat != "json" && !slices.Contains(ByteFormats, opts.ValueFormat) {
		return 0, fmt.Errorf("consume: value format must be json, str, hex or base64, not %q", opts.ValueFormat)
	}
	rd, err := kafka.NewReader(brokers, topic, opts.FromBeginning, map[string]string{"isolation.level": opts.Isolation}, opts.Logger)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	n := 0
	last := time.Now()
	for ctx.Err() == nil {
		m, err := rd.Poll(100 * time.Millisecond)
		if err != nil {
			return n, err
		}
		if m == nil {
			if opts.StopWhenIdle > 0 && time.Since(last) >= opts.StopWhenIdle {
				break
			}
			if err := bw.Flush(); err != nil {
				return n, err
			}
			continue
		}
		last = time.Now()
		line, err := json.Marshal(toRecord(m, opts.KeyFormat, opts.ValueFormat))
		if err != nil {
			return n, err
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return n, err
		}
		n++
	}
	return n, bw.Flush()
}

func toRecord(m *record.Record, keyFormat, valueFormat string) Record {
	p, ts := m.Partition, m.Timestamp
	rec := Record{Topic: m.Topic, Partition: &p, Offset: m.Offset, Timestamp: &ts, Headers: map[string]string{}}
	rec.Key = formatBytes(m.Key, keyFormat)
	switch {
	case m.Value != nil && valueFormat == "json" && json.Valid(m.Value):
		var buf bytes.Buffer
		_ = json.Compact(&buf, m.Value)
		rec.Value = buf.Bytes()
	default:
		rec.Value = formatBytes(m.Value, valueFormat)
	}
	for _, h := range m.Headers {
		rec.Headers[h.Key] = escapeInvalidUTF8(h.Value)
	}
	return rec
}

// formatBytes renders b as a JSON string in format ("json" and "str":
// escapeInvalidUTF8), or null for nil.
func formatBytes(b []byte, format string) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	var s string
	switch format {
	case "hex":
		s = hex.EncodeToString(b)
	case "base64":
		s = base64.StdEncoding.EncodeToString(b)
	default:
		s = escapeInvalidUTF8(b)
	}
	out, _ := json.Marshal(s)
	return out
}

// escapeInvalidUTF8 is b as text, each byte that is not part of valid
// UTF-8 written \xNN (Python's "backslashreplace"), so that no byte is
// silently replaced.
func escapeInvalidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&sb, `\x%02x`, b[0])
		} else {
			sb.Write(b[:size])
		}
		b = b[size:]
	}
	return sb.String()
}
