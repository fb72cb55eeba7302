package kafka

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// forcedConsumerKeys may not be set through extra consumer configuration:
// qstar's delivery guarantee depends on them.
var forcedConsumerKeys = []string{"group.id", "enable.auto.commit", "enable.auto.offset.store"}

// buildConfig merges base, then extra (librdkafka names and string values),
// then forced, and rejects extra keys listed in reject.
func buildConfig(base, extra, forced map[string]string, reject []string) (*ckafka.ConfigMap, error) {
	cm := ckafka.ConfigMap{
		// No KIP-714 client telemetry: it only logs noise against brokers
		// that do not collect it.
		"enable.metrics.push": "false",
		// librdkafka's log lines come through Logs() (see forwardLogs)
		// instead of going to stderr.
		"go.logs.channel.enable": true,
	}
	for k, v := range base {
		cm[k] = v
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, r := range reject {
			if k == r {
				return nil, fmt.Errorf("extra config %q is managed by qstar and cannot be set", k)
			}
		}
		if strings.HasPrefix(k, "go.") {
			return nil, fmt.Errorf("extra config %q is a confluent-kafka-go setting and cannot be set", k)
		}
		cm[k] = extra[k]
	}
	for k, v := range forced {
		cm[k] = v
	}
	return &cm, nil
}

// merge returns a's settings overridden by b's.
func merge(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// forwardLogs writes a client's librdkafka log lines to log until the
// client closes the channel, at the levels confluent-kafka-python gives
// them (syslog 0-3 error, 4 warning, 5-6 info, 7 debug), as Quix Streams
// passes its logger to the clients.
// Repeated warnings and errors are held back (see quieter).
func forwardLogs(ch chan ckafka.LogEvent, log *slog.Logger) {
	q := newQuieter(log)
	go func() {
		for ev := range ch {
			level := slog.LevelDebug
			switch {
			case ev.Level <= 3:
				level = slog.LevelError
			case ev.Level == 4:
				level = slog.LevelWarn
			case ev.Level <= 6:
				level = slog.LevelInfo
			}
			q.Log(level, ev.Message, "client", ev.Name, "tag", ev.Tag)
		}
	}()
}
