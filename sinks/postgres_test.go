package sinks

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/internal/pgtest"
)

func dict(kv ...any) *starlark.Dict {
	d := starlark.NewDict(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		var v starlark.Value
		switch x := kv[i+1].(type) {
		case int:
			v = starlark.MakeInt(x)
		case float64:
			v = starlark.Float(x)
		case string:
			v = starlark.String(x)
		case nil:
			v = starlark.None
		}
		_ = d.SetKey(starlark.String(kv[i].(string)), v)
	}
	return d
}

// TestPostgresUpsert writes through a real PostgreSQL server: the table
// is created with inferred types, a redelivered batch upserts (no row
// twice) and the last value of a key wins.
func TestPostgresUpsert(t *testing.T) {
	srv := pgtest.Start(t)
	w, err := NewPostgres(PostgresConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, DBName: srv.DBName,
		Table: "totals", Schema: "public", SchemaAutoUpdate: true, IncludeMetadata: true, PrimaryKeys: []string{"id"}, Upsert: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := NewBatching("pg", w.Item, w)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	add := func(off int64, v *starlark.Dict) {
		t.Helper()
		if err := s.Add(nil, engine.SinkRecord{Value: v, Key: starlark.String("k"), Timestamp: 1000 + off, Topic: "in", Offset: off}); err != nil {
			t.Fatal(err)
		}
	}
	for round := 0; round < 2; round++ { // the second round is a redelivery
		add(0, dict("id", 1, "name", "a", "score", 1.5))
		add(1, dict("id", 2, "name", "b", "score", nil))
		add(2, dict("id", 1, "name", "a2", "score", 2.5))
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	conn := connect(t, srv)
	rows, _ := conn.Query(context.Background(), `SELECT id, name, score, "__key" FROM totals ORDER BY id`)
	type row struct {
		ID    int64
		Name  string
		Score *float64
		Key   string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != 1 || got[0].Name != "a2" || got[0].Score == nil || *got[0].Score != 2.5 || got[1].Name != "b" || got[1].Score != nil || got[0].Key != "k" {
		t.Fatalf("rows = %+v", got)
	}
	var types []string
	trows, _ := conn.Query(context.Background(), `SELECT column_name || ':' || data_type FROM information_schema.columns WHERE table_name = 'totals' ORDER BY ordinal_position`)
	if types, err = pgx.CollectRows(trows, pgx.RowTo[string]); err != nil {
		t.Fatal(err)
	}
	want := "[timestamp:timestamp without time zone __key:text id:bigint name:text score:double precision]"
	if got := fmtList(types); got != want {
		t.Errorf("columns = %s, want %s", got, want)
	}
}

// TestPostgresAppendRejectsNonDict: the value must be a dict.
func TestPostgresRejectsNonDict(t *testing.T) {
	w, _ := NewPostgres(PostgresConfig{Table: "t"})
	if _, err := w.Item(nil, engine.SinkRecord{Value: starlark.MakeInt(1)}); err == nil {
		t.Fatal("an int value was accepted")
	}
}

// connect connects to srv for the test.
func connect(t *testing.T, srv *pgtest.Server) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

// TestPostgresDoNothing: with on_conflict_do_nothing, a key already in
// the table keeps its first row; a batch without primary key columns
// configured still skips rows the table's own key refuses.
func TestPostgresDoNothing(t *testing.T) {
	srv := pgtest.Start(t)
	if err := srv.Exec(`CREATE TABLE kept (id BIGINT PRIMARY KEY, name TEXT)`); err != nil {
		t.Fatal(err)
	}
	w, err := NewPostgres(PostgresConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, DBName: srv.DBName,
		Table: "kept", DoNothing: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	s := NewBatching("pg", w.Item, w)
	for i, name := range []string{"first", "second"} {
		if err := s.Add(nil, engine.SinkRecord{Value: dict("id", 1, "name", name), Offset: int64(i)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	conn := connect(t, srv)
	rows, _ := conn.Query(context.Background(), `SELECT name FROM kept`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if fmtList(names) != "[first]" {
		t.Fatalf("rows = %v, want [first]", names)
	}
}

// TestPostgresTables: items naming their table (a table_name callable)
// go to their tables, each created with its own columns and key, all of a
// batch in one transaction: a batch that fails in one table writes none.
func TestPostgresTables(t *testing.T) {
	srv := pgtest.Start(t)
	w, err := NewPostgres(PostgresConfig{Host: srv.Host, Port: srv.Port, User: srv.User, Password: srv.Password, DBName: srv.DBName,
		Schema: "public", SchemaAutoUpdate: true, PrimaryKeys: []string{"id"}, Upsert: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	byKind := func(c *engine.Context, r engine.SinkRecord) (Item, error) {
		it, err := w.Item(c, r)
		kind, _, _ := r.Value.(*starlark.Dict).Get(starlark.String("kind"))
		it.Table = string(kind.(starlark.String))
		return it, err
	}
	s := NewBatching("pg", byKind, w)
	flush := func(values ...*starlark.Dict) error {
		for i, v := range values {
			if err := s.Add(nil, engine.SinkRecord{Value: v, Offset: int64(i)}); err != nil {
				t.Fatal(err)
			}
		}
		return s.Flush()
	}
	if err := flush(dict("kind", "orders", "id", 1, "qty", 3), dict("kind", "refunds", "id", 1, "reason", "late"),
		dict("kind", "orders", "id", 1, "qty", 4)); err != nil {
		t.Fatal(err)
	}
	// refunds.id is BIGINT now: a str there fails the batch, orders' row too.
	if err := flush(dict("kind", "orders", "id", 2, "qty", 1), dict("kind", "refunds", "id", "x")); err == nil {
		t.Fatal("a batch with a str in a BIGINT column was written")
	}
	conn := connect(t, srv)
	for query, want := range map[string]string{
		`SELECT id::text || ':' || qty::text FROM orders ORDER BY id`: "[1:4]",
		`SELECT id::text || ':' || reason FROM refunds ORDER BY id`:   "[1:late]",
	} {
		rows, _ := conn.Query(context.Background(), query)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || fmtList(got) != want {
			t.Errorf("%s: %v (%v), want %s", query, got, err, want)
		}
	}
}
