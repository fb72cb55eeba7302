package tests

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/runtime"
)

// TestExamples runs every script in scripts/examples against its own kfake
// broker: it produces NAME.input.jsonl, runs NAME.star until idle, and
// checks every topic named in NAME.want.jsonl record by record (key,
// value bytes, timestamp).
func TestExamples(t *testing.T) {
	scripts, err := filepath.Glob("../scripts/examples/*.star")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no example scripts: %v", err)
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".star")
		if strings.HasPrefix(name, "test_") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(script, ".star")
			input := readRecords(t, base+".input.jsonl")
			want := readRecords(t, base+".want.jsonl")
			addr := startBroker(t)
			produceRecords(t, addr, input)

			var stdout bytes.Buffer
			s, err := runtime.LoadFile(script, &stdout)
			if err != nil {
				t.Fatal(err)
			}
			err = runtime.Run(context.Background(), s, runtime.Options{
				Broker: addr, StopWhenIdle: time.Second, Stdout: &stdout,
				Logger: testLogger(t), Getenv: noEnv, StateDir: t.TempDir(),
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []record
			for _, topic := range topicsOf(want) {
				got = append(got, consumeTopic(t, addr, topic)...)
			}
			diffRecords(t, got, want)
			t.Logf("stdout:\n%s", stdout.String())
		})
	}
}

// TestExampleTests runs the test_*.star file beside each example, as
// `qstar test scripts/examples` does, and requires one per example.
func TestExampleTests(t *testing.T) {
	scripts, _ := filepath.Glob("../scripts/examples/*.star")
	if len(scripts) == 0 {
		t.Fatal("no example scripts in ../scripts/examples")
	}
	for _, script := range scripts {
		name := filepath.Base(script)
		if strings.HasPrefix(name, "test_") {
			continue
		}
		testFile := filepath.Join(filepath.Dir(script), "test_"+name)
		t.Run(name, func(t *testing.T) {
			results, err := runtime.RunTestFile(testFile, nil, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("%s: %v", testFile, err)
			}
			if len(results) == 0 {
				t.Fatalf("%s has no tests", testFile)
			}
			for _, r := range results {
				if r.Err != nil {
					t.Errorf("%s: %s", r.Name, r.Failure)
				}
			}
		})
	}
}
