package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/qstar-dev/qstar/record"
)

// ErrFenced marks a transactional operation refused because this process
// no longer owns its work: another producer with the same transactional.id
// started (producer fencing), or the consumer group gave this member's
// partitions to another member (its generation is stale). Nothing more may
// be produced; the process must stop.
var ErrFenced = errors.New("kafka: fenced")

// ErrTxnAborted marks a transaction that failed and was aborted: nothing
// it held (outputs, changelog records, offsets) is visible to
// read_committed consumers.
var ErrTxnAborted = errors.New("kafka: the transaction was aborted")

// DefaultTransactionTimeout is the transaction.timeout.ms qstar sets: how
// long the broker keeps a transaction of a producer that went away open
// before aborting it (a restarted process with the same transactional.id
// aborts it at once).
const DefaultTransactionTimeout = time.Minute

// transactionTimeout bounds each blocking transactional call.
const transactionTimeout = 2 * time.Minute

// initTransactions registers the transactional.id with its coordinator,
// aborting a transaction a previous incarnation left open.
func (p *Producer) initTransactions() error {
	ctx, cancel := context.WithTimeout(context.Background(), transactionTimeout)
	defer cancel()
	if err := p.p.InitTransactions(ctx); err != nil {
		return fmt.Errorf("kafka: producer: init transactions of transactional.id %q: %w", p.txnID, txnError(err))
	}
	return nil
}

// Transactional reports whether the producer was created with a
// transactional.id.
func (p *Producer) Transactional() bool { return p.txnID != "" }

// BeginTransaction starts a transaction: every message produced until
// CommitTransaction or AbortTransaction belongs to it.
func (p *Producer) BeginTransaction() error {
	if err := p.p.BeginTransaction(); err != nil {
		return fmt.Errorf("kafka: begin transaction: %w", txnError(err))
	}
	p.inTxn.Store(true)
	return nil
}

// CommitTransaction adds offsets (the next offsets to read, of c's
// group) to the open transaction and commits it. Flush first: the offsets
// of the delivered messages (Offset) are known only after it. A
// transaction that cannot commit is aborted, and the error wraps
// ErrTxnAborted, or ErrFenced when this producer or member was fenced.
func (p *Producer) CommitTransaction(offsets []record.Offset, c *Consumer) error {
	ctx, cancel := context.WithTimeout(context.Background(), transactionTimeout)
	defer cancel()
	if len(offsets) > 0 {
		meta, err := c.c.GetConsumerGroupMetadata()
		if err != nil {
			return p.abortAfter(fmt.Errorf("kafka: consumer group metadata: %w", err))
		}
		for {
			err := p.p.SendOffsetsToTransaction(ctx, offsetsToC(offsets), meta)
			if err == nil {
				break
			}
			if retriable(err) && ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return p.abortAfter(fmt.Errorf("kafka: send offsets to the transaction: %w", txnError(err)))
		}
	}
	for {
		err := p.p.CommitTransaction(ctx)
		if err == nil {
			p.inTxn.Store(false)
			return nil
		}
		if retriable(err) && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		return p.abortAfter(fmt.Errorf("kafka: commit transaction: %w", txnError(err)))
	}
}

// AbortTransaction aborts the open transaction: its messages are never
// visible to read_committed consumers. Without an open transaction it
// does nothing. Aborting a fenced producer is not possible and returns
// nil (the broker aborts the transaction itself).
func (p *Producer) AbortTransaction() error {
	if !p.inTxn.Load() {
		return nil
	}
	p.inTxn.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), transactionTimeout)
	defer cancel()
	// Delivery reports of the aborted messages still arrive; purge what
	// is queued so that abort does not wait to send it.
	_ = p.p.Purge(ckafka.PurgeQueue | ckafka.PurgeInFlight)
	err := p.p.AbortTransaction(ctx)
	if err == nil {
		return nil
	}
	if e := txnError(err); errors.Is(e, ErrFenced) {
		return nil
	}
	return fmt.Errorf("kafka: abort transaction: %w", txnError(err))
}

// abortAfter aborts after a failed commit step, unless the producer is
// in a fatal state (fenced by a newer producer: the broker aborts for
// it), and returns cause marked ErrTxnAborted. A member fenced by its
// group (a stale generation) still aborts, so that read_committed
// consumers are not held up until the transaction times out.
func (p *Producer) abortAfter(cause error) error {
	var ke ckafka.Error
	if errors.As(cause, &ke) && ke.IsFatal() {
		p.inTxn.Store(false)
		return cause
	}
	if aerr := p.AbortTransaction(); aerr != nil {
		return fmt.Errorf("%w (%w; then %v)", ErrTxnAborted, cause, aerr)
	}
	return fmt.Errorf("%w: %w", ErrTxnAborted, cause)
}

func retriable(err error) bool {
	var ke ckafka.Error
	return errors.As(err, &ke) && ke.IsRetriable() && !ke.TxnRequiresAbort() && !ke.IsFatal()
}

// txnError marks the errors of a fenced producer or member with ErrFenced.
func txnError(err error) error {
	var ke ckafka.Error
	if !errors.As(err, &ke) {
		return err
	}
	switch ke.Code() {
	case ckafka.ErrFenced, ckafka.ErrInvalidProducerEpoch, ckafka.ErrIllegalGeneration,
		ckafka.ErrUnknownMemberID, ckafka.ErrFencedInstanceID, ckafka.ErrorCode(90): // PRODUCER_FENCED
		return fmt.Errorf("%w: %w", ErrFenced, err)
	}
	return err
}
