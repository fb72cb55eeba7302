package runtime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/quixcloud"
	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/state"
)

// Environment variables of Quix Streams 2.5.1 that qstar reads.
const (
	EnvBrokerAddress = "Quix__Broker__Address"
	// EnvConsumerGroup is spelled with a single "_" before Group, as the
	// reference reads it (its docstring says Quix__Consumer__Group).
	EnvConsumerGroup = "Quix__Consumer_Group"
	// EnvConsumerGroupDocumented is the name the reference documents; it is
	// read when Quix__Consumer_Group is not set.
	EnvConsumerGroupDocumented = "Quix__Consumer__Group"
	EnvStateDir                = "Quix__State__Dir"
)

// Options configures Run.
type Options struct {
	// Broker overrides the script's broker_address (the --broker flag).
	Broker string
	// DataDir is the embedded broker's data directory, used when no broker
	// is configured anywhere. Default ".qstar/broker".
	DataDir string
	// StopWhenIdle, when positive, stops the run once no message has
	// arrived for that long and everything is committed.
	StopWhenIdle time.Duration
	// Stdout receives sdf.print() and print() output. Default os.Stdout.
	Stdout io.Writer
	// Logger receives the run's logs. Its level is the script's loglevel
	// unless Level is set.
	Logger *slog.Logger
	// Level is set to the script's loglevel (or LogLevel) when not nil.
	Level *slog.LevelVar
	// LogLevel overrides the script's loglevel when not empty.
	LogLevel string
	// StateDir overrides Application(state_dir=) when not empty.
	StateDir string
	// MetricsAddr, when set, serves Prometheus metrics at
	// http://MetricsAddr/metrics while the job runs.
	MetricsAddr string
	// Progress, when not nil, receives a status line refreshed every
	// second (for a terminal: "\r" rewrites it in place).
	Progress io.Writer
	// Watch reloads the script when it or a file it loads changes
	// (hot reload), keeping offsets and state.
	Watch bool
	// Getenv reads the environment. Default os.Getenv.
	Getenv func(string) string
	// BrokerWait is how long to wait for a configured broker to accept
	// connections before failing with an error that says where the
	// address came from; 0 does not check (qstar run's --broker-wait
	// defaults to BrokerWait).
	BrokerWait time.Duration
	// Outputs, when set, receives every record reaching the end of a
	// dataframe (app.run(count=, collect=)).
	Outputs engine.Sink
}

// EmbeddedBroker is the --broker value that selects the embedded broker.
const EmbeddedBroker = "embedded"

// BrokerWait is how long qstar run waits, by default, for a configured
// broker to accept connections before failing (Options.BrokerWait).
const BrokerWait = 15 * time.Second

// DefaultDataDir is where the embedded broker keeps its data.
const DefaultDataDir = ".qstar/broker"

func (o *Options) defaults() {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
}

// appBroker resolves an application's broker: the flag, its
// broker_address=, then Quix__Broker__Address as the script saw it (a
// .env file it loaded included) or as getenv has it.
func appBroker(flag string, cfg builtins.AppConfig, getenv func(string) string) string {
	return ResolveBroker(flag, cfg.BrokerAddress, func(name string) string {
		if name == EnvBrokerAddress && cfg.EnvBrokerAddress != "" {
			return cfg.EnvBrokerAddress
		}
		return getenv(name)
	})
}

// ResolveBroker returns the broker address to use, first found wins: the
// flag, the script's broker_address, the Quix__Broker__Address variable.
// It returns "" when none is set (use the embedded broker).
//
// The flag value "embedded" (EmbeddedBroker) picks the embedded broker
// whatever the script and environment say, so an app that hard-codes
// broker_address="localhost:9092" runs unchanged on a machine with no
// Kafka.
func ResolveBroker(flag, script string, getenv func(string) string) string {
	switch {
	case flag == EmbeddedBroker:
		return ""
	case flag != "":
		return flag
	case script != "":
		return script
	}
	return getenv(EnvBrokerAddress)
}

