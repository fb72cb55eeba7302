package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSmoke runs the whole benchmark with a small message count so
// that `make bench` cannot rot: every job must run and write exactly the
// records it should (checkOutput), and the results table must be written
// between the markers. It asserts no timing. The idle wait is 2 s: a job
// stops once nothing arrived for that long after its assignment, and
// under the full test suite a first fetch can take longer than 700 ms
// (a group-by job then stopped before its repartition records came).
func TestBenchSmoke(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "qstar")
	if out, err := exec.Command("go", "build", "-o", bin, "../qstar").CombinedOutput(); err != nil {
		t.Fatalf("build qstar: %v\n%s", err, out)
	}
	self := filepath.Join(dir, "qstar-bench")
	if out, err := exec.Command("go", "build", "-o", self, ".").CombinedOutput(); err != nil {
		t.Fatalf("build qstar-bench: %v\n%s", err, out)
	}
	doc := filepath.Join(dir, "bench.md")
	if err := os.WriteFile(doc, []byte("# x\n"+beginMark+"\nold\n"+endMark+"\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-qstar", bin, "-messages", "3000", "-partitions", "2", "-idle", "2s", "-write", doc)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("qstar-bench: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(doc)
	got := string(raw)
	for _, want := range []string{"| baseline |", "| native |", "| starlark |", "| stateful |", "| stateful-eos |", "Exactly-once against at-least-once", "| cpu-bound |", "| cpu-bound-1core |", "CPU-bound callback, every core against GOMAXPROCS=1", "| window-count |", "| window-sum |", "| count-window |", "| session-window |", "| join-asof |", "| group-by |", "| state-1m |", "State size (same work per message)", "| state10-1m |", "| state10-10m |", "State size, 10 writes per message", "Chained steps", "Partitions on one process", "State recovery", "PostgreSQL sink", "-messages 3000", "after\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("benchmarks doc lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "old") {
		t.Errorf("the old table was not replaced:\n%s", got)
	}
}

// Every job's script fills in cleanly: the templates are formatted twice
// (withParam, then per run), and a stray % would garble a script.
func TestJobScriptsRender(t *testing.T) {
	for _, j := range jobs {
		got := fmt.Sprintf(j.script, "in-topic", "out-topic", "the-group", "/state")
		if strings.Contains(got, "%!") || !strings.Contains(got, `app.topic("in-topic"`) || !strings.Contains(got, `"the-group"`) {
			t.Errorf("job %s renders as:\n%s", j.name, got)
		}
	}
	if got := fmt.Sprintf(stateKeysJob(1000), "i", "o", "g", "d"); !strings.Contains(got, `k = str(value["id"] % 1000)`) {
		t.Errorf("stateKeysJob(1000) renders as:\n%s", got)
	}
}
