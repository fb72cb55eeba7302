package lookup

import (
	"context"
	"database/sql"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"go.starlark.net/starlark"
)

// PostgresConfig is PostgresLookup's connection.
type PostgresConfig struct {
	Host     string
	Port     int
	DBName   string
	User     string
	Password string
	// ConnectTimeout bounds connecting; StatementTimeout each query
	// (statement_timeout). Default 30 s each.
	ConnectTimeout   time.Duration
	StatementTimeout time.Duration
}

// NewPostgres returns a lookup on a PostgreSQL database, connected at the
// first use (PostgresLookup(host, port, dbname, user, password,
// connection_timeout_seconds=30, statement_timeout_seconds=30,
// cache_size=1000)).
func NewPostgres(cfg PostgresConfig, cacheSize int) *Lookup {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 30 * time.Second
	}
	if cfg.StatementTimeout <= 0 {
		cfg.StatementTimeout = 30 * time.Second
	}
	return newLookup(postgresDialect{cfg}, cacheSize)
}

type postgresDialect struct{ cfg PostgresConfig }

func (d postgresDialect) name() string {
	return fmt.Sprintf("PostgresLookup(%s:%d/%s)", d.cfg.Host, d.cfg.Port, d.cfg.DBName)
}

func (d postgresDialect) open() (*sql.DB, error) {
	c := d.cfg
	pc, err := pgx.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pc.Host, pc.Port, pc.Database, pc.User, pc.Password = c.Host, uint16(c.Port), c.DBName, c.User, c.Password
	pc.ConnectTimeout = c.ConnectTimeout
	pc.RuntimeParams["statement_timeout"] = strconv.FormatInt(c.StatementTimeout.Milliseconds(), 10)
	db := stdlib.OpenDB(*pc)
	ctx, cancel := context.WithTimeout(context.Background(), c.ConnectTimeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// columnQuery is Quix Streams' PostgresLookupField.build_query, with
// quoted identifiers.
func (postgresDialect) columnQuery(f *ColumnField) string {
	cols := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		cols[i] = quoteIdent(c)
	}
	schema := f.Schema
	if schema == "" {
		schema = "public"
	}
	q := fmt.Sprintf("SELECT %s FROM %s.%s WHERE %s = $1", strings.Join(cols, ","), quoteIdent(schema), quoteIdent(f.Table), quoteIdent(f.On))
	if f.OrderBy != "" {
		q += fmt.Sprintf(" ORDER BY %s %s", quoteIdent(f.OrderBy), f.Direction)
	}
	if f.FirstMatchOnly {
		q += " LIMIT 1"
	}
	return q
}

var postgresParam = regexp.MustCompile(`^%\(([^)]+)\)s`)

// queryParams turns psycopg2's %(name)s into $1, $2, ... (%% is a %).
func (postgresDialect) queryParams(query string) (string, []string, error) {
	q, names := scanParams(query, false, func(s string) (string, int) {
		if strings.HasPrefix(s, "%%") {
			return "%", 2 // a literal %: the placeholder function spells it
		}
		if m := postgresParam.FindStringSubmatch(s); m != nil {
			return m[1], len(m[0])
		}
		return "", 0
	}, nil)
	return q, names, nil
}

// value converts what pgx scanned: integers, floats, text, bytea, bool,
// numeric (as a float), dates and times (ISO 8601 str), NULL.
func (postgresDialect) value(v any) (starlark.Value, error) {
	switch v := v.(type) {
	case pgtype.Numeric:
		if !v.Valid {
			return starlark.None, nil
		}
		f, err := v.Float64Value()
		if err != nil {
			return nil, err
		}
		return starlark.Float(f.Float64), nil
	case *big.Int:
		return starlark.MakeBigInt(v), nil
	}
	return sqlValue(v)
}
