// Package sources holds the built-in sources of app.add_source() and
// app.dataframe(source=...): Quix Streams 3.x's Sources API. A source
// reads its input (a CSV file, JSON Lines files) and produces each record
// into its topic, where the application consumes it like any other.
//
// A source keeps its position with the records it produced: every batch
// of records and the position after them are written in one Kafka
// transaction, the position to the source's state topic (Quix Streams
// 3.4's stateful sources keep theirs in a changelog topic). A restarted
// source reads the last committed position and goes on from there, so a
// record is produced once even when the job is killed mid-file: a
// transaction the kill left open is aborted, records and position
// together.
package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/qstar-dev/qstar/record"
)

// A Source is an input a Runner produces from.
type Source interface {
	String() string
	// Open starts reading at pos, a position a Reader returned (nil: the
	// beginning).
	Open(pos []byte) (Reader, error)
}

// A Reader reads a source's records in order.
type Reader interface {
	// Next returns the next record (its Key, Value, Headers and
	// Timestamp; 0 is the time it is produced), or io.EOF at the end of
	// the input, or (nil, nil) when none is there yet (a Kafka topic). An
	// error names where in the input it came from.
	Next() (*record.Record, error)
	// Position is the position after the records returned so far.
	Position() []byte
	Close() error
}

// Producer is the transactional producer a Runner writes with.
type Producer interface {
	BeginTransaction() error
	Produce(m *record.Record) error
	Flush(timeout time.Duration) error
	// CommitTransaction commits the open transaction.
	CommitTransaction() error
	AbortTransaction() error
}

// PositionKey is the key of a source's position records in its state
// topic.
const PositionKey = "position"

// Runner produces one source's records into its topic.
type Runner struct {
	Source Source
	// Topic is the topic the records go to; StateTopic (one partition,
	// compacted) holds the source's position.
	Topic, StateTopic string
	Producer          Producer
	// Position is the last committed position (nil: none), read from
	// StateTopic after the producer's transactions were initialised.
	Position []byte
	// CommitInterval bounds how long records wait in an open transaction;
	// MaxBatch how many.
	CommitInterval time.Duration
	MaxBatch       int
	// Delay is waited after each record (CSVSource's delay).
	Delay time.Duration
	// ReplaySpeed, when positive, waits between two records their
	// timestamps' difference times ReplaySpeed (FileSource's replay).
	ReplaySpeed float64
	// KeepPartitions produces each record to its Partition (a replicated
	// topic's); otherwise the partitioner picks one by key.
	KeepPartitions bool
	Logger         *slog.Logger

	// idle: the runner has stopped, or its reader has nothing more yet
	// and all it read is committed.
	idle atomic.Bool
}

// Busy reports whether the runner may still produce without new input:
// it runs and its reader had more to give at its last read (a file not
// read to its end). A job stopping when idle waits for a busy source.
func (r *Runner) Busy() bool { return !r.idle.Load() }

// Run produces the source's records until its input ends (it returns
// nil) or ctx is done (it commits what it produced and returns nil), or
// an error. A failed transaction is aborted: nothing of it is visible,
// and the position stays where it was.
func (r *Runner) Run(ctx context.Context) error {
	defer r.idle.Store(true)
	rd, err := r.Source.Open(r.Position)
	if err != nil {
		return fmt.Errorf("source %s: %w", r.Source, err)
	}
	defer rd.Close()
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	batch := r.MaxBatch
	if batch <= 0 {
		batch = 10000
	}
	interval := r.CommitInterval
	if interval <= 0 {
		interval = time.Second
	}
	produced := int64(0)
	prevTs := int64(-1)
	var owed time.Duration // waits not slept yet
	for {
		if ctx.Err() != nil {
			return nil
		}
		if err := r.Producer.BeginTransaction(); err != nil {
			return err
		}
		deadline := time.Now().Add(interval)
		n, done := 0, false
		var pending time.Duration // a wait that would pass the deadline
		for n < batch && !done && ctx.Err() == nil && time.Now().Before(deadline) {
			rec, err := rd.Next()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if err != nil {
				_ = r.Producer.AbortTransaction()
				return fmt.Errorf("source %s: %w", r.Source, err)
			}
			if rec == nil { // nothing yet: commit what there is, or wait on
				if n > 0 {
					break
				}
				r.idle.Store(true)
				deadline = time.Now().Add(interval)
				continue
			}
			r.idle.Store(false)
			wait := r.Delay
			if r.ReplaySpeed > 0 && rec.Timestamp > 0 {
				if prevTs >= 0 && rec.Timestamp > prevTs {
					if d := time.Duration(float64(rec.Timestamp-prevTs) * r.ReplaySpeed * float64(time.Millisecond)); d > 10*time.Millisecond {
						wait += d
					}
				}
				prevTs = rec.Timestamp
			}
			rec.Topic = r.Topic
			if !r.KeepPartitions {
				rec.Partition = -1
			}
			if err := r.Producer.Produce(rec); err != nil {
				_ = r.Producer.AbortTransaction()
				return fmt.Errorf("source %s: %w", r.Source, err)
			}
			n++
			// Waits add up and are slept once they reach 2 ms (a timer
			// is too coarse for one 50 µs delay), oversleeping credited.
			if owed += wait; owed >= 2*time.Millisecond {
				// A wait past the deadline commits first: a transaction
				// is not held open across a long pause.
				if time.Now().Add(owed).After(deadline) {
					pending, owed = owed, 0
					break
				}
				start := time.Now()
				if !sleep(ctx, owed) {
					break
				}
				owed = max(owed-time.Since(start), -10*time.Millisecond)
			}
		}
		pos := rd.Position()
		if err := r.Producer.Produce(&record.Record{Topic: r.StateTopic, Partition: 0, Key: []byte(PositionKey), Value: pos}); err != nil {
			_ = r.Producer.AbortTransaction()
			return fmt.Errorf("source %s: save the position: %w", r.Source, err)
		}
		if err := r.Producer.Flush(time.Minute); err != nil {
			_ = r.Producer.AbortTransaction()
			return fmt.Errorf("source %s: %w", r.Source, err)
		}
		if err := r.Producer.CommitTransaction(); err != nil {
			return fmt.Errorf("source %s: %w", r.Source, err)
		}
		produced += int64(n)
		if done {
			log.Info("source finished", "source", r.Source.String(), "topic", r.Topic, "produced", produced)
			return nil
		}
		_ = sleep(ctx, pending)
	}
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
