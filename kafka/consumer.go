package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/qstar-dev/qstar/record"
)

// RebalanceHandler receives assignment changes, from inside Poll or Close.
type RebalanceHandler interface {
	Assigned(tps []record.TopicPartition) error
	Revoked(tps []record.TopicPartition) error
	Lost(tps []record.TopicPartition) error
}

// ConsumerConfig configures a consumer in a consumer group.
type ConsumerConfig struct {
	Brokers string
	GroupID string
	// AutoOffsetReset is "earliest" or "latest" (Quix Streams' default).
	AutoOffsetReset string
	// Extra is passed to librdkafka after the defaults; it cannot set
	// group.id, enable.auto.commit, enable.auto.offset.store or
	// auto.offset.reset.
	Extra map[string]string
	// Connection holds security settings (SASL, SSL), applied after Extra.
	Connection map[string]string
	// AutoCommit lets librdkafka store and commit offsets itself (for
	// scripts' consumers; the engine commits its own).
	AutoCommit bool
	// FromStart are topics read from their start where the group has no
	// committed offset, whatever AutoOffsetReset says: an application's
	// own repartition topics, as Kafka Streams reads its internal topics.
	// Their messages were produced by the group's own processing, so
	// "latest" would lose those written before the partition's offset
	// was reset (a fresh group whose input already has messages).
	FromStart []string
	// ReadCommitted forces isolation.level=read_committed (exactly-once):
	// an extra isolation.level is then an error. Otherwise
	// read_committed is the default, which Extra may override.
	ReadCommitted bool
	// Copartitioned forces partition.assignment.strategy=range, as Quix
	// Streams 3.x does: the range assignor gives a member partition p of
	// every topic it subscribes to, which joins and concatenations need
	// (a task owns partition p of each of their topics).
	Copartitioned bool
	Logger        *slog.Logger
}

