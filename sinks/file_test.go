package sinks

import (
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// cols is a dict value: names and values alternating.
func cols(kv ...any) *Columns {
	c := &Columns{}
	for i := 0; i < len(kv); i += 2 {
		c.Names = append(c.Names, kv[i].(string))
		c.Values = append(c.Values, kv[i+1])
	}
	return c
}

func items(from, to int64, value func(i int64) any) []Item {
	var out []Item
	for i := from; i < to; i++ {
		out = append(out, Item{Key: "k", Value: value(i), Timestamp: 1000 + i, Offset: i})
	}
	return out
}

func readDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFileJSON: a file per batch, named by its first offset, in
// directory/topic/partition (unsafe characters in the topic replaced), in
// Quix Streams' JSON Lines layout.
func TestFileJSON(t *testing.T) {
	dir := t.TempDir()
	f, err := NewFile(FileConfig{Directory: dir, Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	row := func(i int64) any { return cols("n", i, "s", "é\"") }
	for _, b := range []*Batch{{Topic: "a:b", Partition: 3, Items: items(5, 7, row)}, {Topic: "a:b", Partition: 3, Items: items(7, 8, row)}} {
		if err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	pdir := filepath.Join(dir, "a_b", "3")
	if got, want := readDir(t, pdir), []string{"0000000000000000005.jsonl", "0000000000000000007.jsonl"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	want := `{"_timestamp":1005,"_key":"k","_value":{"n":5,"s":"é\""}}` + "\n" + `{"_timestamp":1006,"_key":"k","_value":{"n":6,"s":"é\""}}` + "\n"
	if got := readFile(t, filepath.Join(pdir, "0000000000000000005.jsonl")); got != want {
		t.Errorf("file holds\n%s\nwant\n%s", got, want)
	}
	// A batch written again (a restart before the commit) replaces its file.
	if err := f.Write(&Batch{Topic: "a:b", Partition: 3, Items: items(7, 9, row)}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(readFile(t, filepath.Join(pdir, "0000000000000000007.jsonl")), "\n"); got != 2 {
		t.Errorf("rewritten batch file has %d lines, want 2", got)
	}
	if _, err := NewFile(FileConfig{Directory: "a:b", Format: "json"}); err == nil {
		t.Error("a directory with ':' was accepted")
	}
	if _, err := NewFile(FileConfig{Format: "xml"}); err == nil || !strings.Contains(err.Error(), "json, parquet") {
		t.Errorf("format xml: %v", err)
	}
	if _, err := NewFile(FileConfig{Format: "parquet", Append: true}); err == nil || !strings.Contains(err.Error(), "does not support appending") {
		t.Errorf("parquet append: %v", err)
	}
}

// TestFileAppendRolls: append mode adds to the partition's last file
// until it holds MaxFileBytes, then starts a file named by the next
// offset; a batch larger than that is split; a torn last line is cut
// before the first append.
func TestFileAppendRolls(t *testing.T) {
	dir := t.TempDir()
	f, err := NewFile(FileConfig{Directory: dir, Format: "json", Append: true, MaxFileBytes: 150})
	if err != nil {
		t.Fatal(err)
	}
	val := func(i int64) any { return i } // each line is 43 bytes
	pdir := filepath.Join(dir, "t", "0")
	if err := os.MkdirAll(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	torn := `{"_timestamp":999,"_key":"k","_value":-1}` + "\n" + `{"_timest`
	if err := os.WriteFile(filepath.Join(pdir, "0000000000000000000.jsonl"), []byte(torn), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, b := range [][2]int64{{1, 3}, {3, 9}} {
		if err := f.Write(&Batch{Topic: "t", Partition: 0, Items: items(b[0], b[1], val)}); err != nil {
			t.Fatal(err)
		}
	}
	files := readDir(t, pdir)
	if want := []string{"0000000000000000000.jsonl", "0000000000000000004.jsonl", "0000000000000000008.jsonl"}; !reflect.DeepEqual(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	var values []int64
	for _, name := range files {
		for _, line := range strings.Split(strings.TrimSuffix(readFile(t, filepath.Join(pdir, name)), "\n"), "\n") {
			var rec struct {
				V int64 `json:"_value"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: %q: %v", name, line, err)
			}
			values = append(values, rec.V)
		}
	}
	if want := []int64{-1, 1, 2, 3, 4, 5, 6, 7, 8}; !reflect.DeepEqual(values, want) {
		t.Errorf("values %v, want %v", values, want)
	}
}

func TestFileJSONCompressed(t *testing.T) {
	dir := t.TempDir()
	f, err := NewFile(FileConfig{Directory: dir, Format: "json", Compress: true, Append: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][2]int64{{0, 2}, {2, 3}} {
		if err := f.Write(&Batch{Topic: "t", Partition: 1, Items: items(b[0], b[1], func(i int64) any { return "v" })}); err != nil {
			t.Fatal(err)
		}
	}
	fh, err := os.Open(filepath.Join(dir, "t", "1", "0000000000000000000.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), `"_value":"v"`); got != 3 {
		t.Errorf("%d records read back, want 3:\n%s", got, b)
	}
}

// TestFileParquet: a Parquet file per batch with _timestamp, _key and the
// union of the values' columns (missing ones null, int and float as
// DOUBLE, dicts as JSON); values of two kinds in one column are refused.
func TestFileParquet(t *testing.T) {
	dir := t.TempDir()
	f, err := NewFile(FileConfig{Directory: dir, Format: "parquet", MaxFileBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := &Batch{Topic: "t", Partition: 0, Items: []Item{
		{Key: "a", Value: cols("n", int64(1), "x", 1.5), Timestamp: 10, Offset: 0},
		{Key: "b", Value: cols("n", 2.5, "s", "hi", "d", cols("z", true)), Timestamp: 11, Offset: 1},
	}}
	if err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	files := readDir(t, filepath.Join(dir, "t", "0"))
	if want := []string{"0000000000000000000.parquet"}; !reflect.DeepEqual(files, want) {
		t.Fatalf("files %v, want %v (a batch under one row group is one file)", files, want)
	}
	path := filepath.Join(dir, "t", "0", files[0])
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	pf, err := parquet.OpenFile(fh, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range pf.Schema().Columns() {
		names = append(names, c[0])
	}
	if want := []string{"_key", "_timestamp", "d", "n", "s", "x"}; !reflect.DeepEqual(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
	rows := make([]parquet.Row, 2)
	rr := pf.RowGroups()[0].Rows()
	n, _ := rr.ReadRows(rows)
	rr.Close()
	if n != 2 {
		t.Fatalf("read %d rows, want 2", n)
	}
	var got []string
	for _, row := range rows {
		var cells []string
		for _, v := range row {
			if v.IsNull() {
				cells = append(cells, "null")
			} else {
				cells = append(cells, v.String())
			}
		}
		got = append(got, strings.Join(cells, " "))
	}
	want := []string{"a 10 null 1 null 1.5", `b 11 {"z":true} 2.5 hi null`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n%q\nwant\n%q", got, want)
	}
	bad := &Batch{Topic: "t", Partition: 0, Items: []Item{{Key: "a", Value: cols("n", int64(1))}, {Key: "b", Value: cols("n", "x"), Offset: 1}}}
	if err := f.Write(bad); err == nil || !strings.Contains(err.Error(), `column "n" holds int and str`) {
		t.Errorf("mixed column: %v", err)
	}
}

// TestCSV is Quix Streams' test_write_success, and appending after a
// torn last line.
func TestCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sink.csv")
	c, err := NewCSV(path, "excel")
	if err != nil {
		t.Fatal(err)
	}
	for p := int32(0); p < 2; p++ {
		if err := c.Write(&Batch{Topic: "test-topic", Partition: p, Items: []Item{{Key: "key", Value: `"value"`, Timestamp: 1, Offset: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	readCSV := func() [][]string {
		fh, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		recs, err := csv.NewReader(fh).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	want := [][]string{
		{"key", "value", "timestamp", "topic", "partition", "offset"},
		{"key", `"value"`, "1", "test-topic", "0", "1"},
		{"key", `"value"`, "1", "test-topic", "1", "1"},
	}
	if got := readCSV(); !reflect.DeepEqual(got, want) {
		t.Fatalf("read\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(readFile(t, path), "key,\"\"\"value\"\"\",1,test-topic,0,1\r\n") {
		t.Errorf("not written as Python's excel dialect:\n%q", readFile(t, path))
	}
	// A crash in a write leaves a torn row: the next writer cuts it.
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = fh.WriteString("key,\"\"\"val")
	fh.Close()
	c2, _ := NewCSV(path, "excel")
	if err := c2.Write(&Batch{Topic: "test-topic", Partition: 0, Items: []Item{{Key: "k2", Value: "2", Timestamp: 3, Offset: 2}}}); err != nil {
		t.Fatal(err)
	}
	want = append(want, []string{"k2", "2", "3", "test-topic", "0", "2"})
	if got := readCSV(); !reflect.DeepEqual(got, want) {
		t.Errorf("after a torn row, read\n%q\nwant\n%q", got, want)
	}
	if _, err := NewCSV(path, "excel2"); err == nil {
		t.Error("an unknown dialect was accepted")
	}
}

// TestFileAppendRewindKeepsOrder: after a restart rewrites offsets the
// partition's files already hold, a rolled file is named after the last
// one, so reading the files in name order reads them in writing order.
func TestFileAppendRewindKeepsOrder(t *testing.T) {
	dir := t.TempDir()
	f, err := NewFile(FileConfig{Directory: dir, Format: "json", Append: true, MaxFileBytes: 40})
	if err != nil {
		t.Fatal(err)
	}
	val := func(i int64) any { return i }
	for _, b := range [][2]int64{{0, 3}, {1, 3}} {
		if err := f.Write(&Batch{Topic: "t", Partition: 0, Items: items(b[0], b[1], val)}); err != nil {
			t.Fatal(err)
		}
	}
	pdir := filepath.Join(dir, "t", "0")
	var values []string
	for _, name := range readDir(t, pdir) {
		values = append(values, strings.TrimSpace(readFile(t, filepath.Join(pdir, name)))[len(`{"_timestamp":1000,"_key":"k","_value":`):])
	}
	if got, want := strings.Join(values, " "), "0} 1} 2} 1} 2}"; got != want {
		t.Errorf("values in file order %q, want %q (files %v)", got, want, readDir(t, pdir))
	}
}
