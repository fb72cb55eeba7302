package tests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/syncbuf"
)

// TestCorpus runs real Quix Streams apps, written by others and committed
// verbatim under testdata/corpus (each with its source URL and licence),
// unchanged after `qstar migrate`: migrate must need no hand edit, the
// script must run on the broker, and its output must match, record by
// record, the expected output computed independently (expected.py
// reproduces each app's logic in plain Python). The job starts first and
// the input is produced once it has its partitions, as several apps read
// from "latest".
func TestCorpus(t *testing.T) {
	apps, err := filepath.Glob("testdata/corpus/*/app.py")
	if err != nil || len(apps) < 10 {
		t.Fatalf("want at least 10 corpus apps, found %d (%v)", len(apps), err)
	}
	for _, app := range apps {
		src := filepath.Dir(app)
		t.Run(filepath.Base(src), func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{"app.py", "env"} {
				if b, err := os.ReadFile(filepath.Join(src, f)); err == nil {
					writeFile(t, filepath.Join(dir, f), string(b))
				}
			}
			migrate := exec.Command(qstarBin, "migrate", "app.py")
			migrate.Dir = dir
			var script, notes bytes.Buffer
			migrate.Stdout, migrate.Stderr = &script, &notes
			if err := migrate.Run(); err != nil {
				t.Fatalf("qstar migrate: %v\n%s", err, notes.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(notes.String()), "\n") {
				if line != "" && !strings.Contains(line, "converted:") && !strings.Contains(line, "was moved to the top level") {
					t.Errorf("migrate asks for a hand edit: %s", line)
				}
			}
			writeFile(t, filepath.Join(dir, "app.star"), script.String())

			addr := startBroker(t)
			cmd := exec.Command(qstarBin, "run", "app.star", "--broker", addr, "--stop-when-idle", "3s", "--state-dir", filepath.Join(dir, "state"))
			cmd.Dir = dir
			cmd.Env = append(cleanEnv(), corpusEnv(t, filepath.Join(src, "env"), addr)...)
			stderr, stdout := &syncbuf.Buffer{}, &syncbuf.Buffer{}
			cmd.Stderr, cmd.Stdout = stderr, stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			waitAssigned(t, stderr, 30*time.Second)
			produceRecords(t, addr, readRecords(t, filepath.Join(src, "input.jsonl")))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("qstar run: %v\n%s", err, stderr.String())
				}
			case <-time.After(60 * time.Second):
				t.Fatalf("qstar run did not stop when idle:\n%s", stderr.String())
			}

			checkOracle(t, src)
			want := readExpected(t, filepath.Join(src, "expected.jsonl"))
			got := map[string][]record{}
			for _, w := range want {
				if _, ok := got[w.Topic]; !ok {
					got[w.Topic] = consumeTopic(t, addr, w.Topic)
				}
			}
			next := map[string]int{}
			for i, w := range want {
				recs := got[w.Topic]
				n := next[w.Topic]
				next[w.Topic]++
				if n >= len(recs) {
					t.Errorf("expected record %d (%s) is missing: topic %s has %d records", i+1, w.raw, w.Topic, len(recs))
					continue
				}
				if diff := w.mismatch(recs[n]); diff != "" {
					t.Errorf("record %d of %s: %s\n got: %s\nwant: %s", n+1, w.Topic, diff, recs[n].JSON(), w.raw)
				}
			}
			for topic, recs := range got {
				if len(recs) > next[topic] {
					t.Errorf("topic %s has %d records more than expected, first: %s", topic, len(recs)-next[topic], recs[next[topic]].JSON())
				}
			}
			if t.Failed() {
				t.Logf("script:\n%s\nlog:\n%s\nstdout:\n%s", script.String(), stderr.String(), stdout.String())
			}
		})
	}
}

// checkOracle reruns the app's expected.py (plain Python reproducing the
// app's logic) in a scratch copy and requires it to write the committed
// expected.jsonl, so the expectations stay what the oracle computes.
func checkOracle(t *testing.T, src string) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Logf("python3 not found: expected.jsonl is not recomputed")
		return
	}
	dir := filepath.Join(t.TempDir(), "corpus")
	app := filepath.Join(dir, filepath.Base(src))
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	copies := map[string]string{filepath.Join(filepath.Dir(src), "quixsim.py"): filepath.Join(dir, "quixsim.py")}
	for _, f := range files {
		if f.Name() != "expected.jsonl" {
			copies[filepath.Join(src, f.Name())] = filepath.Join(app, f.Name())
		}
	}
	for from, to := range copies {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, to, string(b))
	}
	cmd := exec.Command(python, "-B", "expected.py")
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "TZ=UTC")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("expected.py: %v\n%s", err, out)
	}
	got, _ := os.ReadFile(filepath.Join(app, "expected.jsonl"))
	want, _ := os.ReadFile(filepath.Join(src, "expected.jsonl"))
	if !bytes.Equal(got, want) {
		t.Errorf("expected.py writes other records than expected.jsonl holds:\n%s", got)
	}
}

// corpusEnv reads an app's env file (KEY=VALUE lines); broker addresses
// in it point at the test's broker.
func corpusEnv(t *testing.T, path, addr string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	var env []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		if strings.Contains(strings.ToLower(k), "broker") {
			v = addr
		}
		env = append(env, k+"="+v)
	}
	return env
}

// expected is one line of expected.jsonl: only the fields it has are
// compared.
type expected struct {
	Topic string
	raw   string
	has   map[string]json.RawMessage
}

func readExpected(t *testing.T, path string) []expected {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []expected
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		e := expected{raw: line}
		if err := json.Unmarshal([]byte(line), &e.has); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		_ = json.Unmarshal(e.has["topic"], &e.Topic)
		out = append(out, e)
	}
	return out
}

// mismatch names the first field of r that differs from e. Numbers are
// compared as written, so 21 and 21.0 differ, as they do in Python.
func (e expected) mismatch(r record) string {
	fields := map[string]json.RawMessage{"key": r.Key, "value": r.Value}
	if ts, err := json.Marshal(r.Timestamp); err == nil {
		fields["timestamp"] = ts
	}
	if r.Headers != nil {
		h, _ := json.Marshal(r.Headers)
		fields["headers"] = h
	}
	for _, name := range []string{"key", "value", "timestamp", "headers"} {
		w, ok := e.has[name]
		if !ok {
			continue
		}
		g := fields[name]
		if len(g) == 0 {
			g = json.RawMessage("null")
		}
		if !jsonEqual(w, g) {
			return name + " differs"
		}
	}
	return ""
}

func jsonEqual(a, b json.RawMessage) bool {
	decode := func(m json.RawMessage) any {
		d := json.NewDecoder(bytes.NewReader(m))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return string(m)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
