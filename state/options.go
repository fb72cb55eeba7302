package state

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/linxGnu/grocksdb"
)

// DefaultDir is the state directory when none is given, as Quix Streams'.
const DefaultDir = "state"

// Options configures a Manager. The zero value of each field means its
// default.
type Options struct {
	// Dir is the state directory; default "state" (Application(state_dir=)).
	Dir string
	// Group is the consumer group: stores live under Dir/Group.
	Group string
	// OpenRetries is how many times opening a database locked by another
	// process is retried; default 10, as Quix Streams; negative: none
	// (RocksDBOptions(open_max_retries=0)).
	OpenRetries int
	// OpenBackoff is the wait between those retries; default 3s.
	OpenBackoff time.Duration
	// RocksDB tunes the databases.
	RocksDB RocksDBOptions
	// InMemory keeps every store in memory instead of RocksDB (for tests
	// and sdf.test()): nothing is written under Dir, and a partition
	// closed and opened again by the same Manager finds its data.
	InMemory bool
}

// RocksDBOptions are the RocksDB settings of Quix Streams'
// RocksDBOptions defaults.
type RocksDBOptions struct {
	WriteBufferSize      uint64 // default 64 MiB
	TargetFileSizeBase   uint64 // default 64 MiB
	MaxWriteBufferNumber int    // default 3
	// DBWriteBufferSize bounds the memtables of one database (one store
	// partition) across its column families; default 32 MiB. (Without it
	// a partition could hold 4 column families x 3 x 64 MiB.)
	DBWriteBufferSize uint64
	BlockCacheSize    uint64 // default 128 MiB, shared by the manager's databases
	BloomBitsPerKey   float64
	MaxTotalWALSize   uint64 // default 128 MiB
	// Compression is the table files' compression, by Quix Streams'
	// names (KnownCompression); default "lz4".
	Compression string
	// EnablePipelinedWrite is RocksDB's enable_pipelined_write.
	EnablePipelinedWrite bool
	// WALDir and DBLogDir put the write-ahead log and RocksDB's info log
	// elsewhere than the database directory; default there.
	WALDir, DBLogDir string
}

// compression returns the RocksDB compression Quix Streams calls name
// (RocksDBOptions(compression_type=)).
func compression(name string) (grocksdb.CompressionType, bool) {
	switch name {
	case "none":
		return grocksdb.NoCompression, true
	case "snappy":
		return grocksdb.SnappyCompression, true
	case "zlib":
		return grocksdb.ZLibCompression, true
	case "bz2":
		return grocksdb.Bz2Compression, true
	case "lz4":
		return grocksdb.LZ4Compression, true
	case "lz4hc":
		return grocksdb.LZ4HCCompression, true
	case "zstd":
		return grocksdb.ZSTDCompression, true
	}
	return 0, false
}

// KnownCompression reports whether name is a compression RocksDBOptions
// takes.
func KnownCompression(name string) bool {
	_, ok := compression(name)
	return ok
}

// GroupDirs returns the directories that hold the group's stores: Dir/Group,
// and Group under RocksDB.WALDir and RocksDB.DBLogDir when they are set.
// Deleting them all deletes the group's state.
func (o Options) GroupDirs() []string {
	dirs := []string{filepath.Join(cmp.Or(o.Dir, DefaultDir), o.Group)}
	for _, d := range []string{o.RocksDB.WALDir, o.RocksDB.DBLogDir} {
		if d != "" {
			dirs = append(dirs, filepath.Join(d, o.Group))
		}
	}
	return dirs
}

func (o *Options) validate() error {
	if o.Group == "" {
		return errors.New("state: Options.Group is empty")
	}
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	switch {
	case o.OpenRetries == 0:
		o.OpenRetries = 10
	case o.OpenRetries < 0:
		o.OpenRetries = 0
	}
	if o.OpenBackoff <= 0 {
		o.OpenBackoff = 3 * time.Second
	}
	r := &o.RocksDB
	if r.WriteBufferSize == 0 {
		r.WriteBufferSize = 64 << 20
	}
	if r.TargetFileSizeBase == 0 {
		r.TargetFileSizeBase = 64 << 20
	}
	if r.MaxWriteBufferNumber == 0 {
		r.MaxWriteBufferNumber = 3
	}
	if r.DBWriteBufferSize == 0 {
		r.DBWriteBufferSize = 32 << 20
	}
	if r.BlockCacheSize == 0 {
		r.BlockCacheSize = 128 << 20
	}
	if r.BloomBitsPerKey == 0 {
		r.BloomBitsPerKey = 10
	}
	if r.MaxTotalWALSize == 0 {
		r.MaxTotalWALSize = 128 << 20
	}
	if r.Compression == "" {
		r.Compression = "lz4"
	}
	if !KnownCompression(r.Compression) {
		return fmt.Errorf("state: unknown compression %q (one of none, snappy, zlib, bz2, lz4, lz4hc, zstd)", r.Compression)
	}
	return nil
}
