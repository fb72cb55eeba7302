package sinks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/qstar-dev/qstar/engine"
)

// PostgreSQL column names of the record's key and timestamp (Quix Streams'
// KEY_COLUMN_NAME and TIMESTAMP_COLUMN_NAME).
const (
	KeyColumn       = "__key"
	TimestampColumn = "timestamp"
)

// PostgresConfig configures a PostgreSQL sink: Quix Streams 3.x's
// PostgreSQLSink arguments.
type PostgresConfig struct {
	Host, DBName, User, Password string
	Port                         int
	Table                        string
	Schema                       string // default "public"
	// SchemaAutoUpdate creates the table and adds columns (and the
	// primary key) as values bring them.
	SchemaAutoUpdate bool
	ConnectTimeout   time.Duration
	StatementTimeout time.Duration
	PrimaryKeys      []string
	// Upsert updates the row of an existing primary key; DoNothing keeps
	// it. Neither: a repeated key fails the write.
	Upsert, DoNothing bool
	// IncludeMetadata writes the __key and timestamp columns.
	IncludeMetadata bool
}

// Postgres writes batches to a PostgreSQL table with COPY, in one
// transaction per batch: straight into the table, or (upserting or
// skipping existing keys) into a temporary table merged with INSERT ... ON
// CONFLICT. It connects through github.com/jackc/pgx/v5's native
// interface, which COPY needs.
type Postgres struct {
	cfg  PostgresConfig
	isPK map[string]bool // the primary key's columns
	conn *pgx.Conn
	// Schema state known to be in the database: the table exists, its
	// columns, and its primary key was checked.
	created bool
	columns map[string]bool
	pkDone  bool
}

// NewPostgres returns a PostgreSQL writer; it connects at Start.
func NewPostgres(cfg PostgresConfig) (*Postgres, error) {
	if cfg.Upsert && cfg.DoNothing {
		return nil, errors.New("cannot use both `upsert_on_primary_key=True` and `on_conflict_do_nothing=True` at the same time")
	}
	if cfg.Upsert && len(cfg.PrimaryKeys) == 0 {
		return nil, errors.New("upsert_on_primary_key=True needs primary_key_columns")
	}
	if cfg.Schema == "" {
		cfg.Schema = "public"
	}
	p := &Postgres{cfg: cfg, isPK: map[string]bool{}, columns: map[string]bool{}}
	for _, k := range cfg.PrimaryKeys {
		p.isPK[k] = true
	}
	return p, nil
}

func (p *Postgres) String() string {
	return fmt.Sprintf("PostgreSQLSink(%s:%d/%s, table %s.%s)", p.cfg.Host, p.cfg.Port, p.cfg.DBName, p.cfg.Schema, p.cfg.Table)
}

// Start implements engine.Starter: it connects and creates the schema.
func (p *Postgres) Start() error {
	if p.conn != nil {
		return nil
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(p.cfg.User, p.cfg.Password),
		Host: net.JoinHostPort(p.cfg.Host, strconv.Itoa(p.cfg.Port)), Path: "/" + p.cfg.DBName}
	q := url.Values{}
	if p.cfg.ConnectTimeout > 0 {
		q.Set("connect_timeout", strconv.Itoa(int(p.cfg.ConnectTimeout/time.Second)))
	}
	if p.cfg.StatementTimeout > 0 {
		q.Set("statement_timeout", strconv.FormatInt(p.cfg.StatementTimeout.Milliseconds(), 10))
	}
	q.Set("sslmode", "prefer")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("connect to %s:%d/%s: %w", p.cfg.Host, p.cfg.Port, p.cfg.DBName, err)
	}
	p.conn = conn
	if p.cfg.SchemaAutoUpdate {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident(p.cfg.Schema)); err != nil {
			return p.fail(fmt.Errorf("create schema %s: %w", p.cfg.Schema, err))
		}
	}
	return nil
}

// Close closes the connection.
func (p *Postgres) Close() error {
	if p.conn == nil {
		return nil
	}
	err := p.conn.Close(context.Background())
	p.conn = nil
	return err
}

// fail closes a connection that failed mid-write: the next write
// reconnects (and rechecks the schema).
func (p *Postgres) fail(err error) error {
	if p.conn != nil {
		_ = p.conn.Close(context.Background())
		p.conn = nil
	}
	p.created, p.pkDone = false, false
	clear(p.columns)
	return err
}

// transientRetry is how long a sink waits after a transient failure.
const transientRetry = time.Second

// transient wraps an error PostgreSQL reports as passing (a statement or
// lock timeout: a table locked by a migration, a server under load; a
// serialization failure or a deadlock) as backpressure: the checkpoint
// is dropped and the batch written again after transientRetry, where
// Quix Streams' sink fails the job. Other errors stay as they are.
func transient(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57014", "55P03", "40001", "40P01": // query_canceled, lock_not_available, serialization_failure, deadlock_detected
			return &engine.BackpressureError{RetryAfter: transientRetry, Err: err}
		}
	}
	return err
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (p *Postgres) table() string { return ident(p.cfg.Schema) + "." + ident(p.cfg.Table) }

