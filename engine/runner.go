package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
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
	// committed. In exactly-once mode, records produced to one of the
	// run's own source topics (a group_by's repartition topic) are first
	// committed and waited for another idle period: they are readable only
	// after their transaction commits.
	StopWhenIdle time.Duration
	// Busy, if set, reports whether something outside the run still
	// feeds its topics (a source reading a file): StopWhenIdle counts
	// from when it stops being busy.
	Busy func() bool
	// FlushTimeout bounds the producer flush of a checkpoint. Default 5m.
	FlushTimeout time.Duration
	// QueueSize is the number of messages handed to a task ahead of its
	// processing. Default 1024.
	QueueSize int
	// QueueBytes bounds the key and value bytes queued for a task (a
	// single message larger than that still goes through). Default 4 MiB.
	// A partition whose queue is full is paused at the client until the
	// queue drains to half; the other partitions keep flowing.
	QueueBytes int64
	Logger     *slog.Logger
	// Stdout receives print() output; it must accept concurrent writes of
	// whole lines. Default io.Discard.
	Stdout io.Writer
	// NewThread returns the Starlark thread of a new task. Default: a
	// plain thread named after the partition.
	NewThread func(tp record.TopicPartition) *starlark.Thread
	// Stores opens (and recovers) the state stores of stateful
	// pipelines; nil when none.
	Stores Stores
	// Callbacks are the application's error callbacks; nil fields mean
	// "stop on the error".
	Callbacks Callbacks
	// Metrics, when not nil, receives the run's counters.
	Metrics *Metrics
	// Outputs, when set, receives every record that reaches the end of a
	// branch (a dataframe's last step; not a sink's): app.run(count=,
	// collect=) counts and collects them.
	Outputs Sink
	// Reloads delivers new pipelines to switch to (hot reload); each is
	// applied at a checkpoint boundary and answered on its Done channel.
	Reloads <-chan Reload
	// Guarantee is the processing guarantee. ExactlyOnce needs a Producer
	// that is a Transactor. Default AtLeastOnce.
	Guarantee Guarantee

	// FinalCommitTimeout bounds how long the final checkpoint's commit
	// is retried while the group rebalances. Default 30s.
	FinalCommitTimeout time.Duration
	// CommitRetryTimeout bounds how long a commit refused during a
	// rebalance is retried before the run fails. Default 2m.
	CommitRetryTimeout time.Duration
	// CommitRetryInterval is the time between retries of a refused
	// commit; polls wait at most this long meanwhile. Default 200ms.
	CommitRetryInterval time.Duration
	// ShutdownGrace is how long, once ctx is done (or a reload's barrier
	// started), the tasks may take to finish the message at hand before
	// their Starlark threads are cancelled (a callback in an endless
	// loop); the run then fails without committing anything more.
	// Default 5s.
	ShutdownGrace time.Duration
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
	OnConsumerError func(c *Context, err error, m *record.Record) (skip bool, cbErr error)
	// OnProcessingError handles a failure inside the pipeline.
	OnProcessingError func(c *Context, err error, r *Row) (skip bool, cbErr error)
	// OnProducerError handles a record to_topic cannot serialize or queue.
	OnProducerError func(c *Context, err error, r *Row) (skip bool, cbErr error)
	// OnMessageProcessed runs after each message is processed.
	OnMessageProcessed func(c *Context, m *record.Record) error
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
	if c.QueueBytes <= 0 {
		c.QueueBytes = 4 << 20
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
		c.NewThread = func(tp record.TopicPartition) *starlark.Thread { return &starlark.Thread{Name: tp.String()} }
	}
	if c.FinalCommitTimeout <= 0 {
		c.FinalCommitTimeout = 30 * time.Second
	}
	if c.CommitRetryTimeout <= 0 {
		c.CommitRetryTimeout = 2 * time.Minute
	}
	if c.CommitRetryInterval <= 0 {
		c.CommitRetryInterval = 200 * time.Millisecond
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 5 * time.Second
	}
	return nil
}

// Stats counts what a Run did.
type Stats struct {
	Consumed    int64
	Checkpoints int64
	// Backpressured counts the checkpoints dropped for a sink's
	// backpressure.
	Backpressured int64
}

