// Package lookup enriches records with rows of a database, for
// sdf.join_lookup: Quix Streams 3.18's SQLiteLookup and PostgresLookup,
// with their fields, SQL and per-field TTL caches.
//
// A Lookup is configured when the script loads and connects at its first
// use (the script's load does no I/O). It is shared by every task: its
// connection pool and cache are safe for concurrent use. SQLite files are
// opened read-only, through github.com/mattn/go-sqlite3 (the SQLite C
// library, linked with cgo); PostgreSQL through github.com/jackc/pgx/v5.
package lookup

import (
	"container/list"
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/serde"
)

// Field is what one enriched column of a record gets: a ColumnField or
// a QueryField.
type Field interface {
	// cacheTTL is how long a result is cached; <= 0: not cached.
	cacheTTL() time.Duration
}

// Options are what every field takes: how long its results are cached
// (TTL <= 0: not cached), its value when no row matches, and whether only
// the first row is read.
type Options struct {
	TTL            time.Duration
	Default        starlark.Value
	FirstMatchOnly bool
}

func (o Options) cacheTTL() time.Duration { return o.TTL }

// ColumnField selects Columns of the rows of Table whose On column equals
// the lookup key (SQLiteLookupField, PostgresLookupField). A row becomes
// a dict of the columns; without a row the field is Default. With
// FirstMatchOnly false, every row comes, as a list of dicts.
type ColumnField struct {
	Table   string
	Columns []string
	On      string
	// OrderBy orders the rows (by a column) in Direction, "ASC" or "DESC".
	OrderBy   string
	Direction string
	// Schema is PostgreSQL's ("public" by default); SQLite has none.
	Schema string
	Options
}

// QueryField runs Query with parameters from the record's value
// (SQLite's :name, PostgreSQL's %(name)s): a row becomes a tuple of its
// values; without a row the field is Default. With FirstMatchOnly false,
// every row comes, as a list of tuples. The lookup key only keys the
// cache.
type QueryField struct {
	Query string
	Options
}

var identifier = regexp.MustCompile(`^\w+$`)

// Validate checks the field's identifiers, which go into the SQL
// unquoted (SQLite) or quoted (PostgreSQL), as Quix Streams does: only
// letters, digits and underscores.
func (f *ColumnField) Validate(kind string) error {
	for _, c := range f.Columns {
		if c == "*" {
			return fmt.Errorf("ValueError: Using '*' in columns is not allowed for %s.", kind)
		}
	}
	if f.Direction == "" {
		f.Direction = "ASC"
	}
	ids := append([]string{f.Table, f.On}, f.Columns...)
	if f.OrderBy != "" {
		ids = append(ids, f.OrderBy, f.Direction)
	}
	if f.Schema != "" {
		ids = append(ids, f.Schema)
	}
	for _, id := range ids {
		if !identifier.MatchString(id) {
			return fmt.Errorf("ValueError: Invalid SQL identifier: %s", id)
		}
	}
	if f.Direction != "ASC" && f.Direction != "DESC" {
		return fmt.Errorf("ValueError: order_by_direction must be \"ASC\" or \"DESC\", not %q", f.Direction)
	}
	return nil
}

// NamedField is a field and the column of the record it fills.
type NamedField struct {
	Name  string
	Field Field
}

// dialect is how a database spells the fields' SQL.
type dialect interface {
	name() string
	open() (*sql.DB, error)
	columnQuery(f *ColumnField) string
	// queryParams rewrites a QueryField's query with positional
	// parameters and returns their names, in order.
	queryParams(query string) (string, []string, error)
	value(v any) (starlark.Value, error)
}

// Lookup is a database to enrich records from, with an LRU cache of
// results keyed by field and lookup key.
type Lookup struct {
	d dialect

	openOnce sync.Once
	db       *sql.DB
	openErr  error
	closed   atomic.Bool

	mu     sync.Mutex
	size   int
	lru    *list.List // of *cached, most recent first
	byKey  map[cacheKey]*list.Element
	hits   int
	misses int
}

type cacheKey struct{ field, on string }

