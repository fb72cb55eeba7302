package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/state"
)

// ResetOptions configures Reset.
type ResetOptions struct {
	// Broker, DataDir, StateDir and Getenv are as in Options.
	Broker   string
	DataDir  string
	StateDir string
	Getenv   func(string) string
	Logger   *slog.Logger
	// DryRun prints what Reset would do and does nothing.
	DryRun bool
	// Yes allows a reset on a broker that is not the embedded one.
	Yes bool
}

// Reset puts an application back where it starts, as Kafka Streams'
// application reset tool and KafkaStreams.cleanUp() together do: the
// consumer group is deleted and its offsets of the input topics set to
// their start, the internal topics (changelogs, repartition topics) are
// deleted, and so is the group's state directory. On the embedded broker
// the application's output topics are deleted too, so the next run's
// output is all there is; on another cluster they are left alone (other
// applications read them) and Reset needs ResetOptions.Yes; an output
// another consumer group has offsets on is kept on the embedded broker
// too, and so are the application's sources' topics and positions (a
// source starts its input again). It refuses while the group has
// members. What it does is written to w, a line per step.
func Reset(ctx context.Context, s *Script, opts ResetOptions, w io.Writer) error {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cfg := s.App.Config()
	if cfg.QuixCloud && opts.Broker == "" {
		return errors.New("qstar reset does not reset a Quix Cloud deployment: its topics belong to the workspace")
	}
	group := cfg.ConsumerGroup
	brokerAddr := appBroker(opts.Broker, cfg, opts.Getenv)
	embedded := brokerAddr == ""
	stateDir := cmp.Or(opts.StateDir, cfg.StateDir, opts.Getenv(EnvStateDir), state.DefaultDir)

	var inputs, internal []string
	sources := map[string]bool{}
	for _, src := range s.App.Run().Sources {
		sources[src.Topic.Name] = true
	}
	for _, t := range s.App.Topics() {
		switch {
		case t.RepartitionOf() != "":
			internal = append(internal, t.Name())
		case sources[t.Name()]:
			inputs = append(inputs, t.Name())
		}
	}
	for _, st := range s.App.Stores() {
		if st.Changelog != "" && !slices.Contains(internal, st.Changelog) {
			internal = append(internal, st.Changelog)
		}
	}
	// Outputs: what the pipelines write with to_topic, but not what they
	// also read.
	var outputs []string
	for _, t := range TopologyOf(s).Sinks {
		if !sources[t] && !slices.Contains(internal, t) {
			outputs = append(outputs, t)
		}
	}
	// A source's topic and position (app.add_source): on the embedded
	// broker both are deleted, so the source starts its input again;
	// elsewhere both are kept (the topic is read again from its start).
	var fed []string
	positions := map[string]string{} // a source's topic -> its position's
	if embedded {
		for _, src := range s.App.Sources() {
			fed = append(fed, src.Topic.Name())
			positions[src.Topic.Name()] = sourceStateTopic(group, src.Name)
		}
		inputs = slices.DeleteFunc(inputs, func(t string) bool { return positions[t] != "" })
	}
	del := internal
	if embedded {
		del = append(slices.Clone(internal), outputs...)
		for _, t := range fed {
			del = append(del, t, positions[t])
		}
	}
	groupDirs := stateOptions(cfg, stateDir, group).GroupDirs()

	where := "the embedded broker in " + cmp.Or(opts.DataDir, DefaultDataDir)
	if !embedded {
		where = brokerAddr
	}
	fmt.Fprintf(w, "reset of %s (consumer group %q) on %s:\n", s.Filename, group, where)
	fmt.Fprintf(w, "  consumer group %q: deleted, then its offsets of %s set to their start\n", group, listOr(inputs, "no input topics"))
	fmt.Fprintf(w, "  topics deleted: %s\n", listOr(del, "none"))
	if !embedded && len(outputs) > 0 {
		fmt.Fprintf(w, "  output topics kept: %s\n", strings.Join(outputs, ", "))
	}
	fmt.Fprintf(w, "  state directory removed: %s\n", strings.Join(groupDirs, ", "))
	if opts.DryRun {
		fmt.Fprintln(w, "dry run: nothing was changed")
		return nil
	}
	if !embedded && !opts.Yes {
		return fmt.Errorf("this resets a job on %s, which is not the embedded broker: run again with --yes", brokerAddr)
	}

	addr, closeBroker, err := Broker(brokerAddr, opts.DataDir, opts.Logger)
	if err != nil {
		return err
	}
	defer closeBroker()
	admin, err := kafka.NewAdmin(addr, cfg.Connection, opts.Logger)
	if err != nil {
		return err
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	g, err := admin.DescribeGroup(ctx, group)
	if err != nil {
		return err
	}
	if len(g.Members) > 0 {
		hosts := make([]string, len(g.Members))
		for i, m := range g.Members {
			hosts[i] = m.Host
		}
		return fmt.Errorf("consumer group %q has %d active member(s) (%s): stop the job first", group, len(g.Members), strings.Join(hosts, ", "))
	}
	if embedded && len(outputs)+len(fed) > 0 {
		// An output another group reads (a job downstream on the same
		// broker) is kept: its offsets would point past the new topic. A
		// source's topic kept keeps its position too.
		readers, err := admin.GroupsReading(ctx, append(slices.Clone(outputs), fed...), group)
		if err != nil {
			return err
		}
		kept := map[string]bool{}
		for t, groups := range readers {
			kept[t] = true
			if p := positions[t]; p != "" {
				kept[p] = true
				inputs = append(inputs, t) // read again from its start
			}
			fmt.Fprintf(w, "kept topic %s: consumer group(s) %s read it\n", t, strings.Join(groups, ", "))
		}
		del = slices.DeleteFunc(del, func(t string) bool { return kept[t] })
	}
	if err := admin.DeleteGroup(ctx, group); err != nil {
		return err
	}
	starts := map[record.TopicPartition]int64{}
	for _, topic := range inputs {
		low, _, err := admin.Watermarks(ctx, topic)
		if err != nil {
			if strings.Contains(err.Error(), "does not exist") {
				continue
			}
			return err
		}
		for p, off := range low {
			starts[record.TopicPartition{Topic: topic, Partition: int32(p)}] = off
		}
	}
	if err := admin.SetGroupOffsets(ctx, group, starts); err != nil {
		return fmt.Errorf("the consumer group was deleted but its offsets could not be set to the start of the inputs (run qstar reset again before qstar run): %w", err)
	}
	fmt.Fprintf(w, "reset consumer group %q: %d partition(s) of %s from their start\n", group, len(starts), listOr(inputs, "no input topics"))
	deleted, err := admin.DeleteTopics(ctx, del)
	for _, n := range deleted {
		fmt.Fprintf(w, "deleted topic %s\n", n)
	}
	if err != nil {
		return err
	}
	for _, dir := range groupDirs {
		if _, err := os.Stat(dir); err == nil {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove the state directory: %w", err)
			}
			fmt.Fprintf(w, "removed %s\n", dir)
		}
	}
	return nil
}

func listOr(names []string, none string) string {
	if len(names) == 0 {
		return none
	}
	return strings.Join(names, ", ")
}