func (c *ConsumerConfig) validate() error {
	if c.Brokers == "" {
		return errors.New("kafka: consumer: no broker address")
	}
	if c.GroupID == "" {
		return errors.New("kafka: consumer: empty consumer group")
	}
	switch c.AutoOffsetReset {
	case "earliest", "latest":
	case "":
		c.AutoOffsetReset = "latest"
	default:
		return fmt.Errorf("kafka: consumer: auto_offset_reset must be \"earliest\" or \"latest\", not %q", c.AutoOffsetReset)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Consumer is a consumer-group member. Use it from one goroutine.
type Consumer struct {
	c         *ckafka.Consumer
	log       *slog.Logger
	handler   RebalanceHandler
	cbErr     error            // first error returned by the handler
	quiet     *quieter         // for client errors
	probe     ckafka.ConfigMap // a groupless reader with the same connection, for Unprocessed
	reset     string           // auto.offset.reset
	fromStart map[string]bool
}

// NewConsumer creates a consumer with Quix Streams' defaults.
func NewConsumer(cfg ConsumerConfig) (*Consumer, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	base := map[string]string{
		"partition.assignment.strategy": "cooperative-sticky",
		"isolation.level":               "read_committed",
	}
	forced := map[string]string{
		"bootstrap.servers":        cfg.Brokers,
		"group.id":                 cfg.GroupID,
		"enable.auto.commit":       fmt.Sprint(cfg.AutoCommit),
		"enable.auto.offset.store": fmt.Sprint(cfg.AutoCommit),
		"auto.offset.reset":        cfg.AutoOffsetReset,
	}
	reject := append([]string{"bootstrap.servers"}, forcedConsumerKeys...)
	if cfg.Copartitioned {
		if v, ok := cfg.Extra["partition.assignment.strategy"]; ok && v != "range" && cfg.Logger != nil {
			cfg.Logger.Warn("partition.assignment.strategy is set to range: the application joins or concatenates topics, which must be assigned co-partitioned", "configured", v)
		}
		forced["partition.assignment.strategy"] = "range"
	}
	if cfg.ReadCommitted {
		forced["isolation.level"] = "read_committed"
		reject = append(reject, "isolation.level")
	}
	cm, err := buildConfig(base, merge(cfg.Extra, cfg.Connection), forced, reject)
	if err != nil {
		return nil, fmt.Errorf("kafka: consumer: %w", err)
	}
	c, err := ckafka.NewConsumer(cm)
	if err != nil {
		return nil, fmt.Errorf("kafka: new consumer: %w", err)
	}
	forwardLogs(c.Logs(), cfg.Logger)
	probe := ckafka.ConfigMap{}
	for k, v := range *cm {
		probe[k] = v
	}
	for k, v := range map[string]string{
		"group.id": "qstar-probe", "enable.auto.commit": "false", "enable.auto.offset.store": "false",
		"enable.partition.eof": "true",
	} {
		probe[k] = v
	}
	fromStart := make(map[string]bool, len(cfg.FromStart))
	for _, t := range cfg.FromStart {
		fromStart[t] = true
	}
	return &Consumer{c: c, log: cfg.Logger, quiet: newQuieter(cfg.Logger), probe: probe, reset: cfg.AutoOffsetReset, fromStart: fromStart}, nil
}

// Subscribe joins the group for topics.
func (c *Consumer) Subscribe(topics []string, h RebalanceHandler) error {
	c.handler = h
	return c.c.SubscribeTopics(topics, c.rebalance)
}

// rebalance runs inside Poll and Close. It assigns new partitions before
// telling the handler (which may pause them), and unassigns revoked ones
// after the handler has committed what it processed.
func (c *Consumer) rebalance(_ *ckafka.Consumer, ev ckafka.Event) error {
	cooperative := c.c.GetRebalanceProtocol() == "COOPERATIVE"
	var err error
	switch e := ev.(type) {
	case ckafka.AssignedPartitions:
		c.startFromStart(e.Partitions)
		if cooperative {
			err = c.c.IncrementalAssign(e.Partitions)
		} else {
			err = c.c.Assign(e.Partitions)
		}
		if err == nil && c.handler != nil {
			err = c.handler.Assigned(fromC(e.Partitions))
		}
	case ckafka.RevokedPartitions:
		if c.handler != nil {
			if c.c.AssignmentLost() {
				err = c.handler.Lost(fromC(e.Partitions))
			} else {
				err = c.handler.Revoked(fromC(e.Partitions))
			}
		}
		var uerr error
		if cooperative {
			uerr = c.c.IncrementalUnassign(e.Partitions)
		} else {
			uerr = c.c.Unassign()
		}
		if err == nil {
			err = uerr
		}
	}
	if err != nil && c.cbErr == nil {
		c.cbErr = err
	}
	return nil
}

// startFromStart sets the offset of the partitions of FromStart topics
// that have no committed offset to the beginning. On a failed lookup it
// leaves them to auto.offset.reset.
func (c *Consumer) startFromStart(tps []ckafka.TopicPartition) {
	if c.reset == "earliest" || len(c.fromStart) == 0 {
		return
	}
	var ask []ckafka.TopicPartition
	for _, tp := range tps {
		if c.fromStart[*tp.Topic] {
			ask = append(ask, ckafka.TopicPartition{Topic: tp.Topic, Partition: tp.Partition})
		}
	}
	if len(ask) == 0 {
		return
	}
	committed, err := c.c.Committed(ask, 10000)
	if err != nil {
		// auto.offset.reset="latest" would lose what they hold: fail.
		if c.cbErr == nil {
			c.cbErr = fmt.Errorf("kafka: committed offsets of repartition topics: %w", err)
		}
		return
	}
	none := map[string]bool{}
	for _, tp := range committed {
		if tp.Offset < 0 {
			none[fmt.Sprintf("%s[%d]", *tp.Topic, tp.Partition)] = true
		}
	}
	for i := range tps {
		if none[fmt.Sprintf("%s[%d]", *tps[i].Topic, tps[i].Partition)] {
			tps[i].Offset = ckafka.OffsetBeginning
		}
	}
}

// partitionsToC converts partitions for librdkafka (offsets unset).
func partitionsToC(tps []record.TopicPartition) []ckafka.TopicPartition {
	out := make([]ckafka.TopicPartition, len(tps))
	for i, tp := range tps {
		topic := tp.Topic
		out[i] = ckafka.TopicPartition{Topic: &topic, Partition: tp.Partition}
	}
	return out
}

// offsetsToC converts positions for librdkafka.
func offsetsToC(offsets []record.Offset) []ckafka.TopicPartition {
	out := make([]ckafka.TopicPartition, len(offsets))
	for i, o := range offsets {
		topic := o.Topic
		out[i] = ckafka.TopicPartition{Topic: &topic, Partition: o.Partition, Offset: ckafka.Offset(o.Offset)}
	}
	return out
}

// Committed returns the group's committed offsets of tps; a partition
// without one has offset -1001.
func (c *Consumer) Committed(tps []record.TopicPartition) ([]record.Offset, error) {
	res, err := c.c.Committed(partitionsToC(tps), 30000)
	if err != nil {
		return nil, fmt.Errorf("kafka: committed offsets: %w", err)
	}
	out := make([]record.Offset, len(res))
	for i, tp := range res {
		out[i] = record.Offset{TopicPartition: record.TopicPartition{Topic: *tp.Topic, Partition: tp.Partition}, Offset: int64(tp.Offset)}
	}
	return out, nil
}

// CachedWatermarks returns a partition's watermarks as last reported by
// fetches (no request is sent).
func (c *Consumer) CachedWatermarks(topic string, partition int32) (int64, int64, error) {
	return c.c.GetWatermarkOffsets(topic, partition)
}

// Position returns the next offset the consumer hands the application
// for a partition (past transaction markers), or a negative offset
// before the first fetch.
func (c *Consumer) Position(topic string, partition int32) (int64, error) {
	ps, err := c.c.Position([]ckafka.TopicPartition{{Topic: &topic, Partition: partition}})
	if err != nil {
		return 0, fmt.Errorf("kafka: position: %w", err)
	}
	if len(ps) == 0 {
		return -1, nil
	}
	return int64(ps[0].Offset), nil
}

// Pause stops fetching tps.
func (c *Consumer) Pause(tps []record.TopicPartition) error {
	if err := c.c.Pause(partitionsToC(tps)); err != nil {
		return fmt.Errorf("kafka: pause: %w", err)
	}
	return nil
}

// Seek moves the position of assigned partitions; librdkafka drops
// what it prefetched for them.
func (c *Consumer) Seek(offsets []record.Offset) error {
	tps := make([]ckafka.TopicPartition, len(offsets))
	for i, o := range offsets {
		topic := o.Topic
		tps[i] = ckafka.TopicPartition{Topic: &topic, Partition: o.Partition, Offset: ckafka.Offset(o.Offset)}
	}
	res, err := c.c.SeekPartitions(tps)
	if err != nil {
		return fmt.Errorf("kafka: seek: %w", err)
	}
	for _, tp := range res {
		if tp.Error != nil {
			return fmt.Errorf("kafka: seek %s[%d] to %d: %w", *tp.Topic, tp.Partition, tp.Offset, tp.Error)
		}
	}
	return nil
}

// Resume fetches tps again.
func (c *Consumer) Resume(tps []record.TopicPartition) error {
	if err := c.c.Resume(partitionsToC(tps)); err != nil {
		return fmt.Errorf("kafka: resume: %w", err)
	}
	return nil
}

func fromC(tps []ckafka.TopicPartition) []record.TopicPartition {
	out := make([]record.TopicPartition, len(tps))
	for i, tp := range tps {
		out[i] = record.TopicPartition{Topic: *tp.Topic, Partition: tp.Partition}
	}
	return out
}

// Poll waits up to timeout for a message. It returns (nil, nil) on timeout.
// Transient client errors (a broker going away) are logged and retried by
// librdkafka; fatal ones are returned.
func (c *Consumer) Poll(timeout time.Duration) (*record.Record, error) {
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline).Milliseconds())
		if ms < 0 {
			ms = 0
		}
		ev := c.c.Poll(ms)
		if c.cbErr != nil {
			err := c.cbErr
			c.cbErr = nil
			return nil, err
		}
		switch e := ev.(type) {
		case nil:
			return nil, nil
		case *ckafka.Message:
			if e.TopicPartition.Error != nil {
				return nil, fmt.Errorf("kafka: consume %s[%d]: %w", *e.TopicPartition.Topic, e.TopicPartition.Partition, e.TopicPartition.Error)
			}
			return fromCMessage(e), nil
		case ckafka.Error:
			if e.IsFatal() {
				return nil, fmt.Errorf("kafka: consumer: %w", e)
			}
			c.quiet.Log(slog.LevelWarn, "kafka consumer error", "error", e.Error())
		}
		if ms == 0 {
			return nil, nil
		}
	}
}

