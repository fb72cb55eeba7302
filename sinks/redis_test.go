package sinks

import (
	"context"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/internal/redistest"
)

// TestRedisWrites writes through a real redis-server: each key holds the
// last value written for it (a redelivered batch overwrites itself), in
// the chosen database, with the TTL.
func TestRedisWrites(t *testing.T) {
	srv := redistest.Start(t)
	w := NewRedis(RedisConfig{Host: srv.Host, Port: srv.Port, DB: 2, TTL: time.Hour})
	defer w.Close()
	s := NewBatching("redis", func(_ *engine.Context, r engine.SinkRecord) (Item, error) {
		return Item{Key: []byte(r.Topic), Value: []byte(r.Value.String()), Offset: r.Offset}, nil
	}, w)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		for i, v := range []string{"1", "2"} {
			if err := s.Add(nil, engine.SinkRecord{Topic: "k" + v, Value: dict("i", i+round).Items()[0][1], Offset: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	c := srv.Client(t, 2)
	ctx := context.Background()
	for k, want := range map[string]string{"k1": "1", "k2": "2"} {
		got, err := c.Get(ctx, k).Result()
		if err != nil || got != want {
			t.Errorf("GET %s = %q, %v; want %q", k, got, err, want)
		}
		if ttl := c.TTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("TTL %s = %s, want (0, 1h]", k, ttl)
		}
	}
	if n := c.DBSize(ctx).Val(); n != 2 {
		t.Errorf("DBSIZE = %d, want 2", n)
	}
	if n := srv.Client(t, 0).DBSize(ctx).Val(); n != 0 {
		t.Errorf("database 0 has %d keys, want 0", n)
	}
}
