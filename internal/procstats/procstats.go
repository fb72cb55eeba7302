// Package procstats records what the Go runtime counted for a process
// (heap allocations, GC cycles and GC CPU) in a small JSON file, so that
// qstar-bench can report allocations per message for a child process.
package procstats

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/metrics"
)

// Stats are cumulative counts since the process started.
type Stats struct {
	Mallocs      uint64  `json:"mallocs"`
	AllocBytes   uint64  `json:"alloc_bytes"`
	GCCycles     uint32  `json:"gc_cycles"`
	GCCPUSeconds float64 `json:"gc_cpu_seconds"`
}

// Now reads the runtime's counters.
func Now() Stats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := Stats{Mallocs: ms.Mallocs, AllocBytes: ms.TotalAlloc, GCCycles: ms.NumGC}
	sample := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindFloat64 {
		s.GCCPUSeconds = sample[0].Value.Float64()
	}
	return s
}

// Write stores the runtime's counters in path.
func Write(path string) error {
	raw, err := json.Marshal(Now())
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}

// Read loads what Write stored.
func Read(path string) (Stats, error) {
	var s Stats
	raw, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(raw, &s)
}
