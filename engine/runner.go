package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
	"github.com/qstar-dev/qstar/state"
)

// Source is one input topic and the pipeline graph it feeds.
type Source struct {
	Topic *Topic
	Root  *Node
}

// Config configures Run. Sources, Consumer and Producer are required.
type Config struct {
	Sources  []*Source
	Consumer Consumer
	Producer Producer
	// CommitInterval is the time between checkpoints; <= 0 checkpoints
	// after every message, as Quix Streams does.
	CommitInterval time.Duration
	// PollTimeout bounds one Consumer.Poll; also how quickly Run notices
	// that ctx is done. Default 1s.
	PollTimeout time.Duration
	// StopWhenIdle, when positive, makes Run return once no message has
	// arrived for that long (counted from the last assignment; not before
	// the group first assigns partitions) and everything processed is
	// committed.
	StopWhenIdle time.Duration
	// FlushTimeout bounds the producer flush of a checkpoint. Default 5m.
	FlushTimeout time.Duration
	// QueueSize is the number of messages handed to a task ahead of its
	// processing. Default 1024.
	QueueSize int
	Logger    *slog.Logger
	// Stdout receives print() output; it must accept concurrent writes of
	// whole lines. Default io.Discard.
	Stdout io.Writer
	// NewThread returns the Starlark thread of a new task. Default: a
	// plain thread named after the partition.
	NewThread func(tp TopicPartition) *starlark.Thread
	// State opens the stores of stateful pipelines; nil when none.
	State *state.Manager
	// Changelogs reads changelog partitions for recovery; nil disables
	// recovery (use_changelog_topics=False).
	Changelogs state.ChangelogSource
	// Callbacks are the application's error callbacks; nil fields mean
	// "stop on the error".
	Callbacks Callbacks
	// Metrics, when not nil, receives the run's counters.
	Metrics *Metrics
	// Reloads delivers new pipelines to switch to (hot reload); each is
	// applied at a checkpoint boundary and answered on its Done channel.
	Reloads <-chan Reload
}

// Reload asks a running engine to switch to new pipelines for the same
// source topics. Everything handed to the tasks before is processed by the
// old pipelines and committed; everything after, by the new ones.
type Reload struct {
	Sources []*Source
	Done    chan<- error
}

// Callbacks decide what happens on errors, as Quix Streams' error
// callbacks: returning true skips the message (or the produce) and
// continues; false stops the run without committing past the message. They
// run on the task's goroutine with its Context.
type Callbacks struct {
	// OnConsumerError handles a message that cannot be deserialized (or
	// whose timestamp cannot be extracted).
	OnConsumerError func(c *Context, err error, m *Message) (skip bool, cbErr error)
	// OnProcessingError handles a failure inside the pipeline.
	OnProcessingError func(c *Context, err error, r *Row) (skip bool, cbErr error)
	// OnProducerError handles a record to_topic cannot serialize or queue.
	OnProducerError func(c *Context, err error, r *Row) (skip bool, cbErr error)
	// OnMessageProcessed runs after each message is processed.
	OnMessageProcessed func(c *Context, m *Message) error
}

