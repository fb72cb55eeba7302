package state

import "fmt"

// Partition is one store of one source partition, on a RocksDB database
// or in memory. A Partition is used by one goroutine at a time.
type Partition struct {
	Path string

	be backend

	// lowestStart is, per message-key prefix of a windowed store, a lower
	// bound of the starts of the windows stored (absent: unknown). It lets
	// ExpireWindows skip the range scan while no window can have closed.
	lowestStart map[string]int64
	// storeLow is, per message-key prefix of a windowed store, a lower
	// bound of the starts of the windows in the store itself (absent:
	// unknown), above the last start expired. While a closed window can
	// only be one of the transaction's own, the expiry needs no scan.
	storeLow map[string]int64
	// sessionLow is, under the prefix "", a lower bound of the ends of a
	// session store partition's sessions (absent: unknown), so that
	// CloseSessions scans only when a session can close.
	sessionLow map[string]int64
	// scans counts the range scans (iterators) opened, for tests of the
	// expiry's scan skipping.
	scans int
}

func newPartition(path string, be backend) *Partition {
	return &Partition{Path: path, be: be, lowestStart: map[string]int64{}, storeLow: map[string]int64{}, sessionLow: map[string]int64{}}
}

// forgetWindows drops what the partition knew of its windows, for writes
// that bypass transactions (recovery).
func (p *Partition) forgetWindows() {
	clear(p.lowestStart)
	clear(p.storeLow)
	clear(p.sessionLow)
}

// Close releases the partition's database (nothing for a memory store).
func (p *Partition) Close() {
	if p.be != nil {
		p.be.close()
		p.be = nil
	}
}

// get returns a copy of the value of key in column family cf.
func (p *Partition) get(cf string, key []byte) ([]byte, bool, error) {
	if p.be == nil {
		return nil, false, fmt.Errorf("state: %s is closed", p.Path)
	}
	return p.be.get(cf, key)
}

func (p *Partition) metadata(key []byte) (int64, bool, error) {
	v, ok, err := p.get(CFMetadata, key)
	if err != nil || !ok {
		return 0, false, err
	}
	n, err := DecodeInt64(v)
	return n, err == nil, err
}

// ProcessedOffset returns the last processed source offset stored with
// the state, if any.
func (p *Partition) ProcessedOffset() (int64, bool, error) {
	n, ok, err := p.metadata(keyProcessedOffset)
	if err != nil || ok {
		return n, ok, err
	}
	// Quix Streams' legacy layout kept it in the default column family.
	v, ok, err := p.get(CFDefault, keyProcessedOffset)
	if err != nil || !ok {
		return 0, false, err
	}
	n, err = DecodeInt64(v)
	return n, err == nil, err
}

// ChangelogOffset returns the next changelog offset stored with the state,
// if any.
func (p *Partition) ChangelogOffset() (int64, bool, error) { return p.metadata(keyChangelogOffset) }

func (p *Partition) write(b *batch) error {
	if p.be == nil {
		return fmt.Errorf("state: %s is closed", p.Path)
	}
	return p.be.write(b)
}

// Begin starts a transaction.
func (p *Partition) Begin() *Transaction {
	return &Transaction{p: p, cfs: map[string]*cfCache{}}
}

// room checks that a write of need bytes fits on the disk (a RocksDB
// backend; memory always has room).
func (p *Partition) room(need uint64) error {
	if r, ok := p.be.(interface{ room(uint64) error }); ok {
		return r.room(need)
	}
	return nil
}

// iterator returns a cursor over cf bounded to [lower, upper).
func (p *Partition) iterator(cf string, lower, upper []byte) (iterator, error) {
	if p.be == nil {
		return nil, fmt.Errorf("state: %s is closed", p.Path)
	}
	p.scans++
	return p.be.iterator(cf, lower, upper)
}
