package builtins

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/serde"
)

// AppConfig is an Application's configuration as the script gave it.
// Unset optional strings are empty; package runtime resolves them against
// the command line and the environment.
type AppConfig struct {
	BrokerAddress string // "" when not given
	// EnvBrokerAddress is Quix__Broker__Address as the script saw it when
	// the Application was created (a .env file loaded by load_dotenv()
	// included); "" when unset.
	EnvBrokerAddress string
	// Connection holds librdkafka connection settings (security, SASL,
	// SSL) from Application(broker_address=ConnectionConfig(...)).
	Connection      map[string]string
	ConsumerGroup   string // consumer_group=, else Registry.Env
	AutoOffsetReset string // "earliest" or "latest"
	CommitInterval  time.Duration
	// ProcessingGuarantee is processing_guarantee=: at-least-once (the
	// default) or exactly-once.
	ProcessingGuarantee engine.Guarantee
	ConsumerExtraConfig map[string]string
	ProducerExtraConfig map[string]string
	Loglevel            string // "" when loglevel=None
	// QuixCloud is true when the application has a Quix Cloud token
	// (connected or not: see Application.Platform).
	QuixCloud           bool
	AutoCreateTopics    bool
	ConsumerPollTimeout time.Duration
	StateDir            string // "" when not given (runtime: Quix__State__Dir, then "state")
	// RocksDB is rocksdb_options=; nil when not given (the defaults).
	RocksDB            *RocksDBOptions
	UseChangelogTopics bool
	// Error callbacks; nil when not given.
	OnConsumerError    starlark.Callable
	OnProcessingError  starlark.Callable
	OnProducerError    starlark.Callable
	OnMessageProcessed starlark.Callable
}

// StoreSpec is a state store a pipeline uses on a source topic.
type StoreSpec struct {
	// Topic is the store's stream: its topic, or the merged topics'
	// sorted names joined by "--".
	Topic string
	// Topics are a merged stream's source topics; nil for one topic.
	Topics      []string
	Name        string
	Windowed    bool
	Timestamped bool
	// Changelog is the store's changelog topic; empty when
	// use_changelog_topics=False.
	Changelog string
}

// Application is the script's Application object.
//
//	Application(*, broker_address=None, quix_sdk_token=None, consumer_group=None, auto_offset_reset="latest",
//	            commit_interval=5.0, consumer_extra_config=None, producer_extra_config=None,
//	            loglevel="INFO", auto_create_topics=True, consumer_poll_timeout=1.0,
//	            state_dir="state", rocksdb_options=None, use_changelog_topics=True, on_consumer_error=None,
//	            on_processing_error=None, on_producer_error=None, on_message_processed=None,
//	            processing_guarantee="at-least-once")
type Application struct {
	reg    *Registry
	cfg    AppConfig
	pos    string
	topics map[string]*Topic
	order  []string // topic names in declaration order
	roots  map[string]*engine.Node
	rootOf []string // source topics in the order of their first dataframe
	// grouped are the group_by links, by repartition topic.
	grouped map[string]*groupBy
	stores  []StoreSpec

	clearState  bool
	usedClients bool
	run         *RunRequest
	platform    Platform // Quix Cloud, when connected
	warnings    []string
	sinks       []engine.Sink // of sdf.sink(), each once
	sources     []*Source     // of app.add_source(), in order
	ranWith     *RunRequest   // the last app.run(count=, timeout=)
}

// RanNow reports whether the script called app.run(count=, timeout=),
// which runs the job while the script loads.
func (a *Application) RanNow() bool { return a.ranWith != nil }

// PendingRun is the app.run() (without a stop condition) the job runs
// after the script loads, or nil.
func (a *Application) PendingRun() *RunRequest { return a.run }

// UsedClients reports whether the script used app.get_producer() or
// app.get_consumer().
func (a *Application) UsedClients() bool { return a.usedClients }

// storeKind is what a store keeps.
type storeKind int

const (
	storePlain       storeKind = iota // State
	storeWindowed                     // windows
	storeTimestamped                  // a join's values by timestamp
)