// Broker connects to the configured broker, or opens the embedded one on
// dataDir. The returned close function stops an embedded broker this call
// started.
func Broker(addr, dataDir string, log *slog.Logger) (string, func(), error) {
	if addr != "" {
		return addr, func() {}, nil
	}
	emb, err := kafka.OpenEmbedded(dataDir, "127.0.0.1:0", log)
	if err != nil {
		return "", nil, err
	}
	if emb.Broker != nil {
		log.Info("started the embedded broker", "address", emb.Addr, "data_dir", dataDir)
	} else {
		log.Info("using the embedded broker of another qstar process", "address", emb.Addr, "data_dir", dataDir)
	}
	return emb.Addr, emb.Close, nil
}

// Run runs the script's application until ctx is done, the run is idle for
// Options.StopWhenIdle, or it fails.
func Run(ctx context.Context, s *Script, opts Options) error {
	opts.defaults()
	cfg := s.App.Config()
	log := opts.Logger
	if level := strings.ToUpper(opts.LogLevel); level != "" {
		cfg.Loglevel = level
	}
	if opts.Level != nil && cfg.Loglevel != "" {
		opts.Level.Set(slogLevel(cfg.Loglevel))
	}
	group := cfg.ConsumerGroup // resolved while loading: consumer_group=, $Quix__Consumer_Group, or the default
	if cfg.QuixCloud && s.App.Platform() == nil && opts.Broker == "" {
		return fmt.Errorf("%s: the application has a Quix Cloud token (quix_sdk_token= or %s) but the script was loaded without connecting to Quix Cloud", s.App.Pos(), quixcloud.EnvSdkToken)
	}
	brokerAddr := appBroker(opts.Broker, cfg, opts.Getenv)
	if brokerAddr != "" && s.App.Platform() == nil && opts.BrokerWait > 0 {
		source := "--broker"
		switch {
		case opts.Broker != "":
		case cfg.BrokerAddress != "":
			source = "broker_address= of the Application at " + s.App.Pos()
		default:
			source = "$" + EnvBrokerAddress
		}
		if err := waitForBroker(ctx, brokerAddr, source, s.Filename, opts.BrokerWait, log); err != nil {
			return err
		}
	}
	addr, closeBroker, err := Broker(brokerAddr, opts.DataDir, log)
	if err != nil {
		return err
	}
	defer closeBroker()
	log.Info("starting", "script", s.Filename, "broker", addr, "consumer_group", group,
		"auto_offset_reset", cfg.AutoOffsetReset, "commit_interval", cfg.CommitInterval,
		"processing_guarantee", cfg.ProcessingGuarantee.String())

	if opts.StateDir != "" {
		cfg.StateDir = opts.StateDir
	}
	if s.App.Platform() != nil {
		checkQuixDeployment(opts.Getenv, cmp.Or(cfg.StateDir, opts.Getenv(EnvStateDir), state.DefaultDir), len(s.App.Stores()) > 0, log)
	}
	stores, err := openStateManager(s.App, cfg, group, opts.Getenv, log)
	if err != nil {
		return err
	}
	if stores != nil {
		defer stores.Close()
	}
	if err := setupTopics(ctx, s.App, stores, addr, cfg, log); err != nil {
		return err
	}
	exactlyOnce := cfg.ProcessingGuarantee == engine.ExactlyOnce
	prodCfg := kafka.ProducerConfig{Brokers: addr, Extra: cfg.ProducerExtraConfig, Connection: cfg.Connection, Logger: log}
	if exactlyOnce {
		id, release, err := transactionalID(group, cmp.Or(cfg.StateDir, opts.Getenv(EnvStateDir), state.DefaultDir))
		if err != nil {
			return err
		}
		defer release()
		prodCfg.TransactionalID = id
	}
	prod, err := kafka.NewProducer(prodCfg)
	if err != nil {
		return err
	}
	if exactlyOnce {
		log.Info("exactly-once: transactional producer ready", "transactional_id", prodCfg.TransactionalID)
	}
	var repartition []string
	for _, t := range s.App.Topics() {
		if t.RepartitionOf() != "" {
			repartition = append(repartition, t.Name())
		}
	}
	copartitioned := false
	for _, g := range s.App.SubTopologies() {
		copartitioned = copartitioned || len(g) > 1
	}
	cons, err := kafka.NewConsumer(kafka.ConsumerConfig{
		Brokers: addr, GroupID: group, AutoOffsetReset: cfg.AutoOffsetReset, FromStart: repartition,
		Extra: cfg.ConsumerExtraConfig, Connection: cfg.Connection, Logger: log,
		ReadCommitted: exactlyOnce, Copartitioned: copartitioned,
	})
	if err != nil {
		_ = prod.Close(time.Second)
		return err
	}
	var engineProducer engine.Producer = producer{prod}
	if exactlyOnce {
		engineProducer = txProducer{producer{prod}, cons}
	}
	stdout := &lineWriter{w: opts.Stdout}
	metrics := &engine.Metrics{}
	if opts.MetricsAddr != "" {
		stop, err := serveMetrics(opts.MetricsAddr, metrics, log)
		if err != nil {
			_ = prod.Close(time.Second)
			return err
		}
		defer stop()
	}
	var engineStores engine.Stores
	if stores != nil {
		ss := &stateStores{m: stores, log: log}
		if cfg.UseChangelogTopics {
			reader := &kafka.ChangelogReader{Brokers: addr, Extra: cfg.ConsumerExtraConfig, Connection: cfg.Connection, Logger: log}
			defer reader.Close()
			ss.changelogs = reader
		}
		engineStores = ss
	}
	start := time.Now()
	if opts.Progress != nil {
		stop := showProgress(opts.Progress, metrics)
		defer stop()
	}
	// A source that fails stops the job with its error, as a failing
	// pipeline does.
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	srcs := &jobSources{start: func(app *builtins.Application) (*runningSources, error) {
		return startSources(runCtx, app, addr, cfg, group, func(name string) *starlark.Thread {
			return &starlark.Thread{Name: name, Print: printTo(stdout)}
		}, stopRun, log)
	}}
	if err := srcs.replace(s.App); err != nil {
		_ = prod.Close(time.Second)
		return err
	}
	var reloads chan engine.Reload
	if opts.Watch {
		reloads = make(chan engine.Reload)
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		w := &watch{running: s, log: log, reloads: reloads, stdout: stdout,
			setup: func(ctx context.Context, next *Script) error {
				return setupTopics(ctx, next.App, stores, addr, cfg, log)
			},
			switched: func(next *Script) {
				if err := srcs.replace(next.App); err != nil {
					stopRun(err)
				}
			}}
		go w.run(wctx)
		log.Info("watching for changes", "files", fmt.Sprint(s.Files))
	}
	stats, runErr := engine.Run(runCtx, engine.Config{
		Sources:        s.App.Run().Sources,
		Consumer:       consumer{cons},
		Producer:       engineProducer,
		Guarantee:      cfg.ProcessingGuarantee,
		CommitInterval: cfg.CommitInterval,
		PollTimeout:    cfg.ConsumerPollTimeout,
		StopWhenIdle:   opts.StopWhenIdle,
		Busy:           srcs.busy,
		Logger:         log,
		Stdout:         stdout,
		NewThread: func(tp record.TopicPartition) *starlark.Thread {
			return &starlark.Thread{Name: tp.String(), Print: printTo(stdout)}
		},
		Stores:    engineStores,
		Callbacks: s.App.Callbacks(),
		Metrics:   metrics,
		Reloads:   reloads,
		Outputs:   opts.Outputs,
	})
	// After a failure nothing more is committed; what was produced after
	// the last checkpoint may be delivered or not (at-least-once).
	closeErr := prod.Close(10 * time.Second)
	if srcErr := srcs.stop(); srcErr != nil && (runErr == nil || errors.Is(runErr, context.Canceled)) {
		runErr = srcErr
	}
	if runErr != nil {
		return runErr
	}
	if closeErr != nil {
		return fmt.Errorf("close producer: %w", closeErr)
	}
	log.Info("stopped", "consumed", stats.Consumed, "checkpoints", stats.Checkpoints, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// openStateManager returns the state manager of the application's
// stores, or nil when its pipelines keep no state. It honours
// app.clear_state().
func openStateManager(app *builtins.Application, cfg builtins.AppConfig, group string, getenv func(string) string, log *slog.Logger) (*state.Manager, error) {
	specs := app.Stores()
	if len(specs) == 0 {
		if app.ClearState() {
			log.Info("clear_state(): the application keeps no state")
		}
		return nil, nil
	}
	dir := cfg.StateDir
	if dir == "" {
		dir = getenv(EnvStateDir)
	}
	m, err := state.NewManager(stateOptions(cfg, dir, group), cfg.UseChangelogTopics, log)
	if err != nil {
		return nil, err
	}
	for _, s := range specs {
		if _, err := m.Register(state.Store{Topic: s.Topic, Topics: s.Topics, Name: s.Name, Windowed: s.Windowed, Timestamped: s.Timestamped, Changelog: s.Changelog}); err != nil {
			m.Close()
			return nil, err
		}
	}
	if app.ClearState() {
		if err := m.Clear(); err != nil {
			m.Close()
			return nil, err
		}
	}
	return m, nil
}

// topicCreator creates the topics of specs that do not exist and returns
// the names it created.
type topicCreator func(context.Context, []kafka.TopicSpec) ([]string, error)

// setupTopics creates the application's topics that do not exist, with
// Quix Streams' TopicManager defaults (1 partition, replication factor 1;
// on Quix Cloud, the workspace's defaults), when auto_create_topics is on,
// then the repartition and changelog topics (changelogs compacted), each
// with the partition count and replication factor of its source topic. On
// Quix Cloud topics are created through the Portal API. Every problem
// found is reported at once.
func setupTopics(ctx context.Context, app *builtins.Application, stores *state.Manager, addr string, cfg builtins.AppConfig, log *slog.Logger) error {
	admin, err := kafka.NewAdmin(addr, cfg.Connection, log)
	if err != nil {
		return err
	}
	defer admin.Close()
	create, defaultSize, createTimeout := topicCreator(admin.EnsureTopics), 1, setupStepTimeout
	switch p := app.Platform().(type) {
	case nil:
	case *quixcloud.Workspace:
		// Each round waits up to a minute for the topics to be Ready.
		create, defaultSize, createTimeout = cloudTopicCreator(p), 0, 2*setupStepTimeout
	default:
		return fmt.Errorf("runtime: cannot create topics on a %T", p)
	}
	ensure := func(specs []kafka.TopicSpec, doCreate bool) error {
		if !doCreate {
			return checkExist(ctx, admin, specs)
		}
		ctx, cancel := context.WithTimeout(ctx, createTimeout)
		defer cancel()
		created, err := create(ctx, specs)
		for _, n := range created {
			log.Info("created topic", "topic", n)
		}
		return err
	}
	replicated, err := replicatedPartitions(ctx, app, log)
	if err != nil {
		return err
	}
	var names, internal []string
	var specs []kafka.TopicSpec
	for _, t := range app.Topics() {
		names = append(names, t.Name())
		if t.RepartitionOf() != "" {
			internal = append(internal, t.Name())
			continue
		}
		spec := kafka.TopicSpec{Name: t.Name(), NumPartitions: defaultSize, ReplicationFactor: defaultSize}
		if c := t.Config(); c != nil {
			spec.NumPartitions, spec.ReplicationFactor, spec.Config = c.NumPartitions, c.ReplicationFactor, c.Extra
		} else if n, ok := replicated[t.Name()]; ok {
			spec.NumPartitions = n
		}
		specs = append(specs, spec)
	}
	if err := ensure(specs, cfg.AutoCreateTopics); err != nil {
		return err
	}
	if err := ensure(sourceStateSpecs(app, cfg.ConsumerGroup, defaultSize), true); err != nil {
		return err
	}
	sources, replicas, err := describeTopics(ctx, admin, names)
	if err != nil {
		return err
	}
	// Repartition topics get their source topic's partition count and
	// replication factor; one that a stateful pipeline joins or
	// concatenates with other topics gets theirs (copartitionWith).
	groups := app.SubTopologies()
	var repartition []kafka.TopicSpec
	for _, t := range app.Topics() {
		if src := t.RepartitionOf(); src != "" {
			if with := copartitionWith(app, groups[t.Name()]); with != "" {
				src = with
			}
			repartition = append(repartition, kafka.TopicSpec{Name: t.Name(), NumPartitions: sources[src], ReplicationFactor: replicas[src]})
		}
	}
	if err := ensure(repartition, true); err != nil {
		return err
	}
	var problems []error
	if len(internal) > 0 {
		got, gotReplicas, err := describeTopics(ctx, admin, internal)
		if err != nil {
			return err
		}
		for _, t := range app.Topics() {
			if src := t.RepartitionOf(); src != "" {
				if with := copartitionWith(app, groups[t.Name()]); with != "" {
					src = with
				}
				// As in Quix Streams, only the partition count matters.
				if got[t.Name()] != sources[src] {
					problems = append(problems, fmt.Errorf("repartition topic %q has %d partitions; its source topic %q has %d", t.Name(), got[t.Name()], src, sources[src]))
				}
				sources[t.Name()], replicas[t.Name()] = got[t.Name()], gotReplicas[t.Name()]
			}
		}
	}
	problems = append(problems, checkCopartitioned(app, groups, sources)...)
	if stores == nil || !cfg.UseChangelogTopics || len(problems) > 0 {
		return errors.Join(problems...)
	}
	var changelogSpecs []kafka.TopicSpec
	var cls []string
	for _, s := range stores.All() {
		src := s.SourceTopics()[0] // co-partitioned: they have one count
		changelogSpecs = append(changelogSpecs, kafka.TopicSpec{
			Name: s.Changelog, NumPartitions: sources[src], ReplicationFactor: replicas[src],
			Config: map[string]string{"cleanup.policy": "compact"},
		})
		cls = append(cls, s.Changelog)
	}
	if err := ensure(changelogSpecs, true); err != nil {
		return err
	}
	existing, existingReplicas, err := describeTopics(ctx, admin, cls)
	if err != nil {
		return err
	}
	for _, s := range stores.All() {
		src := s.SourceTopics()[0]
		if got, want := existing[s.Changelog], sources[src]; got != want {
			problems = append(problems, fmt.Errorf("changelog topic %q has %d partitions; its source topic %q has %d", s.Changelog, got, src, want))
		}
		if got, want := existingReplicas[s.Changelog], replicas[src]; got != want {
			problems = append(problems, fmt.Errorf("changelog topic %q has replication factor %d; its source topic %q has %d", s.Changelog, got, src, want))
		}
	}
	// A changelog that is not compacted loses state to retention: the
	// store could not be restored from it.
	tctx, cancel := context.WithTimeout(ctx, setupStepTimeout)
	defer cancel()
	policies, err := admin.TopicConfig(tctx, cls, "cleanup.policy")
	if err != nil {
		return err
	}
	for _, n := range cls {
		if p, ok := policies[n]; ok && !slices.Contains(strings.Split(p, ","), "compact") {
			problems = append(problems, fmt.Errorf("changelog topic %q has cleanup.policy=%s; changelogs must be compacted (cleanup.policy=compact) or state is lost to retention", n, p))
		}
	}
	return errors.Join(problems...)
}

// copartitionWith returns the topic whose partition count the
// repartition topics of a stateful sub-topology take: its first topic
// that is not a repartition topic; "" when there is none, or the
// sub-topology is stateless or of one topic.
func copartitionWith(app *builtins.Application, group []string) string {
	if len(group) < 2 || !app.Stateful(group) {
		return ""
	}
	repartition := map[string]bool{}
	for _, t := range app.Topics() {
		repartition[t.Name()] = t.RepartitionOf() != ""
	}
	for _, n := range group {
		if !repartition[n] {
			return n
		}
	}
	return ""
}

// checkCopartitioned reports the stateful sub-topologies (joins,
// stateful operations after a concat) whose topics have different
// partition counts: a task owns partition p of each, with their stores.
func checkCopartitioned(app *builtins.Application, groups map[string][]string, partitions map[string]int) []error {
	var problems []error
	seen := map[string]bool{}
	for _, g := range groups {
		key := strings.Join(g, ",")
		if seen[key] || len(g) < 2 || !app.Stateful(g) {
			continue
		}
		seen[key] = true
		counts := map[int]bool{}
		var desc []string
		for _, n := range g {
			counts[partitions[n]] = true
			desc = append(desc, fmt.Sprintf("%q (%d partitions)", n, partitions[n]))
		}
		if len(counts) > 1 {
			problems = append(problems, fmt.Errorf("the topics a pipeline joins or concatenates must have the same number of partitions to use state (they must be co-partitioned); got %s", strings.Join(desc, ", ")))
		}
	}
	return problems
}

// setupStepTimeout bounds each broker request of setupTopics: a broker
// that cannot be reached fails the start within a minute.
const setupStepTimeout = time.Minute

// describeTopics returns the partition counts and replication factors of
// the named topics that exist.
func describeTopics(ctx context.Context, admin *kafka.Admin, names []string) (partitions, replicas map[string]int, err error) {
	ctx, cancel := context.WithTimeout(ctx, setupStepTimeout)
	defer cancel()
	if partitions, err = admin.Partitions(ctx, names); err != nil {
		return nil, nil, err
	}
	if replicas, err = admin.ReplicationFactors(ctx, names); err != nil {
		return nil, nil, err
	}
	return partitions, replicas, nil
}

// checkExist reports every topic of specs that does not exist.
func checkExist(ctx context.Context, admin *kafka.Admin, specs []kafka.TopicSpec) error {
	ctx, cancel := context.WithTimeout(ctx, setupStepTimeout)
	defer cancel()
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	existing, err := admin.Partitions(ctx, names)
	if err != nil {
		return err
	}
	var missing []error
	for _, n := range names {
		if _, ok := existing[n]; !ok {
			missing = append(missing, fmt.Errorf("topic %q does not exist (auto_create_topics=False)", n))
		}
	}
	return errors.Join(missing...)
}

func slogLevel(l string) slog.Level {
	switch l {
	case "DEBUG":
		return slog.LevelDebug
	case "WARNING", "WARN":
		return slog.LevelWarn
	case "ERROR", "CRITICAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// serveMetrics serves metrics in the Prometheus text format at /metrics.
func serveMetrics(addr string, m *engine.Metrics, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		m.WritePrometheus(w)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() { _ = srv.Close() }, nil
}

// showProgress rewrites a one-line status every second until stopped:
// messages/s in and out, partitions assigned (and recovering), total lag,
// checkpoints.
func showProgress(w io.Writer, m *engine.Metrics) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var lastIn, lastOut int64
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
			}
			in, out := m.Consumed.Load(), m.Produced.Load()
			lagByTopic := map[string]int64{}
			for tp, l := range m.Lag() {
				lagByTopic[tp.Topic] += l
			}
			topics := make([]string, 0, len(lagByTopic))
			for t := range lagByTopic {
				topics = append(topics, t)
			}
			sort.Strings(topics)
			line := fmt.Sprintf("in %d/s  out %d/s  partitions %d", in-lastIn, out-lastOut, m.Assigned.Load())
			if r := m.Recovering.Load(); r > 0 {
				line += fmt.Sprintf(" (%d recovering)", r)
			}
			for _, t := range topics {
				line += fmt.Sprintf("  lag %s %d", t, lagByTopic[t])
			}
			if last := m.LastCheckpoint.Load(); last > 0 {
				line += fmt.Sprintf("  checkpoint %s ago", time.Since(time.Unix(0, last)).Round(time.Second))
			}
			fmt.Fprintf(w, "\r\033[K%s", line)
			lastIn, lastOut = in, out
		}
	}()
	return func() { close(done); <-finished }
}