func fromCMessage(m *ckafka.Message) *record.Record {
	out := &record.Record{
		Topic:     *m.TopicPartition.Topic,
		Partition: m.TopicPartition.Partition,
		Offset:    int64(m.TopicPartition.Offset),
		Key:       m.Key,
		Value:     m.Value,
	}
	switch m.TimestampType {
	case ckafka.TimestampCreateTime:
		out.Timestamp, out.TimestampType = m.Timestamp.UnixMilli(), 1
	case ckafka.TimestampLogAppendTime:
		out.Timestamp, out.TimestampType = m.Timestamp.UnixMilli(), 2
	}
	if len(m.Headers) > 0 {
		out.Headers = make([]record.Header, len(m.Headers))
		for i, h := range m.Headers {
			out.Headers[i] = record.Header{Key: h.Key, Value: h.Value}
		}
	}
	return out
}

// ErrRebalanceInProgress marks a commit refused because the group is
// rebalancing (ILLEGAL_GENERATION or REBALANCE_IN_PROGRESS): retry it once
// the rebalance has completed (by polling).
var ErrRebalanceInProgress = errors.New("kafka: the group is rebalancing")

func commitError(err error) error {
	var ke ckafka.Error
	if errors.As(err, &ke) && (ke.Code() == ckafka.ErrIllegalGeneration || ke.Code() == ckafka.ErrRebalanceInProgress) {
		return fmt.Errorf("%w: %v", ErrRebalanceInProgress, err)
	}
	return err
}