type cached struct {
	key   cacheKey
	at    time.Time
	value starlark.Value
}

func newLookup(d dialect, cacheSize int) *Lookup {
	if cacheSize <= 0 {
		cacheSize = 1000
	}
	return &Lookup{d: d, size: cacheSize, lru: list.New(), byKey: map[cacheKey]*list.Element{}}
}

// conn opens the database at the first use.
func (l *Lookup) conn() (*sql.DB, error) {
	if l.closed.Load() {
		return nil, fmt.Errorf("%s: the lookup is closed", l.d.name())
	}
	l.openOnce.Do(func() {
		l.db, l.openErr = l.d.open()
		if l.openErr != nil {
			l.openErr = fmt.Errorf("%s: %w", l.d.name(), l.openErr)
		}
	})
	if l.db == nil && l.openErr == nil { // Close came first
		return nil, fmt.Errorf("%s: the lookup is closed", l.d.name())
	}
	return l.db, l.openErr
}

// Close closes the connections.
func (l *Lookup) Close() error {
	l.closed.Store(true)
	l.openOnce.Do(func() {}) // waits for an open under way; none starts after
	if l.db != nil {
		return l.db.Close()
	}
	return nil
}

// CacheInfo is the cache's statistics, as Quix Streams' cache_info().
type CacheInfo struct{ Hits, Misses, Size, MaxSize int }

// CacheInfo returns the cache's statistics.
func (l *Lookup) CacheInfo() CacheInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return CacheInfo{Hits: l.hits, Misses: l.misses, Size: l.lru.Len(), MaxSize: l.size}
}

// Join sets value[name] for each field: the field's result for the
// lookup key on, from the cache while it is younger than the field's TTL,
// else from the database.
func (l *Lookup) Join(ctx context.Context, fields []NamedField, on starlark.Value, value *starlark.Dict) error {
	now := time.Now()
	for _, nf := range fields {
		ttl := nf.Field.cacheTTL()
		if ttl <= 0 {
			v, err := l.query(ctx, nf.Field, on, value)
			if err != nil {
				return err
			}
			if err := value.SetKey(starlark.String(nf.Name), v); err != nil {
				return err
			}
			continue
		}
		key := cacheKey{nf.Name, on.String()}
		v, ok := l.cached(key, ttl, now)
		if !ok {
			var err error
			if v, err = l.query(ctx, nf.Field, on, value); err != nil {
				return err
			}
			l.store(key, v, now)
		}
		if err := value.SetKey(starlark.String(nf.Name), copyValue(v)); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lookup) cached(key cacheKey, ttl time.Duration, now time.Time) (starlark.Value, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byKey[key]; ok {
		c := e.Value.(*cached)
		if now.Sub(c.at) < ttl {
			l.hits++
			l.lru.MoveToFront(e)
			return c.value, true
		}
	}
	l.misses++
	return nil, false
}

func (l *Lookup) store(key cacheKey, v starlark.Value, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v = copyValue(v)
	if e, ok := l.byKey[key]; ok {
		c := e.Value.(*cached)
		c.at, c.value = now, v
		l.lru.MoveToFront(e)
		return
	}
	l.byKey[key] = l.lru.PushFront(&cached{key: key, at: now, value: v})
	if l.lru.Len() > l.size {
		last := l.lru.Back()
		l.lru.Remove(last)
		delete(l.byKey, last.Value.(*cached).key)
	}
}

// query runs a field's SQL.
func (l *Lookup) query(ctx context.Context, f Field, on starlark.Value, value *starlark.Dict) (starlark.Value, error) {
	db, err := l.conn()
	if err != nil {
		return nil, err
	}
	switch f := f.(type) {
	case *ColumnField:
		arg, err := goValue(on)
		if err != nil {
			return nil, fmt.Errorf("%s: the lookup key: %w", l.d.name(), err)
		}
		rows, err := db.QueryContext(ctx, l.d.columnQuery(f), arg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.d.name(), err)
		}
		return l.collect(rows, f.FirstMatchOnly, f.Default, func(vals []starlark.Value) starlark.Value {
			d := starlark.NewDict(len(vals))
			for i, v := range vals {
				_ = d.SetKey(starlark.String(f.Columns[i]), v)
			}
			return d
		})
	case *QueryField:
		q, names, err := l.d.queryParams(f.Query)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.d.name(), err)
		}
		args := make([]any, len(names))
		for i, n := range names {
			v, found, err := value.Get(starlark.String(n))
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, fmt.Errorf("%s: ProgrammingError: You did not supply a value for binding parameter %s (the record has no column %q)", l.d.name(), n, n)
			}
			if args[i], err = goValue(v); err != nil {
				return nil, fmt.Errorf("%s: parameter %s: %w", l.d.name(), n, err)
			}
		}
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", l.d.name(), err)
		}
		return l.collect(rows, f.FirstMatchOnly, f.Default, func(vals []starlark.Value) starlark.Value { return starlark.Tuple(vals) })
	}
	return nil, fmt.Errorf("lookup: unknown field %T", f)
}

