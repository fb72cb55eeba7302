package tests

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/parquet-go/parquet-go"

	"github.com/qstar-dev/qstar/internal/pgtest"
	"github.com/qstar-dev/qstar/internal/redistest"
	"github.com/qstar-dev/qstar/internal/syncbuf"
)

// sinkKillJob writes every event to one built-in sink (the second
// verb), in a consumer group of its own (the first). The loop of WORK
// iterations slows the job down, so that the input takes several
// checkpoints and the kills land between them.
const sinkKillJob = `app = Application(consumer_group=%q, auto_offset_reset="earliest", commit_interval=0.3,
    consumer_extra_config={"session.timeout.ms": 6000})

def slow(value):
    for i in range(WORK):
        pass

sdf = app.dataframe(app.topic("events"))
sdf = sdf.update(slow)
sdf.sink(%s)
app.run()
`

// TestSinksSurviveKills is the sinks' crash test, one job per built-in
// sink: 100,000 events on 4 partitions through a job writing each one to
// the sink, SIGKILLed at three random points of the input and restarted,
// then run to the end (killAtRandomPoints). The upsert sinks
// (PostgreSQLSink keyed by the event's id, RedisSink) hold exactly one
// row or key per event, with its value; FileSink in Parquet, a file per
// batch, holds exactly one row per event (a batch written again replaces
// its file). The append sinks (FileSink in JSON Lines, appended and
// rolled by size; CSVSink) hold every event; an event is written twice
// only when a kill came after its checkpoint's flush and before its
// commit, so each partition's offsets, in file order, are at most four
// runs of consecutive offsets (one per start), each run starting at or
// before the end of the one before (no gap); the duplicates are counted
// and logged.
func TestSinksSurviveKills(t *testing.T) {
	const keys, perKey, kills, work = 100, 1000, 3, 3000
	const total = keys * perKey
	addr, _ := startBrokerProcess(t, t.TempDir())
	pg, rd := pgtest.Start(t), redistest.Start(t)
	produceKeyed(t, addr, "events", keys, perKey, func(key string, i int) ([]byte, int64) {
		return []byte(fmt.Sprintf(`{"id":"%s-%d","k":%q,"i":%d}`, key, i, key, i)), 0
	})
	// crash runs a job writing to the sink that sink(dir) configures
	// through kills and a final run.
	crash := func(t *testing.T, sink func(dir string) string) string {
		dir := t.TempDir()
		group := "sinker-" + strings.ToLower(strings.TrimPrefix(t.Name(), "TestSinksSurviveKills/"))
		src := fmt.Sprintf(sinkKillJob, group, sink(dir))
		stateDir := filepath.Join(dir, "state")
		killAtRandomPoints(t, kills, crashRuns{addr: addr, group: group, topic: "events", partitions: 4, total: total,
			start: func(extra ...string) (*exec.Cmd, *syncbuf.Buffer) {
				return startJob(t, dir, addr, stateDir, src, work, extra...)
			}})
		return dir
	}

	t.Run("PostgreSQLSink", func(t *testing.T) {
		crash(t, func(string) string {
			return fmt.Sprintf(`PostgreSQLSink(host="127.0.0.1", port=%d, dbname="qstar", user="qstar", password="qstar",
                        table_name="events", primary_key_columns="id", upsert_on_primary_key=True)`, pg.Port)
		})
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, pg.DSN())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var rows, ids, wrong int
		if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE id <> k || '-' || i::text OR "__key" <> k) FROM events`).Scan(&rows, &ids, &wrong); err != nil {
			t.Fatal(err)
		}
		if rows != total || ids != total || wrong != 0 {
			t.Errorf("table events: %d rows, %d ids, %d wrong; want %d rows, one per id, none wrong", rows, ids, wrong, total)
		}
	})
	t.Run("RedisSink", func(t *testing.T) {
		crash(t, func(string) string {
			return fmt.Sprintf(`RedisSink(host="127.0.0.1", port=%d, db=0, key_serializer=lambda key, value: value["id"])`, rd.Port)
		})
		ctx := context.Background()
		c := rd.Client(t, 0)
		if n := c.DBSize(ctx).Val(); n != total {
			t.Errorf("redis holds %d keys, want %d", n, total)
		}
		for _, id := range []string{"k000-0", "k042-517", "k099-999"} {
			var v struct {
				ID string `json:"id"`
			}
			s, err := c.Get(ctx, id).Result()
			if err != nil || json.Unmarshal([]byte(s), &v) != nil || v.ID != id {
				t.Errorf("GET %s = %q (%v)", id, s, err)
			}
		}
	})
	t.Run("FileSink", func(t *testing.T) {
		dir := crash(t, func(dir string) string {
			return fmt.Sprintf(`FileSink(directory=%q, append=True, max_file_bytes=1000000)`, filepath.Join(dir, "files"))
		})
		// JSON Lines hold no offset: follow each key's rounds (its
		// events' i, in order in its partition).
		rounds := map[string][]int64{}
		files := 0
		for p := 0; p < 4; p++ {
			pdir := filepath.Join(dir, "files", "events", strconv.Itoa(p))
			ents, err := os.ReadDir(pdir)
			if err != nil {
				t.Fatal(err)
			}
			files += len(ents)
			for _, e := range ents {
				fh, err := os.Open(filepath.Join(pdir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				sc := bufio.NewScanner(fh)
				for sc.Scan() {
					var rec struct {
						Key   string `json:"_key"`
						Value struct {
							I int64 `json:"i"`
						} `json:"_value"`
					}
					if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
						t.Fatalf("%s: %q: %v", e.Name(), sc.Text(), err)
					}
					rounds[rec.Key] = append(rounds[rec.Key], rec.Value.I)
				}
				fh.Close()
			}
		}
		if files < 8 {
			t.Errorf("%d files in 4 partitions: rolling at 1 MB should have made more", files)
		}
		if len(rounds) != keys {
			t.Errorf("%d keys in the files, want %d", len(rounds), keys)
		}
		checkAppended(t, rounds, total, kills+1)
	})
	t.Run("FileSink-parquet", func(t *testing.T) {
		dir := crash(t, func(dir string) string {
			return fmt.Sprintf(`FileSink(directory=%q, format="parquet")`, filepath.Join(dir, "parquet"))
		})
		// A file per batch, named by its first offset: a batch written
		// again after a kill replaced its file, so each event is in
		// exactly one file.
		seen := map[string]int{}
		for p := 0; p < 4; p++ {
			pdir := filepath.Join(dir, "parquet", "events", strconv.Itoa(p))
			files, err := filepath.Glob(filepath.Join(pdir, "*.parquet"))
			if err != nil || len(files) == 0 {
				t.Fatalf("partition %d: no Parquet files (%v)", p, err)
			}
			for _, f := range files {
				rows, err := parquet.ReadFile[parquetEvent](f)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				for _, r := range rows {
					seen[r.ID]++
				}
			}
		}
		dups := 0
		for _, n := range seen {
			dups += n - 1
		}
		if len(seen) != total || dups != 0 {
			t.Errorf("Parquet files hold %d distinct events and %d duplicates, want %d and none", len(seen), dups, total)
		}
	})
	t.Run("CSVSink", func(t *testing.T) {
		dir := crash(t, func(dir string) string {
			return fmt.Sprintf(`CSVSink(path=%q)`, filepath.Join(dir, "events.csv"))
		})
		offsets := map[string][]int64{}
		for _, row := range readSinkCSV(t, filepath.Join(dir, "events.csv")) {
			off, err := strconv.ParseInt(row[5], 10, 64)
			if err != nil || row[3] != "events" {
				t.Fatalf("row %q", row)
			}
			offsets[row[4]] = append(offsets[row[4]], off)
		}
		checkAppended(t, offsets, total, kills+1)
	})
}

// parquetEvent is the column of a Parquet row the test reads.
type parquetEvent struct {
	ID string `parquet:"id,optional"`
}

// readSinkCSV reads a CSVSink's file, without its header.
func readSinkCSV(t *testing.T, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := csv.NewReader(fh)
	var rows [][]string
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(rows) == 0 && row[0] == "key" {
			rows = append(rows, nil) // the header
			continue
		}
		rows = append(rows, row)
	}
	if len(rows) > 0 {
		rows = rows[1:]
	}
	return rows
}

// checkAppended checks what an append sink wrote: each sequence (a
// partition's offsets, or a key's rounds, in the order written) is at
// most maxRuns runs of consecutive numbers, the first from 0 and each
// starting at or before one past the end of the run before: a restart
// rewrites from its last commit, and nothing is skipped. The sequences'
// distinct numbers add up to want; the duplicates are logged.
func checkAppended(t *testing.T, seqs map[string][]int64, want, maxRuns int) {
	t.Helper()
	names := make([]string, 0, len(seqs))
	for name := range seqs {
		names = append(names, name)
	}
	sort.Strings(names)
	distinct, dups, bad := 0, 0, 0
	for _, name := range names {
		seq := seqs[name]
		runs, end := 1, int64(-1)
		if seq[0] != 0 {
			t.Errorf("%s starts at %d, not 0", name, seq[0])
			bad++
		}
		for i, x := range seq {
			switch {
			case i == 0 || x == seq[i-1]+1:
			case x <= end+1:
				runs++
			default:
				bad++
				if bad <= 5 {
					t.Errorf("%s: gap: %d after %d", name, x, seq[i-1])
				}
			}
			end = max(end, x)
		}
		if runs > maxRuns {
			t.Errorf("%s: rewritten %d times, more than the %d restarts", name, runs-1, maxRuns-1)
		}
		distinct += int(end) + 1
		dups += len(seq) - int(end) - 1
	}
	if distinct != want {
		t.Errorf("%d distinct records written, want %d", distinct, want)
	}
	t.Logf("%d records written, %d of them again after a restart (written at a checkpoint the kill kept from committing)", distinct+dups, dups)
}