// Commit synchronously commits offsets (each the next offset to read).
func (c *Consumer) Commit(offsets []record.Offset) error {
	res, err := c.c.CommitOffsets(offsetsToC(offsets))
	if err != nil {
		return fmt.Errorf("kafka: commit: %w", commitError(err))
	}
	for _, tp := range res {
		if tp.Error != nil {
			return fmt.Errorf("kafka: commit %s[%d]: %w", *tp.Topic, tp.Partition, commitError(tp.Error))
		}
	}
	return nil
}

// Unprocessed is a partition that holds a message its group has not
// processed.
type Unprocessed struct {
	record.TopicPartition
	// Offset is the first unprocessed message's offset, or the position
	// the group would read from when the partition could not be read.
	Offset int64
	// Mine says the partition is assigned to this consumer.
	Mine bool
	// Err is why the partition could not be read, if it could not.
	Err error
}

func (u Unprocessed) String() string {
	s := fmt.Sprintf("%s from offset %d", u.TopicPartition, u.Offset)
	switch {
	case u.Err != nil:
		s += " (cannot be read: " + u.Err.Error() + ")"
	case u.Mine:
		s += " (assigned here, not fetched yet)"
	default:
		s += " (assigned to another member or to none)"
	}
	return s
}

// probeWait bounds how long Unprocessed reads for one message.
const probeWait = 5 * time.Second

