package tests

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/qstar-dev/qstar/internal/pgtest"
	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/runtime"
)

// lookupStarTests are Quix Streams v3.25.0's test_lookup.py cases
// (test_join_lookup_enriches_value, _on_column, _on_callable) with the
// same inputs and lookup keys. The Python tests enrich from a DummyLookup
// subclass, which a script cannot define; here the same values come from
// a SQLite table through SQLiteLookupQueryField (a row is a tuple), and
// the expected values are those tuples.
const lookupStarTests = `
from quixstreams import Application
from quixstreams.dataframe.joins.lookups import SQLiteLookup, SQLiteLookupField, SQLiteLookupQueryField

app = Application(consumer_group="lookups")
lookup = SQLiteLookup(%q)

def fields():
    return {
        "foo": SQLiteLookupQueryField("SELECT foo FROM dummy WHERE k = :lookup_key"),
        "num": SQLiteLookupQueryField("SELECT num FROM dummy WHERE k = :lookup_key"),
    }

def test_join_lookup_enriches_value():
    # The query reads the lookup key from the value, as the on= key.
    sdf = app.dataframe(app.topic("in1")).update(lambda v: v.update(lookup_key = "key1" if v["k"] == 1 else "key2"))
    sdf = sdf.join_lookup(lookup, fields(), on = None)
    assert.eq(sdf.test({"k": 1}, "key1", 123456)[0][0], {"k": 1, "lookup_key": "key1", "foo": ("foo",), "num": (123,)})
    assert.eq(sdf.test({"k": 2}, "key2", 123456)[0][0], {"k": 2, "lookup_key": "key2", "foo": ("bar",), "num": (456,)})

def test_join_lookup_on_column():
    sdf = app.dataframe(app.topic("in2"))
    sdf = sdf.join_lookup(lookup, {"row": SQLiteLookupField(table = "dummy", columns = ["foo", "num"], on = "k")}, on = "custom_key")
    assert.eq(sdf.test({"custom_key": "custom_key_1"}, "key1", 123456)[0][0], {"custom_key": "custom_key_1", "row": {"foo": "foo", "num": 123}})
    assert.eq(sdf.test({"custom_key": "custom_key_2"}, "key2", 123456)[0][0], {"custom_key": "custom_key_2", "row": {"foo": "bar", "num": 456}})

def test_join_lookup_on_callable():
    def on(value, key):
        if key == "key1":
            return "custom_key_1"
        elif key == "key2":
            return "custom_key_2"
        return None
    sdf = app.dataframe(app.topic("in3"))
    sdf = sdf.join_lookup(lookup, {"row": SQLiteLookupField(table = "dummy", columns = ["foo", "num"], on = "k", default = "none")}, on = on)
    assert.eq(sdf.test({}, "key1", 123456)[0][0], {"row": {"foo": "foo", "num": 123}})
    assert.eq(sdf.test({}, "key2", 123456)[0][0], {"row": {"foo": "bar", "num": 456}})
    assert.eq(sdf.test({}, "key3", 123456)[0][0], {"row": "none"})

def test_join_lookup_direct():
    # lookup.join() and cache_info(), as the Python tests call them.
    f = {"f": SQLiteLookupField(table = "dummy", columns = ["num"], on = "k")}
    value = {}
    lookup.join(f, "custom_key_1", value)
    assert.eq(value, {"f": {"num": 123}})

def test_join_lookup_errors():
    sdf = app.dataframe(app.topic("in4"))
    assert.fails(lambda: SQLiteLookupField(table = "dummy;DROP TABLE dummy", columns = ["foo"], on = "k"), "Invalid SQL identifier")
    assert.fails(lambda: SQLiteLookupField(table = "dummy", columns = ["*"], on = "k"), "Using '\\*' in columns is not allowed")
    assert.fails(lambda: sdf.join_lookup(lookup, {"x": 1}), "must be a SQLiteLookup field")
    enriched = sdf.join_lookup(lookup, {"row": SQLiteLookupField(table = "dummy", columns = ["foo"], on = "k")}, on = "missing")
    assert.fails(lambda: enriched.test({"a": 1}, "key1", 0), "the lookup key column")
    assert.fails(lambda: enriched.test([1], "key1", 0), "enriches dict values")
`