// registerStore adds a state store of the dataframe's stream (once per
// name), naming its changelog topic when the application uses them, and
// returns the ID its operations use.
func (d *DataFrame) registerStore(name string, kind storeKind) (string, error) {
	a, stream := d.app, d.stream()
	id := engine.StoreID(stream, name)
	if a.hasStore(stream, name) {
		return id, nil
	}
	spec := StoreSpec{Topic: stream, Name: name, Windowed: kind == storeWindowed, Timestamped: kind == storeTimestamped}
	if d.merged != nil {
		if err := checkCopartitioned(d.merged); err != nil {
			return "", err
		}
		spec.Topics = d.sourceNames()
	}
	if a.cfg.UseChangelogTopics {
		changelog, err := a.internalTopic("changelog", stream, name)
		if err != nil {
			return "", err
		}
		spec.Changelog = changelog
	}
	a.stores = append(a.stores, spec)
	return id, nil
}

// hasStore reports whether a store of that name is registered for stream.
func (a *Application) hasStore(stream, name string) bool {
	for _, s := range a.stores {
		if s.Topic == stream && s.Name == name {
			return true
		}
	}
	return false
}

// Stores returns the state stores the application's pipelines use.
func (a *Application) Stores() []StoreSpec { return append([]StoreSpec(nil), a.stores...) }

// ClearState reports whether the script called app.clear_state().
func (a *Application) ClearState() bool { return a.clearState }

// RunRequest is what app.run() asked to run.
type RunRequest struct {
	Pos string
	// Sources are the source topics whose pipelines run: every dataframe's
	// for app.run(), the given dataframe's for app.run(sdf).
	Sources []*engine.Source
}

var (
	_ starlark.HasAttrs = (*Application)(nil)
)

// applicationClass is the predeclared Application: callable as the
// constructor, with Application.Quix(), the reference's deprecated
// constructor for Quix Cloud.
type applicationClass struct{ *starlark.Builtin }

func (c applicationClass) AttrNames() []string { return []string{"Quix"} }

func (c applicationClass) Attr(name string) (starlark.Value, error) {
	if name != "Quix" {
		return nil, nil
	}
	return starlark.NewBuiltin("Application.Quix", NewQuixApplication), nil
}

// NewApplication implements the Application(...) builtin.
func NewApplication(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return newApplication(thread, b, args, kwargs, false)
}

// NewQuixApplication implements Application.Quix(...): Application()
// without broker_address and quix_sdk_token, connected to Quix Cloud with
// the token of Quix__Sdk__Token.
func NewQuixApplication(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return newApplication(thread, b, args, kwargs, true)
}

// applicationParams and quixApplicationParams are the parameters of
// Application() and Application.Quix() in Quix Streams 2.5.1's order,
// for positional arguments.
// maxTopicNameLength is the longest topic name Quix Streams accepts
// (TopicNameLengthExceeded); Kafka itself takes at most 249 characters.
const maxTopicNameLength = 255

var (
	applicationParams = []string{"broker_address", "quix_sdk_token", "consumer_group", "auto_offset_reset",
		"commit_interval", "partitioner", "consumer_extra_config", "producer_extra_config", "state_dir",
		"rocksdb_options", "on_consumer_error", "on_processing_error", "on_producer_error",
		"on_message_processed", "consumer_poll_timeout", "producer_poll_timeout", "loglevel",
		"auto_create_topics", "use_changelog_topics", "quix_config_builder", "topic_manager",
		"request_timeout", "topic_create_timeout"}
	quixApplicationParams = []string{"consumer_group", "auto_offset_reset", "partitioner",
		"consumer_extra_config", "producer_extra_config", "state_dir", "rocksdb_options",
		"on_consumer_error", "on_processing_error", "on_producer_error", "on_message_processed",
		"consumer_poll_timeout", "producer_poll_timeout", "loglevel", "quix_config_builder",
		"auto_create_topics", "use_changelog_topics", "topic_manager", "request_timeout",
		"topic_create_timeout"}
)