// Unprocessed returns the partitions of topics that hold a message at or
// after the group's position: for the partitions in positions (this
// consumer's), the offset given there; for the others, the group's
// committed offset, or where auto.offset.reset starts without one. It
// reads a message of each partition whose position is short of the high
// watermark, so that transaction markers and compacted gaps do not count.
func (c *Consumer) Unprocessed(topics []string, positions map[record.TopicPartition]int64) ([]Unprocessed, error) {
	var all []record.TopicPartition
	for _, topic := range topics {
		md, err := c.c.GetMetadata(&topic, false, 10000)
		if err != nil {
			return nil, fmt.Errorf("kafka: metadata of %q: %w", topic, err)
		}
		if e := md.Topics[topic].Error; e.Code() != ckafka.ErrNoError {
			return nil, fmt.Errorf("kafka: metadata of %q: %w", topic, e)
		}
		for _, p := range md.Topics[topic].Partitions {
			all = append(all, record.TopicPartition{Topic: topic, Partition: p.ID})
		}
	}
	from := make(map[record.TopicPartition]int64, len(all))
	var others []record.TopicPartition
	for _, tp := range all {
		if off, mine := positions[tp]; mine && off >= 0 {
			from[tp] = off
		} else {
			others = append(others, tp)
		}
	}
	if len(others) > 0 {
		committed, err := c.Committed(others)
		if err != nil {
			return nil, err
		}
		for _, o := range committed {
			from[o.TopicPartition] = o.Offset
		}
	}
	// This consumer's own partitions: the watermarks its fetches last
	// reported (no request). The others: asked of their leaders, at once
	// (each query takes a round trip or more).
	type marks struct {
		low, high int64
		err       error
	}
	wm := make([]marks, len(all))
	var wg sync.WaitGroup
	for i, tp := range all {
		low, high, err := c.c.GetWatermarkOffsets(tp.Topic, tp.Partition)
		if _, mine := positions[tp]; mine && err == nil && high >= 0 && low >= 0 {
			wm[i] = marks{low, high, nil}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			low, high, err := c.c.QueryWatermarkOffsets(tp.Topic, tp.Partition, 10000)
			wm[i] = marks{low, high, err}
		}()
	}
	wg.Wait()
	var probe []ckafka.TopicPartition
	for i, tp := range all {
		low, high, err := wm[i].low, wm[i].high, wm[i].err
		if err != nil {
			return nil, fmt.Errorf("kafka: watermarks of %s: %w", tp, err)
		}
		off := from[tp]
		if off < 0 { // no committed offset
			if c.reset == "latest" && !c.fromStart[tp.Topic] {
				continue // the group starts at the end: nothing is waiting for it
			}
			off = low
		}
		off = max(off, low)
		if off >= high {
			continue
		}
		from[tp] = off
		t := tp.Topic
		probe = append(probe, ckafka.TopicPartition{Topic: &t, Partition: tp.Partition, Offset: ckafka.Offset(off)})
	}
	if len(probe) == 0 {
		return nil, nil
	}
	pc, err := ckafka.NewConsumer(&c.probe)
	if err != nil {
		return nil, fmt.Errorf("kafka: probe consumer: %w", err)
	}
	forwardLogs(pc.Logs(), c.log)
	defer pc.Close()
	if err := pc.Assign(probe); err != nil {
		return nil, fmt.Errorf("kafka: probe: assign: %w", err)
	}
	waiting := make(map[record.TopicPartition]error, len(probe))
	for _, p := range probe {
		waiting[record.TopicPartition{Topic: *p.Topic, Partition: p.Partition}] = errors.New("no answer within " + probeWait.String())
	}
	var out []Unprocessed
	deadline := time.Now().Add(probeWait)
	for len(waiting) > 0 && time.Now().Before(deadline) {
		switch e := pc.Poll(100).(type) {
		case *ckafka.Message:
			tp := record.TopicPartition{Topic: *e.TopicPartition.Topic, Partition: e.TopicPartition.Partition}
			if _, ok := waiting[tp]; !ok {
				continue
			}
			if e.TopicPartition.Error != nil {
				waiting[tp] = e.TopicPartition.Error
				continue
			}
			delete(waiting, tp)
			_, mine := positions[tp]
			out = append(out, Unprocessed{TopicPartition: tp, Offset: int64(e.TopicPartition.Offset), Mine: mine})
		case ckafka.PartitionEOF:
			// Nothing readable (only markers or an open transaction).
			delete(waiting, record.TopicPartition{Topic: *e.Topic, Partition: e.Partition})
		case ckafka.Error:
			for tp := range waiting {
				waiting[tp] = e
			}
		}
	}
	for tp, err := range waiting {
		_, mine := positions[tp]
		out = append(out, Unprocessed{TopicPartition: tp, Offset: from[tp], Mine: mine, Err: err})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out, nil
}

// Close leaves the group; the handler's Revoked runs for the remaining
// assignment.
func (c *Consumer) Close() error {
	if err := c.c.Close(); err != nil {
		return fmt.Errorf("kafka: close consumer: %w", err)
	}
	if c.cbErr != nil {
		return c.cbErr
	}
	return nil
}

// Reader reads every partition of one topic without a consumer group, for
// tools such as `qstar consume`. Use it from one goroutine.
type Reader struct {
	c     *ckafka.Consumer
	start map[int32]int64
}

// NewReader assigns all partitions of topic, from the beginning or from
// the end. librdkafka's logs go to log (default slog.Default()).
func NewReader(brokers, topic string, fromBeginning bool, extra map[string]string, log *slog.Logger) (*Reader, error) {
	return NewReaderFrom(brokers, topic, nil, fromBeginning, extra, log)
}

// NewReaderFrom is NewReader with the partitions in from read from their
// offset there; with from not nil, the others' first or end offsets are
// looked up, so Start tells where each partition is read from.
func NewReaderFrom(brokers, topic string, from map[int32]int64, fromBeginning bool, extra map[string]string, log *slog.Logger) (*Reader, error) {
	forced := map[string]string{
		"bootstrap.servers":  brokers,
		"group.id":           "qstar-reader",
		"enable.auto.commit": "false",
	}
	cm, err := buildConfig(nil, extra, forced, []string{"bootstrap.servers", "group.id", "enable.auto.commit"})
	if err != nil {
		return nil, fmt.Errorf("kafka: reader: %w", err)
	}
	c, err := ckafka.NewConsumer(cm)
	if err != nil {
		return nil, fmt.Errorf("kafka: new consumer: %w", err)
	}
	forwardLogs(c.Logs(), cmp.Or(log, slog.Default()))
	md, err := c.GetMetadata(&topic, false, 10000)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("kafka: metadata of %q: %w", topic, err)
	}
	t, ok := md.Topics[topic]
	if !ok || t.Error.Code() != ckafka.ErrNoError || len(t.Partitions) == 0 {
		c.Close()
		return nil, fmt.Errorf("kafka: topic %q does not exist", topic)
	}
	start := ckafka.OffsetEnd
	if fromBeginning {
		start = ckafka.OffsetBeginning
	}
	tps := make([]ckafka.TopicPartition, len(t.Partitions))
	starts := make(map[int32]int64, len(t.Partitions))
	for i, p := range t.Partitions {
		tps[i] = ckafka.TopicPartition{Topic: &topic, Partition: p.ID, Offset: start}
		off, ok := from[p.ID]
		if !ok && from != nil {
			low, high, err := c.QueryWatermarkOffsets(topic, p.ID, 10000)
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("kafka: offsets of %s[%d]: %w", topic, p.ID, err)
			}
			off, ok = high, true
			if fromBeginning {
				off = low
			}
		}
		if ok {
			tps[i].Offset = ckafka.Offset(off)
			starts[p.ID] = off
		}
	}
	if err := c.Assign(tps); err != nil {
		c.Close()
		return nil, fmt.Errorf("kafka: assign %q: %w", topic, err)
	}
	return &Reader{c: c, start: starts}, nil
}

