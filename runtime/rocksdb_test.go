package runtime

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/state"
)

// TestRocksDBOptions pins Application(rocksdb_options=RocksDBOptions(...))
// as Quix Streams 2.5.1 takes it (imported from its module): the
// settings reach the state manager's options, open_max_retries=0 means
// no retry, the object's attributes are its arguments with the defaults
// filled in, and bad values are errors that name the argument.
func TestRocksDBOptions(t *testing.T) {
	var printed bytes.Buffer
	s, err := Load("job.star", []byte(`
from quixstreams.state.rocksdb import RocksDBOptions
opts = RocksDBOptions(write_buffer_size=8388608, max_write_buffer_number=2, compression_type="zstd",
                      wal_dir="/wal", open_max_retries=0, open_retry_backoff=0.5)
print(opts.write_buffer_size, opts.block_cache_size, opts.compression_type, opts.open_max_retries, opts.dumps)
app = Application(broker_address="k:9092", consumer_group="g", rocksdb_options=opts)
t = app.topic("in")
app.run(app.dataframe(t))
`), &printed)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(printed.String()); got != "8388608 134217728 zstd 0 None" {
		t.Errorf("attributes print %q", got)
	}
	cfg := s.App.Config()
	if cfg.RocksDB == nil {
		t.Fatal("rocksdb_options did not reach the config")
	}
	got := stateOptions(cfg, "st", "g")
	want := state.RocksDBOptions{WriteBufferSize: 8 << 20, TargetFileSizeBase: 64 << 20, MaxWriteBufferNumber: 2,
		BlockCacheSize: 128 << 20, BloomBitsPerKey: 10, MaxTotalWALSize: 128 << 20, Compression: "zstd", WALDir: "/wal"}
	if got.RocksDB != want || got.OpenRetries >= 0 || got.OpenBackoff != 500*time.Millisecond || got.Dir != "st" || got.Group != "g" {
		t.Errorf("state options %+v, want RocksDB %+v, no retries, 500ms", got, want)
	}
	if dirs := got.GroupDirs(); len(dirs) != 2 || dirs[0] != filepath.Join("st", "g") || dirs[1] != filepath.Join("/wal", "g") {
		t.Errorf("group dirs %v", dirs)
	}
	var out bytes.Buffer
	if _, err := Load("job.star", []byte("print(RocksDBOptions())\napp = Application()\napp.run(app.dataframe(app.topic(\"in\")))\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "write_buffer_size=67108864,") || !strings.Contains(out.String(), `compression_type="lz4"`) ||
		!strings.Contains(out.String(), "open_retry_backoff=3.0)") {
		t.Errorf("RocksDBOptions() prints %q", out.String())
	}
	for _, tc := range []struct{ src, want string }{
		{`RocksDBOptions(write_buffer_size=0)`, "RocksDBOptions: write_buffer_size must be a positive int, not 0"},
		{`RocksDBOptions(compression_type="brotli")`, `RocksDBOptions: compression_type must be one of none, snappy, zlib, bz2, lz4, lz4hc, zstd, not "brotli"`},
		{`RocksDBOptions(dumps=lambda v: v)`, "RocksDBOptions: dumps= is not supported"},
		{`RocksDBOptions(open_max_retries=-1)`, "RocksDBOptions: open_max_retries must be 0 or more"},
		{`Application(rocksdb_options={})`, "Application: rocksdb_options must be a RocksDBOptions or None, not dict"},
	} {
		_, err := Load("job.star", []byte("x = "+tc.src+"\n"), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.src, err, tc.want)
		}
	}
}

// Every compression the script may name is one the state package maps.
func TestRocksDBCompressionsKnown(t *testing.T) {
	for _, name := range builtins.RocksDBCompressions {
		if !state.KnownCompression(name) {
			t.Errorf("compression_type %q has no RocksDB compression in package state", name)
		}
	}
}

// TestRocksDBOptionsOpenAStore opens a store with non-default options
// (zstd, a WAL directory of its own): the database works, its WAL is
// under wal_dir, and clearing the state removes both directories.
func TestRocksDBOptionsOpenAStore(t *testing.T) {
	dir := t.TempDir()
	opts := state.Options{Dir: filepath.Join(dir, "state"), Group: "g",
		RocksDB: state.RocksDBOptions{Compression: "zstd", WALDir: filepath.Join(dir, "wal")}}
	m, err := state.NewManager(opts, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Register(state.Store{Topic: "in", Name: "default"}); err != nil {
		t.Fatal(err)
	}
	p, err := m.Open(state.Store{Topic: "in", Name: "default"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	tx := p.Begin()
	if err := tx.SetBytes(state.CFDefault, nil, []byte("k"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Flush(0, 0); err != nil {
		t.Fatal(err)
	}
	p.Close()
	wals, _ := filepath.Glob(filepath.Join(dir, "wal", "g", "default", "in", "0", "*.log"))
	if len(wals) == 0 {
		t.Errorf("no WAL under %s", filepath.Join(dir, "wal", "g"))
	}
	if err := m.Clear(); err != nil {
		t.Fatal(err)
	}
	for _, d := range opts.GroupDirs() {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s is still there after Clear (%v)", d, err)
		}
	}
}