// Run consumes the sources, runs their pipelines and commits checkpoints
// until ctx is done, StopWhenIdle elapses, or a failure. On a clean stop it
// commits a final checkpoint before closing the consumer. On a failure it
// commits nothing further and returns the failure.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	if err := cfg.validate(); err != nil {
		return Stats{}, err
	}
	commit, err := newCommitter(&cfg)
	if err != nil {
		return Stats{}, err
	}
	r := &runner{
		commit:    commit,
		ctx:       ctx,
		cfg:       cfg,
		log:       cfg.Logger,
		sources:   make(map[string]*composed, len(cfg.Sources)),
		tasks:     make(map[record.TopicPartition]*task),
		errs:      make(chan error, 1),
		recovered: make(chan *task, 1024),
		changelog: &changelogProducer{p: cfg.Producer},
	}
	topics := make([]string, 0, len(cfg.Sources))
	sources, err := composeSources(cfg.Sources, cfg.Outputs)
	if err != nil {
		return Stats{}, err
	}
	r.sources = sources
	r.groups = SubTopologies(cfg.Sources)
	r.sinks = sinksOf(cfg.Sources)
	for _, s := range r.sinks {
		if st, ok := s.(Starter); ok {
			if err := st.Start(); err != nil {
				_ = cfg.Consumer.Close()
				return Stats{}, fmt.Errorf("engine: start sink %s: %w", s, err)
			}
		}
	}
	for name := range sources {
		topics = append(topics, name)
	}
	sort.Strings(topics)
	r.producer = cfg.Producer
	if cfg.Guarantee == ExactlyOnce && cfg.StopWhenIdle > 0 {
		r.loopback = &loopbackProducer{Producer: cfg.Producer, sources: map[string]bool{}}
		for _, t := range topics {
			r.loopback.sources[t] = true
		}
		r.producer = r.loopback
	}
	if err := r.commit.begin(); err != nil {
		_ = cfg.Consumer.Close()
		return Stats{}, fmt.Errorf("engine: %w", err)
	}
	if err := cfg.Consumer.Subscribe(topics, r); err != nil {
		_ = r.commit.abort()
		_ = cfg.Consumer.Close()
		return Stats{}, fmt.Errorf("engine: subscribe to %v: %w", topics, err)
	}
	err = r.loop(ctx)
	if err == nil {
		// The final checkpoint is committed before the consumer closes, not
		// inside the revoke callback during close: the broker may evict
		// the member first (quix-streams#637).
		err = r.finalCheckpoint()
	}
	if err != nil {
		r.failed = err
		r.beginStop(reasonFailure)
		r.log.Error("application is stopping due to failure, the latest checkpoint will not be committed")
		// Stop the tasks and abort before leaving the group: the
		// partitions' next owner then finds no open transaction holding
		// up its read_committed recovery.
		r.stopTasks(nil)
		if cfg.Guarantee == ExactlyOnce {
			if aerr := r.commit.abort(); aerr != nil {
				r.log.Warn("cannot abort the open transaction; the broker aborts it when it times out", "error", aerr.Error())
			}
		}
	}
	if cerr := cfg.Consumer.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("engine: close consumer: %w", cerr)
	}
	r.stopTasks(nil)
	return r.stats, err
}

// Reasons a task's Starlark thread is cancelled: its callback ran on one
// message for longer than ShutdownGrace while the runner waited for it.
const (
	reasonShutdown = "the job is stopping and the callback did not return within the shutdown grace period"
	reasonFailure  = "the job is stopping after a failure and the callback did not return within the grace period"
	reasonReload   = "a reload is waiting and the callback did not return within the grace period"
)

// beginStop marks the run as stopping: tasks skip the messages queued but
// not started (they are not processed, so not committed: their next owner
// reads them), and waits for tasks cancel a callback stuck past the
// grace.
func (r *runner) beginStop(reason string) {
	r.stopping = true
	r.draining.Store(true)
	if r.watchdog == "" {
		r.watchdog = reason
	}
}

// wait waits for done, the end of something tasks must reach (a barrier,
// their stop). While it waits, once the run's context is done the run
// begins to stop; and when r.watchdog is set, a task whose callback has
// been running on one message for longer than ShutdownGrace has its
// Starlark thread cancelled, so that a callback that never returns cannot
// hold the run up. It runs on the runner's goroutine.
func (r *runner) wait(tasks []*task, done <-chan struct{}) {
	ctxDone := r.ctx.Done()
	tick := time.NewTicker(max(r.cfg.ShutdownGrace/10, time.Millisecond))
	defer tick.Stop()
	// since is when each task was first seen busy on its current message.
	type busy struct {
		offset int64
		since  time.Time
	}
	seen := map[*task]busy{}
	for {
		select {
		case <-done:
			return
		case <-ctxDone:
			ctxDone = nil
			r.beginStop(reasonShutdown)
		case now := <-tick.C:
			if r.watchdog == "" {
				continue
			}
			for _, t := range tasks {
				b := t.busy.Load()
				switch prev, ok := seen[t]; {
				case b == 0:
					delete(seen, t)
				case !ok || prev.offset != b:
					seen[t] = busy{b, now}
				case now.Sub(prev.since) > r.cfg.ShutdownGrace:
					t.ctx.Thread.Cancel(r.watchdog)
				}
			}
		}
	}
}