// dialAddr is a bootstrap server as librdkafka reads it: an optional
// PROTOCOL:// prefix, and port 9092 when none is given.
func dialAddr(a string) string {
	a = strings.TrimSpace(a)
	if i := strings.Index(a, "://"); i >= 0 {
		a = a[i+3:]
	}
	if _, _, err := net.SplitHostPort(a); err != nil {
		a = net.JoinHostPort(strings.Trim(a, "[]"), "9092")
	}
	return a
}

// waitForBroker dials the bootstrap servers until one accepts a TCP
// connection, for up to wait (or until ctx is done). It logs the problem
// once, then every 5 s, and fails saying where the address came from and
// how to use the embedded broker instead.
func waitForBroker(ctx context.Context, addrs, source, script string, wait time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(wait)
	interrupted := func() error {
		return fmt.Errorf("interrupted while waiting for a Kafka broker at %s (set by %s); nothing was processed", addrs, source)
	}
	var lastErr error
	var lastLog time.Time
	for {
		for _, a := range strings.Split(addrs, ",") {
			conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", dialAddr(a))
			if err == nil {
				conn.Close()
				return nil
			}
			lastErr = err
		}
		if ctx.Err() != nil {
			return interrupted()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no Kafka broker answers at %s (set by %s) after %s: %w; start the broker, pass --broker ADDR, or run on the embedded broker with `qstar run --broker embedded %s`",
				addrs, source, wait, lastErr, script)
		}
		if time.Since(lastLog) >= 5*time.Second {
			log.Warn("waiting for the Kafka broker", "broker", addrs, "set_by", source, "error", lastErr.Error(), "gives_up_in", time.Until(deadline).Round(time.Second).String())
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return interrupted()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// stateOptions are the state manager's options for the application:
// dir, group and its rocksdb_options.
func stateOptions(cfg builtins.AppConfig, dir, group string) state.Options {
	opts := state.Options{Dir: dir, Group: group}
	if o := cfg.RocksDB; o != nil {
		opts.RocksDB = state.RocksDBOptions{
			WriteBufferSize:      o.WriteBufferSize,
			TargetFileSizeBase:   o.TargetFileSizeBase,
			MaxWriteBufferNumber: o.MaxWriteBufferNumber,
			BlockCacheSize:       o.BlockCacheSize,
			BloomBitsPerKey:      float64(o.BloomBitsPerKey),
			MaxTotalWALSize:      o.MaxTotalWALSize,
			Compression:          o.Compression,
			EnablePipelinedWrite: o.EnablePipelinedWrite,
			WALDir:               o.WALDir,
			DBLogDir:             o.DBLogDir,
		}
		opts.OpenRetries = o.OpenMaxRetries
		if o.OpenMaxRetries == 0 {
			opts.OpenRetries = -1 // state.Options: negative means none
		}
		opts.OpenBackoff = max(o.OpenRetryBackoff, time.Nanosecond)
	}
	return opts
}