func sqliteDummy(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dummy.sqlite")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE TABLE dummy (k TEXT, foo TEXT, num INTEGER)",
		"INSERT INTO dummy VALUES ('key1', 'foo', 123), ('key2', 'bar', 456), ('custom_key_1', 'foo', 123), ('custom_key_2', 'bar', 456)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestJoinLookupStar runs the join_lookup cases through sdf.test().
func TestJoinLookupStar(t *testing.T) {
	file := filepath.Join(t.TempDir(), "test_lookups.star")
	if err := os.WriteFile(file, []byte(fmt.Sprintf(lookupStarTests, sqliteDummy(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	results, err := runtime.RunTestFile(file, nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 5 {
		t.Errorf("%d tests ran, want 5", len(results))
	}
	for _, r := range results {
		if r.Err != nil {
			t.Errorf("%s: %s", r.Name, r.Failure)
		}
	}
}

// TestJoinLookupPostgres runs a job through the embedded broker that
// enriches 2,000 orders from a customers table on a real PostgreSQL
// server (PostgresLookup) and checks every output against the table.
func TestJoinLookupPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	if err := srv.Exec("CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, tier INTEGER, score DOUBLE PRECISION)"); err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 100; c++ {
		if err := srv.Exec("INSERT INTO customers VALUES ($1, $2, $3, $4)", fmt.Sprintf("c%03d", c), fmt.Sprintf("customer %d", c), c%3, float64(c)/4); err != nil {
			t.Fatal(err)
		}
	}
	addr := startBroker(t)
	ensureTopics(t, addr, kafka.TopicSpec{Name: "orders", NumPartitions: 4, ReplicationFactor: 1})
	var orders []joinInput
	for o := 0; o < 2000; o++ {
		orders = append(orders, joinInput{"orders", fmt.Sprintf("o%d", o), map[string]any{"order": o, "customer": fmt.Sprintf("c%03d", o%110)}, int64(1000 + o)})
	}
	produceJoinInputs(t, addr, orders)
	job := fmt.Sprintf(`
app = Application(consumer_group="pg-lookup", auto_offset_reset="earliest")
lookup = PostgresLookup(host=%q, port=%d, dbname=%q, user=%q, password=%q)
fields = {
    "customer_row": lookup.field(table="customers", columns=["name", "tier", "score"], on="id", default={}),
    "tier_name": lookup.query_field("SELECT CASE WHEN tier = 0 THEN 'gold' ELSE 'other' END FROM customers WHERE id = %%(customer)s", default=("unknown",)),
}
sdf = app.dataframe(app.topic("orders")).join_lookup(lookup, fields, on="customer")
sdf.to_topic(app.topic("enriched"))
app.run()
`, srv.Host, srv.Port, srv.DBName, srv.User, srv.Password)
	runUntilIdle(t, job, addr, t.TempDir())
	got := consumeTopic(t, addr, "enriched")
	if len(got) != len(orders) {
		t.Fatalf("%d enriched orders, want %d", len(got), len(orders))
	}
	for _, r := range got {
		var v struct {
			Order       int
			Customer    string
			CustomerRow map[string]any `json:"customer_row"`
			TierName    []string       `json:"tier_name"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		var c int
		fmt.Sscanf(v.Customer, "c%d", &c)
		if c >= 100 {
			if len(v.CustomerRow) != 0 || strings.Join(v.TierName, "") != "unknown" {
				t.Errorf("order %d of unknown customer %s: %s", v.Order, v.Customer, r.Value)
			}
			continue
		}
		want := map[string]any{"name": fmt.Sprintf("customer %d", c), "tier": float64(c % 3), "score": float64(c) / 4}
		tier := "other"
		if c%3 == 0 {
			tier = "gold"
		}
		if fmt.Sprint(v.CustomerRow) != fmt.Sprint(want) || strings.Join(v.TierName, "") != tier {
			t.Errorf("order %d: %s, want customer_row %v and tier_name [%s]", v.Order, r.Value, want, tier)
		}
	}
}
