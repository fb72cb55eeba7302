package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qstar-dev/qstar/internal/pgtest"
	"github.com/qstar-dev/qstar/internal/syncbuf"
	"github.com/qstar-dev/qstar/runtime"
)

// csvSourceJob reads a CSV file through CSVSource (slowed by delay, so
// that kills land mid-file) into a PostgreSQL table keyed by the row id.
const csvSourceJob = `app = Application(consumer_group="csvjob", auto_offset_reset="earliest", commit_interval=0.3,
    consumer_extra_config={"session.timeout.ms": 6000})
rows = CSVSource(path=%q, name="rows", key_extractor=lambda row: row["id"], delay=0.00005)
sdf = app.dataframe(source=rows)
sdf = sdf.apply(lambda row: {"id": int(row["id"]), "name": row["name"], "amount": float(row["amount"])})
sdf.sink(PostgreSQLSink(host="127.0.0.1", port=%d, dbname="qstar", user="qstar", password="qstar",
                        table_name="rows", primary_key_columns="id", upsert_on_primary_key=True))
app.run()
`

// TestCSVSourceSurvivesKills is the source crash test: a CSV file of
// 100,000 rows through a job into PostgreSQL, the job SIGKILLed three
// times mid-file and restarted. The source's topic (read committed)
// holds every row exactly once, in file order: the source commits its
// position in the transaction of the rows it produced, so a restart
// neither re-reads nor skips a row. The table holds every row.
func TestCSVSourceSurvivesKills(t *testing.T) {
	const rows, kills = 100000, 3
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	pg := pgtest.Start(t)
	csvPath := filepath.Join(dir, "rows.csv")
	var b strings.Builder
	b.WriteString("id,name,amount\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "%d,\"row, %d\",%d.5\n", i, i, i%1000)
	}
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(csvSourceJob, csvPath, pg.Port)
	stateDir := filepath.Join(dir, "state")
	// The source starts before the group assigns partitions: kill while
	// it reads (at 50 µs a row, the file takes 5 s).
	killSourceRuns(t, kills, 200*time.Millisecond, time.Second, func() (*exec.Cmd, *syncbuf.Buffer) {
		return startJob(t, dir, addr, stateDir, src, 0)
	}, func(run int) {
		n := len(sourceTopicIDs(t, addr))
		t.Logf("run %d killed; rows in the source topic: %d", run, n)
		if n >= rows {
			t.Fatalf("the source finished before kill %d: slow it down", run)
		}
	})
	cmd, stderr := startJob(t, dir, addr, stateDir, src, 0, "--stop-when-idle", "3s")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("final run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "source resumes") || !strings.Contains(stderr.String(), "source finished") {
		t.Errorf("the last run did not resume the source and finish it:\n%s", stderr.String())
	}
	ids := sourceTopicIDs(t, addr)
	bad := 0
	for i, id := range ids {
		if id != fmt.Sprint(i) {
			bad++
			if bad <= 5 {
				t.Errorf("source topic record %d has id %s", i, id)
			}
		}
	}
	if len(ids) != rows || bad > 0 {
		t.Errorf("source topic holds %d records (%d out of place), want %d, each row once in file order", len(ids), bad, rows)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, wrong int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE name <> 'row, ' || id::text OR amount <> (id % 1000) + 0.5 OR "__key" <> id::text) FROM rows`).Scan(&n, &wrong); err != nil {
		t.Fatal(err)
	}
	if n != rows || wrong != 0 {
		t.Errorf("table rows: %d rows, %d wrong; want %d, none wrong", n, wrong, rows)
	}
}

var sourceStarted = regexp.MustCompile(`source (starts|resumes)`)

// killSourceRuns starts a job kills times and SIGKILLs each at a random
// moment between after and after+spread past its source's start; after
// each kill it calls killed with the run's number (from 1).
func killSourceRuns(t *testing.T, kills int, after, spread time.Duration, start func() (*exec.Cmd, *syncbuf.Buffer), killed func(run int)) {
	t.Helper()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 1; i <= kills; i++ {
		cmd, stderr := start()
		waitLog(t, stderr, sourceStarted, 30*time.Second)
		time.Sleep(after + time.Duration(rng.Int63n(int64(spread))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		killed(i)
	}
}

// waitLog waits until a job's log matches re.
func waitLog(t *testing.T, log *syncbuf.Buffer, re *regexp.Regexp, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !re.MatchString(log.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("the log did not show %q within %s:\n%s", re, within, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sourceTopicIDs reads the CSV source's topic (read committed) and
// returns each record's id, in order.
func sourceTopicIDs(t *testing.T, addr string) []string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := runtime.ConsumeLines(context.Background(), &buf, addr, "source__rows", runtime.ConsumeOptions{FromBeginning: true, StopWhenIdle: time.Second}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Key   string `json:"key"`
			Value struct {
				ID string `json:"id"`
			} `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if rec.Key != rec.Value.ID {
			t.Fatalf("record key %q, id %q", rec.Key, rec.Value.ID)
		}
		ids = append(ids, rec.Value.ID)
	}
	return ids
}