// Start is the offset each partition is read from (NewReaderFrom with
// from not nil), by partition; it holds every partition of the topic.
func (r *Reader) Start() map[int32]int64 { return maps.Clone(r.start) }

// Poll waits up to timeout for a message; (nil, nil) on timeout.
func (r *Reader) Poll(timeout time.Duration) (*record.Record, error) {
	ev := r.c.Poll(int(timeout.Milliseconds()))
	switch e := ev.(type) {
	case *ckafka.Message:
		if e.TopicPartition.Error != nil {
			return nil, fmt.Errorf("kafka: read: %w", e.TopicPartition.Error)
		}
		return fromCMessage(e), nil
	case ckafka.Error:
		if e.IsFatal() {
			return nil, fmt.Errorf("kafka: read: %w", e)
		}
	}
	return nil, nil
}

// Close closes the reader.
func (r *Reader) Close() error { return r.c.Close() }

// ChangelogReader reads whole partitions for state recovery, each read
// with its own short-lived consumer outside any group. Watermarks, asked
// at every assignment, come from one consumer kept until Close. Its
// methods are safe for concurrent use.
type ChangelogReader struct {
	Brokers string
	Extra   map[string]string
	// Connection holds security settings; they override Extra.
	Connection map[string]string
	// Logger receives librdkafka's logs; default slog.Default().
	Logger *slog.Logger

	mu sync.Mutex
	wm *ckafka.Consumer // for Watermarks
}

