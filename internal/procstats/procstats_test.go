package procstats

import (
	"path/filepath"
	"testing"
)

// What Write stores, Read loads, and the counts are the process's.
func TestWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats.json")
	if err := Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mallocs == 0 || got.AllocBytes == 0 {
		t.Errorf("read %+v: no allocations counted", got)
	}
	if later := Now(); later.Mallocs < got.Mallocs {
		t.Errorf("mallocs went down: %d then %d", got.Mallocs, later.Mallocs)
	}
}
