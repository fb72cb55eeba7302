package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/sources"
)

// sourceStateTopic is the topic a source's position is kept in, named
// as Quix Streams names a stateful source's changelog (store
// "source-<name>", no stream).
func sourceStateTopic(group, name string) string {
	return "changelog__" + group + "--source-" + name
}

// sourceStateSpecs are the state topics of the application's sources:
// one compacted partition each.
func sourceStateSpecs(app *builtins.Application, group string, replicas int) []kafka.TopicSpec {
	var specs []kafka.TopicSpec
	for _, s := range app.Sources() {
		specs = append(specs, kafka.TopicSpec{Name: sourceStateTopic(group, s.Name), NumPartitions: 1, ReplicationFactor: replicas,
			Config: map[string]string{"cleanup.policy": "compact"}})
	}
	return specs
}

// replicatedPartitions asks the other cluster of each
// KafkaReplicatorSource producing to its default topic how many
// partitions the replicated topic has: the default topic gets as many
// (as Quix Streams creates it), by topic name.
func replicatedPartitions(ctx context.Context, app *builtins.Application, log *slog.Logger) (map[string]int, error) {
	out := map[string]int{}
	for _, s := range app.Sources() {
		if s.Replicate == nil || !s.DefaultTopic || s.Topic.Config() != nil {
			continue
		}
		n, err := partitionsOf(ctx, s.Replicate.Brokers, s.Replicate.Config, s.Replicate.Topic, log)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		out[s.Topic.Name()] = n
	}
	return out, nil
}

// partitionsOf is the partition count of an existing topic.
func partitionsOf(ctx context.Context, brokers string, config map[string]string, topic string, log *slog.Logger) (int, error) {
	admin, err := kafka.NewAdmin(brokers, config, log)
	if err != nil {
		return 0, err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(ctx, setupStepTimeout)
	defer cancel()
	counts, err := admin.Partitions(ctx, []string{topic})
	if err != nil {
		return 0, fmt.Errorf("topic %q on %s: %w", topic, brokers, err)
	}
	n, ok := counts[topic]
	if !ok {
		return 0, fmt.Errorf("topic %q not found on %s", topic, brokers)
	}
	return n, nil
}

// replicator is a KafkaReplicatorSource: it reads every partition of a
// topic of another cluster outside any consumer group, its position the
// next offset of each partition, and produces each message as it is to
// the same partition of its topic, which has at least as many.
type replicator struct {
	name    string
	rep     *builtins.Replication
	target  int // the destination topic's partitions
	destTop string
	log     *slog.Logger
}

func (r *replicator) String() string { return r.name }

func (r *replicator) Open(pos []byte) (sources.Reader, error) {
	from := map[int32]int64{}
	if pos != nil {
		if err := json.Unmarshal(pos, &from); err != nil {
			return nil, fmt.Errorf("bad position %q: %w", pos, err)
		}
	}
	rd, err := kafka.NewReaderFrom(r.rep.Brokers, r.rep.Topic, from, r.rep.FromBeginning, r.rep.Config, r.log)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.rep.Brokers, err)
	}
	next := rd.Start()
	if len(next) > r.target {
		_ = rd.Close()
		return nil, fmt.Errorf("topic %q on %s has %d partitions, more than its destination %q (%d)", r.rep.Topic, r.rep.Brokers, len(next), r.destTop, r.target)
	}
	return &replicaReader{rd: rd, next: next, timeout: r.rep.PollTimeout}, nil
}

type replicaReader struct {
	rd      *kafka.Reader
	next    map[int32]int64
	timeout time.Duration
}

func (r *replicaReader) Next() (*record.Record, error) {
	rec, err := r.rd.Poll(r.timeout)
	if err != nil || rec == nil {
		return nil, err
	}
	r.next[rec.Partition] = rec.Offset + 1
	return rec, nil
}

func (r *replicaReader) Position() []byte {
	b, _ := json.Marshal(r.next)
	return b
}

func (r *replicaReader) Close() error { return r.rd.Close() }

// txnSourceProducer adapts a transactional kafka.Producer to
// sources.Producer.
type txnSourceProducer struct{ *kafka.Producer }

func (p txnSourceProducer) CommitTransaction() error { return p.Producer.CommitTransaction(nil, nil) }

// runningSources are the application's sources running beside the job.
type runningSources struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error // the first source failure
	timeout time.Duration
	prods   []*kafka.Producer
	runners []*sources.Runner
}

// jobSources are the sources of the script version running: a reload
// stops them (each commits what it produced) and starts the new
// version's from their positions.
type jobSources struct {
	start func(app *builtins.Application) (*runningSources, error)
	mu    sync.Mutex
	cur   *runningSources
}