// Item converts a record for Postgres: its value must be a dict.
func (p *Postgres) Item(_ *engine.Context, r engine.SinkRecord) (Item, error) {
	v, err := GoValue(r.Value)
	if err != nil {
		return Item{}, err
	}
	cols, ok := v.(*Columns)
	if !ok {
		return Item{}, fmt.Errorf(`sink "PostgreSQLSink" supports only dictionaries, got %s`, r.Value.Type())
	}
	var key any
	if r.Key != nil {
		if key, err = GoValue(r.Key); err != nil {
			return Item{}, fmt.Errorf("key: %w", err)
		}
	}
	return Item{Key: key, Value: cols, Timestamp: r.Timestamp, Offset: r.Offset}, nil
}

// pgTypes are the column types of Go values (Quix Streams'
// _POSTGRES_TYPES_MAP).
func pgType(v any) (string, bool) {
	switch v.(type) {
	case int64:
		return "BIGINT", true
	case float64:
		return "DOUBLE PRECISION", true
	case string:
		return "TEXT", true
	case []byte:
		return "BYTEA", true
	case bool:
		return "BOOLEAN", true
	case *Columns, []any:
		return "JSONB", true
	}
	return "", false
}

// Write implements Writer.
func (p *Postgres) Write(b *Batch) error {
	if p.conn == nil {
		if err := p.Start(); err != nil {
			return err
		}
	}
	// The batch's columns, in the order they first appear, with the type
	// of their first non-null value.
	var names []string
	types := map[string]string{}
	index := map[string]int{}
	addColumn := func(name, typ string) {
		if _, ok := index[name]; !ok {
			index[name] = len(names)
			names = append(names, name)
		}
		if typ != "" && types[name] == "" {
			types[name] = typ
		}
	}
	if p.cfg.IncludeMetadata {
		addColumn(TimestampColumn, "TIMESTAMP")
		addColumn(KeyColumn, "TEXT")
	}
	for _, k := range p.cfg.PrimaryKeys {
		addColumn(k, "")
	}
	for _, it := range b.Items {
		cols := it.Value.(*Columns)
		for i, n := range cols.Names {
			if cols.Values[i] == nil {
				if p.isPK[n] {
					return fmt.Errorf("primary key column '%s' value cannot be None (null) (offset %d)", n, it.Offset)
				}
				continue
			}
			typ, ok := pgType(cols.Values[i])
			if !ok {
				return fmt.Errorf(`failed to add new column "%s": cannot map a %T to a PostgreSQL column type`, n, cols.Values[i])
			}
			addColumn(n, typ)
		}
	}
	rows := make([][]any, 0, len(b.Items))
	var keyOf map[string]int // upsert: the row of each primary key, the last one winning
	if len(p.cfg.PrimaryKeys) > 0 && p.merging() {
		keyOf = make(map[string]int, len(b.Items))
	}
	var kb []byte
	for _, it := range b.Items {
		row := make([]any, len(names))
		cols := it.Value.(*Columns)
		for i, n := range cols.Names {
			if cols.Values[i] != nil {
				row[index[n]] = pgValue(cols.Values[i])
			}
		}
		if p.cfg.IncludeMetadata {
			row[index[TimestampColumn]] = time.UnixMilli(it.Timestamp).UTC()
			if it.Key != nil {
				row[index[KeyColumn]] = keyText(it.Key)
			}
		}
		if keyOf != nil {
			kb = kb[:0]
			for _, k := range p.cfg.PrimaryKeys {
				if row[index[k]] == nil {
					return fmt.Errorf("primary key column '%s' value cannot be None (null) (offset %d)", k, it.Offset)
				}
				kb = fmt.Appendf(kb, "%v\x00", row[index[k]])
			}
			if j, ok := keyOf[string(kb)]; ok {
				if p.cfg.Upsert {
					rows[j] = row
				}
				continue
			}
			keyOf[string(kb)] = len(rows)
		}
		rows = append(rows, row)
	}
	ctx := context.Background()
	if err := p.ensureSchema(ctx, names, types); err != nil {
		return p.fail(transient(err))
	}
	if err := p.copyRows(ctx, names, rows); err != nil {
		var pe *pgconn.PgError
		if bp := transient(err); bp != err {
			return p.fail(bp)
		}
		if errors.As(err, &pe) && pe.Code == "23505" {
			return p.fail(fmt.Errorf("failed to write batch: attempted insert of new row using an existing primary key. Try `upsert_on_primary_key=True` for upsert functionality. PostgreSQL error info: %w", err))
		}
		return p.fail(fmt.Errorf("failed to write batch: %w", err))
	}
	return nil
}

