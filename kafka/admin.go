package kafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/qstar-dev/qstar/record"
)

// TopicSpec describes a topic to create.
type TopicSpec struct {
	Name              string
	NumPartitions     int
	ReplicationFactor int
	Config            map[string]string
}

// Admin manages topics.
type Admin struct {
	a       *ckafka.AdminClient
	p       *ckafka.Producer // the client a runs on
	brokers string
}

// NewAdmin connects an admin client. extra is passed to librdkafka;
// librdkafka's logs and errors go to log (default slog.Default()).
func NewAdmin(brokers string, extra map[string]string, log *slog.Logger) (*Admin, error) {
	log = cmp.Or(log, slog.Default())
	cm, err := buildConfig(nil, extra, map[string]string{"bootstrap.servers": brokers}, []string{"bootstrap.servers"})
	if err != nil {
		return nil, fmt.Errorf("kafka: admin: %w", err)
	}
	// A standalone admin client cannot forward its logs: it runs on a
	// producer that does. Extra consumer/producer settings may not apply
	// to it; librdkafka only warns about them.
	p, err := ckafka.NewProducer(cm)
	if err != nil {
		return nil, fmt.Errorf("kafka: new admin client: %w", err)
	}
	forwardLogs(p.Logs(), log)
	quiet := newQuieter(log)
	go func() {
		for ev := range p.Events() {
			if e, ok := ev.(ckafka.Error); ok {
				quiet.Log(slog.LevelWarn, "kafka admin client error", "error", e.Error())
			}
		}
	}()
	a, err := ckafka.NewAdminClientFromProducer(p)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("kafka: new admin client: %w", err)
	}
	return &Admin{a: a, p: p, brokers: brokers}, nil
}

// Close closes the client.
func (a *Admin) Close() {
	a.a.Close()
	a.p.Close()
}

// Partitions returns the number of partitions of each existing topic among
// names; missing topics are absent from the result.
func (a *Admin) Partitions(ctx context.Context, names []string) (map[string]int, error) {
	return a.topicMetadata(ctx, names, func(t ckafka.TopicMetadata) int { return len(t.Partitions) })
}

// topicMetadata reads the cluster's metadata and returns of(topic) for
// each existing topic among names.
func (a *Admin) topicMetadata(ctx context.Context, names []string, of func(ckafka.TopicMetadata) int) (map[string]int, error) {
	out := make(map[string]int, len(names))
	timeout := 10 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	md, err := a.a.GetMetadata(nil, true, int(timeout.Milliseconds()))
	if err != nil {
		// librdkafka has logged why (refused, TLS, authentication).
		return nil, fmt.Errorf("kafka: read metadata from %s: %w", a.brokers, err)
	}
	for _, n := range names {
		if t, ok := md.Topics[n]; ok && t.Error.Code() == ckafka.ErrNoError && len(t.Partitions) > 0 {
			out[n] = of(t)
		}
	}
	return out, nil
}

// ReplicationFactors returns the replication factor (the replica count
// of partition 0) of each existing topic among names.
func (a *Admin) ReplicationFactors(ctx context.Context, names []string) (map[string]int, error) {
	return a.topicMetadata(ctx, names, func(t ckafka.TopicMetadata) int { return len(t.Partitions[0].Replicas) })
}

