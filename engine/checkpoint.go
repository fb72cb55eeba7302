package engine

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/qstar-dev/qstar/record"
)

// finalCheckpoint commits what was processed, waiting (polling, so that a
// rebalance can settle) while the commit is refused.
func (r *runner) finalCheckpoint() error {
	r.beginStop(reasonShutdown)
	if err := r.checkpoint("shutdown"); err != nil {
		return err
	}
	deadline := time.Now().Add(r.cfg.FinalCommitTimeout)
	for r.pending != nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("engine: the final checkpoint's commit was refused for %s (the group kept rebalancing); the uncommitted messages will be processed again", r.cfg.FinalCommitTimeout)
		}
		m, err := r.cfg.Consumer.Poll(r.cfg.CommitRetryInterval / 2)
		if err != nil {
			return fmt.Errorf("engine: consume: %w", err)
		}
		if m != nil {
			r.held = append(r.held, m)
		}
		if r.failed != nil {
			return r.failed
		}
		if r.pending != nil {
			if err := r.retryPending(); err != nil {
				return err
			}
		}
	}
	return nil
}

// barrier waits until every task has processed everything handed to it.
func (r *runner) barrier(tasks []*task) {
	var wg sync.WaitGroup
	wg.Add(len(tasks))
	done := make(chan struct{})
	go func() {
		// A full queue blocks the send until its task moves on: sent
		// from here, so that wait can cancel a stuck callback meanwhile.
		for _, t := range tasks {
			t.in <- taskItem{barrier: &wg}
		}
		wg.Wait()
		close(done)
	}()
	r.wait(tasks, done)
}

