package kafka

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// BrokerConfig configures an embedded broker.
type BrokerConfig struct {
	// Listen is host:port; port 0 picks a free port. Default 127.0.0.1:0.
	Listen string
	// DataDir persists topics, offsets and groups across restarts; empty
	// keeps everything in memory. One broker at a time may use a DataDir.
	DataDir string
	// Users enables SASL authentication with these users (tests of
	// security settings).
	Users []User
	// Brokers is the number of brokers in the cluster (default 1); the
	// first listens on Listen, the others on free ports of its host.
	// Tests use several to create replicated topics.
	Brokers int
	// TLS, when set, makes the listeners TLS (tests of security settings).
	TLS *tls.Config
	// NoAutoCreateTopics refuses to create topics on first use, as most
	// production clusters (and Quix Cloud) do. Default: they are created
	// with one partition.
	NoAutoCreateTopics bool
	Logger             *slog.Logger
}

// User is a SASL user of the embedded broker.
type User struct {
	Mechanism string // "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"
	Name      string
	Password  string
}

// Broker is a Kafka-protocol broker running in this process (kfake): one
// node, topics auto-created with one partition.
type Broker struct {
	c      *kfake.Cluster
	addr   string
	lock   *os.File
	keeper *sessionKeeper
	done   chan struct{} // stops the keeper
	exited chan struct{} // closed when the keeper has stopped
}

// ErrDataDirInUse is returned by StartBroker when another process holds the
// data directory.
var ErrDataDirInUse = errors.New("broker data directory is in use by another process")

const (
	lockFile = "qstar.lock"
	addrFile = "address"
)

// StartBroker starts an embedded broker.
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	host, port, err := splitListen(cfg.Listen)
	if err != nil {
		return nil, err
	}
	b := &Broker{keeper: newSessionKeeper(cfg.Logger), done: make(chan struct{}), exited: make(chan struct{})}
	ports := make([]int, max(cfg.Brokers, 1))
	ports[0] = port
	opts := []kfake.Opt{
		kfake.Ports(ports...),
		// kfake asks for 127.0.0.1:port; listen on the configured host.
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, p, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			ln, err := net.Listen(network, net.JoinHostPort(host, p))
			if err != nil {
				return nil, err
			}
			return b.keeper.listener(ln), nil
		}),
		kfake.DefaultNumPartitions(1),
		kfake.WithLogger(kfakeLogger{cfg.Logger}),
	}
	if len(cfg.Users) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for _, u := range cfg.Users {
			opts = append(opts, kfake.Superuser(u.Mechanism, u.Name, u.Password))
		}
	}
	if !cfg.NoAutoCreateTopics {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if cfg.TLS != nil {
		opts = append(opts, kfake.TLS(cfg.TLS))
	}
	if cfg.DataDir != "" {
		if b.lock, err = lockDir(cfg.DataDir); err != nil {
			return nil, err
		}
		opts = append(opts, kfake.DataDir(filepath.Join(cfg.DataDir, "kfake")))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		b.unlock()
		return nil, fmt.Errorf("kafka: start embedded broker: %w", err)
	}
	b.c = c
	b.addr = c.ListenAddrs()[0]
	b.keeper.dial = keeperClient(b.addr, cfg)
	b.keeper.install(c)
	go func() {
		defer close(b.exited)
		b.keeper.run(c, b.done)
	}()
	if cfg.DataDir != "" {
		if err := os.WriteFile(filepath.Join(cfg.DataDir, addrFile), []byte(b.addr+"\n"), 0o644); err != nil {
			b.Close()
			return nil, fmt.Errorf("kafka: embedded broker: %w", err)
		}
	}
	return b, nil
}

func splitListen(listen string) (string, int, error) {
	host, p, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("kafka: broker listen address %q: %w", listen, err)
	}
	var port int
	if _, err := fmt.Sscan(p, &port); err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("kafka: broker listen address %q: bad port", listen)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// Addr returns the address clients connect to.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker and, with a DataDir, persists its state.
func (b *Broker) Close() {
	if b.c != nil {
		close(b.done)
		<-b.exited
		b.keeper.close()
		b.c.Close()
		b.c = nil
	}
	b.unlock()
}

func (b *Broker) unlock() {
	if b.lock != nil {
		_ = os.Remove(filepath.Join(filepath.Dir(b.lock.Name()), addrFile))
		_ = b.lock.Close() // releases the flock
		b.lock = nil
	}
}

func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("kafka: broker data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("kafka: broker data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("kafka: %s: %w", dir, ErrDataDirInUse)
		}
		return nil, fmt.Errorf("kafka: lock %s: %w", dir, err)
	}
	return f, nil
}

// Embedded is the broker a command uses when none is configured.
type Embedded struct {
	// Addr is the broker's address.
	Addr string
	// Broker is non-nil when this process started the broker; nil when it
	// attached to the one another qstar process runs on the same DataDir.
	Broker *Broker
}

// Close stops the broker if this process started it.
func (e *Embedded) Close() {
	if e.Broker != nil {
		e.Broker.Close()
	}
}

// OpenEmbedded starts an embedded broker on dataDir, or, when another qstar
// process already runs one there, returns that broker's address. So
// `qstar run` in one terminal and `qstar produce` in another share a broker
// with no configuration.
func OpenEmbedded(dataDir, listen string, log *slog.Logger) (*Embedded, error) {
	b, err := StartBroker(BrokerConfig{Listen: listen, DataDir: dataDir, Logger: log})
	if err == nil {
		return &Embedded{Addr: b.Addr(), Broker: b}, nil
	}
	if !errors.Is(err, ErrDataDirInUse) {
		return nil, err
	}
	// The owner writes its address right after taking the lock.
	deadline := time.Now().Add(5 * time.Second)
	for {
		raw, rerr := os.ReadFile(filepath.Join(dataDir, addrFile))
		if addr := strings.TrimSpace(string(raw)); rerr == nil && addr != "" {
			return &Embedded{Addr: addr}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kafka: %s is locked by another process that published no broker address", dataDir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type kfakeLogger struct{ l *slog.Logger }

func (k kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		k.l.Error("broker: " + fmt.Sprintf(format, args...))
	case kfake.LogLevelWarn:
		k.l.Debug("broker: " + fmt.Sprintf(format, args...))
	}
}