func newApplication(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, quix bool) (starlark.Value, error) {
	reg, err := registry(thread)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	var (
		broker, group, token                              starlark.Value = starlark.None, starlark.None, starlark.None
		offsetReset                                                      = "latest"
		commitInterval                                    starlark.Value = starlark.Float(5.0)
		rocksdb                                           starlark.Value = starlark.None
		consumerX, producerX                              starlark.Value = starlark.None, starlark.None
		loglevel                                          starlark.Value = starlark.String("INFO")
		autoCreate                                                       = true
		pollTimeout                                       starlark.Value = starlark.Float(1.0)
		stateDir                                          starlark.Value = starlark.None
		useChangelogs                                                    = true
		onConsumer, onProcessing, onProducer, onProcessed starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
		guarantee                                                        = "at-least-once"
	)
	// Positional arguments, as Quix Streams 2.5.1 accepts them
	// (Application("localhost:9092", "group")), become keywords.
	order := applicationParams
	if quix {
		order = quixApplicationParams
	}
	if len(args) > len(order) {
		return nil, fmt.Errorf("%s: takes at most %d positional arguments (%d given)", b.Name(), len(order), len(args))
	}
	for i, a := range args {
		for _, kv := range kwargs {
			if string(kv[0].(starlark.String)) == order[i] {
				return nil, fmt.Errorf("%s: got multiple values for argument '%s'", b.Name(), order[i])
			}
		}
		kwargs = append(kwargs, starlark.Tuple{starlark.String(order[i]), a})
	}
	args = nil
	for _, kv := range kwargs {
		if k := string(kv[0].(starlark.String)); k == "quix_config_builder" || k == "topic_manager" {
			return nil, fmt.Errorf("%s: %s is not supported: qstar builds the Quix Cloud connection from quix_sdk_token= or Quix__Sdk__Token (and Quix__Workspace__Id, Quix__Portal__Api)", b.Name(), k)
		}
	}
	params := []any{
		"consumer_group?", &group,
		"auto_offset_reset?", &offsetReset,
		"commit_interval?", &commitInterval,
		"consumer_extra_config?", &consumerX,
		"producer_extra_config?", &producerX,
		"loglevel?", &loglevel,
		"auto_create_topics?", &autoCreate,
		"consumer_poll_timeout?", &pollTimeout,
		"state_dir?", &stateDir,
		"rocksdb_options?", &rocksdb,
		"use_changelog_topics?", &useChangelogs,
		"on_consumer_error?", &onConsumer,
		"on_processing_error?", &onProcessing,
		"on_producer_error?", &onProducer,
		"on_message_processed?", &onProcessed,
		"processing_guarantee?", &guarantee,
	}
	if !quix {
		params = append([]any{"broker_address?", &broker, "quix_sdk_token?", &token}, params...)
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, params...); err != nil {
		return nil, err
	}
	app := &Application{
		reg:     reg,
		pos:     callerPos(thread),
		topics:  map[string]*Topic{},
		roots:   map[string]*engine.Node{},
		grouped: map[string]*groupBy{},
	}
	c := &app.cfg
	if cc, ok := broker.(*ConnectionConfig); ok {
		c.BrokerAddress, c.Connection = cc.Brokers(), cc.Settings()
	} else if c.BrokerAddress, err = optString(b.Name(), "broker_address", broker); err != nil {
		return nil, fmt.Errorf("%s: broker_address must be a str, a ConnectionConfig or None, not %s", b.Name(), broker.Type())
	}
	if c.ConsumerGroup, err = optString(b.Name(), "consumer_group", group); err != nil {
		return nil, err
	}
	if c.ConsumerGroup == "" {
		c.ConsumerGroup = reg.env(func(e *EnvSettings) func() string { return e.ConsumerGroup })
	}
	c.EnvBrokerAddress = reg.env(func(e *EnvSettings) func() string { return e.BrokerAddress })
	if c.ConsumerGroup == "" {
		c.ConsumerGroup = "quixstreams-default"
	}
	tok, err := optString(b.Name(), "quix_sdk_token", token)
	if err != nil {
		return nil, err
	}
	switch offsetReset {
	case "earliest", "latest":
		c.AutoOffsetReset = offsetReset
	default:
		return nil, fmt.Errorf("%s: auto_offset_reset must be \"earliest\" or \"latest\", not %q", b.Name(), offsetReset)
	}
	if c.CommitInterval, err = seconds(b.Name(), "commit_interval", commitInterval, true); err != nil {
		return nil, err
	}
	if c.ProcessingGuarantee, err = engine.ParseGuarantee(guarantee); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if c.ConsumerPollTimeout, err = seconds(b.Name(), "consumer_poll_timeout", pollTimeout, false); err != nil {
		return nil, err
	}
	if c.ConsumerExtraConfig, err = extraConfig(b.Name(), "consumer_extra_config", consumerX); err != nil {
		return nil, err
	}
	if c.ProducerExtraConfig, err = extraConfig(b.Name(), "producer_extra_config", producerX); err != nil {
		return nil, err
	}
	if c.Loglevel, err = optString(b.Name(), "loglevel", loglevel); err != nil {
		return nil, err
	}
	switch strings.ToUpper(c.Loglevel) {
	case "", "DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL":
		c.Loglevel = strings.ToUpper(c.Loglevel)
	default:
		return nil, fmt.Errorf("%s: loglevel must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL or None, not %q", b.Name(), c.Loglevel)
	}
	c.AutoCreateTopics = autoCreate
	switch o := rocksdb.(type) {
	case *RocksDBOptions:
		c.RocksDB = o
	case starlark.NoneType:
	default:
		return nil, fmt.Errorf("%s: rocksdb_options must be a RocksDBOptions or None, not %s", b.Name(), rocksdb.Type())
	}
	if c.StateDir, err = optString(b.Name(), "state_dir", stateDir); err != nil {
		return nil, err
	}
	c.UseChangelogTopics = useChangelogs
	for _, h := range []struct {
		name  string
		v     starlark.Value
		nargs int
		dst   *starlark.Callable
	}{
		{"on_consumer_error", onConsumer, 3, &c.OnConsumerError},
		{"on_processing_error", onProcessing, 3, &c.OnProcessingError},
		{"on_producer_error", onProducer, 3, &c.OnProducerError},
		{"on_message_processed", onProcessed, 3, &c.OnMessageProcessed},
	} {
		f, err := handlerArg(b.Name(), h.name, h.v, h.nargs)
		if err != nil {
			return nil, err
		}
		*h.dst = f
	}
	// Last, once every argument is valid: it may contact the Portal API.
	if err := app.quixCloud(b.Name(), tok, quix); err != nil {
		return nil, err
	}
	reg.Apps = append(reg.Apps, app)
	return app, nil
}

