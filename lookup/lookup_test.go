package lookup_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/internal/pgtest"
	"github.com/qstar-dev/qstar/lookup"
)

// The cases of Quix Streams v3.25.0's
// tests/test_quixstreams/test_dataframe/test_joins/test_lookup_sqlite.py
// and test_lookup_postgres.py, with their tables, inputs and expected
// values, run against a real SQLite file and a real PostgreSQL server
// (for both: a db, a lookup on it, and a function that replaces the
// table's rows, as the Python fixtures do).

type backend struct {
	name   string
	lookup *lookup.Lookup
	// rewrite replaces the table's rows with (id, col1, col2) triples.
	rewrite func(rows [][3]any)
	// queryParam spells a named parameter in a QueryField's SQL.
	queryParam func(name string) string
}

var defaultRows = [][3]any{{"k1", "foo", 1}, {"k1", "foo0", 0}, {"k1", "foo5", 5}, {"k2", "bar", 2}}

func sqliteBackend(t *testing.T) backend {
	path := filepath.Join(t.TempDir(), "test.sqlite")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE test (id TEXT, col1 TEXT, col2 INTEGER)"); err != nil {
		t.Fatal(err)
	}
	rewrite := func(rows [][3]any) {
		if _, err := db.Exec("DELETE FROM test"); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if _, err := db.Exec("INSERT INTO test (id, col1, col2) VALUES (?, ?, ?)", r[0], r[1], r[2]); err != nil {
				t.Fatal(err)
			}
		}
	}
	rewrite(defaultRows)
	l := lookup.NewSQLite(path, 0)
	t.Cleanup(func() { l.Close() })
	return backend{"sqlite", l, rewrite, func(n string) string { return ":" + n }}
}

func postgresBackend(t *testing.T, srv *pgtest.Server, table string) backend {
	if err := srv.Exec("CREATE TABLE IF NOT EXISTS " + table + " (pk SERIAL, id TEXT, col1 TEXT, col2 INTEGER)"); err != nil {
		t.Fatal(err)
	}
	rewrite := func(rows [][3]any) {
		if err := srv.Exec("DELETE FROM " + table); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := srv.Exec("INSERT INTO "+table+" (id, col1, col2) VALUES ($1, $2, $3)", r[0], r[1], r[2]); err != nil {
				t.Fatal(err)
			}
		}
	}
	rewrite(defaultRows)
	l := lookup.NewPostgres(lookup.PostgresConfig{Host: srv.Host, Port: srv.Port, DBName: srv.DBName, User: srv.User, Password: srv.Password}, 0)
	t.Cleanup(func() { l.Close() })
	return backend{"postgres", l, rewrite, func(n string) string { return "%(" + n + ")s" }}
}

// eachBackend runs f on SQLite and on PostgreSQL, each with a table named
// table holding defaultRows.
func eachBackend(t *testing.T, srv *pgtest.Server, table string, f func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteBackend(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresBackend(t, srv, table)) })
}

func join(t *testing.T, b backend, fields []lookup.NamedField, on string, value *starlark.Dict) {
	t.Helper()
	if err := b.lookup.Join(context.Background(), fields, starlark.String(on), value); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, d *starlark.Dict, key string) starlark.Value {
	t.Helper()
	v, ok, _ := d.Get(starlark.String(key))
	if !ok {
		t.Fatalf("no %q in %s", key, d)
	}
	return v
}

