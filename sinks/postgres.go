package sinks

import (
	"context"
	"errors"
	"fmt"
	"iter"
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
	// Table is the table every item goes to; "" when each item names its
	// own (Item.Table: a table_name callable).
	Table  string
	Schema string // default "public"
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
	cfg    PostgresConfig
	isPK   map[string]bool // the primary key's columns
	conn   *pgx.Conn
	tables map[string]*pgTable // by name, as far as this connection knows them
}

// pgTable is what is known to be in the database of one table: it
// exists, its columns, and its primary key was checked.
type pgTable struct {
	name    string
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
	p := &Postgres{cfg: cfg, isPK: map[string]bool{}, tables: map[string]*pgTable{}}
	for _, k := range cfg.PrimaryKeys {
		p.isPK[k] = true
	}
	return p, nil
}

func (p *Postgres) String() string {
	table := "table " + p.cfg.Schema + "." + p.cfg.Table
	if p.cfg.Table == "" {
		table = "tables of " + p.cfg.Schema + " by table_name"
	}
	return fmt.Sprintf("PostgreSQLSink(%s:%d/%s, %s)", p.cfg.Host, p.cfg.Port, p.cfg.DBName, table)
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
	clear(p.tables)
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

// quotedList is names quoted, comma-separated.
func quotedList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = ident(n)
	}
	return strings.Join(quoted, ", ")
}

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// table returns what is known of the table name.
func (p *Postgres) table(name string) *pgTable {
	t := p.tables[name]
	if t == nil {
		t = &pgTable{name: name, columns: map[string]bool{}}
		p.tables[name] = t
	}
	return t
}

// qualified is the table's name in SQL, with its schema.
func (p *Postgres) qualified(t *pgTable) string { return ident(p.cfg.Schema) + "." + ident(t.name) }

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

// tableRows are a batch's rows for one table.
type tableRows struct {
	t     *pgTable
	names []string // the columns, in the order they first appear
	rows  [][]any
}

