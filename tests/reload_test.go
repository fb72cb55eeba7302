package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/kafka"
	qrecord "github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/runtime"
)

const reloadJob = `app = Application(consumer_group="reload", auto_offset_reset="earliest", commit_interval=0.2)
inp = app.topic("in")
out = app.topic("out")

def count(value, state):
    n = state.get("n", 0) + 1
    state.set("n", n)
    return {"id": value["id"], "version": VERSION, "n": n}

sdf = app.dataframe(inp).apply(count, stateful=True)
sdf.to_topic(out)
app.run()
`

// TestHotReload is the hot-reload test: while messages flow, the job's
// script is edited twice with valid changes and once with a broken one.
// Every message is processed exactly once across the switches, the
// outputs switch version at a clean boundary (never back), the state
// carries over (the per-key count keeps counting), and the broken edit
// leaves the running pipeline in place with its error reported, as does an
// incompatible one (a new window store).
func TestHotReload(t *testing.T) {
	addr := startBroker(t)
	dir := t.TempDir()
	job := filepath.Join(dir, "job.star")
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(job, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("VERSION = 1\n" + reloadJob)
	s, err := runtime.LoadFile(job, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(ctx, s, runtime.Options{Broker: addr, Watch: true, Stdout: &bytes.Buffer{},
			Logger: log, Getenv: noEnv, StateDir: filepath.Join(dir, "state")})
	}()

	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: addr, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	const total = 400
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for i := 0; i < total; i++ {
			_ = p.Produce(&qrecord.Record{Topic: "in", Partition: -1, Key: []byte("k"), Value: []byte(fmt.Sprintf(`{"id": %d}`, i))})
			time.Sleep(10 * time.Millisecond)
		}
	}()
	waitLog := func(s string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(logs.String(), s) < n {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", s, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(800 * time.Millisecond)
	write("VERSION = 2\n" + reloadJob)
	waitLog("msg=reloaded", 1)
	time.Sleep(500 * time.Millisecond)
	write("VERSION = 3\n" + strings.Replace(reloadJob, "return {", "return {{", 1)) // broken
	waitLog("reload: keeping the running pipeline", 1)
	time.Sleep(300 * time.Millisecond)
	write("VERSION = 3\n" + reloadJob)
	waitLog("msg=reloaded", 2)
	time.Sleep(300 * time.Millisecond)
	// A new window means a new state store: incompatible, refused.
	write("VERSION = 4\n" + strings.Replace(reloadJob, "sdf.to_topic(out)", "sdf.to_topic(out)\nsdf.tumbling_window(1000).count().final()", 1))
	waitLog("incompatible change: the state stores (or windows) changed", 1)
	<-produced
	_ = p.Close(10 * time.Second)
	time.Sleep(time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "job.star:11:4: got identifier") {
		t.Errorf("the broken edit's error does not name its line:\n%s", logs.String())
	}
	var versions []int
	seen := map[int]int{}
	for i, r := range consumeTopic(t, addr, "out") {
		var v struct{ ID, Version, N int }
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		seen[v.ID]++
		if v.N != i+1 {
			t.Fatalf("output %d counts %d: the state did not carry over (or a message was repeated)", i, v.N)
		}
		if len(versions) > 0 && v.Version < versions[len(versions)-1] {
			t.Fatalf("output %d (id %d) is version %d after version %d", i, v.ID, v.Version, versions[len(versions)-1])
		}
		versions = append(versions, v.Version)
	}
	for id := 0; id < total; id++ {
		if seen[id] != 1 {
			t.Errorf("message %d was processed %d times", id, seen[id])
		}
	}
	if len(versions) == 0 || versions[0] != 1 || versions[len(versions)-1] != 3 || !contains(versions, 2) {
		t.Errorf("versions seen in order: first %v, last %v; want 1, then 2, then 3", versions[:1], versions[len(versions)-1:])
	}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

const reloadSourceJob = `app = Application(consumer_group="reloadsrc", auto_offset_reset="earliest", commit_interval=0.2)
rows = CSVSource(path=%q, name="rows", key_extractor=lambda row: "v%%d-%%s" %% (VERSION, row["id"]), delay=0.01)
sdf = app.dataframe(source=rows)
app.run()
`

// TestHotReloadRestartsSources: a reload restarts the application's
// sources with the new version (its key_extractor here), from where the
// old version stopped: the source's topic holds each row once, in order,
// the keys switching from version 1 to version 2 once.
func TestHotReloadRestartsSources(t *testing.T) {
	addr := startBroker(t)
	dir := t.TempDir()
	const rows = 300
	csvPath := filepath.Join(dir, "rows.csv")
	var b strings.Builder
	b.WriteString("id\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	job := filepath.Join(dir, "job.star")
	write := func(version int) {
		t.Helper()
		if err := os.WriteFile(job, []byte(fmt.Sprintf("VERSION = %d\n"+reloadSourceJob, version, csvPath)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(1)
	s, err := runtime.LoadFile(job, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), nil))
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(context.Background(), s, runtime.Options{Broker: addr, Watch: true, Stdout: &bytes.Buffer{},
			Logger: log, Getenv: noEnv, StateDir: filepath.Join(dir, "state"), StopWhenIdle: 2 * time.Second})
	}()
	waitLog(t, logs, sourceStarted, 30*time.Second)
	time.Sleep(time.Second)
	write(2)
	waitLog(t, logs, regexp.MustCompile(`msg=reloaded`), 30*time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := consumeTopic(t, addr, "source__rows")
	switches, v2 := 0, 0
	for i, r := range got {
		key := keyOf(r)
		version, id, _ := strings.Cut(key, "-")
		if id != fmt.Sprint(i) {
			t.Fatalf("record %d has key %q: a row was skipped or repeated", i, key)
		}
		if version == "v2" {
			v2++
		}
		if i > 0 && version != strings.SplitN(keyOf(got[i-1]), "-", 2)[0] {
			switches++
		}
	}
	if len(got) != rows || switches != 1 || v2 == 0 || v2 == rows {
		t.Errorf("source__rows: %d records, %d of version 2, %d version switches; want %d, some, 1", len(got), v2, switches, rows)
	}
}

func keyOf(r record) string {
	var k string
	_ = json.Unmarshal(r.Key, &k)
	return k
}
