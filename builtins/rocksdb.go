package builtins

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// RocksDBOptions is the script's RocksDBOptions, Quix Streams 2.5.1's
// quixstreams.state.rocksdb.RocksDBOptions: the RocksDB settings of the
// application's state stores, given as Application(rocksdb_options=...).
//
//	RocksDBOptions(write_buffer_size=64 MiB, target_file_size_base=64 MiB,
//	               max_write_buffer_number=3, block_cache_size=128 MiB,
//	               bloom_filter_bits_per_key=10, enable_pipelined_write=False,
//	               compression_type="lz4", wal_dir=None, max_total_wal_size=128 MiB,
//	               db_log_dir=None, dumps=None, loads=None, open_max_retries=10,
//	               open_retry_backoff=3.0)
//
// Two differences from Quix Streams: the block cache is one of
// block_cache_size for the whole process rather than one per store
// partition, so that memory stays bounded; and dumps= and loads= take
// only None, since state is always JSON (Quix Streams' default).
type RocksDBOptions struct {
	WriteBufferSize, TargetFileSizeBase, BlockCacheSize, MaxTotalWALSize uint64
	MaxWriteBufferNumber, BloomBitsPerKey                                int
	EnablePipelinedWrite                                                 bool
	// Compression is one of RocksDBCompressions.
	Compression string
	// WALDir and DBLogDir are "" when not given.
	WALDir, DBLogDir string
	// OpenMaxRetries is open_max_retries: 0 means no retry.
	OpenMaxRetries   int
	OpenRetryBackoff time.Duration
	attrs            starlark.StringDict // the arguments, defaults filled in
}

// RocksDBCompressions are the compression_type names, Quix Streams'.
var RocksDBCompressions = []string{"none", "snappy", "zlib", "bz2", "lz4", "lz4hc", "zstd"}

var (
	_ starlark.Value    = (*RocksDBOptions)(nil)
	_ starlark.HasAttrs = (*RocksDBOptions)(nil)
)

// rocksDBParams are RocksDBOptions' parameters in Quix Streams' order.
var rocksDBParams = []string{"write_buffer_size", "target_file_size_base", "max_write_buffer_number",
	"block_cache_size", "bloom_filter_bits_per_key", "enable_pipelined_write", "compression_type",
	"wal_dir", "max_total_wal_size", "db_log_dir", "dumps", "loads", "open_max_retries", "open_retry_backoff"}

// NewRocksDBOptions implements RocksDBOptions(...).
func NewRocksDBOptions(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	writeBuffer, targetFile, maxBuffers, cache, bloom, walSize, retries := 64<<20, 64<<20, 3, 128<<20, 10, 128<<20, 10
	var (
		pipelined                    bool
		compression                                 = "lz4"
		walDir, logDir, dumps, loads starlark.Value = starlark.None, starlark.None, starlark.None, starlark.None
		backoff                      starlark.Value = starlark.Float(3.0)
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"write_buffer_size?", &writeBuffer,
		"target_file_size_base?", &targetFile,
		"max_write_buffer_number?", &maxBuffers,
		"block_cache_size?", &cache,
		"bloom_filter_bits_per_key?", &bloom,
		"enable_pipelined_write?", &pipelined,
		"compression_type?", &compression,
		"wal_dir?", &walDir,
		"max_total_wal_size?", &walSize,
		"db_log_dir?", &logDir,
		"dumps?", &dumps,
		"loads?", &loads,
		"open_max_retries?", &retries,
		"open_retry_backoff?", &backoff,
	); err != nil {
		return nil, err
	}
	sizes := []struct {
		name string
		n    int
	}{{"write_buffer_size", writeBuffer}, {"target_file_size_base", targetFile}, {"max_write_buffer_number", maxBuffers},
		{"block_cache_size", cache}, {"bloom_filter_bits_per_key", bloom}, {"max_total_wal_size", walSize}}
	for _, s := range sizes {
		if s.n <= 0 {
			return nil, fmt.Errorf("%s: %s must be a positive int, not %d", b.Name(), s.name, s.n)
		}
	}
	if retries < 0 {
		return nil, fmt.Errorf("%s: open_max_retries must be 0 or more, not %d", b.Name(), retries)
	}
	if !slices.Contains(RocksDBCompressions, compression) {
		return nil, fmt.Errorf("%s: compression_type must be one of %s, not %q", b.Name(), strings.Join(RocksDBCompressions, ", "), compression)
	}
	for _, a := range []struct {
		name string
		v    starlark.Value
	}{{"dumps", dumps}, {"loads", loads}} {
		if a.v != starlark.None {
			return nil, fmt.Errorf("%s: %s= is not supported: qstar keeps state as JSON, the format of Quix Streams' default dumps and loads; leave it out", b.Name(), a.name)
		}
	}
	wal, err := optString(b.Name(), "wal_dir", walDir)
	if err != nil {
		return nil, err
	}
	dbLog, err := optString(b.Name(), "db_log_dir", logDir)
	if err != nil {
		return nil, err
	}
	wait, err := seconds(b.Name(), "open_retry_backoff", backoff, true)
	if err != nil {
		return nil, err
	}
	o := &RocksDBOptions{
		WriteBufferSize:      uint64(writeBuffer),
		TargetFileSizeBase:   uint64(targetFile),
		MaxWriteBufferNumber: maxBuffers,
		BlockCacheSize:       uint64(cache),
		BloomBitsPerKey:      bloom,
		MaxTotalWALSize:      uint64(walSize),
		Compression:          compression,
		EnablePipelinedWrite: pipelined,
		WALDir:               wal,
		DBLogDir:             dbLog,
		OpenMaxRetries:       retries,
		OpenRetryBackoff:     wait,
		attrs:                starlark.StringDict{},
	}
	for _, s := range sizes {
		o.attrs[s.name] = starlark.MakeInt(s.n)
	}
	o.attrs["open_max_retries"] = starlark.MakeInt(retries)
	o.attrs["enable_pipelined_write"] = starlark.Bool(pipelined)
	o.attrs["compression_type"] = starlark.String(compression)
	o.attrs["wal_dir"], o.attrs["db_log_dir"] = walDir, logDir
	o.attrs["dumps"], o.attrs["loads"] = starlark.None, starlark.None
	o.attrs["open_retry_backoff"] = backoff
	return o, nil
}

func (o *RocksDBOptions) Attr(name string) (starlark.Value, error) { return o.attrs[name], nil }
func (o *RocksDBOptions) AttrNames() []string                      { return rocksDBParams }

func (o *RocksDBOptions) String() string {
	parts := make([]string, len(rocksDBParams))
	for i, name := range rocksDBParams {
		parts[i] = name + "=" + o.attrs[name].String()
	}
	return "RocksDBOptions(" + strings.Join(parts, ", ") + ")"
}
func (o *RocksDBOptions) Type() string         { return "RocksDBOptions" }
func (o *RocksDBOptions) Freeze()              {}
func (o *RocksDBOptions) Truth() starlark.Bool { return true }
func (o *RocksDBOptions) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: RocksDBOptions")
}