// merging reports whether a batch is merged into the table (ON CONFLICT)
// rather than copied straight in.
func (p *Postgres) merging() bool { return p.cfg.Upsert || p.cfg.DoNothing }

// copyRows writes rows in one transaction.
func (p *Postgres) copyRows(ctx context.Context, names []string, rows [][]any) error {
	tx, err := p.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if !p.merging() {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{p.cfg.Schema, p.cfg.Table}, names, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, "CREATE TEMPORARY TABLE qstar_sink_batch (LIKE "+p.table()+") ON COMMIT DROP"); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"qstar_sink_batch"}, names, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, p.mergeQuery(names)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// mergeQuery moves the temporary table's rows into the table: on a
// primary key already there, updating its row (upsert) or keeping it.
func (p *Postgres) mergeQuery(names []string) string {
	quoted := make([]string, len(names))
	var set []string
	for i, n := range names {
		quoted[i] = ident(n)
		if !p.isPK[n] {
			set = append(set, ident(n)+" = EXCLUDED."+ident(n))
		}
	}
	cols := strings.Join(quoted, ", ")
	q := "INSERT INTO " + p.table() + " (" + cols + ") SELECT " + cols + " FROM qstar_sink_batch ON CONFLICT "
	if !p.cfg.Upsert || len(set) == 0 {
		return q + "DO NOTHING"
	}
	pks := make([]string, len(p.cfg.PrimaryKeys))
	for i, k := range p.cfg.PrimaryKeys {
		pks[i] = ident(k)
	}
	return q + "(" + strings.Join(pks, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// ensureSchema creates the table, its new columns and its primary key
// (schema_auto_update), as Quix Streams does.
func (p *Postgres) ensureSchema(ctx context.Context, names []string, types map[string]string) error {
	if !p.cfg.SchemaAutoUpdate {
		return nil
	}
	if !p.created {
		q := "CREATE TABLE IF NOT EXISTS " + p.table() + " (" + ident(TimestampColumn) + " TIMESTAMP NOT NULL, " + ident(KeyColumn) + " TEXT)"
		if !p.cfg.IncludeMetadata {
			q = "CREATE TABLE IF NOT EXISTS " + p.table() + " (_row_id SERIAL)"
		}
		if _, err := p.conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create table %s: %w", p.table(), err)
		}
		p.created = true
	}
	for _, n := range names {
		if p.columns[n] || types[n] == "" {
			continue
		}
		if _, err := p.conn.Exec(ctx, "ALTER TABLE "+p.table()+" ADD COLUMN IF NOT EXISTS "+ident(n)+" "+types[n]); err != nil {
			return fmt.Errorf("add column %s: %w", n, err)
		}
		p.columns[n] = true
	}
	if p.pkDone || len(p.cfg.PrimaryKeys) == 0 {
		return nil
	}
	rows, err := p.conn.Query(ctx, `SELECT kcu.column_name FROM information_schema.table_constraints tc
		JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name
		WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_name = $1 AND tc.table_schema = $2`, p.cfg.Table, p.cfg.Schema)
	if err != nil {
		return err
	}
	current, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, k := range p.cfg.PrimaryKeys {
		want[k] = true
	}
	same := len(current) == len(want)
	for _, c := range current {
		same = same && want[c]
	}
	switch {
	case same:
	case len(current) > 0:
		return fmt.Errorf("the table %s has the primary key %v, not %v", p.table(), current, p.cfg.PrimaryKeys)
	default:
		pks := make([]string, len(p.cfg.PrimaryKeys))
		for i, k := range p.cfg.PrimaryKeys {
			if types[k] == "" {
				return fmt.Errorf("primary key column %q has no value to take its type from", k)
			}
			pks[i] = ident(k)
		}
		if _, err := p.conn.Exec(ctx, "ALTER TABLE "+p.table()+" ADD PRIMARY KEY ("+strings.Join(pks, ", ")+")"); err != nil {
			return fmt.Errorf("set the primary key: %w", err)
		}
	}
	p.pkDone = true
	return nil
}

// pgValue is what a column gets: nested values as JSON.
func pgValue(v any) any {
	switch v := v.(type) {
	case *Columns:
		return v
	case []any:
		return jsonList(v)
	}
	return v
}

// jsonList encodes as a JSON array (a JSONB column).
type jsonList []any

func (l jsonList) MarshalJSON() ([]byte, error) { return appendJSON(nil, []any(l)) }

// keyText is the __key column's text of a key.
func keyText(k any) string {
	switch k := k.(type) {
	case string:
		return k
	case []byte:
		return string(k)
	}
	b, err := appendJSON(nil, k)
	if err != nil {
		return fmt.Sprint(k)
	}
	return string(b)
}
