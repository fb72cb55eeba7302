package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/qstar-dev/qstar/internal/pgtest"
)

// pgSinkJob writes every input message to PostgreSQLSink (table
// sink_rows, a column per value field, no primary key: COPY straight
// into the table). %[1]s is the input topic, %[2]d the server's port.
const pgSinkJob = `app = Application(consumer_group="bench-pgsink", auto_offset_reset="earliest", loglevel="WARNING")
sdf = app.dataframe(app.topic("%[1]s"))
sdf.sink(PostgreSQLSink(host="127.0.0.1", port=%[2]d, dbname="qstar", user="qstar", password="qstar", table_name="sink_rows"))
app.run()
`

// pgCopyBatch is the baseline's rows per COPY (and transaction).
const pgCopyBatch = 10_000

// pgSink is the PostgreSQL sink measurement: the job's throughput and
// that of plain batched COPYs of the same rows.
type pgSink struct {
	rows        int64
	job, copied time.Duration
	cpu         time.Duration
}

// measurePgSink starts a PostgreSQL server, runs pgSinkJob over the
// input to its end, checks the table holds a row per message, then times
// the baseline: the same rows (decoded from the same messages before the
// clock starts) COPYed with pgx's CopyFrom, the library the sink uses, in
// batches of pgCopyBatch, into a table made LIKE the sink's.
func measurePgSink(qstar, addr, dir string, n int, idle time.Duration) (pgSink, error) {
	var r pgSink
	srv, stop, err := pgtest.Launch()
	if err != nil {
		return r, err
	}
	defer stop()
	script := filepath.Join(dir, "pgsink.star")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(pgSinkJob, "bench-input", srv.Port)), 0o644); err != nil {
		return r, err
	}
	res, err := measure(exec.Command(qstar, "run", script, "--broker", addr, "--stop-when-idle", idle.String()), idle)
	if err != nil {
		return r, err
	}
	r.job, r.cpu = res.wall, res.cpu
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.DSN())
	if err != nil {
		return r, err
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM sink_rows").Scan(&r.rows); err != nil {
		return r, err
	}
	if r.rows != int64(n) {
		return r, fmt.Errorf("sink_rows holds %d rows, want %d", r.rows, n)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE copiedrows (LIKE sink_rows INCLUDING DEFAULTS)"); err != nil {
		return r, err
	}
	cols := []string{"timestamp", "__key", "id", "customer", "amount", "currency", "country", "ts", "ok"}
	rows := make([][]any, n)
	for i := range rows {
		key, value := message(i)
		var v struct {
			ID                          int64
			Customer, Currency, Country string
			Amount                      float64
			TS                          int64
			OK                          bool
		}
		if err := json.Unmarshal(value, &v); err != nil {
			return r, err
		}
		rows[i] = []any{time.UnixMilli(v.TS).UTC(), string(key), v.ID, v.Customer, v.Amount, v.Currency, v.Country, v.TS, v.OK}
	}
	start := time.Now()
	for lo := 0; lo < n; lo += pgCopyBatch {
		hi := min(lo+pgCopyBatch, n)
		tx, err := conn.Begin(ctx)
		if err != nil {
			return r, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"copiedrows"}, cols, pgx.CopyFromRows(rows[lo:hi])); err != nil {
			_ = tx.Rollback(ctx)
			return r, err
		}
		if err := tx.Commit(ctx); err != nil {
			return r, err
		}
	}
	r.copied = time.Since(start)
	return r, nil
}

// renderPgSink reports the sink against the COPY baseline, and against
// the raw Kafka pass-through (base), which bounds any job consuming the
// input.
func renderPgSink(rs []pgSink, base result) string {
	var b strings.Builder
	for _, r := range rs {
		job, cp := float64(r.rows)/r.job.Seconds(), float64(r.rows)/r.copied.Seconds()
		fmt.Fprintf(&b, "\nPostgreSQL sink (`sdf.sink(PostgreSQLSink(...))` of every input message, consumed from Kafka and written at each checkpoint with COPY): %d rows in %s (%.0f rows/s, %.1f CPU s per 1M rows in qstar); plain batched COPY of the same rows with pgx's CopyFrom (%d rows per transaction, rows built before the clock starts): %s (%.0f rows/s): ratio %.2f. The job's throughput is %.2f of the raw Kafka pass-through's, which bounds any job reading the input.\n",
			r.rows, r.job.Round(time.Millisecond), job, r.cpu.Seconds()*1e6/float64(r.rows),
			pgCopyBatch, r.copied.Round(time.Millisecond), cp, job/cp, job/base.rate())
	}
	return b.String()
}
