package state

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrNoSpace is wrapped by the errors of writes refused for lack of disk
// space.
var ErrNoSpace = errors.New("no space left")

// NoSpaceError is a state write refused because the state directory's
// file system has too little room for it. qstar checks before RocksDB
// writes: Debian's RocksDB, built with assertions, aborts the process
// on a write after a failed one.
type NoSpaceError struct {
	Device string // the file system's source ("/dev/sda1", "tmpfs")
	Dir    string // the state directory
	Free   uint64 // bytes available
	Need   uint64 // bytes the write needed, margin included
}

func (e *NoSpaceError) Error() string {
	s := fmt.Sprintf("state: no space left on %s for %s (%d MiB free)", e.Device, e.Dir, e.Free>>20)
	if e.Need > 0 {
		s += fmt.Sprintf(": the next write and the flush of the memtables need %d MiB; free space, or move Application(state_dir=) / --state-dir to a larger disk", (e.Need+1<<20-1)>>20)
	}
	return s
}

func (e *NoSpaceError) Unwrap() error { return ErrNoSpace }

// spaceMargin is what the state directory must keep free beyond a
// write and the memtable flush it may trigger: RocksDB's MANIFEST and
// OPTIONS files, a new WAL, and room for the file system itself.
const spaceMargin = 4 << 20

// diskSpace checks the free space of one database's file system.
type diskSpace struct {
	path   string // the database directory
	dir    string // the state directory, for messages
	device string // found once, at open
}

func newDiskSpace(path, dir string) *diskSpace {
	return &diskSpace{path: path, dir: dir, device: deviceOf(path)}
}

// check returns a *NoSpaceError when fewer than need+spaceMargin bytes
// are available. A file system that cannot be asked is not checked.
func (d *diskSpace) check(need uint64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.path, &st); err != nil {
		return nil
	}
	free := st.Bavail * uint64(st.Bsize)
	if free >= need+spaceMargin {
		return nil
	}
	return &NoSpaceError{Device: d.device, Dir: d.dir, Free: free, Need: need + spaceMargin}
}

// fromRocks turns RocksDB's own out-of-space error into a NoSpaceError.
func (d *diskSpace) fromRocks(err error) error {
	if err == nil || !strings.Contains(err.Error(), "No space left on device") {
		return err
	}
	ns := &NoSpaceError{Device: d.device, Dir: d.dir}
	var st syscall.Statfs_t
	if syscall.Statfs(d.path, &st) == nil {
		ns.Free = st.Bavail * uint64(st.Bsize)
	}
	return ns
}

// deviceOf returns the source of the mount holding path, from
// /proc/self/mountinfo (the longest mount point that contains it), or
// the mount point itself where that cannot be read.
func deviceOf(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "the file system of " + abs
	}
	defer f.Close()
	best, device := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID parent major:minor root mountpoint options [optional...] - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, fl := range fields {
			if fl == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 5 || sep < 0 || sep+2 >= len(fields) {
			continue
		}
		mp := unescapeMount(fields[4])
		if !within(abs, mp) || len(mp) < len(best) {
			continue
		}
		best, device = mp, fields[sep+2]
	}
	if device == "" {
		return "the file system of " + abs
	}
	return device
}

func within(path, mountPoint string) bool {
	if mountPoint == "/" {
		return true
	}
	return path == mountPoint || strings.HasPrefix(path, mountPoint+"/")
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
