package lookup

import (
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" database/sql driver
	"go.starlark.net/starlark"
)

// NewSQLite returns a lookup on the SQLite file at path, opened
// read-only at the first use (SQLiteLookup(path, cache_size=1000)).
func NewSQLite(path string, cacheSize int) *Lookup {
	return newLookup(sqliteDialect{path}, cacheSize)
}

type sqliteDialect struct{ path string }

func (d sqliteDialect) name() string { return "SQLiteLookup(" + d.path + ")" }

func (d sqliteDialect) open() (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: d.path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return nil, err
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// columnQuery is Quix Streams' SQLiteLookupField.build_query: the
// identifiers are validated, not quoted.
func (sqliteDialect) columnQuery(f *ColumnField) string {
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?", strings.Join(f.Columns, ", "), f.Table, f.On)
	if f.OrderBy != "" {
		q += fmt.Sprintf(" ORDER BY %s %s", f.OrderBy, f.Direction)
	}
	if f.FirstMatchOnly {
		q += " LIMIT 1"
	}
	return q
}

var sqliteParam = regexp.MustCompile(`^[:@$]([A-Za-z_]\w*)`)

// queryParams turns :name (and @name, $name) into ?.
func (sqliteDialect) queryParams(query string) (string, []string, error) {
	q, names := scanParams(query, true, func(s string) (string, int) {
		if m := sqliteParam.FindStringSubmatch(s); m != nil {
			return m[1], len(m[0])
		}
		return "", 0
	}, func(int) string { return "?" })
	return q, names, nil
}

// value converts what the driver scanned: SQLite's INTEGER, REAL, TEXT,
// BLOB and NULL (and a column declared as a date or time, which the
// driver parses, as an ISO 8601 str).
func (sqliteDialect) value(v any) (starlark.Value, error) {
	return sqlValue(v)
}

func sqlValue(v any) (starlark.Value, error) {
	switch v := v.(type) {
	case nil:
		return starlark.None, nil
	case int64:
		return starlark.MakeInt64(v), nil
	case int32:
		return starlark.MakeInt64(int64(v)), nil
	case int16:
		return starlark.MakeInt64(int64(v)), nil
	case float64:
		return starlark.Float(v), nil
	case float32:
		return starlark.Float(v), nil
	case bool:
		return starlark.Bool(v), nil
	case string:
		return starlark.String(v), nil
	case []byte:
		return starlark.Bytes(v), nil
	case time.Time:
		return starlark.String(v.Format("2006-01-02T15:04:05.999999Z07:00")), nil
	}
	return nil, fmt.Errorf("cannot convert %T", v)
}