type composed struct {
	topic *Topic
	step  Step
}

// composeSources composes the sources' pipelines, sharing what two of
// them merge into.
func composeSources(sources []*Source, outputs Sink) (map[string]*composed, error) {
	roots := make([]*Node, len(sources))
	out := make(map[string]*composed, len(sources))
	for i, s := range sources {
		if _, dup := out[s.Topic.Name]; dup {
			return nil, fmt.Errorf("engine: topic %q is a source twice", s.Topic.Name)
		}
		out[s.Topic.Name] = nil
		roots[i] = s.Root
	}
	for i, step := range composeAll(roots, outputs) {
		out[sources[i].Topic.Name] = &composed{topic: sources[i].Topic, step: step}
	}
	return out, nil
}

// SubTopologies returns, for each source topic, the sorted source topics
// of its sub-topology: the topics whose pipelines meet (a concat or a
// join), transitively. A task owns one partition of all of them.
func SubTopologies(sources []*Source) map[string][]string {
	parent := make([]int, len(sources))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	owner := map[*Node]int{}
	for i, s := range sources {
		stack := []*Node{s.Root}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if o, ok := owner[n]; ok {
				if a, b := find(o), find(i); a != b {
					parent[a] = b
				}
				continue
			}
			owner[n] = i
			stack = append(stack, n.children...)
		}
	}
	members := map[int][]string{}
	for i, s := range sources {
		members[find(i)] = append(members[find(i)], s.Topic.Name)
	}
	out := make(map[string][]string, len(sources))
	for _, names := range members {
		sort.Strings(names)
		for _, n := range names {
			out[n] = names
		}
	}
	return out
}

type runner struct {
	cfg     Config
	log     *slog.Logger
	sources map[string]*composed
	groups  map[string][]string             // source topic -> the topics of its sub-topology
	tasks   map[record.TopicPartition]*task // by each of a task's partitions
	errs    chan error                      // first task failure

	recovered chan *task // tasks whose stores are open and recovered
	changelog *changelogProducer
	commit    committer // the checkpoint's commit step, chosen by the guarantee
	producer  Producer  // what tasks produce with
	loopback  *loopbackProducer
	ctx       context.Context
	// draining makes tasks skip the messages they have not started.
	draining atomic.Bool
	// watchdog, when set, is why waits cancel callbacks stuck past
	// ShutdownGrace (see wait).
	watchdog string

	failed       error
	dirty        bool             // messages handed to tasks since the last checkpoint
	pending      *pendingCommit   // a checkpoint waiting for its commit
	held         []*record.Record // messages polled while a commit is pending
	full         []*task          // tasks with an overflow, or paused until their queue drains
	aligning     []*task          // tasks holding messages for timestamp alignment (align.go)
	stopping     bool             // the final checkpoint is under way: nothing new is processed
	joined       bool             // the group has assigned partitions (possibly none) at least once
	lastActivity time.Time
	// lastUnprocessedLog is when StopWhenIdle last said why it waits.
	lastUnprocessedLog time.Time
	stats              Stats
	sinks              []Sink   // flushed at every checkpoint
	backoff            *backoff // a sink's backpressure in progress
}

