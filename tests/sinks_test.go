package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/qstar-dev/qstar/internal/pgtest"
	"github.com/qstar-dev/qstar/internal/redistest"
	"github.com/qstar-dev/qstar/runtime"
)

// sinkStarTests configure PostgreSQLSink and RedisSink from a script (as
// a Quix Streams app imports them) and check, through sdf.test and
// app.checkpoint(), that nothing is written before a checkpoint.
const sinkStarTests = `
from quixstreams.sinks.community.postgresql import PostgreSQLSink
from quixstreams.sinks.community.redis import RedisSink

app = Application()
topic = app.topic("orders")
pg = PostgreSQLSink(host="127.0.0.1", port=%d, dbname="qstar", user="qstar", password="qstar",
                    table_name="orders", primary_key_columns="id", upsert_on_primary_key=True)
rd = RedisSink(host="127.0.0.1", port=%d, db=0, ttl_seconds=60)
sdf = app.dataframe(topic)
sdf.sink(pg)
sdf.sink(rd)

def test_written_at_checkpoints():
    sdf.test({"id": 1, "amount": 2.5, "tags": ["a"]}, "o-1", 1000)
    sdf.test({"id": 1, "amount": 3.5, "tags": ["b"]}, "o-1", 2000)
    sdf.test({"id": 2, "amount": 1.0, "note": "é"}, "o-2", 3000)
    app.checkpoint()
    sdf.test({"id": 3, "amount": 9.0}, "o-3", 4000)  # after the last checkpoint: not written
`

// TestSinksFromScript: the rows and keys the script's sinks wrote, read
// back from a real PostgreSQL and a real redis-server.
func TestSinksFromScript(t *testing.T) {
	pg := pgtest.Start(t)
	rd := redistest.Start(t)
	file := filepath.Join(t.TempDir(), "test_sinks.star")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(sinkStarTests, pg.Port, rd.Port)), 0o644); err != nil {
		t.Fatal(err)
	}
	results, err := runtime.RunTestFile(file, nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Err != nil {
		t.Fatalf("results: %+v", results)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT id::text || '|' || amount::text || '|' || coalesce(tags::text, '') || '|' || coalesce(note, '') || '|' || "__key" || '|' || "timestamp"::text FROM orders ORDER BY id`)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// id 1 upserted to its last value; id 3 came after the checkpoint.
	want := fmt.Sprint([]string{`1|3.5|["b"]||o-1|1970-01-01 00:00:02`, `2|1||é|o-2|1970-01-01 00:00:03`})
	if fmt.Sprint(got) != want {
		t.Errorf("orders = %q, want %q", got, want)
	}
	c := rd.Client(t, 0)
	for k, want := range map[string]string{"o-1": `{"id": 1, "amount": 3.5, "tags": ["b"]}`, "o-2": `{"id": 2, "amount": 1.0, "note": "\u00e9"}`} {
		if got, err := c.Get(ctx, k).Result(); err != nil || got != want {
			t.Errorf("GET %s = %q (%v), want %q", k, got, err, want)
		}
	}
	if n := c.Exists(ctx, "o-3").Val(); n != 0 {
		t.Errorf("o-3 was written before a checkpoint")
	}
}