func (c *Config) validate() error {
	switch {
	case len(c.Sources) == 0:
		return errors.New("engine: no source topics: the pipeline has no dataframe")
	case c.Consumer == nil:
		return errors.New("engine: Config.Consumer is nil")
	case c.Producer == nil:
		return errors.New("engine: Config.Producer is nil")
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = time.Second
	}
	if c.FlushTimeout <= 0 {
		c.FlushTimeout = 5 * time.Minute
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Metrics == nil {
		c.Metrics = &Metrics{}
	}
	if c.NewThread == nil {
		c.NewThread = func(tp TopicPartition) *starlark.Thread { return &starlark.Thread{Name: tp.String()} }
	}
	return nil
}

// Stats counts what a Run did.
type Stats struct {
	Consumed    int64
	Checkpoints int64
}

// Run consumes the sources, runs their pipelines and commits checkpoints
// until ctx is done, StopWhenIdle elapses, or a failure. On a clean stop it
// commits a final checkpoint before closing the consumer. On a failure it
// commits nothing further and returns the failure.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	if err := cfg.validate(); err != nil {
		return Stats{}, err
	}
	r := &runner{
		cfg:       cfg,
		log:       cfg.Logger,
		sources:   make(map[string]*composed, len(cfg.Sources)),
		tasks:     make(map[TopicPartition]*task),
		errs:      make(chan error, 1),
		recovered: make(chan TopicPartition, 1024),
		stores:    &runnerState{state: cfg.State, changelogs: cfg.Changelogs, log: cfg.Logger},
		changelog: &changelogProducer{p: cfg.Producer},
	}
	topics := make([]string, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		if _, dup := r.sources[s.Topic.Name]; dup {
			return Stats{}, fmt.Errorf("engine: topic %q is a source twice", s.Topic.Name)
		}
		r.sources[s.Topic.Name] = &composed{topic: s.Topic, step: Compose(s.Root)}
		topics = append(topics, s.Topic.Name)
	}
	sort.Strings(topics)
	if err := cfg.Consumer.Subscribe(topics, r); err != nil {
		return Stats{}, fmt.Errorf("engine: subscribe to %v: %w", topics, err)
	}
	err := r.loop(ctx)
	if err == nil {
		// The final checkpoint is committed before the consumer closes, not
		// inside the revoke callback during close: the broker may evict
		// the member first (quix-streams#637).
		err = r.finalCheckpoint()
	}
	if err != nil {
		r.failed = err
		r.log.Error("application is stopping due to failure, the latest checkpoint will not be committed")
	}
	if cerr := cfg.Consumer.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("engine: close consumer: %w", cerr)
	}
	r.stopTasks(nil)
	return r.stats, err
}