func (r *runner) loop(ctx context.Context) error {
	now := time.Now()
	r.lastActivity = now
	lastCommit, lastLag := now, now
	for {
		select {
		case <-ctx.Done():
			r.log.Info("stopping: shutdown requested")
			r.beginStop(reasonShutdown)
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
		case t := <-r.recovered:
			r.cfg.Metrics.Recovering.Add(-1)
			if r.live(t) {
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
			timeout = min(timeout, r.cfg.CommitRetryInterval/2)
		}
		if r.backoff != nil {
			if !time.Now().Before(r.backoff.until) {
				if err := r.endBackoff(); err != nil {
					return err
				}
			} else {
				timeout = max(min(timeout, time.Until(r.backoff.until)), time.Millisecond)
			}
		}
		if len(r.full) > 0 {
			r.refill()
			if len(r.full) > 0 {
				// Come back soon to refill the queues that drain.
				timeout = min(timeout, 2*time.Millisecond)
			}
		}
		if len(r.aligning) > 0 {
			r.alignAll(time.Now())
			if len(r.aligning) > 0 {
				timeout = min(timeout, alignPoll)
			}
		}
		m, err := r.cfg.Consumer.Poll(timeout)
		if r.failed != nil { // a rebalance callback failed (and Poll returns its error)
			return r.failed
		}
		if err != nil {
			return fmt.Errorf("engine: consume: %w", err)
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
		if d := r.cfg.StopWhenIdle; d > 0 && r.joined && now.Sub(r.lastActivity) >= d && r.pending == nil && r.backoff == nil && !r.recovering() && r.tasksIdle() {
			if r.loopback != nil && r.loopback.produced.Swap(false) {
				// Exactly-once: what went to a source topic of this run
				// (a group_by's repartition topic) becomes readable only
				// when its transaction commits. Commit, then wait another
				// idle period for it to come back.
				if err := r.checkpoint("idle"); err != nil {
					return err
				}
				r.lastActivity = time.Now()
				continue
			}
			if r.cfg.Busy != nil && r.cfg.Busy() {
				r.lastActivity = now
				continue
			}
			if r.unprocessedElsewhere(now) {
				r.lastActivity = time.Now() // the check may take seconds: count from its end
				continue
			}
			r.log.Info("stopping: no new messages", "idle", d)
			return nil
		}
	}
}

// An unprocessedReporter is a Consumer that can tell which partitions of
// the subscription hold messages the group has not processed (the kafka
// adapter can), so that StopWhenIdle does not stop while a partition is
// unassigned, held by a member that died, or failing to fetch.
type unprocessedReporter interface {
	Unprocessed(topics []string, positions map[record.TopicPartition]int64) ([]fmt.Stringer, error)
}

// unprocessedElsewhere reports whether some partition of the run's
// source topics still holds messages that nobody processed, logging
// which (at most every 10s).
func (r *runner) unprocessedElsewhere(now time.Time) bool {
	u, ok := r.cfg.Consumer.(unprocessedReporter)
	if !ok {
		return false
	}
	topics := make([]string, 0, len(r.sources))
	for name := range r.sources {
		topics = append(topics, name)
	}
	sort.Strings(topics)
	positions := make(map[record.TopicPartition]int64, len(r.tasks))
	for tp, t := range r.tasks {
		p := t.parts[tp.Topic]
		positions[tp] = p.committedAtAssign
		if p.dispatched >= 0 {
			positions[tp] = p.dispatched + 1
		}
	}
	left, err := u.Unprocessed(topics, positions)
	if err == nil && len(left) == 0 {
		return false
	}
	if now.Sub(r.lastUnprocessedLog) >= 10*time.Second {
		r.lastUnprocessedLog = now
		if err != nil {
			r.log.Warn("not stopping while idle: cannot check that every partition is processed", "error", err.Error())
		} else {
			r.log.Warn("not stopping while idle: partitions hold messages the group has not processed", "partitions", fmt.Sprint(left))
		}
	}
	return true
}

// watermarker is a Consumer that knows partitions' watermarks without a
// request (the kafka adapter does).
type watermarker interface {
	CachedWatermarks(tp record.TopicPartition) (low, high int64, err error)
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
		p := t.parts[tp.Topic]
		next := p.dispatched + 1
		if p.dispatched < 0 {
			next = max(p.committedAtAssign, 0)
		}
		r.cfg.Metrics.SetLag(tp, max(high-next, 0))
	}
}

// tasksIdle reports whether every task has processed all it was handed
// (StopWhenIdle counts from then: a slow callback is not idleness).
func (r *runner) tasksIdle() bool {
	for _, t := range r.tasks {
		if len(t.in) > 0 || len(t.overflow) > 0 || t.busy.Load() != 0 || t.buffered() > 0 {
			return false
		}
	}
	return true
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
// offset is never committed here and its new owner reads it. The poll
// loop never waits for a task: a full queue pauses its partition and the
// message waits in the task's overflow (see refill).
func (r *runner) dispatch(m *record.Record) {
	tp := record.TopicPartition{Topic: m.Topic, Partition: m.Partition}
	t := r.tasks[tp]
	if t == nil || r.stopping {
		r.log.Debug("not processing a message: its partition is no longer assigned, or the run is stopping", "partition", tp.String(), "offset", m.Offset)
		return
	}
	if p := t.parts[m.Topic]; p.firstPolled < 0 {
		p.firstPolled = m.Offset
	}
	if len(t.parts) > 1 {
		r.buffer(t, m) // aligned by timestamp across the task's topics (align.go)
		return
	}
	r.enqueue(t, m)
}

// enqueue hands m to its task, in order after what the task was handed.
func (r *runner) enqueue(t *task, m *record.Record) {
	tp := record.TopicPartition{Topic: m.Topic, Partition: m.Partition}
	if len(t.overflow) > 0 || !r.offer(t, m) {
		// The queue is full: the message waits in order in the overflow,
		// which refill empties into the queue as it drains. Pausing the
		// partition is dear (librdkafka drops what it prefetched for it and
		// refetches it after fetch.queue.backoff.ms): only a partition
		// whose overflow outgrows overflowFactor queues is paused.
		if len(t.overflow) == 0 {
			r.full = append(r.full, t)
		}
		t.overflow = append(t.overflow, m)
		t.overflowBytes += messageBytes(m)
		if !t.full && (len(t.overflow) >= overflowFactor*cap(t.in) || t.overflowBytes >= overflowFactor*r.cfg.QueueBytes) {
			t.full = true
			if err := r.syncPause(); err != nil {
				r.log.Warn("cannot pause a partition whose queue is full", "partition", tp.String(), "error", err.Error())
			}
		}
		return
	}
	if t.recovering && !t.backlog && len(t.in) >= cap(t.in)/2 {
		// The task is still recovering its stores: stop fetching its
		// partition rather than fill its queue.
		t.backlog = true
		if err := r.syncPause(); err != nil {
			r.log.Warn("cannot pause a recovering partition", "partition", tp.String(), "error", err.Error())
		}
	}
}

// overflowFactor is how many queues' worth (in messages or bytes) a
// task's overflow holds before its partition is paused.
const overflowFactor = 16

// offer queues m for t unless its queue is full (in count or bytes).
func (r *runner) offer(t *task, m *record.Record) bool {
	size := messageBytes(m)
	if len(t.in) > 0 && t.queuedBytes.Load()+size > r.cfg.QueueBytes {
		return false
	}
	t.queuedBytes.Add(size)
	p := t.parts[m.Topic]
	select {
	case t.in <- taskItem{m: m, part: p}:
	default:
		t.queuedBytes.Add(-size)
		return false
	}
	p.dispatched = m.Offset
	r.stats.Consumed++
	r.cfg.Metrics.Consumed.Add(1)
	r.dirty = true
	return true
}

// refill moves the overflow of full tasks into their queues, and resumes
// fetching a partition once its queue has drained to half.
func (r *runner) refill() {
	kept := r.full[:0]
	resume := false
	for _, t := range r.full {
		if !r.live(t) {
			continue // the partition left
		}
		n := 0
		for n < len(t.overflow) && r.offer(t, t.overflow[n]) {
			t.overflowBytes -= messageBytes(t.overflow[n])
			n++
		}
		t.overflow = t.overflow[n:]
		if len(t.overflow) > 0 {
			kept = append(kept, t)
			continue
		}
		t.overflow, t.overflowBytes = nil, 0
		if t.full && len(t.in) <= cap(t.in)/2 && t.queuedBytes.Load() <= r.cfg.QueueBytes/2 {
			t.full = false
			resume = true
			continue
		}
		if t.full {
			kept = append(kept, t)
		}
	}
	r.full = kept
	if resume {
		if err := r.syncPause(); err != nil {
			r.log.Warn("cannot resume partitions", "error", err.Error())
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
	var pause, resume []record.TopicPartition
	for tp, t := range r.tasks {
		p := t.parts[tp.Topic]
		want := (t.recovering && t.backlog) || r.pending != nil || t.full || p.ahead
		if want != p.paused {
			if want {
				pause = append(pause, tp)
			} else {
				resume = append(resume, tp)
			}
			p.paused = want
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

// taskList returns each task once.
func (r *runner) taskList() []*task {
	ts := make([]*task, 0, len(r.tasks))
	seen := make(map[*task]bool, len(r.tasks))
	for _, t := range r.tasks {
		if !seen[t] {
			seen[t] = true
			ts = append(ts, t)
		}
	}
	return ts
}

// live reports whether t is still a task of the run (its partitions have
// not left).
func (r *runner) live(t *task) bool {
	for tp := range t.parts {
		return r.tasks[record.TopicPartition{Topic: tp, Partition: t.partition}] == t
	}
	return false
}

// loopbackProducer notes whether tasks produced to one of the run's own
// source topics (a group_by's repartition topic), for StopWhenIdle in
// exactly-once mode. Safe for concurrent use.
type loopbackProducer struct {
	Producer
	sources  map[string]bool // read-only
	produced atomic.Bool
}

func (p *loopbackProducer) Produce(m *record.Record) error {
	if p.sources[m.Topic] {
		p.produced.Store(true)
	}
	return p.Producer.Produce(m)
}