func eq(t *testing.T, got starlark.Value, want string) {
	t.Helper()
	if got.String() != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func column(table string, cols []string, mod func(*lookup.ColumnField)) lookup.Field {
	f := &lookup.ColumnField{Table: table, Columns: cols, On: "id", Options: lookup.Options{TTL: time.Minute, FirstMatchOnly: true}}
	if mod != nil {
		mod(f)
	}
	return f
}

func field(name string, f lookup.Field) []lookup.NamedField {
	return []lookup.NamedField{{Name: name, Field: f}}
}

func TestLookups(t *testing.T) {
	srv := pgtest.Start(t)
	t.Run("basic", func(t *testing.T) {
		eachBackend(t, srv, "test_basic", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_basic"}[b.name]
			fields := field("f", column(table, []string{"col1", "col2"}, nil))
			v := starlark.NewDict(1)
			join(t, b, fields, "k1", v)
			eq(t, get(t, v, "f"), `{"col1": "foo", "col2": 1}`)
			v = starlark.NewDict(1)
			join(t, b, fields, "k2", v)
			eq(t, get(t, v, "f"), `{"col1": "bar", "col2": 2}`)
		})
	})
	t.Run("cache", func(t *testing.T) {
		eachBackend(t, srv, "test_cache", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_cache"}[b.name]
			fields := field("f", column(table, []string{"col1"}, func(f *lookup.ColumnField) { f.TTL = 300 * time.Millisecond }))
			v := starlark.NewDict(1)
			join(t, b, fields, "k1", v)
			eq(t, get(t, v, "f"), `{"col1": "foo"}`)
			if got := b.lookup.CacheInfo(); got != (lookup.CacheInfo{Hits: 0, Misses: 1, Size: 1, MaxSize: 1000}) {
				t.Errorf("cache info %+v", got)
			}
			b.rewrite([][3]any{{"k1", "baz", 1}, {"k1", "baz", 0}, {"k1", "baz", 5}, {"k2", "bar", 2}})
			v = starlark.NewDict(1)
			join(t, b, fields, "k1", v)
			eq(t, get(t, v, "f"), `{"col1": "foo"}`) // cached
			if got := b.lookup.CacheInfo(); got != (lookup.CacheInfo{Hits: 1, Misses: 1, Size: 1, MaxSize: 1000}) {
				t.Errorf("cache info %+v", got)
			}
			time.Sleep(350 * time.Millisecond)
			v = starlark.NewDict(1)
			join(t, b, fields, "k1", v)
			eq(t, get(t, v, "f"), `{"col1": "baz"}`)
			if got := b.lookup.CacheInfo(); got != (lookup.CacheInfo{Hits: 1, Misses: 2, Size: 1, MaxSize: 1000}) {
				t.Errorf("cache info %+v", got)
			}
		})
	})
	t.Run("no_ttl", func(t *testing.T) {
		eachBackend(t, srv, "test_no_ttl", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_no_ttl"}[b.name]
			fields := field("f", column(table, []string{"col1"}, func(f *lookup.ColumnField) { f.TTL = 0 }))
			v := starlark.NewDict(1)
			join(t, b, fields, "k1", v)
			eq(t, get(t, v, "f"), `{"col1": "foo"}`)
			if got := b.lookup.CacheInfo(); got != (lookup.CacheInfo{MaxSize: 1000}) {
				t.Errorf("cache info %+v: the cache is not in use", got)
			}
			b.rewrite([][3]any{{"k1", "baz", 1}, {"k1", "baz", 0}, {"k1", "baz", 5}, {"k2", "bar", 2}})
			v = starlark.NewDict(1)
			join(t, b, fields, "k1", v)
			eq(t, get(t, v, "f"), `{"col1": "baz"}`)
		})
	})
	t.Run("orderby", func(t *testing.T) {
		eachBackend(t, srv, "test_orderby", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_orderby"}[b.name]
			fields := []lookup.NamedField{
				{Name: "normal", Field: column(table, []string{"col1"}, nil)},
				{Name: "orderby", Field: column(table, []string{"col1"}, func(f *lookup.ColumnField) { f.OrderBy = "col2" })},
				{Name: "asc", Field: column(table, []string{"col1"}, func(f *lookup.ColumnField) { f.OrderBy, f.Direction = "col2", "ASC" })},
				{Name: "desc", Field: column(table, []string{"col1"}, func(f *lookup.ColumnField) { f.OrderBy, f.Direction = "col2", "DESC" })},
			}
			for _, f := range fields {
				if err := f.Field.(*lookup.ColumnField).Validate("field"); err != nil {
					t.Fatal(err)
				}
			}
			v := starlark.NewDict(4)
			join(t, b, fields, "k1", v)
			eq(t, v, `{"normal": {"col1": "foo"}, "orderby": {"col1": "foo0"}, "asc": {"col1": "foo0"}, "desc": {"col1": "foo5"}}`)
		})
	})
	t.Run("invalid_identifier", func(t *testing.T) {
		for _, f := range []*lookup.ColumnField{
			{Table: "test;DROP TABLE test", Columns: []string{"col1"}, On: "id"},
			{Table: "test", Columns: []string{"col1;DROP"}, On: "id"},
			{Table: "test", Columns: []string{"*"}, On: "id"},
			{Table: "test", Columns: []string{"col1"}, On: "id", OrderBy: "col2", Direction: "SIDEWAYS"},
		} {
			if err := f.Validate("SQLiteLookupField"); err == nil || !strings.Contains(err.Error(), "ValueError") {
				t.Errorf("%+v: %v", f, err)
			}
		}
	})
	t.Run("default", func(t *testing.T) {
		eachBackend(t, srv, "test_default", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_default"}[b.name]
			fields := field("f", column(table, []string{"col1"}, func(f *lookup.ColumnField) { f.Default = starlark.String("notfound") }))
			v := starlark.NewDict(1)
			join(t, b, fields, "missing", v)
			eq(t, get(t, v, "f"), `"notfound"`)
		})
	})
	t.Run("error", func(t *testing.T) {
		b := sqliteBackend(t)
		b.lookup.Close()
		err := b.lookup.Join(context.Background(), field("f", column("test", []string{"col1"}, nil)), starlark.String("missing"), starlark.NewDict(1))
		if err == nil {
			t.Error("a closed lookup joined")
		}
		l := lookup.NewSQLite(filepath.Join(t.TempDir(), "absent.sqlite"), 0)
		err = l.Join(context.Background(), field("f", column("test", []string{"col1"}, nil)), starlark.String("k1"), starlark.NewDict(1))
		if err == nil || !strings.Contains(err.Error(), "absent.sqlite") {
			t.Errorf("a missing database file: %v", err)
		}
	})
	t.Run("query_field", func(t *testing.T) {
		eachBackend(t, srv, "test_query_field", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_query_field"}[b.name]
			fields := field("f", &lookup.QueryField{Query: "SELECT col2 FROM " + table + " WHERE col1 = " + b.queryParam("field1"), Options: lookup.Options{TTL: time.Minute, FirstMatchOnly: true}})
			v := starlark.NewDict(1)
			_ = v.SetKey(starlark.String("field1"), starlark.String("foo"))
			join(t, b, fields, "key1", v)
			eq(t, get(t, v, "f"), `(1,)`)
			// The same target key returns the cached value.
			v = starlark.NewDict(1)
			_ = v.SetKey(starlark.String("field1"), starlark.String("bar"))
			join(t, b, fields, "key1", v)
			eq(t, get(t, v, "f"), `(1,)`)
			join(t, b, fields, "key2", v)
			eq(t, get(t, v, "f"), `(2,)`)
		})
	})
	t.Run("query_field_missing", func(t *testing.T) {
		eachBackend(t, srv, "test_query_missing", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_query_missing"}[b.name]
			fields := field("f", &lookup.QueryField{Query: "SELECT col2 FROM " + table + " WHERE col1 = " + b.queryParam("missing"), Options: lookup.Options{TTL: time.Minute, FirstMatchOnly: true}})
			err := b.lookup.Join(context.Background(), fields, starlark.String("aa"), starlark.NewDict(1))
			if err == nil || !strings.Contains(err.Error(), "missing") {
				t.Errorf("a query parameter the record lacks: %v", err)
			}
		})
	})
	t.Run("field_all_rows", func(t *testing.T) {
		eachBackend(t, srv, "test_all_rows", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_all_rows"}[b.name]
			fields := field("f", column(table, []string{"col1", "col2"}, func(f *lookup.ColumnField) { f.FirstMatchOnly = false }))
			v := starlark.NewDict(1)
			join(t, b, fields, "k1", v)
			got, ok := get(t, v, "f").(*starlark.List)
			if !ok || got.Len() != 3 {
				t.Fatalf("got %s, want a list of the 3 rows of k1", get(t, v, "f"))
			}
			for _, want := range []string{`{"col1": "foo", "col2": 1}`, `{"col1": "foo0", "col2": 0}`, `{"col1": "foo5", "col2": 5}`} {
				if !strings.Contains(got.String(), want) {
					t.Errorf("%s lacks %s", got, want)
				}
			}
		})
	})
	t.Run("query_field_all_rows", func(t *testing.T) {
		eachBackend(t, srv, "test_query_all_rows", func(t *testing.T, b backend) {
			table := map[string]string{"sqlite": "test", "postgres": "test_query_all_rows"}[b.name]
			fields := field("f", &lookup.QueryField{Query: "SELECT col1, col2 FROM " + table + " WHERE id = " + b.queryParam("id"), Options: lookup.Options{TTL: time.Minute}})
			v := starlark.NewDict(2)
			_ = v.SetKey(starlark.String("id"), starlark.String("k1"))
			join(t, b, fields, "k1", v)
			eq(t, v, `{"id": "k1", "f": [("foo", 1), ("foo0", 0), ("foo5", 5)]}`)
		})
	})
	t.Run("cached_values_are_copies", func(t *testing.T) {
		b := sqliteBackend(t)
		fields := field("f", column("test", []string{"col1"}, nil))
		v := starlark.NewDict(1)
		join(t, b, fields, "k1", v)
		_ = get(t, v, "f").(*starlark.Dict).SetKey(starlark.String("col1"), starlark.String("changed"))
		v = starlark.NewDict(1)
		join(t, b, fields, "k1", v)
		eq(t, get(t, v, "f"), `{"col1": "foo"}`)
	})
}