// quixCloud connects the application to Quix Cloud when it has a token:
// quix_sdk_token=, else Quix__Sdk__Token (Application.Quix() requires
// one). As in Quix Streams, a broker address (broker_address= or
// Quix__Broker__Address) and a token together are an error. Without
// Registry.Connect (qstar check, qstar test, --broker) the application
// keeps its names. The platform's client settings go under the
// application's extra configs.
func (a *Application) quixCloud(fn, token string, quix bool) error {
	c := &a.cfg
	if token == "" {
		token = a.reg.env(func(e *EnvSettings) func() string { return e.SdkToken })
	}
	if quix {
		a.warnings = append(a.warnings, "Application.Quix() is deprecated; use Application() with quix_sdk_token= or the Quix__Sdk__Token environment variable")
		if token == "" && a.reg.Connect != nil {
			return fmt.Errorf("%s: a Quix Cloud auth token (SDK or PAT) is required; set with environment variable Quix__Sdk__Token (or run against a broker of your own with --broker)", fn)
		}
		if token == "" {
			// qstar check, qstar test, or --broker: nothing to connect to,
			// so the app runs with its names as written.
			a.warnings = append(a.warnings, "Application.Quix() without a Quix Cloud token: running against the broker given, with topic and group names as written")
		}
	}
	if token == "" {
		return nil
	}
	if c.BrokerAddress != "" || a.reg.env(func(e *EnvSettings) func() string { return e.BrokerAddress }) != "" {
		return fmt.Errorf(`%s: cannot provide both "broker_address" (or Quix__Broker__Address) and "quix_sdk_token" (or Quix__Sdk__Token)`, fn)
	}
	c.QuixCloud = true
	if a.reg.Connect == nil {
		return nil
	}
	p, err := a.reg.Connect(token)
	if err != nil {
		return fmt.Errorf("%s: %w", fn, err)
	}
	a.platform = p
	c.BrokerAddress, c.Connection = p.Brokers(), p.Connection()
	c.ConsumerGroup = p.ConsumerGroup(c.ConsumerGroup)
	for _, extra := range []*map[string]string{&c.ConsumerExtraConfig, &c.ProducerExtraConfig} {
		settings := p.ExtraConfig()
		maps.Copy(settings, *extra)
		*extra = settings
	}
	return nil
}

