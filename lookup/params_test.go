package lookup

import (
	"reflect"
	"testing"
)

// TestQueryParams pins the rewriting of QueryField parameters into
// positional ones: SQLite's outside quotes only (SQLite parses them so),
// PostgreSQL's everywhere with %% as a literal % (psycopg2 formats the
// whole string).
func TestQueryParams(t *testing.T) {
	for _, c := range []struct {
		d       dialect
		in, out string
		names   []string
	}{
		{sqliteDialect{}, "SELECT a FROM t WHERE b = :x AND c = @y AND d = ':z'", "SELECT a FROM t WHERE b = ? AND c = ? AND d = ':z'", []string{"x", "y"}},
		{postgresDialect{}, "SELECT a FROM t WHERE b = %(x)s AND c LIKE 'p%%' AND d = %(y)s", "SELECT a FROM t WHERE b = $1 AND c LIKE 'p%' AND d = $2", []string{"x", "y"}},
		{postgresDialect{}, "SELECT a || '%%(x)s' FROM t WHERE c LIKE %(pat)s || %%(x)s", "SELECT a || '%(x)s' FROM t WHERE c LIKE $1 || %(x)s", []string{"pat"}},
	} {
		out, names, err := c.d.queryParams(c.in)
		if err != nil || out != c.out || !reflect.DeepEqual(names, c.names) {
			t.Errorf("%s:\n got %q %v %v\nwant %q %v", c.in, out, names, err, c.out, c.names)
		}
	}
}
