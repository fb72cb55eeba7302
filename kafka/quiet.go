package kafka

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// repeatWindow is how long a client's repeated warning stays quiet: a
// broker that is down makes librdkafka report the same failed connect
// every few hundred milliseconds, per connection.
const repeatWindow = 30 * time.Second

// quieter logs a client's warnings and errors the first time, then at
// most once per repeatWindow per distinct message, saying how many it
// held back. Safe for concurrent use.
type quieter struct {
	log  *slog.Logger
	mu   sync.Mutex
	seen map[string]*repeated
}

type repeated struct {
	since time.Time // when it was last logged
	held  int       // how many times since
}

func newQuieter(log *slog.Logger) *quieter {
	return &quieter{log: log, seen: make(map[string]*repeated)}
}

// Log logs msg (below Warn: always) unless the same message was logged
// less than repeatWindow ago.
func (q *quieter) Log(level slog.Level, msg string, args ...any) {
	if level < slog.LevelWarn {
		q.log.Log(context.Background(), level, msg, args...)
		return
	}
	key := level.String() + " " + repeatKey(msg)
	for _, a := range args {
		if s, ok := a.(string); ok {
			key += " " + repeatKey(s)
		}
	}
	now := time.Now()
	q.mu.Lock()
	r := q.seen[key]
	if r != nil && now.Sub(r.since) < repeatWindow {
		r.held++
		q.mu.Unlock()
		return
	}
	held, since := 0, time.Duration(0)
	if r != nil {
		held, since = r.held, now.Sub(r.since)
	}
	q.seen[key] = &repeated{since: now}
	for k, r := range q.seen { // forget what stopped happening
		if now.Sub(r.since) > 2*repeatWindow {
			delete(q.seen, k)
		}
	}
	q.mu.Unlock()
	if held > 0 {
		args = append(args, "repeated", held, "in_last", since.Round(time.Second).String())
	}
	q.log.Log(context.Background(), level, msg, args...)
}

// repeatKey drops the part of a librdkafka message that changes between
// repeats: "(after 0ms in state CONNECT, 1 identical error(s)
// suppressed)".
func repeatKey(s string) string {
	if i := strings.Index(s, " (after "); i >= 0 {
		return s[:i]
	}
	return s
}
