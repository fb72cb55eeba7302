package builtins

import (
	"context"
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/lookup"
)

// Lookups for sdf.join_lookup (Quix Streams 3.18): SQLiteLookup and
// PostgresLookup with their field classes. A lookup is configured here
// and connects at its first use (package lookup); loading a script does
// no I/O.

// Lookup is the script's SQLiteLookup or PostgresLookup.
type Lookup struct {
	kind string // "SQLiteLookup" or "PostgresLookup"
	desc string
	l    *lookup.Lookup
}

// LookupField is a field of a lookup's kind: kind names its class.
type LookupField struct {
	kind   string // "SQLiteLookupField", ..., "PostgresLookupQueryField"
	lookup string // the kind of lookup it belongs to
	f      lookup.Field
}

var (
	_ starlark.HasAttrs = (*Lookup)(nil)
	_ starlark.Value    = (*LookupField)(nil)
)

func (l *Lookup) String() string        { return fmt.Sprintf("<%s %s>", l.kind, l.desc) }
func (l *Lookup) Type() string          { return l.kind }
func (l *Lookup) Freeze()               {}
func (l *Lookup) Truth() starlark.Bool  { return true }
func (l *Lookup) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", l.kind) }

func (f *LookupField) String() string        { return "<" + f.kind + ">" }
func (f *LookupField) Type() string          { return f.kind }
func (f *LookupField) Freeze()               {}
func (f *LookupField) Truth() starlark.Bool  { return true }
func (f *LookupField) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", f.kind) }

func (l *Lookup) Attr(name string) (starlark.Value, error) {
	switch name {
	case "join":
		return starlark.NewBuiltin(l.kind+".join", l.joinMethod), nil
	case "cache_info":
		return starlark.NewBuiltin(l.kind+".cache_info", l.cacheInfo), nil
	}
	if l.kind == "PostgresLookup" {
		switch name {
		case "field":
			return starlark.NewBuiltin("PostgresLookup.field", newPostgresField), nil
		case "query_field":
			return starlark.NewBuiltin("PostgresLookup.query_field", newPostgresQueryField), nil
		}
	}
	return nil, nil
}

func (l *Lookup) AttrNames() []string {
	if l.kind == "PostgresLookup" {
		return []string{"cache_info", "field", "join", "query_field"}
	}
	return []string{"cache_info", "join"}
}

// newLookups returns the lookup and field classes.
func lookupClasses() map[string]*starlark.Builtin {
	return map[string]*starlark.Builtin{
		"SQLiteLookup":             starlark.NewBuiltin("SQLiteLookup", newSQLiteLookup),
		"SQLiteLookupField":        starlark.NewBuiltin("SQLiteLookupField", newSQLiteField),
		"SQLiteLookupQueryField":   starlark.NewBuiltin("SQLiteLookupQueryField", newSQLiteQueryField),
		"PostgresLookup":           starlark.NewBuiltin("PostgresLookup", newPostgresLookup),
		"PostgresLookupField":      starlark.NewBuiltin("PostgresLookupField", newPostgresField),
		"PostgresLookupQueryField": starlark.NewBuiltin("PostgresLookupQueryField", newPostgresQueryField),
	}
}

// SQLiteLookup(path, cache_size=1000)
func newSQLiteLookup(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	size := 1000
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &path, "cache_size?", &size); err != nil {
		return nil, err
	}
	return closeWithScript(thread, &Lookup{kind: "SQLiteLookup", desc: path, l: lookup.NewSQLite(path, size)}), nil
}

// PostgresLookup(host, port, dbname, user, password,
// connection_timeout_seconds=30, statement_timeout_seconds=30, cache_size=1000)
func newPostgresLookup(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var c lookup.PostgresConfig
	connect, statement, size := 30, 30, 1000
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "host", &c.Host, "port", &c.Port, "dbname", &c.DBName, "user", &c.User, "password", &c.Password,
		"connection_timeout_seconds?", &connect, "statement_timeout_seconds?", &statement, "cache_size?", &size); err != nil {
		return nil, err
	}
	c.ConnectTimeout, c.StatementTimeout = time.Duration(connect)*time.Second, time.Duration(statement)*time.Second
	return closeWithScript(thread, &Lookup{kind: "PostgresLookup", desc: fmt.Sprintf("%s:%d/%s", c.Host, c.Port, c.DBName), l: lookup.NewPostgres(c, size)}), nil
}

// closeWithScript has the lookup's connections closed with the script
// that created it (runtime's Script.Close).
func closeWithScript(thread *starlark.Thread, l *Lookup) *Lookup {
	if r, err := registry(thread); err == nil {
		r.OnClose(func() { _ = l.l.Close() })
	}
	return l
}

// fieldOptions are the arguments every field takes:
// ttl=60.0, default=None, first_match_only=True.
type fieldOptions struct {
	ttl   starlark.Value
	def   starlark.Value
	first bool
}

func newFieldOptions() fieldOptions {
	return fieldOptions{ttl: starlark.Float(60), def: starlark.None, first: true}
}

// options checks the arguments and returns them as the lookup takes them.
func (o *fieldOptions) options(fn string) (lookup.Options, error) {
	f, ok := starlark.AsFloat(o.ttl)
	if !ok {
		return lookup.Options{}, fmt.Errorf("%s: ttl must be a number of seconds, not %s", fn, o.ttl.Type())
	}
	o.def.Freeze()
	return lookup.Options{TTL: time.Duration(f * float64(time.Second)), Default: o.def, FirstMatchOnly: o.first}, nil
}

