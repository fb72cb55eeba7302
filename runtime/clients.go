package runtime

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/record"
)

// ClientOptions say how a script loaded to run reaches Kafka: the clients
// it gets from app.get_producer() and app.get_consumer() resolve the
// broker as Run does, and an application with a Quix Cloud token connects
// to Quix Cloud unless Broker is set.
type ClientOptions struct {
	Broker  string // --broker
	DataDir string // embedded broker data
	Logger  *slog.Logger
	Getenv  func(string) string
	// Run, when set, lets app.run(count=, timeout=) run the job while the
	// script loads, with these options, until Context is done at most.
	Run     *Options
	Context context.Context
}

// scriptClients implements builtins.Clients. Close releases every client
// (and an embedded broker it started).
type scriptClients struct {
	opts    ClientOptions
	mu      sync.Mutex
	closers []func()
}

func newScriptClients(opts ClientOptions) *scriptClients {
	if opts.DataDir == "" {
		opts.DataDir = DefaultDataDir
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	return &scriptClients{opts: opts}
}

func (s *scriptClients) addCloser(f func()) {
	s.mu.Lock()
	s.closers = append(s.closers, f)
	s.mu.Unlock()
}

// Close closes the clients, newest first.
func (s *scriptClients) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// broker connects to the application's broker and, as Quix Streams does
// for get_producer() and get_consumer(), creates (when
// auto_create_topics) and checks the topics declared so far: on Quix Cloud
// through the Portal API.
func (s *scriptClients) broker(app *builtins.Application) (string, error) {
	addr, closeBroker, err := Broker(appBroker(s.opts.Broker, app.Config(), s.opts.Getenv), s.opts.DataDir, s.opts.Logger)
	if err != nil {
		return "", err
	}
	s.addCloser(closeBroker)
	if err := setupTopics(context.Background(), app, nil, addr, app.Config(), s.opts.Logger); err != nil {
		return "", err
	}
	return addr, nil
}

func (s *scriptClients) Producer(app *builtins.Application) (builtins.ProducerClient, error) {
	addr, err := s.broker(app)
	if err != nil {
		return nil, err
	}
	cfg := app.Config()
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: addr, Extra: cfg.ProducerExtraConfig, Connection: cfg.Connection, Logger: s.opts.Logger})
	if err != nil {
		return nil, err
	}
	s.addCloser(func() { _ = p.Close(time.Minute) })
	return producer{p}, nil
}

func (s *scriptClients) Consumer(app *builtins.Application, autoCommit bool) (builtins.ConsumerClient, error) {
	addr, err := s.broker(app)
	if err != nil {
		return nil, err
	}
	cfg := app.Config()
	c, err := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: addr, GroupID: cfg.ConsumerGroup, AutoOffsetReset: cfg.AutoOffsetReset,
		Extra: cfg.ConsumerExtraConfig, Connection: cfg.Connection, AutoCommit: autoCommit, Logger: s.opts.Logger})
	if err != nil {
		return nil, err
	}
	sc := &scriptConsumer{c: c}
	s.addCloser(func() { _ = sc.Close() })
	return sc, nil
}

// scriptConsumer is a script's consumer; Close is idempotent.
type scriptConsumer struct {
	c      *kafka.Consumer
	closed bool
}

func (s *scriptConsumer) Subscribe(topics []string) error { return s.c.Subscribe(topics, nil) }

func (s *scriptConsumer) Poll(timeout time.Duration) (*record.Record, error) {
	return consumer{s.c}.Poll(timeout)
}

func (s *scriptConsumer) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.c.Close()
}
