package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/qstar-dev/qstar/internal/procstats"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/record"
)

// passthroughMain is the baseline: consume -> produce with the Kafka
// clients alone, the same client settings and commit cadence (every 5 s,
// after a flush) as qstar, stopping after -idle without new messages.
func passthroughMain(args []string) error {
	fs := flag.NewFlagSet("passthrough", flag.ContinueOnError)
	broker := fs.String("broker", "", "bootstrap servers")
	input := fs.String("input", "", "input topic")
	output := fs.String("output", "", "output topic")
	group := fs.String("group", "", "consumer group")
	idle := fs.Duration("idle", 2*time.Second, "stop after this long without messages")
	stats := fs.String("runtime-stats", "", "write the Go runtime's counts as JSON to `FILE` at the end")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: *broker, Logger: log})
	if err != nil {
		return err
	}
	c, err := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: *broker, GroupID: *group, AutoOffsetReset: "earliest", Logger: log})
	if err != nil {
		return err
	}
	h := &positions{next: map[record.TopicPartition]int64{}}
	if err := c.Subscribe([]string{*input}, h); err != nil {
		return err
	}
	commit := func() error {
		if err := p.Flush(time.Minute); err != nil {
			return err
		}
		var tps []record.Offset
		for tp, off := range h.next {
			tps = append(tps, record.Offset{TopicPartition: tp, Offset: off})
		}
		if len(tps) == 0 {
			return nil
		}
		return c.Commit(tps)
	}
	last, lastCommit := time.Now(), time.Now()
	out := record.Record{Topic: *output, Partition: -1}
	for time.Since(last) < *idle {
		m, err := c.Poll(100 * time.Millisecond)
		if err != nil {
			return err
		}
		if m != nil {
			last = time.Now()
			out.Key, out.Value, out.Timestamp, out.Headers = m.Key, m.Value, m.Timestamp, nil
			if err := p.Produce(&out); err != nil {
				return err
			}
			h.next[record.TopicPartition{Topic: m.Topic, Partition: m.Partition}] = m.Offset + 1
		}
		if time.Since(lastCommit) >= 5*time.Second {
			if err := commit(); err != nil {
				return err
			}
			lastCommit = time.Now()
		}
	}
	if err := commit(); err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return err
	}
	if err := p.Close(time.Minute); err != nil {
		return errors.Join(fmt.Errorf("close producer"), err)
	}
	if *stats != "" {
		return procstats.Write(*stats)
	}
	return nil
}

// positions tracks the next offset per partition.
type positions struct {
	next map[record.TopicPartition]int64
}

func (*positions) Assigned([]record.TopicPartition) error { return nil }
func (*positions) Revoked([]record.TopicPartition) error  { return nil }
func (*positions) Lost([]record.TopicPartition) error     { return nil }