// collect reads rows: the first one (or def) when first, else a list of
// every one.
func (l *Lookup) collect(rows *sql.Rows, first bool, def starlark.Value, row func([]starlark.Value) starlark.Value) (starlark.Value, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var all []starlark.Value
	for rows.Next() {
		raw := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("%s: %w", l.d.name(), err)
		}
		vals := make([]starlark.Value, len(raw))
		for i, r := range raw {
			if vals[i], err = l.d.value(r); err != nil {
				return nil, fmt.Errorf("%s: column %s: %w", l.d.name(), cols[i], err)
			}
		}
		all = append(all, row(vals))
		if first {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", l.d.name(), err)
	}
	if first {
		if len(all) == 0 {
			if def == nil {
				return starlark.None, nil
			}
			return def, nil
		}
		return all[0], nil
	}
	return starlark.NewList(all), nil
}

// goValue converts a Starlark parameter for the driver.
func goValue(v starlark.Value) (any, error) {
	if x, ok, err := serde.GoScalar(v); ok {
		return x, err
	}
	return nil, fmt.Errorf("a %s cannot be an SQL parameter (want None, bool, int, float, str or bytes)", v.Type())
}

// copyValue copies the dicts, lists and tuples of a result, so that a
// record's changes to its enrichment never reach the cache.
func copyValue(v starlark.Value) starlark.Value {
	switch v := v.(type) {
	case *starlark.Dict:
		d := starlark.NewDict(v.Len())
		for _, kv := range v.Items() {
			_ = d.SetKey(kv[0], copyValue(kv[1]))
		}
		return d
	case *starlark.List:
		out := make([]starlark.Value, v.Len())
		for i := range out {
			out[i] = copyValue(v.Index(i))
		}
		return starlark.NewList(out)
	case starlark.Tuple:
		out := make(starlark.Tuple, len(v))
		for i, e := range v {
			out[i] = copyValue(e)
		}
		return out
	}
	return v
}

// scanParams rewrites a query's named parameters, found by match (outside
// quoted strings and identifiers when quotes: SQLite parses them so;
// psycopg2's % formatting does not), into positional ones spelled by
// placeholder(n) (1-based; nil: PostgreSQL's $n), and returns their names.
// A match named "%" is PostgreSQL's escaped %, written as one.
func scanParams(query string, quotes bool, match func(s string) (name string, n int), placeholder func(n int) string) (string, []string) {
	if placeholder == nil {
		placeholder = func(n int) string { return "$" + strconv.Itoa(n) }
	}
	var b strings.Builder
	var names []string
	for i := 0; i < len(query); {
		c := query[i]
		if quotes && (c == '\'' || c == '"') {
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				b.WriteString(query[i:])
				break
			}
			b.WriteString(query[i : i+j+2])
			i += j + 2
			continue
		}
		if name, n := match(query[i:]); n > 0 {
			if name == "%" {
				b.WriteByte('%')
				i += n
				continue
			}
			names = append(names, name)
			b.WriteString(placeholder(len(names)))
			i += n
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), names
}