// TestFileSourceAndErrors: FileSource replays what FileSink wrote (key,
// value and timestamp of each line, files in name order) into its topic;
// a job stopping when idle waits for a source still reading; a CSV row the source cannot read stops the job with an error naming the
// file and line, after the rows before it were produced.
func TestFileSourceAndErrors(t *testing.T) {
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	files := filepath.Join(dir, "dump")
	for name, text := range map[string]string{
		"events/0/0000000000000000000.jsonl": `{"_timestamp":1000,"_key":"a","_value":{"n":1}}` + "\n" + `{"_timestamp":1001,"_key":"b","_value":{"n":2}}` + "\n",
		"events/0/0000000000000000002.jsonl": `{"_timestamp":1002,"_key":"a","_value":{"n":3}}` + "\n",
	} {
		p := filepath.Join(files, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	job := filepath.Join(dir, "replay.star")
	src := fmt.Sprintf(`from quixstreams.sources.community.file.local import LocalFileSource
app = Application(consumer_group="replay", auto_offset_reset="earliest")
sdf = app.dataframe(source=LocalFileSource(filepath=%q, replay_speed=0))
sdf = sdf.apply(lambda v: {"n2": v["n"] * 2})
sdf.to_topic(app.topic("out"))
app.run()
`, files)
	if err := os.WriteFile(job, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runQstar(t, "run", job, "--broker", addr, "--stop-when-idle", "2s"); err != nil {
		t.Fatalf("qstar run: %v\n%s", err, out)
	}
	var buf bytes.Buffer
	if _, err := runtime.ConsumeLines(context.Background(), &buf, addr, "out", runtime.ConsumeOptions{FromBeginning: true, StopWhenIdle: time.Second}); err != nil {
		t.Fatal(err)
	}
	want := `{"topic":"out","partition":0,"offset":0,"timestamp":1000,"key":"a","value":{"n2":2},"headers":{}}` + "\n" +
		`{"topic":"out","partition":0,"offset":1,"timestamp":1001,"key":"b","value":{"n2":4},"headers":{}}` + "\n" +
		`{"topic":"out","partition":0,"offset":2,"timestamp":1002,"key":"a","value":{"n2":6},"headers":{}}` + "\n"
	if buf.String() != want {
		t.Errorf("out holds\n%s\nwant\n%s", buf.String(), want)
	}

	// --stop-when-idle waits for a source still reading its file: 3 rows
	// 2.5 s apart, each gap longer than the idle period.
	slowPath := filepath.Join(dir, "slow.csv")
	var rows strings.Builder
	rows.WriteString("id\n")
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&rows, "%d\n", i)
	}
	if err := os.WriteFile(slowPath, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	job = filepath.Join(dir, "slow.star")
	src = fmt.Sprintf(`app = Application(consumer_group="slow", auto_offset_reset="earliest", commit_interval=0.2)
sdf = app.dataframe(source=CSVSource(path=%q, name="slow", delay=2.5))
sdf.to_topic(app.topic("slow_out"))
app.run()
`, slowPath)
	if err := os.WriteFile(job, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runQstar(t, "run", job, "--broker", addr, "--stop-when-idle", "1s"); err != nil {
		t.Fatalf("qstar run: %v\n%s", err, out)
	}
	buf.Reset()
	n, err := runtime.ConsumeLines(context.Background(), &buf, addr, "slow_out", runtime.ConsumeOptions{FromBeginning: true, StopWhenIdle: time.Second})
	if err != nil || n != 3 {
		t.Errorf("slow_out holds %d records (%v), want 3: the job stopped before its source finished", n, err)
	}

	csvPath := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(csvPath, []byte("id\n1\n2,extra\n3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	job = filepath.Join(dir, "bad.star")
	src = fmt.Sprintf(`app = Application(consumer_group="bad", auto_offset_reset="earliest")
sdf = app.dataframe(source=CSVSource(path=%q, name="bad"))
app.run()
`, csvPath)
	if err := os.WriteFile(job, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runQstar(t, "run", job, "--broker", addr, "--stop-when-idle", "5s")
	if err == nil || !strings.Contains(out, "bad.csv:3: 2 fields, but the header names 1 columns") {
		t.Errorf("qstar run on a bad row: %v\n%s", err, out)
	}
}

// runQstar runs the binary and returns its combined output and exit error.
func runQstar(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(qstarBin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}
