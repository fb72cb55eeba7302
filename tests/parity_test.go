package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/qstar-dev/qstar/runtime"
)

// TestTestMatchesBroker checks that sdf.test() reproduces what each example
// job produces against a broker: every example (the windowed one and the
// group_by + stateful one included) runs through sdf.test() record by
// record, from a .star test file, with no broker, and must give the
// records (key, value, timestamp) of its .want.jsonl file, which
// TestExamples checks, record by record and in the same order, against the
// job's output on kfake. sdf.test() is the engine (engine.Tester over
// memory stores), so this no longer keeps two implementations equal: it
// checks the want files, and the Tester's group_by hop, cheaply.
func TestTestMatchesBroker(t *testing.T) {
	scripts, _ := filepath.Glob("../scripts/examples/*.star")
	if len(scripts) == 0 {
		t.Fatal("no example scripts in ../scripts/examples")
	}
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".star")
		if strings.HasPrefix(name, "test_") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(script, ".star")
			input := readRecords(t, base+".input.jsonl")
			broker := readRecords(t, base+".want.jsonl")
			local := sdfTestOutputs(t, script, input)
			// to_topic(key=...) re-keys only the produced message, not the
			// record sdf.test() returns: compare the keys only without it.
			src, _ := os.ReadFile(script)
			compareKeys := !strings.Contains(string(src), "key=lambda")
			if len(broker) != len(local) {
				t.Fatalf("broker produced %d records, sdf.test %d:\nbroker %v\nlocal  %v", len(broker), len(local), broker, local)
			}
			for i := range broker {
				if !compareKeys {
					local[i].Key = broker[i].Key
				}
				if !sameRecord(broker[i], local[i]) {
					t.Errorf("record %d:\n broker   %s\n sdf.test %s", i, broker[i], local[i])
				}
			}
		})
	}
}

// sdfTestOutputs feeds the input records, in order, through the job's
// final dataframe with sdf.test() in a generated test file, and returns
// what reached it.
func sdfTestOutputs(t *testing.T, script string, input []record) []record {
	t.Helper()
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range input {
		var key string
		_ = json.Unmarshal(r.Key, &key)
		rows = append(rows, fmt.Sprintf("(bytes(%s), json.decode(%s), %d, %q)", strconv.Quote(key), strconv.Quote(string(r.Value)), r.Timestamp, r.Topic))
	}
	src := fmt.Sprintf(`load(%q, "sdf")

INPUT = [%s]

def test_outputs():
    for key, value, ts, topic in INPUT:
        for out in sdf.test(value, key, ts, topic = topic):
            k = out[1]
            if type(k) == "bytes":
                k = k.decode()
            print(json.encode({"key": k, "value": out[0], "timestamp": out[2]}))
`, abs, strings.Join(rows, ", "))
	file := filepath.Join(t.TempDir(), "test_parity.star")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	results, err := runtime.RunTestFile(file, nil, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Failure)
		}
	}
	var out []record
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Key       string          `json:"key"`
			Value     json.RawMessage `json:"value"`
			Timestamp int64           `json:"timestamp"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		k, _ := json.Marshal(rec.Key)
		out = append(out, record{Key: k, Value: rec.Value, Timestamp: rec.Timestamp})
	}
	return out
}

// sameRecord compares key, timestamp and the value as JSON data (the
// Starlark json.encode and the wire format may lay out numbers
// differently: 21 vs 21.0).
func sameRecord(a, b record) bool {
	var va, vb any
	if json.Unmarshal(a.Value, &va) != nil || json.Unmarshal(b.Value, &vb) != nil {
		return false
	}
	return string(a.Key) == string(b.Key) && a.Timestamp == b.Timestamp && reflect.DeepEqual(va, vb)
}
