package tests

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qstar-dev/qstar/internal/pgtest"
)

// backpressureJob writes every event to PostgreSQL with a one-second
// statement timeout: while the table is locked, each write times out,
// which the sink reports as backpressure.
const backpressureJob = `app = Application(consumer_group="bp", auto_offset_reset="earliest", commit_interval=0.3)
sdf = app.dataframe(app.topic("events"))
sdf.sink(PostgreSQLSink(host="127.0.0.1", port=%d, dbname="qstar", user="qstar", password="qstar",
                        table_name="events", primary_key_columns="id", upsert_on_primary_key=True,
                        statement_timeout_seconds=1))
app.run()
`

// TestSinkBackpressureEndToEnd is the backpressure test through the real
// client and broker: the sink's table is locked (as a migration would),
// so its writes time out and it asks for time. The job drops each
// checkpoint, pauses its partitions and seeks them back, and commits
// nothing while the table is locked (librdkafka's seek on a paused
// partition is what the engine test cannot show). After the lock is
// released the next write goes through: the table holds every event once
// and the group's committed offsets reach the end of the topic.
func TestSinkBackpressureEndToEnd(t *testing.T) {
	const keys, perKey = 100, 200
	dir := t.TempDir()
	addr, _ := startBrokerProcess(t, dir)
	pg := pgtest.Start(t)
	produceKeyed(t, addr, "events", keys, perKey, func(key string, i int) ([]byte, int64) {
		return []byte(fmt.Sprintf(`{"id":"%s-%d","k":%q,"i":%d}`, key, i, key, i)), 0
	})
	if err := pg.Exec(`CREATE TABLE events ("timestamp" TIMESTAMP NOT NULL, "__key" TEXT, id TEXT PRIMARY KEY, k TEXT, i BIGINT)`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lock, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close(ctx)
	tx, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE events IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(backpressureJob, pg.Port)
	cmd, stderr := startJob(t, dir, addr, filepath.Join(dir, "state"), src, 0, "--stop-when-idle", "4s")
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(stderr.String(), "sink backpressure") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no second backpressure within 60 s:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := committedTotal(t, addr, "bp", "events"); n != 0 {
		t.Errorf("%d offsets committed while the sink could not write", n)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("job: %v\n%s", err, stderr.String())
	}
	var rows, ids int
	if err := lock.QueryRow(ctx, "SELECT count(*), count(DISTINCT id) FROM events").Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != keys*perKey || ids != rows {
		t.Errorf("events: %d rows, %d ids; want %d, one per event", rows, ids, keys*perKey)
	}
	if n := committedTotal(t, addr, "bp", "events"); n != keys*perKey {
		t.Errorf("committed %d offsets, want %d", n, keys*perKey)
	}
	t.Logf("backpressure reported %d times", strings.Count(stderr.String(), "sink backpressure"))
}
