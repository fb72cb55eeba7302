package sinks

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures a Redis sink: Quix Streams 3.x's RedisSink
// arguments, and a TTL.
type RedisConfig struct {
	Host          string
	Port, DB      int
	Password      string
	SocketTimeout time.Duration
	// TTL, when positive, expires each key written (SET ... PX).
	TTL time.Duration
}

// Redis writes each batch as SETs of its items' keys and values ([]byte
// each, serialized when added) in one MULTI/EXEC transaction, as Quix
// Streams' RedisSink does. Keys are the records' keys, so a write is an
// upsert: a record written again after a restart overwrites itself. It
// connects through github.com/redis/go-redis/v9, Redis's own Go client.
type Redis struct {
	cfg RedisConfig
	c   *redis.Client
}

// NewRedis returns a Redis writer; it connects at Start.
func NewRedis(cfg RedisConfig) *Redis { return &Redis{cfg: cfg} }

func (r *Redis) String() string {
	return fmt.Sprintf("RedisSink(%s:%d/%d)", r.cfg.Host, r.cfg.Port, r.cfg.DB)
}

// Start implements engine.Starter: it connects and asks the server for
// its INFO, as Quix Streams' setup does.
func (r *Redis) Start() error {
	if r.c != nil {
		return nil
	}
	opts := &redis.Options{Addr: net.JoinHostPort(r.cfg.Host, strconv.Itoa(r.cfg.Port)), DB: r.cfg.DB, Password: r.cfg.Password}
	if r.cfg.SocketTimeout > 0 {
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = r.cfg.SocketTimeout, r.cfg.SocketTimeout, r.cfg.SocketTimeout
	}
	c := redis.NewClient(opts)
	if err := c.Info(context.Background(), "server").Err(); err != nil {
		_ = c.Close()
		return fmt.Errorf("connect to %s: %w", opts.Addr, err)
	}
	r.c = c
	return nil
}

// Close closes the client.
func (r *Redis) Close() error {
	if r.c == nil {
		return nil
	}
	err := r.c.Close()
	r.c = nil
	return err
}

// Write implements Writer.
func (r *Redis) Write(b *Batch) error {
	if err := r.Start(); err != nil {
		return err
	}
	ctx := context.Background()
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, it := range b.Items {
			p.Set(ctx, string(it.Key.([]byte)), it.Value.([]byte), r.cfg.TTL)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %d keys to %s: %w", len(b.Items), r, err)
	}
	return nil
}
