package runtime

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// maxProducerSlots bounds how many exactly-once processes of one group
// can share a host and state directory.
const maxProducerSlots = 1024

// transactionalID returns the transactional.id of an exactly-once
// process: "{group}-{host}-{dir}-{slot}", where dir is a hash of the
// state directory's absolute path and slot is the lowest number not held
// by another live process of the same group on this host with the same
// state directory. The slot is held with a lock file,
// {stateDir}/.qstar-producers/{group}/{slot}.lock, until release is
// called or the process dies. A restarted process gets its id back, so
// its first InitTransactions aborts the transaction the killed one left
// open; two processes running at once never share an id, so they never
// fence each other.
func transactionalID(group, stateDir string) (id string, release func(), err error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		return "", nil, fmt.Errorf("exactly-once: state directory: %w", err)
	}
	h := fnv.New32a()
	h.Write([]byte(abs))
	dirHash := fmt.Sprintf("%08x", h.Sum32())
	dir := filepath.Join(stateDir, ".qstar-producers", group)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("exactly-once: transactional.id slot directory: %w", err)
	}
	for slot := 0; slot < maxProducerSlots; slot++ {
		path := filepath.Join(dir, strconv.Itoa(slot)+".lock")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return "", nil, fmt.Errorf("exactly-once: transactional.id slot: %w", err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			continue
		}
		if err != nil {
			f.Close()
			return "", nil, fmt.Errorf("exactly-once: lock %s: %w", path, err)
		}
		return fmt.Sprintf("%s-%s-%s-%d", group, host, dirHash, slot), func() { f.Close() }, nil
	}
	return "", nil, fmt.Errorf("exactly-once: %d processes of group %q already run on this host with state directory %s", maxProducerSlots, group, stateDir)
}
