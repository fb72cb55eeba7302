package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/runtime"
)

const burnJob = `from quixstreams import Application

app = Application(consumer_group="burn", auto_offset_reset="earliest")

def burn(v):
    x = 0
    for i in range(2000):
        x += i
    return {"p": v["p"], "n": v["n"], "x": x}

sdf = app.dataframe(app.topic("in"))
sdf = sdf.apply(burn)
sdf.to_topic(app.topic("out"))
app.run(sdf)
`

// TestPartitionsProgressTogether runs a CPU-bound callback on 4
// partitions whose messages are all there at the start: the poll loop
// must not wait on one partition's full queue (it pauses that partition
// and hands the others theirs), so the partitions' lag falls together —
// every partition has a fair share of the first half of the outputs — and
// the process uses more than one core.
func TestPartitionsProgressTogether(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job.star"), []byte(burnJob), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startBroker(t)
	const parts, each = 4, 3000
	var lines strings.Builder
	for p := 0; p < parts; p++ {
		for n := 0; n < each; n++ {
			fmt.Fprintf(&lines, `{"key":"k","partition":%d,"value":{"p":%d,"n":%d}}`+"\n", p, p, n)
		}
	}
	if _, err := runtime.ProduceLines(context.Background(), strings.NewReader(lines.String()), addr, "in", runtime.ProduceOptions{Partitions: parts, Logger: quietLogger()}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(qstarBin, "run", "job.star", "--broker", addr, "--stop-when-idle", "1s")
	cmd.Dir, cmd.Env = dir, cleanEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("job: %v\n%s", err, stderr.String())
	}
	wall := time.Since(start)
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	// Startup and the idle second count in the wall time: a figure, not
	// an assertion (docs/benchmarks.md measures the speed-up).
	t.Logf("CPU %s over %s wall (%.2f cores)", cpu.Round(time.Millisecond), wall.Round(time.Millisecond), cpu.Seconds()/wall.Seconds())

	out := consumeTopic(t, addr, "out")
	if len(out) != parts*each {
		t.Fatalf("%d outputs, want %d", len(out), parts*each)
	}
	share := make([]int, parts)
	for _, r := range out[:len(out)/2] {
		var p, n, x int
		if _, err := fmt.Sscanf(string(r.Value), `{"p":%d,"n":%d,"x":%d}`, &p, &n, &x); err != nil {
			t.Fatalf("output %s: %v", r.Value, err)
		}
		share[p]++
	}
	for p, n := range share {
		// A fair share of the first half is 1/4 of it; one partition
		// after another would give two partitions all of it.
		if n < len(out)/2/parts/2 {
			t.Errorf("partition %d has %d of the first %d outputs (shares %v): the partitions did not progress together", p, n, len(out)/2, share)
			break
		}
	}
}
