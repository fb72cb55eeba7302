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
	// arrived for that long (counted from the start or the last
	// assignment) and everything processed is committed.
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
		cfg:     cfg,
		log:     cfg.Logger,
		sources: make(map[string]*composed, len(cfg.Sources)),
		tasks:   make(map[TopicPartition]*task),
		errs:    make(chan error, 1),
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
		err = r.checkpoint("shutdown")
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

	failed       error
	dirty        bool // messages handed to tasks since the last checkpoint
	lastActivity time.Time
	stats        Stats
}

func (r *runner) loop(ctx context.Context) error {
	now := time.Now()
	r.lastActivity = now
	lastCommit := now
	for {
		select {
		case <-ctx.Done():
			r.log.Info("stopping: shutdown requested")
			return nil
		case err := <-r.errs:
			return err
		default:
		}
		timeout := r.cfg.PollTimeout
		if d := r.cfg.StopWhenIdle; d > 0 && d/4 < timeout {
			timeout = max(d/4, time.Millisecond)
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
			tp := TopicPartition{m.Topic, m.Partition}
			t := r.tasks[tp]
			if t == nil {
				return fmt.Errorf("engine: received a message from %s, which is not assigned", tp)
			}
			t.in <- taskItem{m: m}
			r.stats.Consumed++
			r.dirty = true
			r.lastActivity = now
		}
		if r.dirty && (r.cfg.CommitInterval <= 0 || now.Sub(lastCommit) >= r.cfg.CommitInterval) {
			if err := r.checkpoint("interval"); err != nil {
				return err
			}
			lastCommit = time.Now()
		}
		if d := r.cfg.StopWhenIdle; d > 0 && now.Sub(r.lastActivity) >= d {
			r.log.Info("stopping: no new messages", "idle", d)
			return nil
		}
	}
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

// checkpoint drains the tasks, flushes the producer and commits the
// offsets processed since the last checkpoint. It commits nothing once
// anything has failed.
func (r *runner) checkpoint(why string) error {
	if r.failed != nil {
		return r.failed
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
	if err := r.cfg.Producer.Flush(r.cfg.FlushTimeout); err != nil {
		r.failed = fmt.Errorf("engine: checkpoint: produce: %w", err)
		return r.failed
	}
	if len(offsets) > 0 {
		if err := r.cfg.Consumer.Commit(offsets); err != nil {
			r.failed = fmt.Errorf("engine: checkpoint: commit offsets: %w", err)
			return r.failed
		}
		for _, t := range tasks {
			if t.processed >= t.committed {
				t.committed = t.processed + 1
			}
		}
	}
	r.dirty = false
	r.stats.Checkpoints++
	r.log.Debug("checkpoint committed", "reason", why, "partitions", len(offsets), "took", time.Since(start))
	return nil
}

// Assigned implements Rebalancer: it starts a task per new partition.
func (r *runner) Assigned(tps []TopicPartition) error {
	for _, tp := range tps {
		src := r.sources[tp.Topic]
		if src == nil {
			return fmt.Errorf("engine: assigned %s, which is not a source topic", tp)
		}
		if _, ok := r.tasks[tp]; ok {
			continue
		}
		t := &task{
			tp:        tp,
			src:       src,
			in:        make(chan taskItem, r.cfg.QueueSize),
			done:      make(chan struct{}),
			processed: -1,
			committed: 0,
		}
		t.ctx = NewContext(r.cfg.NewThread(tp), r.cfg.Producer, r.cfg.Stdout)
		t.ctx.bind()
		r.tasks[tp] = t
		go t.run(r.errs)
	}
	r.lastActivity = time.Now()
	r.log.Info("partitions assigned", "partitions", fmt.Sprint(tps))
	return nil
}

// Revoked implements Rebalancer: it checkpoints, then stops the tasks of
// the revoked partitions.
func (r *runner) Revoked(tps []TopicPartition) error {
	err := r.checkpoint("revoke")
	r.stopTasks(tps)
	r.log.Info("partitions revoked", "partitions", fmt.Sprint(tps))
	return err
}

// Lost implements Rebalancer: the partitions already belong to another
// member, so their tasks stop without a commit.
func (r *runner) Lost(tps []TopicPartition) error {
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
	for _, tp := range tps {
		if t, ok := r.tasks[tp]; ok {
			close(t.in)
			<-t.done
			delete(r.tasks, tp)
		}
	}
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

	committed int64 // owned by the runner: the offset last committed (next to read); 0 before the first commit

	// owned by the task
	processed int64 // offset of the last message fully processed; -1: none
	err       error
}

func (t *task) run(errs chan<- error) {
	defer close(t.done)
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
	row, err := t.src.topic.Deserialize(m)
	if err != nil {
		return err
	}
	t.ctx.Message = m
	err = t.src.step(t.ctx, row)
	t.ctx.Message = nil
	return err
}
