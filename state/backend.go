package state

// backend is where a Partition's column families live: a RocksDB
// database (rocks.go) or memory (memory.go). The Transaction, windowed
// state and recovery code above it is the same for both.
type backend interface {
	// get returns a copy of the value of key in column family cf.
	get(cf string, key []byte) ([]byte, bool, error)
	// write applies a batch atomically.
	write(b *batch) error
	// iterator walks cf's keys in [lower, upper) in byte order (nil
	// bounds are open).
	iterator(cf string, lower, upper []byte) (iterator, error)
	// close releases the backend; a memory backend keeps its data for the
	// next open of the same partition.
	close()
}

// iterator is a backend's cursor. Key and Value are valid until the next
// move.
type iterator interface {
	Seek(k []byte)
	Next()
	Valid() bool
	Key() []byte
	Value() []byte
	Err() error
	Close()
}

// batch is a list of writes applied together. It owns neither keys nor
// values: callers must not change them before write.
type batch struct{ ops []batchOp }

type batchOp struct {
	cf         string
	key, value []byte
	del        bool
}

func (b *batch) put(cf string, key, value []byte) {
	b.ops = append(b.ops, batchOp{cf: cf, key: key, value: value})
}

func (b *batch) del(cf string, key []byte) {
	b.ops = append(b.ops, batchOp{cf: cf, key: key, del: true})
}

func (b *batch) count() int { return len(b.ops) }
func (b *batch) clear()     { b.ops = b.ops[:0] }