func newColumnField(kind, lookupKind string, schema bool) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		f := &lookup.ColumnField{Direction: "ASC"}
		o := newFieldOptions()
		var columns *starlark.List
		params := []any{"table", &f.Table, "columns", &columns, "on", &f.On, "order_by?", &f.OrderBy, "order_by_direction?", &f.Direction}
		if schema {
			f.Schema = "public"
			params = append(params, "schema?", &f.Schema)
		}
		params = append(params, "ttl?", &o.ttl, "default?", &o.def, "first_match_only?", &o.first)
		if err := starlark.UnpackArgs(kind, args, kwargs, params...); err != nil {
			return nil, err
		}
		for i := 0; i < columns.Len(); i++ {
			s, ok := starlark.AsString(columns.Index(i))
			if !ok {
				return nil, fmt.Errorf("%s: columns must be str, got %s", kind, columns.Index(i).Type())
			}
			f.Columns = append(f.Columns, s)
		}
		if err := f.Validate(kind); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		var err error
		if f.Options, err = o.options(kind); err != nil {
			return nil, err
		}
		return &LookupField{kind: kind, lookup: lookupKind, f: f}, nil
	}
}

func newQueryField(kind, lookupKind string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		f := &lookup.QueryField{}
		o := newFieldOptions()
		if err := starlark.UnpackArgs(kind, args, kwargs, "query", &f.Query, "ttl?", &o.ttl, "default?", &o.def, "first_match_only?", &o.first); err != nil {
			return nil, err
		}
		var err error
		if f.Options, err = o.options(kind); err != nil {
			return nil, err
		}
		return &LookupField{kind: kind, lookup: lookupKind, f: f}, nil
	}
}

var (
	newSQLiteField        = newColumnField("SQLiteLookupField", "SQLiteLookup", false)
	newSQLiteQueryField   = newQueryField("SQLiteLookupQueryField", "SQLiteLookup")
	newPostgresField      = newColumnField("PostgresLookupField", "PostgresLookup", true)
	newPostgresQueryField = newQueryField("PostgresLookupQueryField", "PostgresLookup")
)

// fields reads join_lookup's fields: a dict of column name to a field of
// the lookup's kind.
func (l *Lookup) fields(fn string, v starlark.Value) ([]lookup.NamedField, error) {
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: fields must be a dict of column name to field, not %s", fn, v.Type())
	}
	var out []lookup.NamedField
	for _, kv := range d.Items() {
		name, ok := starlark.AsString(kv[0])
		if !ok {
			return nil, fmt.Errorf("%s: field names must be str, got %s", fn, kv[0].Type())
		}
		f, ok := kv[1].(*LookupField)
		if !ok || f.lookup != l.kind {
			return nil, fmt.Errorf("%s: field %q must be a %s field (%sField or %sQueryField), not %s", fn, name, l.kind, l.kind, l.kind, kv[1].Type())
		}
		out = append(out, lookup.NamedField{Name: name, Field: f.f})
	}
	return out, nil
}

// lookup.join(fields, on, value, key=None, timestamp=0, headers=None):
// enriches value in place, as in Quix Streams (here it runs the queries
// at once, outside a pipeline).
func (l *Lookup) joinMethod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fields, on, key, ts, headers starlark.Value = nil, nil, starlark.None, starlark.MakeInt(0), starlark.None
	var value *starlark.Dict
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fields", &fields, "on", &on, "value", &value, "key?", &key, "timestamp?", &ts, "headers?", &headers); err != nil {
		return nil, err
	}
	fs, err := l.fields(b.Name(), fields)
	if err != nil {
		return nil, err
	}
	if err := l.l.Join(context.Background(), fs, on, value); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// lookup.cache_info(): {"hits", "misses", "size", "maxsize"}.
func (l *Lookup) cacheInfo(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	i := l.l.CacheInfo()
	d := starlark.NewDict(4)
	for _, kv := range []struct {
		k string
		v int
	}{{"hits", i.Hits}, {"misses", i.Misses}, {"size", i.Size}, {"maxsize", i.MaxSize}} {
		_ = d.SetKey(starlark.String(kv.k), starlark.MakeInt(kv.v))
	}
	return d, nil
}

// sdfJoinLookup implements sdf.join_lookup(lookup, fields, on=None): each
// record's value (a dict) gets a column per field, from the lookup, by
// the lookup key: the message key (on=None), the value's column on (a
// str), or on(value, key) (a function).
func sdfJoinLookup(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var l *Lookup
	var fields, on starlark.Value = nil, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "lookup", &l, "fields", &fields, "on?", &on); err != nil {
		return nil, err
	}
	fs, err := l.fields(b.Name(), fields)
	if err != nil {
		return nil, err
	}
	var column string
	var fn starlark.Callable
	switch on := on.(type) {
	case starlark.NoneType:
	case starlark.String:
		column = string(on)
	case starlark.Callable:
		fn = on
	default:
		return nil, fmt.Errorf("%s: on must be None, a column name or a function (value, key), not %s", b.Name(), on.Type())
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	desc := fmt.Sprintf("%s, fields %q", l, names)
	ll := l.l
	return d.then(thread, engine.LookupJoin(desc, column, fn, func(key starlark.Value, value *starlark.Dict) error {
		return ll.Join(context.Background(), fs, key, value)
	})), nil
}
