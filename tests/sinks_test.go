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
by_size = PostgreSQLSink(host="127.0.0.1", port=%d, dbname="qstar", user="qstar", password="qstar",
                         table_name=lambda item: ("big_" if item.value["amount"] > 2 else "small_") + item.key[:1],
                         primary_key_columns="id", upsert_on_primary_key=True, include_metadata=False)
sdf = app.dataframe(topic)
sdf.sink(pg)
sdf.sink(rd)
sdf.sink(by_size)

def test_written_at_checkpoints():
    sdf.test({"id": 1, "amount": 2.5, "tags": ["a"]}, "o-1", 1000)
    sdf.test({"id": 1, "amount": 3.5, "tags": ["b"]}, "o-1", 2000)
    sdf.test({"id": 2, "amount": 1.0, "note": "é"}, "o-2", 3000)
    app.checkpoint()
    sdf.test({"id": 3, "amount": 9.0}, "o-3", 4000)  # after the last checkpoint: not written
`

// TestSinksFromScript: the rows and keys the script's sinks wrote, read
// back from a real PostgreSQL and a real redis-server; a table_name
// callable sends each record to the table it names.
func TestSinksFromScript(t *testing.T) {
	pg := pgtest.Start(t)
	rd := redistest.Start(t)
	file := filepath.Join(t.TempDir(), "test_sinks.star")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(sinkStarTests, pg.Port, rd.Port, pg.Port)), 0o644); err != nil {
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
	for table, want := range map[string]string{"big_o": "[1|3.5]", "small_o": "[2|1]"} {
		rows, _ := conn.Query(ctx, `SELECT id::text || '|' || amount::text FROM `+table+` ORDER BY id`)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("%s = %q (%v), want %s", table, got, err, want)
		}
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

// fileSinkStarTests configure FileSink (JSON Lines), LocalFileSink
// (Parquet) and CSVSink from a script, with Quix Streams' imports.
const fileSinkStarTests = `
from quixstreams.sinks.community.file.local import LocalFileSink
from quixstreams.sinks.community.file.formats import ParquetFormat
from quixstreams.sinks.core.csv import CSVSink

app = Application()
topic = app.topic("orders")
sdf = app.dataframe(topic)
sdf.sink(FileSink(directory=%q, append=True))
sdf.sink(LocalFileSink(directory=%q, format=ParquetFormat(compression="zstd")))
sdf.sink(CSVSink(path=%q, key_serializer=lambda k: k.upper()))

def test_written_at_checkpoints():
    sdf.test({"id": 1, "amount": 2.5}, "o-1", 1000)
    sdf.test({"id": 2, "amount": 1.0, "note": "é,\""}, "o-2", 3000)
    app.checkpoint()
    sdf.test({"id": 3}, "o-3", 4000)
    app.checkpoint()
    sdf.test({"id": 4}, "o-4", 5000)  # after the last checkpoint: not written
`

// TestFileSinksFromScript: the files the script's file sinks wrote.
func TestFileSinksFromScript(t *testing.T) {
	dir := t.TempDir()
	jsonDir, parquetDir, csvPath := filepath.Join(dir, "json"), filepath.Join(dir, "parquet"), filepath.Join(dir, "out.csv")
	file := filepath.Join(dir, "test_file_sinks.star")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(fileSinkStarTests, jsonDir, parquetDir, csvPath)), 0o644); err != nil {
		t.Fatal(err)
	}
	results, err := runtime.RunTestFile(file, nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Err != nil {
		t.Fatalf("results: %+v", results)
	}
	// sdf.test() records are on partition 0 of the topic.
	jsonl, err := os.ReadFile(filepath.Join(jsonDir, "orders", "0", "0000000000000000000.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_timestamp":1000,"_key":"o-1","_value":{"id":1,"amount":2.5}}
{"_timestamp":3000,"_key":"o-2","_value":{"id":2,"amount":1.0,"note":"é,\""}}
{"_timestamp":4000,"_key":"o-3","_value":{"id":3}}
`
	if string(jsonl) != want {
		t.Errorf("JSON Lines file (appended to) holds\n%s\nwant\n%s", jsonl, want)
	}
	ents, err := os.ReadDir(filepath.Join(parquetDir, "orders", "0"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if fmt.Sprint(names) != "[0000000000000000000.parquet 0000000000000000002.parquet]" {
		t.Errorf("Parquet files %v, want one per checkpoint's batch, named by its first offset", names)
	}
	csvText, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := "key,value,timestamp,topic,partition,offset\r\n" +
		`O-1,"{""id"": 1, ""amount"": 2.5}",1000,orders,0,0` + "\r\n" +
		`O-2,"{""id"": 2, ""amount"": 1.0, ""note"": ""\u00e9,\""""}",3000,orders,0,1` + "\r\n" +
		`O-3,"{""id"": 3}",4000,orders,0,2` + "\r\n"
	if string(csvText) != wantCSV {
		t.Errorf("CSV file holds\n%s\nwant\n%s", csvText, wantCSV)
	}
}