// finalCheckpoint commits what was processed, waiting (polling, so that a
// rebalance can settle) while the commit is refused.
func (r *runner) finalCheckpoint() error {
	r.stopping = true
	if err := r.checkpoint("shutdown"); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for r.pending != nil {
		if time.Now().After(deadline) {
			return errors.New("engine: the final checkpoint's commit was refused for 30s (the group kept rebalancing); the uncommitted messages will be processed again")
		}
		m, err := r.cfg.Consumer.Poll(100 * time.Millisecond)
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

type composed struct {
	topic *Topic
	step  Step
}

type runner struct {
	cfg     Config
	log     *slog.Logger
	sources map[string]*composed
	tasks   map[TopicPartition]*task
	errs    chan error // first task failure

	recovered chan TopicPartition // tasks whose stores are open and recovered
	stores    *runnerState
	changelog *changelogProducer

	failed       error
	dirty        bool           // messages handed to tasks since the last checkpoint
	pending      *pendingCommit // a checkpoint waiting for its commit
	held         []*Message     // messages polled while a commit is pending
	stopping     bool           // the final checkpoint is under way: nothing new is processed
	joined       bool           // the group has assigned partitions (possibly none) at least once
	lastActivity time.Time
	stats        Stats
}

func (r *runner) loop(ctx context.Context) error {
	now := time.Now()
	r.lastActivity = now
	lastCommit, lastLag := now, now
	for {
		select {
		case <-ctx.Done():
			r.log.Info("stopping: shutdown requested")
			return nil
		case err := <-r.errs:
			return err
		case req := <-r.cfg.Reloads:
			err := r.reload(req.Sources)
			req.Done <- err
			if r.failed != nil {
				return r.failed
			}
			continue
		case tp := <-r.recovered:
			r.cfg.Metrics.Recovering.Add(-1)
			if t, ok := r.tasks[tp]; ok {
				t.recovering, t.backlog = false, false
				if err := r.syncPause(); err != nil {
					return err
				}
				r.lastActivity = time.Now() // recovery is not idleness
			}
			continue
		default:
		}
		if r.pending != nil {
			if err := r.retryPending(); err != nil {
				return err
			}
		}
		timeout := r.cfg.PollTimeout
		if d := r.cfg.StopWhenIdle; d > 0 && d/4 < timeout {
			timeout = max(d/4, time.Millisecond)
		}
		if r.pending != nil {
			timeout = min(timeout, 100*time.Millisecond)
		}
		m, err := r.cfg.Consumer.Poll(timeout)
		if err != nil {
			return fmt.Errorf("engine: consume: %w", err)
		}
		if r.failed != nil { // a checkpoint inside a rebalance callback failed
			return r.failed
		}
		now = time.Now()
		if m != nil {
			r.lastActivity = now
			if r.pending != nil {
				r.held = append(r.held, m)
			} else {
				r.dispatch(m)
			}
		}
		if now.Sub(lastLag) >= time.Second {
			r.updateLag()
			lastLag = now
		}
		if r.dirty && r.pending == nil && (r.cfg.CommitInterval <= 0 || now.Sub(lastCommit) >= r.cfg.CommitInterval) {
			if err := r.checkpoint("interval"); err != nil {
				return err
			}
			lastCommit = time.Now()
		}
		if d := r.cfg.StopWhenIdle; d > 0 && r.joined && now.Sub(r.lastActivity) >= d && r.pending == nil && !r.recovering() {
			r.log.Info("stopping: no new messages", "idle", d)
			return nil
		}
	}
}

// watermarker is a Consumer that knows partitions' watermarks without a
// request (the kafka adapter does).
type watermarker interface {
	CachedWatermarks(tp TopicPartition) (low, high int64, err error)
}

// updateLag records each partition's lag: its high watermark minus the
// next offset to hand out.
func (r *runner) updateLag() {
	wm, ok := r.cfg.Consumer.(watermarker)
	if !ok {
		return
	}
	for tp, t := range r.tasks {
		_, high, err := wm.CachedWatermarks(tp)
		if err != nil || high < 0 {
			continue
		}
		next := t.dispatched + 1
		if t.dispatched < 0 {
			next = max(t.committedAtAssign, 0)
		}
		r.cfg.Metrics.SetLag(tp, max(high-next, 0))
	}
}

// reload switches to new pipelines at a checkpoint: the barrier drains
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
	if err := r.checkpoint("reload"); err != nil {
		return err
	}
	if r.pending != nil {
		return errors.New("engine: reload: the checkpoint's commit is waiting for a rebalance; try again")
	}
	// The checkpoint's barrier left every task idle: swap their steps.
	tasks := r.taskList()
	r.barrier(tasks)
	for _, t := range tasks {
		t.src = next[t.tp.Topic]
	}
	r.sources = next
	return nil
}

// recovering reports whether a task is still opening or recovering its
// stores.
func (r *runner) recovering() bool {
	for _, t := range r.tasks {
		if t.recovering {
			return true
		}
	}
	return false
}

// dispatch hands a message to its partition's task. A message of a
// partition no longer assigned is dropped: it was not processed, so its
// offset is never committed here and its new owner reads it.
func (r *runner) dispatch(m *Message) {
	tp := TopicPartition{m.Topic, m.Partition}
	t := r.tasks[tp]
	if t == nil || r.stopping {
		r.log.Debug("not processing a message: its partition is no longer assigned, or the run is stopping", "partition", tp.String(), "offset", m.Offset)
		return
	}
	t.in <- taskItem{m: m}
	t.dispatched = m.Offset
	r.stats.Consumed++
	r.cfg.Metrics.Consumed.Add(1)
	r.dirty = true
	if t.recovering && !t.backlog && len(t.in) >= cap(t.in)/2 {
		// The task is still recovering its stores: stop fetching its
		// partition rather than fill its queue and block the poll loop.
		t.backlog = true
		if err := r.syncPause(); err != nil {
			r.log.Warn("cannot pause a recovering partition", "partition", tp.String(), "error", err.Error())
		}
	}
}

// syncPause pauses the partitions that must not be fetched (recovering
// their stores with a backlog queued, or waiting for a checkpoint's
// commit) and resumes the others. Partitions are not paused merely for
// recovering: their messages queue up and are processed once the stores
// are ready (pausing at assignment delays the first fetch by up to a
// second in librdkafka).
func (r *runner) syncPause() error {
	var pause, resume []TopicPartition
	for tp, t := range r.tasks {
		want := (t.recovering && t.backlog) || r.pending != nil
		if want != t.paused {
			if want {
				pause = append(pause, tp)
			} else {
				resume = append(resume, tp)
			}
			t.paused = want
		}
	}
	if len(pause) > 0 {
		if err := r.cfg.Consumer.Pause(pause); err != nil {
			return fmt.Errorf("engine: pause %v: %w", pause, err)
		}
	}
	if len(resume) > 0 {
		if err := r.cfg.Consumer.Resume(resume); err != nil {
			return fmt.Errorf("engine: resume %v: %w", resume, err)
		}
	}
	return nil
}

// barrier waits until every task has processed everything handed to it.
func (r *runner) barrier(tasks []*task) {
	var wg sync.WaitGroup
	wg.Add(len(tasks))
	for _, t := range tasks {
		t.in <- taskItem{barrier: &wg}
	}
	wg.Wait()
}

func (r *runner) taskList() []*task {
	ts := make([]*task, 0, len(r.tasks))
	for _, t := range r.tasks {
		ts = append(ts, t)
	}
	return ts
}

// pendingCommit is a checkpoint whose outputs and changelog records are
// delivered but whose offsets are not committed yet.
type pendingCommit struct {
	offsets []Offset
	since   time.Time
	retried time.Time
}

// maxCommitRetry bounds how long a commit refused during a rebalance is
// retried before the run fails.
const maxCommitRetry = 2 * time.Minute

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
	r.barrier(tasks)
	var offsets []Offset
	for _, t := range tasks {
		if t.err != nil {
			r.failed = t.err
			return t.err
		}
		if t.processed >= t.committed {
			offsets = append(offsets, Offset{t.tp, t.processed + 1})
		}
	}
	// 1. Produce the changelog records of every store transaction.
	for _, t := range tasks {
		for _, ts := range t.ctx.stores {
			if ts.tx == nil {
				continue
			}
			if err := ts.tx.Prepare(r.changelog, ts.store.Changelog, t.tp.Partition, t.processed); err != nil {
				r.failed = fmt.Errorf("engine: checkpoint: %s of %s: %w", ts.store.Name, t.tp, err)
				return r.failed
			}
		}
	}
	// 2. Wait until every output and changelog record is delivered.
	if err := r.cfg.Producer.Flush(r.cfg.FlushTimeout); err != nil {
		r.failed = fmt.Errorf("engine: checkpoint: produce: %w", err)
		return r.failed
	}
	r.dirty = false
	r.pending = &pendingCommit{offsets: offsets, since: start}
	if err := r.commitPending(); err != nil {
		return err
	}
	r.log.Debug("checkpoint", "reason", why, "partitions", len(offsets), "committed", r.pending == nil, "took", time.Since(start))
	return nil
}