// EnsureTopics creates the topics of specs that do not exist yet and
// returns the names it created. Topics that exist are left as they are.
func (a *Admin) EnsureTopics(ctx context.Context, specs []TopicSpec) ([]string, error) {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	existing, err := a.Partitions(ctx, names)
	if err != nil {
		return nil, err
	}
	var create []ckafka.TopicSpecification
	for _, s := range specs {
		if _, ok := existing[s.Name]; ok {
			continue
		}
		create = append(create, ckafka.TopicSpecification{
			Topic:             s.Name,
			NumPartitions:     max(s.NumPartitions, 1),
			ReplicationFactor: max(s.ReplicationFactor, 1),
			Config:            s.Config,
		})
	}
	if len(create) == 0 {
		return nil, nil
	}
	res, err := a.a.CreateTopics(ctx, create, ckafka.SetAdminOperationTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("kafka: create topics: %w", err)
	}
	var created []string
	var errs []error
	for _, r := range res {
		switch r.Error.Code() {
		case ckafka.ErrNoError:
			created = append(created, r.Topic)
		case ckafka.ErrTopicAlreadyExists:
		default:
			errs = append(errs, fmt.Errorf("create topic %q: %w", r.Topic, r.Error))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return created, fmt.Errorf("kafka: %w", err)
	}
	// Wait until the new topics are visible in metadata, so that a
	// consumer subscribing right away is assigned their partitions.
	for len(created) > 0 {
		got, err := a.Partitions(ctx, created)
		if err == nil && len(got) == len(created) {
			break
		}
		select {
		case <-ctx.Done():
			return created, fmt.Errorf("kafka: waiting for new topics %v: %w", created, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return created, nil
}

// TopicConfig returns the value of config key (e.g. "cleanup.policy") of
// each existing topic among names, defaults included.
func (a *Admin) TopicConfig(ctx context.Context, names []string, key string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	if len(names) == 0 {
		return out, nil
	}
	resources := make([]ckafka.ConfigResource, len(names))
	for i, n := range names {
		resources[i] = ckafka.ConfigResource{Type: ckafka.ResourceTopic, Name: n}
	}
	res, err := a.a.DescribeConfigs(ctx, resources)
	if err != nil {
		return nil, fmt.Errorf("kafka: describe topic configs: %w", err)
	}
	var errs []error
	for _, r := range res {
		if r.Error.Code() != ckafka.ErrNoError {
			errs = append(errs, fmt.Errorf("describe configs of topic %q: %w", r.Name, r.Error))
			continue
		}
		if e, ok := r.Config[key]; ok {
			out[r.Name] = e.Value
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("kafka: %w", err)
	}
	return out, nil
}

// EndOffsets returns the sum over topic's partitions of their high
// watermarks: the number of messages ever written to a topic that was
// never compacted or truncated.
func (a *Admin) EndOffsets(ctx context.Context, topic string) (int64, error) {
	parts, err := a.Partitions(ctx, []string{topic})
	if err != nil {
		return 0, err
	}
	n, ok := parts[topic]
	if !ok {
		return 0, fmt.Errorf("kafka: topic %q does not exist", topic)
	}
	req := make(map[ckafka.TopicPartition]ckafka.OffsetSpec, n)
	for p := 0; p < n; p++ {
		t := topic
		req[ckafka.TopicPartition{Topic: &t, Partition: int32(p)}] = ckafka.LatestOffsetSpec
	}
	res, err := a.a.ListOffsets(ctx, req)
	if err != nil {
		return 0, fmt.Errorf("kafka: list offsets of %q: %w", topic, err)
	}
	var total int64
	for tp, info := range res.ResultInfos {
		if info.Error.Code() != ckafka.ErrNoError {
			return 0, fmt.Errorf("kafka: list offsets of %s[%d]: %w", *tp.Topic, tp.Partition, info.Error)
		}
		total += int64(info.Offset)
	}
	return total, nil
}

// Group is a consumer group as the coordinator describes it.
type Group struct {
	State   string // "Stable", "PreparingRebalance", "Empty", "Dead", ...
	Members []GroupMember
}

// GroupMember is one member of a Group.
type GroupMember struct {
	ID, ClientID, Host string
	Partitions         []record.TopicPartition
}

// DescribeGroup describes a consumer group; a group that does not exist
// is "Dead" with no members.
func (a *Admin) DescribeGroup(ctx context.Context, group string) (Group, error) {
	res, err := a.a.DescribeConsumerGroups(ctx, []string{group})
	if err != nil {
		return Group{}, fmt.Errorf("kafka: describe group %q: %w", group, err)
	}
	if len(res.ConsumerGroupDescriptions) != 1 {
		return Group{}, fmt.Errorf("kafka: describe group %q: no description", group)
	}
	d := res.ConsumerGroupDescriptions[0]
	if d.Error.Code() != ckafka.ErrNoError && d.Error.Code() != ckafka.ErrGroupIDNotFound {
		return Group{}, fmt.Errorf("kafka: describe group %q: %w", group, d.Error)
	}
	g := Group{State: groupState(d.State)}
	for _, m := range d.Members {
		gm := GroupMember{ID: m.ConsumerID, ClientID: m.ClientID, Host: m.Host}
		for _, tp := range m.Assignment.TopicPartitions {
			gm.Partitions = append(gm.Partitions, record.TopicPartition{Topic: *tp.Topic, Partition: tp.Partition})
		}
		g.Members = append(g.Members, gm)
	}
	return g, nil
}

func groupState(s ckafka.ConsumerGroupState) string {
	switch s {
	case ckafka.ConsumerGroupStatePreparingRebalance:
		return "PreparingRebalance"
	case ckafka.ConsumerGroupStateCompletingRebalance:
		return "CompletingRebalance"
	case ckafka.ConsumerGroupStateStable:
		return "Stable"
	case ckafka.ConsumerGroupStateDead:
		return "Dead"
	case ckafka.ConsumerGroupStateEmpty:
		return "Empty"
	}
	return "Unknown"
}

// Watermarks returns the low and high watermarks of every partition of
// topic.
func (a *Admin) Watermarks(ctx context.Context, topic string) (low, high []int64, err error) {
	parts, err := a.Partitions(ctx, []string{topic})
	if err != nil {
		return nil, nil, err
	}
	n, ok := parts[topic]
	if !ok {
		return nil, nil, fmt.Errorf("kafka: topic %q does not exist", topic)
	}
	low, high = make([]int64, n), make([]int64, n)
	for _, q := range []struct {
		spec ckafka.OffsetSpec
		into []int64
	}{{ckafka.EarliestOffsetSpec, low}, {ckafka.LatestOffsetSpec, high}} {
		req := make(map[ckafka.TopicPartition]ckafka.OffsetSpec, n)
		for p := 0; p < n; p++ {
			t := topic
			req[ckafka.TopicPartition{Topic: &t, Partition: int32(p)}] = q.spec
		}
		res, err := a.a.ListOffsets(ctx, req)
		if err != nil {
			return nil, nil, fmt.Errorf("kafka: list offsets of %q: %w", topic, err)
		}
		for tp, info := range res.ResultInfos {
			if info.Error.Code() != ckafka.ErrNoError {
				return nil, nil, fmt.Errorf("kafka: list offsets of %s[%d]: %w", *tp.Topic, tp.Partition, info.Error)
			}
			q.into[tp.Partition] = int64(info.Offset)
		}
	}
	return low, high, nil
}

// SetGroupOffsets commits offsets for group, which must have no active
// members (the broker refuses otherwise).
func (a *Admin) SetGroupOffsets(ctx context.Context, group string, offsets map[record.TopicPartition]int64) error {
	if len(offsets) == 0 {
		return nil
	}
	tps := make([]ckafka.TopicPartition, 0, len(offsets))
	for tp, off := range offsets {
		t := tp.Topic
		tps = append(tps, ckafka.TopicPartition{Topic: &t, Partition: tp.Partition, Offset: ckafka.Offset(off)})
	}
	res, err := a.a.AlterConsumerGroupOffsets(ctx, []ckafka.ConsumerGroupTopicPartitions{{Group: group, Partitions: tps}})
	if err != nil {
		return fmt.Errorf("kafka: set offsets of group %q: %w", group, err)
	}
	var errs []error
	for _, g := range res.ConsumerGroupsTopicPartitions {
		for _, tp := range g.Partitions {
			if tp.Error != nil {
				errs = append(errs, fmt.Errorf("%s[%d]: %w", *tp.Topic, tp.Partition, tp.Error))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kafka: set offsets of group %q: %w", group, err)
	}
	return nil
}

// DeleteTopics deletes the topics among names that exist and returns
// the names it deleted.
func (a *Admin) DeleteTopics(ctx context.Context, names []string) ([]string, error) {
	existing, err := a.Partitions(ctx, names)
	if err != nil {
		return nil, err
	}
	var del []string
	for _, n := range names {
		if _, ok := existing[n]; ok {
			del = append(del, n)
		}
	}
	if len(del) == 0 {
		return nil, nil
	}
	res, err := a.a.DeleteTopics(ctx, del, ckafka.SetAdminOperationTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("kafka: delete topics: %w", err)
	}
	var errs []error
	var deleted []string
	for _, r := range res {
		switch r.Error.Code() {
		case ckafka.ErrNoError:
			deleted = append(deleted, r.Topic)
		case ckafka.ErrUnknownTopicOrPart:
		default:
			errs = append(errs, fmt.Errorf("delete topic %q: %w", r.Topic, r.Error))
		}
	}
	return deleted, errors.Join(errs...)
}

// DeleteGroup deletes a consumer group and its committed offsets; a
// group that does not exist is not an error. The group must be empty.
func (a *Admin) DeleteGroup(ctx context.Context, group string) error {
	res, err := a.a.DeleteConsumerGroups(ctx, []string{group})
	if err != nil {
		return fmt.Errorf("kafka: delete group %q: %w", group, err)
	}
	for _, r := range res.ConsumerGroupResults {
		if c := r.Error.Code(); c != ckafka.ErrNoError && c != ckafka.ErrGroupIDNotFound {
			return fmt.Errorf("kafka: delete group %q: %w", group, r.Error)
		}
	}
	return nil
}

// GroupsReading returns, for each of topics, the consumer groups other
// than except that have committed offsets on it.
func (a *Admin) GroupsReading(ctx context.Context, topics []string, except string) (map[string][]string, error) {
	want := map[string]bool{}
	for _, t := range topics {
		want[t] = true
	}
	out := map[string][]string{}
	if len(want) == 0 {
		return out, nil
	}
	list, err := a.a.ListConsumerGroups(ctx)
	if err != nil {
		return nil, fmt.Errorf("kafka: list consumer groups: %w", err)
	}
	for _, g := range list.Valid {
		if g.GroupID == except {
			continue
		}
		res, err := a.a.ListConsumerGroupOffsets(ctx, []ckafka.ConsumerGroupTopicPartitions{{Group: g.GroupID}})
		if err != nil {
			return nil, fmt.Errorf("kafka: offsets of group %q: %w", g.GroupID, err)
		}
		seen := map[string]bool{}
		for _, gtp := range res.ConsumerGroupsTopicPartitions {
			for _, tp := range gtp.Partitions {
				if t := *tp.Topic; want[t] && !seen[t] && tp.Offset >= 0 {
					seen[t] = true
					out[t] = append(out[t], g.GroupID)
				}
			}
		}
	}
	return out, nil
}
