package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qstar-dev/qstar/record"
)

// reload switches to new pipelines at a checkpoint: a barrier drains
// every task, the checkpoint commits what the old pipelines did, and the
// idle tasks get the new composed steps. A reload that changes the source
// topics is refused.
func (r *runner) reload(sources []*Source) error {
	next, err := composeSources(sources, r.cfg.Outputs)
	if err != nil {
		return fmt.Errorf("engine: reload: %w", err)
	}
	if len(next) != len(r.sources) {
		return fmt.Errorf("engine: reload: the new script reads %d source topics, the running one %d", len(next), len(r.sources))
	}
	for name := range r.sources {
		if next[name] == nil {
			return fmt.Errorf("engine: reload: the new script does not read topic %q", name)
		}
	}
	groups := SubTopologies(sources)
	for name, g := range groups {
		if fmt.Sprint(g) != fmt.Sprint(r.groups[name]) {
			return fmt.Errorf("engine: reload: the new script joins or concatenates other topics with %q (%v, before %v); restart the job", name, g, r.groups[name])
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
	err = r.checkpoint("reload")
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
		for topic, p := range t.parts {
			p.src = next[topic]
		}
	}
	r.sources = next
	r.groups = groups
	r.sinks = sinksOf(sources)
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
	r.forgetBackoff(tps) // assigned afresh: read from the committed offsets
	// The partitions of one sub-topology's task come together: the range
	// assignor gives a member partition p of every topic it subscribes
	// to. (A topic with fewer partitions has no partition p: a stateless
	// concatenation does not need the same counts.)
	type taskKey struct {
		group     string
		partition int32
	}
	var keys []taskKey
	assigned := map[taskKey][]record.TopicPartition{}
	for _, tp := range tps {
		if r.sources[tp.Topic] == nil {
			return fmt.Errorf("engine: assigned %s, which is not a source topic", tp)
		}
		if _, ok := r.tasks[tp]; ok {
			continue
		}
		k := taskKey{fmt.Sprint(r.groups[tp.Topic]), tp.Partition}
		if assigned[k] == nil {
			keys = append(keys, k)
		}
		assigned[k] = append(assigned[k], tp)
	}
	// Committed offsets: stores recover by them, and timestamp alignment
	// knows from them where a partition's reading starts.
	var stateful, ask []record.TopicPartition
	for _, k := range keys {
		group := r.groups[assigned[k][0].Topic]
		if len(r.storesOf(group)) > 0 {
			stateful = append(stateful, assigned[k]...)
		}
		if len(r.storesOf(group)) > 0 || len(group) > 1 {
			ask = append(ask, assigned[k]...)
		}
	}
	committed := map[record.TopicPartition]int64{}
	if len(ask) > 0 {
		offs, err := r.cfg.Consumer.Committed(ask)
		if err != nil {
			return fmt.Errorf("engine: committed offsets of %v: %w", ask, err)
		}
		for _, o := range offs {
			committed[o.TopicPartition] = o.Offset
		}
	}
	for _, k := range keys {
		parts := assigned[k]
		group := r.groups[parts[0].Topic]
		if t := r.taskOf(group, k.partition); t != nil {
			// A partition of a running task's sub-topology, assigned
			// later (a cooperative assignor): only a task without stores
			// can take it, for their recovery went by the others' offsets.
			if contains(stateful, parts[0]) {
				return fmt.Errorf("engine: assigned %v after the other partitions of %v[%d], whose stores are open: the topics a stateful pipeline joins or concatenates must be assigned together (partition.assignment.strategy=range)", parts, group, k.partition)
			}
			r.addParts(t, parts, committed)
			continue
		}
		t := &task{
			name:      fmt.Sprintf("%s[%d]", strings.Join(group, "+"), k.partition),
			partition: k.partition,
			parts:     make(map[string]*taskPart, len(parts)),
			in:        make(chan taskItem, r.cfg.QueueSize),
			head:      make(chan headBarrier, 1),
			done:      make(chan struct{}),
			draining:  &r.draining,
		}
		r.addParts(t, parts, committed)
		t.ctx = NewContext(r.cfg.NewThread(parts[0]), r.producer, r.cfg.Stdout)
		t.ctx.SetLogger(r.log)
		t.ctx.callbacks = &r.cfg.Callbacks
		t.ctx.metrics = r.cfg.Metrics
		t.ctx.bind()
		var recovered chan<- *task
		var stores Stores
		if contains(stateful, parts[0]) {
			recovered, stores = r.recovered, r.cfg.Stores
			t.recovering = true
			r.cfg.Metrics.Recovering.Add(1)
		}
		go t.run(r.errs, stores, r.storesOf(group), recovered)
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

// taskOf returns the task of partition p of a sub-topology, if any.
func (r *runner) taskOf(group []string, p int32) *task {
	for _, topic := range group {
		if t := r.tasks[record.TopicPartition{Topic: topic, Partition: p}]; t != nil {
			return t
		}
	}
	return nil
}

// addParts gives t the partitions tps, whose committed offsets are in
// committed (absent: record.NoOffset). A running task takes new ones
// between two messages: the runner holds it meanwhile.
func (r *runner) addParts(t *task, tps []record.TopicPartition, committed map[record.TopicPartition]int64) {
	if t.ctx != nil && t.release == nil { // (a task held by a pending checkpoint stays held)
		r.holdTasks([]*task{t})
		defer r.releaseTask(t)
	}
	for _, tp := range tps {
		c, ok := committed[tp]
		if !ok {
			c = record.NoOffset
		}
		t.parts[tp.Topic] = &taskPart{tp: tp, src: r.sources[tp.Topic], processed: -1, dispatched: -1, received: -1, firstPolled: -1, committedAtAssign: c}
		r.tasks[tp] = t
	}
}

// withSiblings returns tps and the other partitions of their tasks: a
// task stops, and its pending changes are dropped, with the first of its
// partitions to leave. (The range assignor revokes them together.)
func (r *runner) withSiblings(tps []record.TopicPartition) []record.TopicPartition {
	seen := map[record.TopicPartition]bool{}
	var out []record.TopicPartition
	add := func(tp record.TopicPartition) {
		if !seen[tp] {
			seen[tp] = true
			out = append(out, tp)
		}
	}
	for _, tp := range tps {
		add(tp)
		if t, ok := r.tasks[tp]; ok {
			for _, p := range t.sortedParts() {
				add(p.tp)
			}
		}
	}
	return out
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
	r.forgetBackoff(tps)
	err := r.checkpoint("revoke")
	r.dropPending(tps)
	r.stopTasks(tps)
	r.log.Info("partitions revoked", "partitions", fmt.Sprint(tps))
	return err
}

// Lost implements Rebalancer: the partitions already belong to another
// member, so their tasks stop without a commit.
func (r *runner) Lost(tps []record.TopicPartition) error {
	r.forgetBackoff(tps)
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
	// parallel: revocation work stays bounded (quix-streams#1131). A
	// task stops with the first of its partitions to leave.
	var stopping []*task
	for _, tp := range tps {
		t, ok := r.tasks[tp]
		if !ok {
			continue
		}
		t.dropped.Store(true)
		r.releaseTask(t)
		close(t.in)
		stopping = append(stopping, t)
		for _, p := range t.parts {
			delete(r.tasks, p.tp)
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
		for _, p := range t.parts {
			r.cfg.Metrics.dropLag(p.tp)
		}
	}
	r.cfg.Metrics.Assigned.Store(int64(len(r.tasks)))
}

// storesOf returns the stores of a sub-topology's topics, each once.
func (r *runner) storesOf(group []string) []StoreSpec {
	if r.cfg.Stores == nil {
		return nil
	}
	return storesOf(r.cfg.Stores, group)
}

func storesOf(stores Stores, group []string) []StoreSpec {
	var out []StoreSpec
	seen := map[[2]string]bool{}
	for _, topic := range group {
		for _, s := range stores.Of(topic) {
			if k := [2]string{s.Topic, s.Name}; !seen[k] {
				seen[k] = true
				out = append(out, s)
			}
		}
	}
	return out
}