// Write implements Writer: the rows of every table the batch holds are
// written in one transaction.
func (p *Postgres) Write(b *Batch) error {
	if p.conn == nil {
		if err := p.Start(); err != nil {
			return err
		}
	}
	ctx := context.Background()
	var writes []tableRows
	for name, items := range p.byTable(b.Items) {
		t := p.table(name)
		names, types, rows, err := p.rows(items)
		if err != nil {
			return err
		}
		if err := p.ensureSchema(ctx, t, names, types); err != nil {
			return p.fail(transient(err))
		}
		writes = append(writes, tableRows{t, names, rows})
	}
	if err := p.copyRows(ctx, writes); err != nil {
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

// byTable yields the items of each table, tables in the order they first
// appear, items in batch order.
func (p *Postgres) byTable(items []Item) iter.Seq2[string, []Item] {
	return func(yield func(string, []Item) bool) {
		if p.cfg.Table != "" {
			yield(p.cfg.Table, items)
			return
		}
		var order []string
		of := map[string][]Item{}
		for _, it := range items {
			if _, ok := of[it.Table]; !ok {
				order = append(order, it.Table)
			}
			of[it.Table] = append(of[it.Table], it)
		}
		for _, name := range order {
			if !yield(name, of[name]) {
				return
			}
		}
	}
}

// rows converts items to rows: the columns, in the order they first
// appear, with the type of their first non-null value. Upserting, a
// primary key's last row wins (skipping existing keys, its first).
func (p *Postgres) rows(items []Item) ([]string, map[string]string, [][]any, error) {
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
	for _, it := range items {
		cols := it.Value.(*Columns)
		for i, n := range cols.Names {
			if cols.Values[i] == nil {
				if p.isPK[n] {
					return nil, nil, nil, fmt.Errorf("primary key column '%s' value cannot be None (null) (offset %d)", n, it.Offset)
				}
				continue
			}
			typ, ok := pgType(cols.Values[i])
			if !ok {
				return nil, nil, nil, fmt.Errorf(`failed to add new column "%s": cannot map a %T to a PostgreSQL column type`, n, cols.Values[i])
			}
			addColumn(n, typ)
		}
	}
	rows := make([][]any, 0, len(items))
	var keyOf map[string]int // the row of each primary key
	if len(p.cfg.PrimaryKeys) > 0 && p.merging() {
		keyOf = make(map[string]int, len(items))
	}
	var kb []byte
	for _, it := range items {
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
					return nil, nil, nil, fmt.Errorf("primary key column '%s' value cannot be None (null) (offset %d)", k, it.Offset)
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
	return names, types, rows, nil
}

// merging reports whether a batch is merged into the table (ON CONFLICT)
// rather than copied straight in.
func (p *Postgres) merging() bool { return p.cfg.Upsert || p.cfg.DoNothing }

// copyRows writes each table's rows, all in one transaction.
func (p *Postgres) copyRows(ctx context.Context, writes []tableRows) error {
	tx, err := p.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for i, w := range writes {
		if !p.merging() {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{p.cfg.Schema, w.t.name}, w.names, pgx.CopyFromRows(w.rows)); err != nil {
				return err
			}
			continue
		}
		temp := "qstar_sink_batch_" + strconv.Itoa(i)
		// The batch's columns only, without constraints (the table's own
		// columns, such as _row_id SERIAL, are filled by the merge).
		if _, err := tx.Exec(ctx, "CREATE TEMPORARY TABLE "+temp+" ON COMMIT DROP AS SELECT "+quotedList(w.names)+" FROM "+p.qualified(w.t)+" WITH NO DATA"); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{temp}, w.names, pgx.CopyFromRows(w.rows)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, p.mergeQuery(w.t, temp, w.names)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// mergeQuery moves the temporary table's rows into the table: on a
// primary key already there, updating its row (upsert) or keeping it.
func (p *Postgres) mergeQuery(t *pgTable, temp string, names []string) string {
	var set []string
	for _, n := range names {
		if !p.isPK[n] {
			set = append(set, ident(n)+" = EXCLUDED."+ident(n))
		}
	}
	cols := quotedList(names)
	q := "INSERT INTO " + p.qualified(t) + " (" + cols + ") SELECT " + cols + " FROM " + temp + " ON CONFLICT "
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
func (p *Postgres) ensureSchema(ctx context.Context, t *pgTable, names []string, types map[string]string) error {
	if !p.cfg.SchemaAutoUpdate {
		return nil
	}
	table := p.qualified(t)
	if !t.created {
		q := "CREATE TABLE IF NOT EXISTS " + table + " (" + ident(TimestampColumn) + " TIMESTAMP NOT NULL, " + ident(KeyColumn) + " TEXT)"
		if !p.cfg.IncludeMetadata {
			q = "CREATE TABLE IF NOT EXISTS " + table + " (_row_id SERIAL)"
		}
		if _, err := p.conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("create table %s: %w", table, err)
		}
		t.created = true
	}
	for _, n := range names {
		if t.columns[n] || types[n] == "" {
			continue
		}
		if _, err := p.conn.Exec(ctx, "ALTER TABLE "+table+" ADD COLUMN IF NOT EXISTS "+ident(n)+" "+types[n]); err != nil {
			return fmt.Errorf("add column %s of %s: %w", n, table, err)
		}
		t.columns[n] = true
	}
	if t.pkDone || len(p.cfg.PrimaryKeys) == 0 {
		return nil
	}
	rows, err := p.conn.Query(ctx, `SELECT kcu.column_name FROM information_schema.table_constraints tc
		JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name
		WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_name = $1 AND tc.table_schema = $2`, t.name, p.cfg.Schema)
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
		return fmt.Errorf("the table %s has the primary key %v, not %v", table, current, p.cfg.PrimaryKeys)
	default:
		pks := make([]string, len(p.cfg.PrimaryKeys))
		for i, k := range p.cfg.PrimaryKeys {
			if types[k] == "" {
				return fmt.Errorf("primary key column %q has no value to take its type from", k)
			}
			pks[i] = ident(k)
		}
		if _, err := p.conn.Exec(ctx, "ALTER TABLE "+table+" ADD PRIMARY KEY ("+strings.Join(pks, ", ")+")"); err != nil {
			return fmt.Errorf("set the primary key of %s: %w", table, err)
		}
	}
	t.pkDone = true
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