// holdTasks stops every task between two messages, ahead of what is
// queued, and waits until all have (or a stuck callback is cancelled).
// They stay held until releaseTasks: the checkpoint reads what they
// processed and writes their store transactions meanwhile.
func (r *runner) holdTasks(tasks []*task) {
	var wg sync.WaitGroup
	wg.Add(len(tasks))
	for _, t := range tasks {
		if t.release != nil { // still held by a checkpoint whose commit is pending
			wg.Done()
			continue
		}
		t.release = make(chan struct{})
		t.head <- headBarrier{ack: &wg, release: t.release}
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	r.wait(tasks, done)
}

// releaseTasks lets every held task go on with its queue.
func (r *runner) releaseTasks() {
	for _, t := range r.tasks {
		r.releaseTask(t)
	}
}

func (r *runner) releaseTask(t *task) {
	if t.release != nil {
		close(t.release)
		t.release = nil
	}
}

// pendingCommit is a checkpoint whose outputs and changelog records are
// delivered but whose offsets are not committed yet.
type pendingCommit struct {
	offsets []record.Offset
	tasks   []*task // the tasks the checkpoint held: only theirs are flushed
	since   time.Time
	retried time.Time
}

// checkpoint drains the tasks, flushes the producer and commits the
// offsets processed since the last checkpoint, then writes the state. It
// commits nothing once anything has failed. A commit refused because the
// group is rebalancing leaves the checkpoint pending (r.pending): fetching
// pauses and the commit is retried until the rebalance settles.
func (r *runner) checkpoint(why string) error {
	if r.failed != nil {
		return r.failed
	}
	if r.pending != nil {
		if err := r.commitPending(); err != nil || r.pending != nil {
			return err
		}
	}
	if !r.dirty {
		return nil
	}
	start := time.Now()
	tasks := r.taskList()
	if r.cfg.CommitInterval <= 0 {
		// A checkpoint after every message (Quix Streams' commit_interval=0)
		// covers the message just handed out.
		r.barrier(tasks)
	}
	r.holdTasks(tasks)
	defer func() {
		// Held until the commit: a pending one keeps them held.
		if r.pending == nil || r.failed != nil {
			r.releaseTasks()
		}
	}()
	var offsets []record.Offset
	for _, t := range tasks {
		if t.err != nil {
			r.failed = t.err
			return t.err
		}
		for _, p := range t.sortedParts() {
			if p.processed >= p.committed {
				offsets = append(offsets, record.Offset{TopicPartition: p.tp, Offset: p.processed + 1})
			}
		}
	}
	// 0. Write what the sinks hold: everything the tasks processed.
	if err := FlushSinks(r.sinks); err != nil {
		var bp *BackpressureError
		if errors.As(err, &bp) {
			return r.backpressure(bp)
		}
		r.failed = fmt.Errorf("engine: checkpoint: %w", err)
		return r.failed
	}
	// 1. Produce the changelog records of every store transaction.
	for _, t := range tasks {
		processed := t.processedOffsets()
		for _, ts := range t.ctx.storeList() {
			if ts.tx == nil {
				continue
			}
			if err := ts.tx.Prepare(r.changelog, ts.spec.Changelog, t.partition, ts.spec.offsets(processed)); err != nil {
				r.failed = fmt.Errorf("engine: checkpoint: %s of %s: %w", ts.spec.Name, t.name, err)
				return r.failed
			}
		}
	}
	// 2. Wait until every output and changelog record is delivered.
	if err := r.cfg.Producer.Flush(r.cfg.FlushTimeout); err != nil {
		r.failed = fmt.Errorf("engine: checkpoint: produce: %w", err)
		return r.failed
	}
	// 3. What the stores can find wrong is found before anything is
	// committed: a disk with no room for the write, a changelog that is
	// not the one the state was written against.
	for _, t := range tasks {
		for _, ts := range t.ctx.storeList() {
			if ts.tx == nil || !ts.tx.Changed() {
				continue
			}
			if err := ts.tx.CheckSpace(); err != nil {
				r.failed = fmt.Errorf("engine: checkpoint: %s of %s: %w", ts.spec.Name, t.name, err)
				return r.failed
			}
			if ts.spec.Changelog == "" {
				continue
			}
			if off, ok := r.cfg.Producer.Offset(ts.spec.Changelog, t.partition); ok {
				if err := ts.tx.CheckChangelogOffset(off + 1); err != nil {
					r.failed = fmt.Errorf("engine: checkpoint: %s of %s: %w", ts.spec.Name, t.name, err)
					return r.failed
				}
			}
		}
	}
	// The tasks were held ahead of their queues: what they have not
	// processed yet needs another checkpoint.
	r.dirty = false
	for _, t := range tasks {
		for _, p := range t.parts {
			if p.dispatched > p.processed {
				r.dirty = true
			}
		}
	}
	r.pending = &pendingCommit{offsets: offsets, tasks: tasks, since: start}
	if err := r.commitPending(); err != nil {
		return err
	}
	r.log.Debug("checkpoint", "reason", why, "partitions", len(offsets), "committed", r.pending == nil, "took", time.Since(start))
	return nil
}

// commitPending runs the commit step of the pending checkpoint (step 4:
// the consumer offsets, or the transaction), writes each store's changes
// with its offsets (step 5), and opens the next checkpoint period.
func (r *runner) commitPending() error {
	p := r.pending
	p.retried = time.Now()
	if err := r.commit.commit(p.offsets); err != nil {
		if !errors.Is(err, ErrCommitRetriable) {
			r.failed = fmt.Errorf("engine: checkpoint: commit: %w", err)
			return r.failed
		}
		if time.Since(p.since) > r.cfg.CommitRetryTimeout {
			r.failed = fmt.Errorf("engine: checkpoint: commit refused for %s: %w", r.cfg.CommitRetryTimeout, err)
			return r.failed
		}
		r.log.Info("commit refused during a rebalance; retrying once it settles", "error", err.Error())
		return r.syncPause()
	}
	for _, o := range p.offsets {
		if t, ok := r.tasks[o.TopicPartition]; ok {
			t.parts[o.Topic].committed = o.Offset
		}
	}
	for _, t := range p.tasks {
		if !r.live(t) {
			continue // its partitions left: dropPending discarded its changes
		}
		processed := t.processedOffsets()
		for _, ts := range t.ctx.storeList() {
			if ts.tx == nil {
				continue
			}
			changelogOffset := int64(-1)
			if ts.spec.Changelog != "" {
				if off, ok := r.cfg.Producer.Offset(ts.spec.Changelog, t.partition); ok {
					changelogOffset = off + 1
				}
			}
			if err := ts.tx.Flush(ts.spec.offsets(processed), changelogOffset); err != nil {
				r.failed = fmt.Errorf("engine: checkpoint: %s of %s: %w", ts.spec.Name, t.name, err)
				return r.failed
			}
			ts.tx = nil
		}
	}
	r.cfg.Metrics.Checkpoints.Add(1)
	r.cfg.Metrics.LastCheckpoint.Store(time.Now().UnixNano())
	r.cfg.Metrics.CheckpointNanos.Add(int64(time.Since(p.since)))
	r.pending = nil
	r.stats.Checkpoints++
	if !r.stopping {
		if err := r.commit.begin(); err != nil {
			r.failed = fmt.Errorf("engine: checkpoint: %w", err)
			return r.failed
		}
	}
	r.releaseTasks() // after the next transaction began: they produce into it
	if err := r.syncPause(); err != nil {
		return err
	}
	held := r.held
	r.held = nil
	for _, m := range held {
		r.dispatch(m)
	}
	return nil
}

// retryPending retries a pending commit at most every
// CommitRetryInterval.
func (r *runner) retryPending() error {
	if time.Since(r.pending.retried) < r.cfg.CommitRetryInterval {
		return nil
	}
	return r.commitPending()
}

// dropPending gives up the pending checkpoint of partitions that left
// this member: their offsets are not committed and their prepared state
// changes are discarded. Their new owner reads from the committed offsets
// and its recovery skips the changelog records written for them.
func (r *runner) dropPending(tps []record.TopicPartition) {
	if r.pending == nil {
		return
	}
	gone := map[record.TopicPartition]bool{}
	for _, tp := range r.withSiblings(tps) {
		gone[tp] = true
		if t, ok := r.tasks[tp]; ok {
			for _, ts := range t.ctx.storeList() {
				ts.tx = nil
			}
		}
	}
	kept := r.pending.offsets[:0]
	for _, o := range r.pending.offsets {
		if !gone[o.TopicPartition] {
			kept = append(kept, o)
		}
	}
	r.pending.offsets = kept
	held := r.held[:0]
	for _, m := range r.held {
		if !gone[record.TopicPartition{Topic: m.Topic, Partition: m.Partition}] {
			held = append(held, m)
		}
	}
	r.held = held
}
