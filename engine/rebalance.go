package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/qstar-dev/qstar/record"
)

// reload switches to new pipelines at a checkpoint: a barrier drains
// every task, the checkpoint commits what the old pipelines did, and the
// idle tasks get the new composed steps. A reload that changes the source
// topics is refused.
func (r *runner) reload(sources []*Source) error {
	next := make(map[string]*composed, len(sources))
	for _, s := range sources {
		next[s.Topic.Name] = &composed{topic: s.Topic, step: Compose(s.Root)}
	}
	if len(next) != len(r.sources) {
		return fmt.Errorf("engine: reload: the new script reads %d source topics, the running one %d", len(next), len(r.sources))
	}
	for name := range r.sources {
		if next[name] == nil {
			return fmt.Errorf("engine: reload: the new script does not read topic %q", name)
		}
	}
	// Everything handed to the tasks is processed by the old pipelines
	// (the barrier drains their queues) and committed. A callback that
	// never returns would hold the barrier forever: past the grace its
	// thread is cancelled and the run fails.
	if r.pending != nil {
		// Its tasks are held until the commit goes through.
		return errors.New("engine: reload: a checkpoint's commit is waiting for a rebalance; try again")
	}
	tasks := r.taskList()
	r.watchdog = reasonReload
	r.barrier(tasks)
	err := r.checkpoint("reload")
	r.watchdog = ""
	if err != nil {
		return err
	}
	if r.pending != nil {
		return errors.New("engine: reload: the checkpoint's commit is waiting for a rebalance; try again")
	}
	// The tasks are idle (the poll loop hands them nothing meanwhile):
	// swap their steps.
	for _, t := range tasks {
		t.src = next[t.tp.Topic]
	}
	r.sources = next
	return nil
}

// Assigned implements Rebalancer: it starts a task per new partition. A
// task with state stores opens and recovers them before it processes its
// queue; if the queue fills meanwhile, its partition is paused until then.
func (r *runner) Assigned(tps []record.TopicPartition) error {
	if r.stopping {
		// An assignment completing while the consumer closes (the final
		// checkpoint is done): nothing more is processed, and the
		// closing consumer can no longer answer Committed.
		r.log.Debug("not starting tasks: the run is stopping", "partitions", fmt.Sprint(tps))
		return nil
	}
	var stateful []record.TopicPartition
	for _, tp := range tps {
		src := r.sources[tp.Topic]
		if src == nil {
			return fmt.Errorf("engine: assigned %s, which is not a source topic", tp)
		}
		if r.cfg.Stores != nil && len(r.cfg.Stores.Of(tp.Topic)) > 0 {
			stateful = append(stateful, tp)
		}
	}
	committed := map[record.TopicPartition]int64{}
	if len(stateful) > 0 {
		offs, err := r.cfg.Consumer.Committed(stateful)
		if err != nil {
			return fmt.Errorf("engine: committed offsets of %v: %w", stateful, err)
		}
		for _, o := range offs {
			committed[o.TopicPartition] = o.Offset
		}
	}
	for _, tp := range tps {
		if _, ok := r.tasks[tp]; ok {
			continue
		}
		c, ok := committed[tp]
		if !ok {
			c = record.NoOffset
		}
		t := &task{
			tp:                tp,
			src:               r.sources[tp.Topic],
			in:                make(chan taskItem, r.cfg.QueueSize),
			head:              make(chan headBarrier, 1),
			done:              make(chan struct{}),
			processed:         -1,
			dispatched:        -1,
			committed:         0,
			committedAtAssign: c,
			draining:          &r.draining,
		}
		t.ctx = NewContext(r.cfg.NewThread(tp), r.producer, r.cfg.Stdout)
		t.ctx.SetLogger(r.log)
		t.ctx.callbacks = &r.cfg.Callbacks
		t.ctx.metrics = r.cfg.Metrics
		t.ctx.bind()
		r.tasks[tp] = t
		var recovered chan<- record.TopicPartition
		if contains(stateful, tp) {
			recovered = r.recovered
			t.recovering = true
			r.cfg.Metrics.Recovering.Add(1)
		}
		go t.run(r.errs, r.cfg.Stores, recovered)
	}
	if err := r.syncPause(); err != nil {
		return err
	}
	r.joined = true
	r.lastActivity = time.Now()
	r.cfg.Metrics.Rebalances.Add(1)
	r.cfg.Metrics.Assigned.Store(int64(len(r.tasks)))
	r.log.Info("partitions assigned", "partitions", fmt.Sprint(tps))
	return nil
}

func contains(tps []record.TopicPartition, tp record.TopicPartition) bool {
	for _, x := range tps {
		if x == tp {
			return true
		}
	}
	return false
}

// Revoked implements Rebalancer: it checkpoints, then stops the tasks of
// the revoked partitions.
func (r *runner) Revoked(tps []record.TopicPartition) error {
	err := r.checkpoint("revoke")
	r.dropPending(tps)
	r.stopTasks(tps)
	r.log.Info("partitions revoked", "partitions", fmt.Sprint(tps))
	return err
}

// Lost implements Rebalancer: the partitions already belong to another
// member, so their tasks stop without a commit.
func (r *runner) Lost(tps []record.TopicPartition) error {
	if r.cfg.Guarantee == ExactlyOnce && r.stopping {
		// Lost while the consumer closes: the final checkpoint is
		// committed (or the run failed and aborts anyway).
		r.stopTasks(tps)
		return nil
	}
	if r.cfg.Guarantee == ExactlyOnce {
		// What the open transaction holds for these partitions may be
		// redone by their new owner: the transaction must not commit, and
		// the other partitions' work since the last checkpoint is in it
		// too. The run stops; a restart resumes from the last committed
		// transaction.
		r.stopTasks(tps)
		r.failed = fmt.Errorf("engine: %w: partitions %v were lost to another member of the group (this member missed its session timeout or max.poll.interval.ms); the open transaction is aborted and the job stops: restart it to rejoin", ErrFenced, tps)
		r.log.Error("partitions lost in exactly-once mode", "partitions", fmt.Sprint(tps))
		return r.failed
	}
	r.dropPending(tps)
	r.stopTasks(tps)
	r.log.Warn("partitions lost", "partitions", fmt.Sprint(tps))
	return nil
}

// stopTasks stops the tasks of tps, or every task when tps is nil.
func (r *runner) stopTasks(tps []record.TopicPartition) {
	if tps == nil {
		for tp := range r.tasks {
			tps = append(tps, tp)
		}
	}
	// Close every queue first, so the tasks close their stores in
	// parallel: revocation work stays bounded (quix-streams#1131).
	var stopping []*task
	for _, tp := range tps {
		if t, ok := r.tasks[tp]; ok {
			t.dropped.Store(true)
			r.releaseTask(t)
			close(t.in)
			stopping = append(stopping, t)
			delete(r.tasks, tp)
		}
	}
	done := make(chan struct{})
	go func() {
		for _, t := range stopping {
			<-t.done
		}
		close(done)
	}()
	r.wait(stopping, done)
	for _, t := range stopping {
		r.cfg.Metrics.dropLag(t.tp)
	}
	r.cfg.Metrics.Assigned.Store(int64(len(r.tasks)))
}
