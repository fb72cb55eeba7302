package engine

import (
	"errors"
	"fmt"

	"github.com/qstar-dev/qstar/record"
)

// Guarantee is a run's processing guarantee: what the commit step of its
// checkpoints promises. It is chosen once, when Run starts.
type Guarantee int

const (
	// AtLeastOnce commits consumer offsets after every output and
	// changelog record of the checkpoint is delivered: after a crash,
	// messages since the last checkpoint are processed again, and their
	// outputs may appear twice.
	AtLeastOnce Guarantee = iota
	// ExactlyOnce makes each checkpoint one Kafka transaction holding the
	// outputs, the changelog records and the consumer offsets: a
	// read_committed consumer sees every output exactly once.
	ExactlyOnce
)

func (g Guarantee) String() string {
	if g == ExactlyOnce {
		return "exactly-once"
	}
	return "at-least-once"
}

// ParseGuarantee reads Quix Streams' processing_guarantee names.
func ParseGuarantee(s string) (Guarantee, error) {
	switch s {
	case "at-least-once":
		return AtLeastOnce, nil
	case "exactly-once":
		return ExactlyOnce, nil
	}
	return 0, fmt.Errorf(`processing_guarantee must be "at-least-once" or "exactly-once", not %q`, s)
}

// Transactor is a Producer that groups what it produces, with consumer
// offsets, into transactions (a transactional Kafka producer). Run uses
// it in ExactlyOnce mode; its methods are called from the poll loop's
// goroutine while no task produces.
type Transactor interface {
	// BeginTransaction starts the transaction that every later Produce
	// belongs to.
	BeginTransaction() error
	// CommitTransaction adds offsets (the next offsets to read, for the
	// run's consumer group) to the transaction and commits it. On failure
	// the transaction is aborted; an error wrapping ErrFenced means this
	// instance must stop.
	CommitTransaction(offsets []record.Offset) error
	// AbortTransaction discards the open transaction.
	AbortTransaction() error
}

// ErrFenced marks a failure because another instance took over this one's
// work: a producer with the same transactional.id, or a consumer-group
// member given this member's partitions. A fenced run stops and produces
// nothing more.
var ErrFenced = errors.New("fenced: another instance took over this one's partitions")

// committer is the commit step of a checkpoint, after every output and
// changelog record is delivered. It is the one place where the two
// guarantees differ.
type committer interface {
	// begin opens a checkpoint period: everything produced until the next
	// commit belongs to it.
	begin() error
	// commit makes the period's outputs and offsets durable. An error
	// wrapping ErrCommitRetriable leaves the checkpoint pending
	// (at-least-once only).
	commit(offsets []record.Offset) error
	// abort discards the period after a failure.
	abort() error
}

// atLeastOnce commits the consumer's offsets; delivered outputs stay
// whatever happens next.
type atLeastOnce struct{ c Consumer }

func (atLeastOnce) begin() error { return nil }
func (a atLeastOnce) commit(offsets []record.Offset) error {
	if len(offsets) == 0 {
		return nil
	}
	return a.c.Commit(offsets)
}
func (atLeastOnce) abort() error { return nil }

// exactlyOnce commits a transaction per checkpoint.
type exactlyOnce struct{ t Transactor }

func (e exactlyOnce) begin() error                         { return e.t.BeginTransaction() }
func (e exactlyOnce) commit(offsets []record.Offset) error { return e.t.CommitTransaction(offsets) }
func (e exactlyOnce) abort() error                         { return e.t.AbortTransaction() }

func newCommitter(cfg *Config) (committer, error) {
	if cfg.Guarantee != ExactlyOnce {
		return atLeastOnce{cfg.Consumer}, nil
	}
	t, ok := cfg.Producer.(Transactor)
	if !ok {
		return nil, fmt.Errorf("engine: exactly-once needs a transactional producer; %T is not one", cfg.Producer)
	}
	return exactlyOnce{t}, nil
}