// Platform returns the platform the application is connected to (Quix
// Cloud), or nil.
func (a *Application) Platform() Platform { return a.platform }

// Warnings returns what the application's construction warned about.
func (a *Application) Warnings() []string { return a.warnings }

func optString(fn, name string, v starlark.Value) (string, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return "", nil
	case starlark.String:
		return string(v), nil
	}
	return "", fmt.Errorf("%s: %s must be a str or None, not %s", fn, name, v.Type())
}

func seconds(fn, name string, v starlark.Value, allowZero bool) (time.Duration, error) {
	var f float64
	switch v := v.(type) {
	case starlark.Int:
		f = float64(v.Float())
	case starlark.Float:
		f = float64(v)
	default:
		return 0, fmt.Errorf("%s: %s must be a number of seconds, not %s", fn, name, v.Type())
	}
	if math.IsNaN(f) || f < 0 || (!allowZero && f == 0) || f > 1e9 {
		return 0, fmt.Errorf("%s: %s=%v is out of range", fn, name, f)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// extraConfig converts a dict of librdkafka settings into strings.
func extraConfig(fn, name string, v starlark.Value) (map[string]string, error) {
	if v == starlark.None {
		return nil, nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a dict, not %s", fn, name, v.Type())
	}
	out := make(map[string]string, d.Len())
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: %s keys must be str, not %s", fn, name, kv[0].Type())
		}
		switch val := kv[1].(type) {
		case starlark.String:
			out[string(k)] = string(val)
		case starlark.Bool:
			out[string(k)] = fmt.Sprint(bool(val))
		case starlark.Int, starlark.Float:
			out[string(k)] = val.String()
		default:
			return nil, fmt.Errorf("%s: %s[%q] must be a str, int, float or bool, not %s", fn, name, string(k), val.Type())
		}
	}
	return out, nil
}

// Config returns the application's configuration.
func (a *Application) Config() AppConfig { return a.cfg }

// Pos returns where the script created the application.
func (a *Application) Pos() string { return a.pos }

// Topics returns every topic the script declared, in declaration order.
func (a *Application) Topics() []*Topic {
	out := make([]*Topic, len(a.order))
	for i, n := range a.order {
		out[i] = a.topics[n]
	}
	return out
}

// Run returns what app.run() asked for, or nil if it was not called.
//
// It is the pending run, or else the last app.run(count=, timeout=): the
// pipeline that qstar check and qstar test describe.
func (a *Application) Run() *RunRequest {
	if a.run != nil {
		return a.run
	}
	return a.ranWith
}

func (a *Application) String() string        { return fmt.Sprintf("<Application at %s>", a.pos) }
func (a *Application) Type() string          { return "Application" }
func (a *Application) Freeze()               {}
func (a *Application) Truth() starlark.Bool  { return true }
func (a *Application) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: Application") }

var appMethods = map[string]*starlark.Builtin{
	"topic":        starlark.NewBuiltin("Application.topic", appTopic),
	"dataframe":    starlark.NewBuiltin("Application.dataframe", appDataframe),
	"run":          starlark.NewBuiltin("Application.run", appRun),
	"clear_state":  starlark.NewBuiltin("Application.clear_state", appClearState),
	"get_producer": starlark.NewBuiltin("Application.get_producer", appGetProducer),
	"get_consumer": starlark.NewBuiltin("Application.get_consumer", appGetConsumer),
	"checkpoint":   starlark.NewBuiltin("Application.checkpoint", appCheckpoint),
	"add_source":   starlark.NewBuiltin("Application.add_source", appAddSource),
}

// appClearState implements app.clear_state(): the application's state
// directory ({state_dir}/{consumer_group}) is deleted before it runs.
func appClearState(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	b.Receiver().(*Application).clearState = true
	return starlark.None, nil
}

