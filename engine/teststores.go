package engine

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/qstar-dev/qstar/state"
)

// TestStores are the state stores of sdf.test(): real RocksDB stores in a
// temporary directory, without changelogs, committed after every call so
// that later calls in the same test see earlier ones. Close removes them.
// Not safe for concurrent use.
type TestStores struct {
	dir   string
	m     *state.Manager
	parts map[string]*state.Partition // by store/topic/partition
}

// NewTestStores creates stores in a new temporary directory.
func NewTestStores() (*TestStores, error) {
	dir, err := os.MkdirTemp("", "qstar-test-state-")
	if err != nil {
		return nil, err
	}
	m, err := state.NewManager(state.Options{Dir: dir, Group: "test", OpenRetries: 1}, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &TestStores{dir: dir, m: m, parts: map[string]*state.Partition{}}, nil
}

// Bind opens the named stores of topic's partition and gives them to c.
func (t *TestStores) Bind(c *Context, topic string, partition int32, stores []string, windowed map[string]bool) error {
	c.stores = map[string]*taskStore{}
	for _, name := range stores {
		key := fmt.Sprintf("%s/%s/%d", name, topic, partition)
		p, ok := t.parts[key]
		if !ok {
			s, err := t.m.Register(state.Store{Topic: topic, Name: name, Windowed: windowed[name]})
			if err != nil {
				return err
			}
			if p, err = t.m.Open(s, partition); err != nil {
				return err
			}
			t.parts[key] = p
		}
		c.stores[name] = &taskStore{store: state.Store{Name: name, Topic: topic}, part: p}
	}
	return nil
}

// Commit writes the changes of c's transactions, as a checkpoint would,
// with offset as the processed offset.
func (t *TestStores) Commit(c *Context, offset int64) error {
	for _, ts := range c.stores {
		if ts.tx == nil {
			continue
		}
		if err := ts.tx.Prepare(nil, "", 0, offset); err != nil {
			return err
		}
		if err := ts.tx.Flush(offset, -1); err != nil {
			return err
		}
		ts.tx = nil
	}
	return nil
}

// Close closes the stores and deletes their directory.
func (t *TestStores) Close() {
	for _, p := range t.parts {
		p.Close()
	}
	t.m.Close()
	os.RemoveAll(t.dir)
}
