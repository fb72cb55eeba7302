package state

import (
	"errors"
	"time"
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
	// process is retried; default 10, as Quix Streams.
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
	// DisableCompression turns off LZ4 (the default compression).
	DisableCompression bool
}

func (o *Options) validate() error {
	if o.Group == "" {
		return errors.New("state: Options.Group is empty")
	}
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.OpenRetries <= 0 {
		o.OpenRetries = 10
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
	return nil
}