func (a *Application) Attr(name string) (starlark.Value, error) {
	if name == "config" {
		return &AppConfigValue{cfg: a.cfg}, nil
	}
	if m, ok := appMethods[name]; ok {
		if name == "dataframe" || name == "topic" || name == "add_source" {
			return a.reg.buildOnly(m, a), nil
		}
		return m.BindReceiver(a), nil
	}
	return nil, nil
}

func (a *Application) AttrNames() []string { return append(methodNames(appMethods), "config") }

// AppConfigValue is app.config, Quix Streams' ApplicationConfig: what
// KafkaReplicatorSource(app_config=...) takes, and the settings a script
// may read.
type AppConfigValue struct{ cfg AppConfig }

var _ starlark.HasAttrs = (*AppConfigValue)(nil)

func (c *AppConfigValue) String() string {
	return fmt.Sprintf("<ApplicationConfig %q>", c.cfg.ConsumerGroup)
}
func (c *AppConfigValue) Type() string         { return "ApplicationConfig" }
func (c *AppConfigValue) Freeze()              {}
func (c *AppConfigValue) Truth() starlark.Bool { return true }
func (c *AppConfigValue) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: ApplicationConfig")
}

func (c *AppConfigValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "broker_address":
		if c.cfg.BrokerAddress == "" {
			return starlark.None, nil
		}
		return starlark.String(c.cfg.BrokerAddress), nil
	case "consumer_group":
		return starlark.String(c.cfg.ConsumerGroup), nil
	case "auto_offset_reset":
		return starlark.String(c.cfg.AutoOffsetReset), nil
	case "commit_interval":
		return starlark.Float(c.cfg.CommitInterval.Seconds()), nil
	case "consumer_poll_timeout":
		return starlark.Float(c.cfg.ConsumerPollTimeout.Seconds()), nil
	case "processing_guarantee":
		return starlark.String(c.cfg.ProcessingGuarantee.String()), nil
	}
	return nil, nil
}

func (c *AppConfigValue) AttrNames() []string {
	return []string{"auto_offset_reset", "broker_address", "commit_interval", "consumer_group", "consumer_poll_timeout", "processing_guarantee"}
}

func methodNames(m map[string]*starlark.Builtin) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// appTopic implements
//
//	app.topic(name, value_deserializer="json", key_deserializer="bytes",
//	          value_serializer="json", key_serializer="bytes", config=None,
//	          timestamp_extractor=None)
//
// timestamp_extractor(value, headers, timestamp, timestamp_type) returns
// the record's timestamp in milliseconds; config is a TopicConfig used
// when the topic is created.
//
// A topic declared twice under one name keeps the last declaration. On
// Quix Cloud the name is the workspace's: the id of its topic of that
// name, or the name prefixed with the workspace id.
func appTopic(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	app := b.Receiver().(*Application)
	var name string
	vd := deserializerArg{serde.NewJSON()}
	kd := deserializerArg{serde.Bytes{}}
	vs := serializerArg{serde.JSON{}}
	ks := serializerArg{serde.Bytes{}}
	var config, extractor starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &name,
		"value_deserializer?", &vd,
		"key_deserializer?", &kd,
		"value_serializer?", &vs,
		"key_serializer?", &ks,
		"config?", &config,
		"timestamp_extractor?", &extractor,
	); err != nil {
		return nil, err
	}
	if len(name) > maxTopicNameLength {
		// Kafka's limit, which Quix Streams checks as TopicNameLengthExceeded.
		return nil, fmt.Errorf("%s: TopicNameLengthExceeded: topic %q... is %d characters long; Quix Streams allows at most %d (and Kafka 249)", b.Name(), name[:40], len(name), maxTopicNameLength)
	}
	var cfg *TopicConfig
	switch c := config.(type) {
	case starlark.NoneType:
	case *TopicConfig:
		cfg = c
	default:
		return nil, fmt.Errorf("%s: config must be a TopicConfig, not %s", b.Name(), config.Type())
	}
	var tsFn starlark.Callable
	if extractor != starlark.None {
		f, err := callbackFn(b.Name(), "timestamp_extractor", extractor, 4)
		if err != nil {
			return nil, err
		}
		tsFn = f
	}
	if name == "" {
		return nil, fmt.Errorf("%s: name must not be empty", b.Name())
	}
	if app.platform != nil {
		resolved, err := app.platform.Topic(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		name = resolved
	}
	t := &Topic{
		pos:    callerPos(thread),
		config: cfg,
		t: &engine.Topic{
			Name:               name,
			KeyDeserializer:    kd.d,
			ValueDeserializer:  vd.d,
			KeySerializer:      ks.s,
			ValueSerializer:    vs.s,
			TimestampExtractor: tsFn,
		},
	}
	if _, ok := app.topics[name]; !ok {
		app.order = append(app.order, name)
	}
	app.topics[name] = t
	return t, nil
}