// current returns the running sources (none before the first replace).
func (j *jobSources) current() *runningSources {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cur == nil {
		return &runningSources{}
	}
	return j.cur
}

func (j *jobSources) busy() bool { return j.current().busy() }

func (j *jobSources) stop() error { return j.current().stop() }

// replace stops the running sources and starts app's.
func (j *jobSources) replace(app *builtins.Application) error {
	_ = j.current().stop() // a source that failed has stopped the job already
	next, err := j.start(app)
	if err != nil {
		next = &runningSources{}
	}
	j.mu.Lock()
	j.cur = next
	j.mu.Unlock()
	return err
}

// busy reports whether a source may still produce without new input
// (engine.Config.Busy).
func (rs *runningSources) busy() bool {
	for _, r := range rs.runners {
		if r.Busy() {
			return true
		}
	}
	return false
}

// startSources starts every source of the application, each producing
// with its own transactional producer (transactional.id
// <group>-source-<name>: a source runs in one process of the group; one
// started elsewhere fences this one, which then stops) from the position
// its state topic holds. A source that fails calls fail with the error
// (the job stops with it); one that ends logs it and stops.
func startSources(ctx context.Context, app *builtins.Application, addr string, cfg builtins.AppConfig, group string, newThread func(name string) *starlark.Thread, fail func(error), log *slog.Logger) (*runningSources, error) {
	srcs := app.Sources()
	rs := &runningSources{}
	if len(srcs) == 0 {
		return rs, nil
	}
	ctx, rs.cancel = context.WithCancel(ctx)
	reader := &kafka.ChangelogReader{Brokers: addr, Extra: cfg.ConsumerExtraConfig, Connection: cfg.Connection, Logger: log}
	defer reader.Close()
	for _, s := range srcs {
		stateTopic := sourceStateTopic(group, s.Name)
		prod, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: addr, Extra: cfg.ProducerExtraConfig, Connection: cfg.Connection,
			TransactionalID: group + "-source-" + s.Name, Logger: log})
		if err != nil {
			rs.stop()
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		rs.prods = append(rs.prods, prod)
		// The producer's transactions are initialised, so one a killed
		// process left open is aborted: the position read is committed.
		var pos []byte
		err = reader.Read(ctx, stateTopic, 0, 0, func(r *record.Record) error {
			if string(r.Key) == sources.PositionKey {
				pos = r.Value
			}
			return nil
		})
		if err != nil {
			rs.stop()
			return nil, fmt.Errorf("source %s: read its position from %s: %w", s.Name, stateTopic, err)
		}
		run := &sources.Runner{
			Source: s.Build(newThread("source " + s.Name)), Topic: s.Topic.Name(), StateTopic: stateTopic,
			Producer: txnSourceProducer{prod}, Position: pos, CommitInterval: cfg.CommitInterval,
			Delay: s.Delay, ReplaySpeed: s.ReplaySpeed, Logger: log,
		}
		if s.Replicate != nil {
			n, err := partitionsOf(ctx, addr, cfg.Connection, s.Topic.Name(), log)
			if err != nil {
				rs.stop()
				return nil, fmt.Errorf("source %s: %w", s.Name, err)
			}
			run.Source = &replicator{name: s.Name, rep: s.Replicate, target: n, destTop: s.Topic.Name(), log: log}
			run.KeepPartitions = true
		}
		rs.runners = append(rs.runners, run)
		rs.timeout = max(rs.timeout, s.ShutdownTimeout)
		if pos != nil {
			log.Info("source resumes", "source", s.Name, "topic", run.Topic, "position", string(pos))
		} else {
			log.Info("source starts", "source", s.Name, "topic", run.Topic)
		}
		rs.wg.Add(1)
		go func(name string) {
			defer rs.wg.Done()
			err := run.Run(ctx)
			switch {
			case err == nil:
			case errors.Is(err, kafka.ErrFenced):
				log.Warn("source stopped: another process of the group runs it now", "source", name)
			default:
				rs.mu.Lock()
				if rs.err == nil {
					rs.err = err
				}
				rs.mu.Unlock()
				fail(err)
			}
		}(s.Name)
	}
	return rs, nil
}

// stop stops the sources (each commits what it produced), waits for
// them up to their shutdown timeout, and closes their producers; it
// returns the first failure of a source.
func (rs *runningSources) stop() error {
	if rs.cancel != nil {
		rs.cancel()
	}
	done := make(chan struct{})
	go func() { rs.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(max(rs.timeout, time.Second)):
	}
	for _, p := range rs.prods {
		_ = p.Close(5 * time.Second)
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.err
}
