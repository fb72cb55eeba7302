package tests

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qstar-dev/qstar/internal/pgtest"
	"github.com/qstar-dev/qstar/internal/redistest"
	"github.com/qstar-dev/qstar/runtime"
)

// TestExamples runs every script in scripts/examples against its own kfake
// broker: it produces NAME.input.jsonl, runs NAME.star until idle, and
// checks every topic named in NAME.want.jsonl record by record (key,
// value bytes, timestamp). Each runs twice: as written, and with
// processing_guarantee="exactly-once" (its outputs, the group_by
// repartition hops and the changelogs then go through transactions, and
// the topics are read read_committed) for the same records.
func TestExamples(t *testing.T) {
	for _, guarantee := range []string{"", "exactly-once"} {
		t.Run(cmp.Or(guarantee, "as-written"), func(t *testing.T) { testExamples(t, guarantee) })
	}
}

func testExamples(t *testing.T, guarantee string) {
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
			src, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			if guarantee != "" {
				if !bytes.Contains(src, []byte("Application(")) {
					t.Fatal("the example creates no Application(")
				}
				src = bytes.Replace(src, []byte("Application("), []byte(`Application(processing_guarantee="`+guarantee+`", `), 1)
			}
			checkSinks := exampleSinks(t, src)
			s, err := runtime.Load(script, src, &stdout)
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
			checkSinks(len(want))
			// sdf.print() writes Python's repr of value and key.
			if line := `{'value': {'sensor': 's2', 'celsius': 35, 'fahrenheit': 95.0}, 'key': b's2', 'timestamp': 1700000001000}`; name == "quickstart" && !strings.Contains(stdout.String(), line+"\n") {
				t.Errorf("quickstart printed no line %s", line)
			}
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

// exampleSinks gives an example's sinks their targets through the
// environment its script reads (a PostgreSQL or Redis server started for
// the test, a temporary output directory), and returns the check of what
// they hold after the run: n records' worth (one row, key or line each,
// the upsert sinks' keys distinct in the examples).
func exampleSinks(t *testing.T, src []byte) func(n int) {
	t.Helper()
	var checks []func(n int)
	if bytes.Contains(src, []byte("PostgreSQLSink(")) {
		pg := pgtest.Start(t)
		for k, v := range map[string]string{"PGHOST": pg.Host, "PGPORT": fmt.Sprint(pg.Port), "PGDATABASE": pg.DBName, "PGUSER": pg.User, "PGPASSWORD": pg.Password} {
			t.Setenv(k, v)
		}
		checks = append(checks, func(n int) {
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, pg.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			var rows int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&rows); err != nil || rows != n {
				t.Errorf("table orders holds %d rows (%v), want %d", rows, err, n)
			}
		})
	}
	if bytes.Contains(src, []byte("RedisSink(")) {
		rd := redistest.Start(t)
		t.Setenv("REDIS_HOST", rd.Host)
		t.Setenv("REDIS_PORT", fmt.Sprint(rd.Port))
		checks = append(checks, func(int) {
			// The example keys the latest total per customer.
			if got, err := rd.Client(t, 0).Get(context.Background(), "alice").Result(); err != nil || got != `{"customer": "alice", "total": 9.3}` {
				t.Errorf("redis alice = %q (%v)", got, err)
			}
		})
	}
	if bytes.Contains(src, []byte("FileSink(")) {
		out := t.TempDir()
		t.Setenv("ORDERS_OUT", out)
		checks = append(checks, func(n int) {
			csvText, err := os.ReadFile(filepath.Join(out, "orders.csv"))
			if err != nil || bytes.Count(csvText, []byte("\n")) != n+1 {
				t.Errorf("orders.csv holds\n%s(%v), want a header and %d rows", csvText, err, n)
			}
			files, _ := filepath.Glob(filepath.Join(out, "json", "*", "*", "*.jsonl"))
			lines := 0
			for _, f := range files {
				b, _ := os.ReadFile(f)
				lines += bytes.Count(b, []byte("\n"))
			}
			if lines != n {
				t.Errorf("the JSON Lines files %v hold %d lines, want %d", files, lines, n)
			}
		})
	}
	return func(n int) {
		for _, c := range checks {
			c(n)
		}
	}
}