// appDataframe implements app.dataframe(topic): a StreamingDataFrame fed by
// topic. Several dataframes on one topic share its messages, each as a
// branch of its own.
func appDataframe(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	app := b.Receiver().(*Application)
	var topic, source starlark.Value = starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "topic?", &topic, "source?", &source); err != nil {
		return nil, err
	}
	var t *Topic
	switch src := source.(type) {
	case starlark.NoneType:
		tt, ok := topic.(*Topic)
		if !ok {
			if topic == starlark.None {
				return nil, fmt.Errorf("%s: one of source or topic is required", b.Name())
			}
			return nil, fmt.Errorf("%s: topic must be a Topic, not %s", b.Name(), topic.Type())
		}
		t = tt
	case *Source:
		// With both, the source writes to topic instead of its default.
		tt, err := app.addSource(thread, b.Name(), src, topic)
		if err != nil {
			return nil, err
		}
		t = tt
	default:
		return nil, fmt.Errorf("%s: source must be a source (CSVSource, FileSource, ...), not %s", b.Name(), source.Type())
	}
	if _, ok := app.topics[t.Name()]; !ok {
		return nil, fmt.Errorf("%s: topic %q was not declared by this application's app.topic()", b.Name(), t.Name())
	}
	root, ok := app.roots[t.Name()]
	if !ok {
		root = engine.NewRoot()
		app.roots[t.Name()] = root
		app.rootOf = append(app.rootOf, t.Name())
	}
	return &DataFrame{app: app, topic: t, node: root}, nil
}

// appRun implements app.run(dataframe=None, timeout=0.0, count=0,
// collect=True, metadata=False). Without a stop condition it records the
// request; the pipeline runs after the script has loaded. app.run() runs
// every dataframe of the application; app.run(sdf) runs the dataframes
// fed by sdf's source topic, every branch included. With timeout or count
// (Quix Streams 3.11+) it runs the job now, until nothing was consumed
// for timeout seconds or count outputs were processed, and returns the
// outputs collected (runNow); a script may do that more than once.
func appRun(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	app := b.Receiver().(*Application)
	var sdf starlark.Value = starlark.None
	var timeout number
	count, collect, metadata := 0, true, false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "dataframe?", &sdf, "timeout?", &timeout, "count?", &count,
		"collect?", &collect, "metadata?", &metadata); err != nil {
		return nil, err
	}
	if timeout > 0 || count > 0 {
		return app.runNow(thread, b.Name(), sdf, durationOf(timeout), count, collect, metadata)
	}
	if app.run != nil {
		return nil, fmt.Errorf("%s: app.run() was already called at %s", b.Name(), app.run.Pos)
	}
	req, err := app.runRequest(thread, b.Name(), sdf)
	if err != nil {
		return nil, err
	}
	app.run = req
	return starlark.None, nil
}

// runRequest is what app.run(dataframe) runs.
func (app *Application) runRequest(thread *starlark.Thread, fn string, sdf starlark.Value) (*RunRequest, error) {
	req := &RunRequest{Pos: callerPos(thread)}
	var topics []string
	switch s := sdf.(type) {
	case starlark.NoneType:
		topics = app.rootOf
	case *DataFrame:
		if s.app != app {
			return nil, fmt.Errorf("%s: the dataframe belongs to another Application", fn)
		}
		topics = app.related(s.topic.Name())
	default:
		return nil, fmt.Errorf("%s: dataframe must be a StreamingDataFrame, not %s", fn, sdf.Type())
	}
	if len(topics) == 0 {
		return nil, fmt.Errorf("%s: the application has no dataframe; create one with app.dataframe(topic)", fn)
	}
	for _, n := range topics {
		req.Sources = append(req.Sources, &engine.Source{Topic: app.topics[n].t, Root: app.roots[n]})
	}
	return req, nil
}