// Close releases the consumer Watermarks keeps.
func (r *ChangelogReader) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.wm != nil {
		_ = r.wm.Close()
		r.wm = nil
	}
}

// Watermarks returns a partition's low and high watermarks.
func (r *ChangelogReader) Watermarks(topic string, partition int32) (int64, int64, error) {
	r.mu.Lock()
	if r.wm == nil {
		c, err := r.consumer()
		if err != nil {
			r.mu.Unlock()
			return 0, 0, err
		}
		r.wm = c
	}
	c := r.wm
	r.mu.Unlock()
	low, high, err := c.QueryWatermarkOffsets(topic, partition, 10000)
	if err != nil {
		return 0, 0, fmt.Errorf("kafka: watermarks of %s[%d]: %w", topic, partition, err)
	}
	return low, high, nil
}

func (r *ChangelogReader) consumer() (*ckafka.Consumer, error) {
	forced := map[string]string{
		"bootstrap.servers":    r.Brokers,
		"group.id":             "qstar-recovery",
		"enable.auto.commit":   "false",
		"enable.partition.eof": "true",
		// Records of aborted transactions (exactly-once) are not state.
		"isolation.level": "read_committed",
	}
	cm, err := buildConfig(nil, merge(r.Extra, r.Connection), forced, []string{"bootstrap.servers", "group.id"})
	if err != nil {
		return nil, fmt.Errorf("kafka: changelog reader: %w", err)
	}
	c, err := ckafka.NewConsumer(cm)
	if err != nil {
		return nil, fmt.Errorf("kafka: changelog reader: %w", err)
	}
	forwardLogs(c.Logs(), cmp.Or(r.Logger, slog.Default()))
	return c, nil
}

// Read calls fn for each message of a partition from offset from up to
// the high watermark as of the call. It stops at the end of the partition
// by position (librdkafka's partition EOF), not by counting messages:
// compaction and transaction markers leave gaps.
func (r *ChangelogReader) Read(ctx context.Context, topic string, partition int32, from int64, fn func(*record.Record) error) error {
	c, err := r.consumer()
	if err != nil {
		return err
	}
	defer c.Close()
	_, high, err := c.QueryWatermarkOffsets(topic, partition, 10000)
	if err != nil {
		return fmt.Errorf("kafka: watermarks of %s[%d]: %w", topic, partition, err)
	}
	if from >= high {
		return nil
	}
	t := topic
	if err := c.Assign([]ckafka.TopicPartition{{Topic: &t, Partition: partition, Offset: ckafka.Offset(from)}}); err != nil {
		return fmt.Errorf("kafka: assign %s[%d]: %w", topic, partition, err)
	}
	for ctx.Err() == nil {
		switch e := c.Poll(500).(type) {
		case *ckafka.Message:
			if e.TopicPartition.Error != nil {
				return fmt.Errorf("kafka: read %s[%d]: %w", topic, partition, e.TopicPartition.Error)
			}
			if err := fn(fromCMessage(e)); err != nil {
				return err
			}
			if int64(e.TopicPartition.Offset) >= high-1 {
				return nil
			}
		case ckafka.PartitionEOF:
			if int64(e.Offset) >= high {
				return nil
			}
		case ckafka.Error:
			if e.IsFatal() {
				return fmt.Errorf("kafka: read %s[%d]: %w", topic, partition, e)
			}
		}
	}
	return ctx.Err()
}