// commitPending commits the pending checkpoint's offsets (step 3) and
// writes each store's changes with its offsets (step 4).
func (r *runner) commitPending() error {
	p := r.pending
	p.retried = time.Now()
	if len(p.offsets) > 0 {
		if err := r.cfg.Consumer.Commit(p.offsets); err != nil {
			if !errors.Is(err, ErrCommitRetriable) {
				r.failed = fmt.Errorf("engine: checkpoint: commit offsets: %w", err)
				return r.failed
			}
			if time.Since(p.since) > maxCommitRetry {
				r.failed = fmt.Errorf("engine: checkpoint: commit refused for %s: %w", maxCommitRetry, err)
				return r.failed
			}
			r.log.Info("commit refused during a rebalance; retrying once it settles", "error", err.Error())
			return r.syncPause()
		}
		for _, o := range p.offsets {
			if t, ok := r.tasks[o.TopicPartition]; ok {
				t.committed = o.Offset
			}
		}
	}
	for _, t := range r.taskList() {
		for _, ts := range t.ctx.stores {
			if ts.tx == nil {
				continue
			}
			changelogOffset := int64(-1)
			if ts.store.Changelog != "" {
				if off, ok := r.cfg.Producer.Offset(ts.store.Changelog, t.tp.Partition); ok {
					changelogOffset = off + 1
				}
			}
			if err := ts.tx.Flush(t.processed, changelogOffset); err != nil {
				r.failed = fmt.Errorf("engine: checkpoint: %s of %s: %w", ts.store.Name, t.tp, err)
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

// retryPending retries a pending commit at most every 200 ms.
func (r *runner) retryPending() error {
	if time.Since(r.pending.retried) < 200*time.Millisecond {
		return nil
	}
	return r.commitPending()
}

// dropPending gives up the pending checkpoint of partitions that left
// this member: their offsets are not committed and their prepared state
// changes are discarded. Their new owner reads from the committed offsets
// and its recovery skips the changelog records written for them.
func (r *runner) dropPending(tps []TopicPartition) {
	if r.pending == nil {
		return
	}
	gone := map[TopicPartition]bool{}
	for _, tp := range tps {
		gone[tp] = true
		if t, ok := r.tasks[tp]; ok {
			for _, ts := range t.ctx.stores {
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
		if !gone[TopicPartition{m.Topic, m.Partition}] {
			held = append(held, m)
		}
	}
	r.held = held
}

// Assigned implements Rebalancer: it starts a task per new partition. A
// task with state stores opens and recovers them before it processes its
// queue; if the queue fills meanwhile, its partition is paused until then.
func (r *runner) Assigned(tps []TopicPartition) error {
	var stateful []TopicPartition
	for _, tp := range tps {
		src := r.sources[tp.Topic]
		if src == nil {
			return fmt.Errorf("engine: assigned %s, which is not a source topic", tp)
		}
		if r.cfg.State != nil && len(r.cfg.State.Stores(tp.Topic)) > 0 {
			stateful = append(stateful, tp)
		}
	}
	committed := map[TopicPartition]int64{}
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
			c = state.NoCommit
		}
		t := &task{
			tp:                tp,
			src:               r.sources[tp.Topic],
			in:                make(chan taskItem, r.cfg.QueueSize),
			done:              make(chan struct{}),
			processed:         -1,
			dispatched:        -1,
			committed:         0,
			committedAtAssign: c,
		}
		t.ctx = NewContext(r.cfg.NewThread(tp), r.cfg.Producer, r.cfg.Stdout)
		t.ctx.SetLogger(r.log)
		t.ctx.callbacks = &r.cfg.Callbacks
		t.ctx.metrics = r.cfg.Metrics
		t.ctx.bind()
		r.tasks[tp] = t
		var recovered chan<- TopicPartition
		if contains(stateful, tp) {
			recovered = r.recovered
			t.recovering = true
			r.cfg.Metrics.Recovering.Add(1)
		}
		go t.run(r.errs, r.stores, recovered)
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

func contains(tps []TopicPartition, tp TopicPartition) bool {
	for _, x := range tps {
		if x == tp {
			return true
		}
	}
	return false
}

// Revoked implements Rebalancer: it checkpoints, then stops the tasks of
// the revoked partitions.
func (r *runner) Revoked(tps []TopicPartition) error {
	err := r.checkpoint("revoke")
	r.dropPending(tps)
	r.stopTasks(tps)
	r.log.Info("partitions revoked", "partitions", fmt.Sprint(tps))
	return err
}

// Lost implements Rebalancer: the partitions already belong to another
// member, so their tasks stop without a commit.
func (r *runner) Lost(tps []TopicPartition) error {
	r.dropPending(tps)
	r.stopTasks(tps)
	r.log.Warn("partitions lost", "partitions", fmt.Sprint(tps))
	return nil
}

// stopTasks stops the tasks of tps, or every task when tps is nil.
func (r *runner) stopTasks(tps []TopicPartition) {
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
			close(t.in)
			stopping = append(stopping, t)
			delete(r.tasks, tp)
		}
	}
	for _, t := range stopping {
		<-t.done
		r.cfg.Metrics.dropLag(t.tp)
	}
	r.cfg.Metrics.Assigned.Store(int64(len(r.tasks)))
}

type taskItem struct {
	m       *Message
	barrier *sync.WaitGroup
}

// task processes one partition. Fields below "owned by the task" are
// written by its goroutine and read by the runner only after a barrier.
type task struct {
	tp   TopicPartition
	src  *composed
	in   chan taskItem
	done chan struct{}
	ctx  *Context

	committed  int64 // owned by the runner: the offset last committed (next to read); 0 before the first commit
	dispatched int64 // owned by the runner: offset of the last message handed to the task; -1: none
	recovering bool  // its stores are being opened and recovered
	backlog    bool  // while recovering, its queue filled up
	paused     bool  // fetching is paused

	// committedAtAssign is the group's committed offset when the partition
	// was assigned (state.NoCommit if none); recovery skips changelog
	// records processed at or after it.
	committedAtAssign int64

	// owned by the task
	processed int64 // offset of the last message fully processed; -1: none
	err       error
}

// run opens and recovers the task's stores (reporting on recovered), then
// processes its queue until it is closed.
func (t *task) run(errs chan<- error, rs *runnerState, recovered chan<- TopicPartition) {
	defer close(t.done)
	defer t.closeStores()
	if rs.state != nil && len(rs.state.Stores(t.tp.Topic)) > 0 {
		if err := t.openStores(context.Background(), rs); err != nil {
			t.err = fmt.Errorf("engine: stores of %s: %w", t.tp, err)
			select {
			case errs <- t.err:
			default:
			}
		}
	}
	if recovered != nil {
		recovered <- t.tp
	}
	for it := range t.in {
		if it.barrier != nil {
			it.barrier.Done()
			continue
		}
		if t.err != nil {
			continue // nothing after a failure is processed
		}
		if err := t.process(it.m); err != nil {
			t.err = err
			select {
			case errs <- err:
			default:
			}
			continue
		}
		t.processed = it.m.Offset
	}
}

func (t *task) process(m *Message) error {
	c := t.ctx
	c.Message = m
	defer func() { c.Message = nil }()
	cb := c.callbacks
	rows, err := t.src.topic.DeserializeRows(m)
	if err == nil {
		if f := t.src.topic.TimestampExtractor; f != nil {
			for i := range rows {
				if rows[i].Timestamp, err = extractTimestamp(c, f, &rows[i], m.TimestampType); err != nil {
					break
				}
			}
		}
	}
	if errors.Is(err, serde.ErrIgnoreMessage) {
		return t.messageProcessed(m)
	}
	if err != nil {
		if cb == nil || cb.OnConsumerError == nil {
			return err
		}
		skip, cbErr := cb.OnConsumerError(c, err, m)
		if cbErr != nil {
			return fmt.Errorf("on_consumer_error failed: %w (handling: %v)", cbErr, err)
		}
		if !skip {
			return err
		}
		c.metrics.ProcessingErrors.Add(1)
		return t.messageProcessed(m)
	}
	for _, row := range rows {
		input := row
		if err := t.src.step(c, row); err != nil {
			if cb == nil || cb.OnProcessingError == nil {
				return err
			}
			skip, cbErr := cb.OnProcessingError(c, err, &input)
			if cbErr != nil {
				return fmt.Errorf("on_processing_error failed: %w (handling: %v)", cbErr, err)
			}
			if !skip {
				return err
			}
			c.metrics.ProcessingErrors.Add(1)
		}
	}
	return t.messageProcessed(m)
}

// messageProcessed runs on_message_processed.
func (t *task) messageProcessed(m *Message) error {
	if cb := t.ctx.callbacks; cb != nil && cb.OnMessageProcessed != nil {
		if err := cb.OnMessageProcessed(t.ctx, m); err != nil {
			return fmt.Errorf("on_message_processed failed: %w", err)
		}
	}
	return nil
}

// extractTimestamp calls a topic's timestamp_extractor.
func extractTimestamp(c *Context, f starlark.Callable, r *Row, tsType int) (int64, error) {
	args := starlark.Tuple{r.Value, HeadersValue(r.Headers), starlark.MakeInt64(r.Timestamp), starlark.MakeInt(tsType)}
	v, err := starlark.Call(c.Thread, f, args, nil)
	if err != nil {
		return 0, fail(c, "timestamp_extractor", "", err)
	}
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, fail(c, "timestamp_extractor", "", fmt.Errorf("it must return an int of milliseconds, got %s", v.Type()))
	}
	ts, ok := i.Int64()
	if !ok {
		return 0, fail(c, "timestamp_extractor", "", fmt.Errorf("timestamp %s out of range", i))
	}
	return ts, nil
}
