package engine

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qstar-dev/qstar/record"
)

// Metrics counts what a run does; safe for concurrent use. Package
// runtime serves them in the Prometheus text format.
type Metrics struct {
	Consumed         atomic.Int64
	Produced         atomic.Int64 // messages produced by to_topic (not changelogs)
	ProcessingErrors atomic.Int64 // errors skipped by error callbacks
	Checkpoints      atomic.Int64
	CheckpointNanos  atomic.Int64 // total time spent in checkpoints
	Rebalances       atomic.Int64 // assignment changes
	Assigned         atomic.Int64 // partitions assigned now
	Recovering       atomic.Int64 // partitions recovering their stores now
	LastCheckpoint   atomic.Int64 // unix nanoseconds of the last committed checkpoint; 0: none

	mu  sync.Mutex
	lag map[record.TopicPartition]int64
}

// SetLag records a partition's consumer lag (high watermark - next offset).
func (m *Metrics) SetLag(tp record.TopicPartition, lag int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lag == nil {
		m.lag = map[record.TopicPartition]int64{}
	}
	m.lag[tp] = lag
}

func (m *Metrics) dropLag(tp record.TopicPartition) {
	m.mu.Lock()
	delete(m.lag, tp)
	m.mu.Unlock()
}

// Lag returns the recorded lag per partition.
func (m *Metrics) Lag() map[record.TopicPartition]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[record.TopicPartition]int64, len(m.lag))
	for k, v := range m.lag {
		out[k] = v
	}
	return out
}

// WritePrometheus writes the metrics in the Prometheus text exposition
// format.
func (m *Metrics) WritePrometheus(w io.Writer) {
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	gauge := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %d\n", name, help, name, name, v)
	}
	counter("qstar_messages_consumed_total", "Messages consumed from source topics.", m.Consumed.Load())
	counter("qstar_messages_produced_total", "Messages produced by to_topic.", m.Produced.Load())
	counter("qstar_processing_errors_total", "Errors skipped by the error callbacks.", m.ProcessingErrors.Load())
	counter("qstar_checkpoints_total", "Checkpoints committed.", m.Checkpoints.Load())
	fmt.Fprintf(w, "# HELP qstar_checkpoint_seconds_total Time spent in checkpoints.\n# TYPE qstar_checkpoint_seconds_total counter\nqstar_checkpoint_seconds_total %g\n",
		time.Duration(m.CheckpointNanos.Load()).Seconds())
	counter("qstar_rebalances_total", "Partition assignment changes.", m.Rebalances.Load())
	gauge("qstar_partitions_assigned", "Partitions assigned to this process.", m.Assigned.Load())
	gauge("qstar_partitions_recovering", "Partitions recovering their state from changelogs.", m.Recovering.Load())
	lag := m.Lag()
	keys := make([]record.TopicPartition, 0, len(lag))
	for tp := range lag {
		keys = append(keys, tp)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Topic != keys[j].Topic {
			return keys[i].Topic < keys[j].Topic
		}
		return keys[i].Partition < keys[j].Partition
	})
	fmt.Fprintf(w, "# HELP qstar_consumer_lag Messages between the last processed offset and the high watermark.\n# TYPE qstar_consumer_lag gauge\n")
	for _, tp := range keys {
		fmt.Fprintf(w, "qstar_consumer_lag{topic=%q,partition=\"%d\"} %d\n", tp.Topic, tp.Partition, lag[tp])
	}
}