// storeSpecs returns the application's stores as the engine describes them.
func (a *Application) storeSpecs() []engine.StoreSpec {
	specs := make([]engine.StoreSpec, len(a.stores))
	for i, s := range a.stores {
		specs[i] = engine.StoreSpec{Name: s.Name, Topic: s.Topic, Topics: s.Topics, Windowed: s.Windowed, Timestamped: s.Timestamped, Changelog: s.Changelog}
	}
	return specs
}

// related returns topic and the topics linked to it by group_by (its
// repartition topics, or its source), in declaration order.
func (a *Application) related(topic string) []string {
	in := map[string]bool{topic: true}
	for changed := true; changed; {
		changed = false
		for name, t := range a.topics {
			if t.repartitionOf == "" {
				continue
			}
			if in[name] != in[t.repartitionOf] {
				in[name], in[t.repartitionOf] = true, true
				changed = true
			}
		}
	}
	var out []string
	for _, n := range a.rootOf {
		if in[n] {
			out = append(out, n)
		}
	}
	return out
}

// Topic is the script's Topic object, from app.topic().
type Topic struct {
	pos string
	t   *engine.Topic
	// repartitionOf is the source topic of a group_by's internal topic.
	repartitionOf string
	config        *TopicConfig
}

// Config returns the topic's TopicConfig, or nil.
func (t *Topic) Config() *TopicConfig { return t.config }

// TopicConfig is the script's TopicConfig: how a topic is created.
//
//	TopicConfig(num_partitions=None, replication_factor=None, extra_config=None)
//
// Unset values take the defaults of Quix Streams' TopicManager: 1
// partition, replication factor 1.
type TopicConfig struct {
	NumPartitions     int
	ReplicationFactor int
	Extra             map[string]string
}

func (c *TopicConfig) String() string {
	return fmt.Sprintf("TopicConfig(num_partitions=%d, replication_factor=%d)", c.NumPartitions, c.ReplicationFactor)
}
func (c *TopicConfig) Type() string          { return "TopicConfig" }
func (c *TopicConfig) Freeze()               {}
func (c *TopicConfig) Truth() starlark.Bool  { return true }
func (c *TopicConfig) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: TopicConfig") }

// NewTopicConfig implements TopicConfig(...).
func NewTopicConfig(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var partitions, rf, extra starlark.Value = starlark.None, starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "num_partitions?", &partitions, "replication_factor?", &rf, "extra_config?", &extra); err != nil {
		return nil, err
	}
	c := &TopicConfig{NumPartitions: 1, ReplicationFactor: 1}
	for _, f := range []struct {
		name string
		v    starlark.Value
		dst  *int
	}{{"num_partitions", partitions, &c.NumPartitions}, {"replication_factor", rf, &c.ReplicationFactor}} {
		if f.v == starlark.None {
			continue
		}
		n, err := starlark.AsInt32(f.v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s: %s must be a positive int, got %s", b.Name(), f.name, f.v)
		}
		*f.dst = n
	}
	m, err := extraConfig(b.Name(), "extra_config", extra)
	if err != nil {
		return nil, err
	}
	c.Extra = m
	return c, nil
}

// RepartitionOf returns, for an internal repartition topic, its source
// topic ("" for the application's own topics).
func (t *Topic) RepartitionOf() string { return t.repartitionOf }

var _ starlark.HasAttrs = (*Topic)(nil)

// Name returns the topic name.
func (t *Topic) Name() string { return t.t.Name }

// Engine returns the topic as the engine uses it.
func (t *Topic) Engine() *engine.Topic { return t.t }

func (t *Topic) String() string        { return fmt.Sprintf("<Topic %q>", t.t.Name) }
func (t *Topic) Type() string          { return "Topic" }
func (t *Topic) Freeze()               {}
func (t *Topic) Truth() starlark.Bool  { return true }
func (t *Topic) Hash() (uint32, error) { return starlark.String(t.t.Name).Hash() }

func (t *Topic) Attr(name string) (starlark.Value, error) {
	if name == "name" {
		return starlark.String(t.t.Name), nil
	}
	return nil, nil
}

func (t *Topic) AttrNames() []string { return []string{"name"} }
