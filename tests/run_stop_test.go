package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runStopJob calls app.run() twice with stop conditions (Quix Streams
// 3.11+), then prints what each returned.
const runStopJob = `app = Application(consumer_group="collect", auto_offset_reset="earliest")
sdf = app.dataframe(app.topic("events"))
sdf = sdf.apply(lambda v: {"k": v["k"], "i": v["i"] * 10})
first = app.run(count=4, timeout=30, metadata=True)
rest = app.run(timeout=2)
print("first", len(first), sorted([d["_topic"] + ":" + str(d["_partition"]) for d in first])[0], "i" in first[0], "_offset" in first[0])
print("all", sorted([r["k"] + "-" + str(r["i"]) for r in first + rest]))
nothing = app.run(timeout=1, collect=False)
print("again", len(nothing))
`

// TestRunStopConditions: app.run(count=, timeout=) runs the job while the
// script loads and returns the outputs (with metadata when asked); a
// second call goes on from the first one's commits, so the two lists
// hold every output once; a third finds nothing new.
func TestRunStopConditions(t *testing.T) {
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	produceKeyed(t, addr, "events", 5, 2, func(key string, i int) ([]byte, int64) {
		return []byte(fmt.Sprintf(`{"k":%q,"i":%d}`, key, i)), 0
	})
	job := filepath.Join(dir, "collect.star")
	if err := os.WriteFile(job, []byte(runStopJob), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runQstar(t, "run", job, "--broker", addr, "--state-dir", filepath.Join(dir, "state"))
	if err != nil {
		t.Fatalf("qstar run: %v\n%s", err, out)
	}
	var want []string
	for k := 0; k < 5; k++ {
		for i := 0; i < 2; i++ {
			want = append(want, fmt.Sprintf("'k%03d-%d'", k, i*10))
		}
	}
	for _, line := range []string{
		"all [" + strings.Join(want, ", ") + "]",
		"again 0",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}
	// The first run stops once 4 outputs were processed: the outputs of
	// messages already in flight then are collected too.
	var first int
	var rest string
	if _, err := fmt.Sscanf(out[strings.Index(out, "first "):], "first %d %s", &first, &rest); err != nil || first < 4 || !strings.HasPrefix(rest, "events:") {
		t.Errorf("the first run returned %d outputs (%v), want at least 4:\n%s", first, err, out)
	}
	if !strings.Contains(out, " True True\n") {
		t.Errorf("the first run's outputs lack values or metadata:\n%s", out)
	}
}
