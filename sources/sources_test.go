package sources

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/record"
)

// csvRows reads every row from pos and returns them ("a=1 b=x" each)
// and the position after them.
func csvRows(t *testing.T, c *CSV, pos []byte, limit int) ([]string, []byte) {
	t.Helper()
	r, err := c.Open(pos)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for len(out) < limit {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(rec.Value))
	}
	return out, r.Position()
}

func joinRow(names, fields []string, _ string) (*record.Record, error) {
	var parts []string
	for i, n := range names {
		v := "None"
		if i < len(fields) {
			v = fields[i]
		}
		parts = append(parts, n+"="+v)
	}
	return &record.Record{Value: []byte(strings.Join(parts, " "))}, nil
}

// TestCSVResume: a CSV source read in two parts, the second from the
// first's position, reads every row once, quoted fields with line breaks
// included; a missing field is None (Python's DictReader), an extra one
// an error naming the line.
func TestCSVResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	data := "a,b\r\n1,x\r\n2,\"y\r\nz\"\r\n\r\n3\r\n4,w\r\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &CSV{Path: path, Convert: joinRow}
	first, pos := csvRows(t, c, nil, 2)
	rest, end := csvRows(t, c, pos, 100)
	got := strings.Join(append(first, rest...), " | ")
	if want := "a=1 b=x | a=2 b=y\nz | a=3 b=None | a=4 b=w"; got != want {
		t.Errorf("rows %q, want %q", got, want)
	}
	if none, _ := csvRows(t, c, end, 100); len(none) != 0 {
		t.Errorf("from the end position, read %q", none)
	}
	if err := os.WriteFile(path, []byte("a\n1\n2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := c.Open(nil)
	defer r.Close()
	_, _ = r.Next()
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), path+":3: 2 fields") {
		t.Errorf("extra field: %v", err)
	}
	if _, err := c.Open(end); err == nil || !strings.Contains(err.Error(), "past the end") {
		t.Errorf("a position past a replaced file's end: %v", err)
	}
}

// TestFilesResume: the JSON Lines files of a directory, recursively in
// name order (gzip ones too), read in parts from positions: every line
// once.
func TestFilesResume(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if strings.HasSuffix(name, ".gz") {
			fh, _ := os.Create(p)
			z := gzip.NewWriter(fh)
			_, _ = z.Write([]byte(text))
			_ = z.Close()
			_ = fh.Close()
			return
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("t/0/0000.jsonl", "1\n2\n\n3")
	write("t/0/0003.jsonl.gz", "4\n5\n")
	write("t/1/0000.jsonl", "6\n")
	write("t/1/0001.jsonl.tmp", "never\n")
	f := &Files{Path: dir, Convert: func(line []byte, where string) (*record.Record, error) {
		return &record.Record{Value: append([]byte(nil), line...), Key: []byte(where)}, nil
	}}
	var got []string
	var pos []byte
	for step := 0; step < 10; step++ {
		r, err := f.Open(pos)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			r.Close()
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(rec.Value))
		if step == 0 && !strings.HasSuffix(string(rec.Key), "0000.jsonl:1") {
			t.Errorf("where = %q", rec.Key)
		}
		pos = r.Position()
		r.Close()
	}
	if fmt.Sprint(got) != "[1 2 3 4 5 6]" {
		t.Errorf("lines %v, want [1 2 3 4 5 6], each once", got)
	}
}

// gapReader returns its records with a "nothing yet" between two, then
// waits (nothing yet) for ever.
type gapReader struct {
	recs []*record.Record
	gap  bool
	pos  int
}

func (r *gapReader) Next() (*record.Record, error) {
	if r.gap = !r.gap; r.gap || r.pos == len(r.recs) {
		time.Sleep(time.Millisecond)
		return nil, nil
	}
	r.pos++
	return r.recs[r.pos-1], nil
}
func (r *gapReader) Position() []byte { return []byte(fmt.Sprint(r.pos)) }
func (r *gapReader) Close() error     { return nil }

type gapSource struct{ r *gapReader }

func (s gapSource) String() string              { return "gaps" }
func (s gapSource) Open([]byte) (Reader, error) { return s.r, nil }

// txnLog records a producer's committed transactions.
type txnLog struct {
	open      []*record.Record
	committed [][]*record.Record
	commits   chan struct{}
}

func (p *txnLog) BeginTransaction() error        { p.open = nil; return nil }
func (p *txnLog) Produce(r *record.Record) error { p.open = append(p.open, r); return nil }
func (p *txnLog) Flush(time.Duration) error      { return nil }
func (p *txnLog) AbortTransaction() error        { p.open = nil; return nil }
func (p *txnLog) CommitTransaction() error {
	p.committed = append(p.committed, p.open)
	p.commits <- struct{}{}
	return nil
}

// TestRunnerCommitsWhenNothingComes: a reader with nothing yet (a Kafka
// topic) has what it returned committed at once, with its position, not
// held until the commit interval; an idle reader commits nothing, and
// its runner is not Busy; kept partitions stay.
func TestRunnerCommitsWhenNothingComes(t *testing.T) {
	recs := []*record.Record{{Partition: 2, Value: []byte("a")}, {Partition: 1, Value: []byte("b")}}
	p := &txnLog{commits: make(chan struct{}, 10)}
	r := &Runner{Source: gapSource{&gapReader{recs: recs}}, Topic: "out", StateTopic: "state", Producer: p,
		CommitInterval: time.Hour, KeepPartitions: true}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	for i := 0; i < 2; i++ {
		select {
		case <-p.commits:
		case <-time.After(10 * time.Second):
			t.Fatalf("transaction %d was not committed", i+1)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); r.Busy(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the runner is busy with nothing left to read")
		}
	}
	time.Sleep(50 * time.Millisecond) // idle: no transaction
	cancel()
	<-p.commits // the stop commits the position
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, txn := range p.committed {
		var s []string
		for _, rec := range txn {
			s = append(s, fmt.Sprintf("%s[%d]=%s", rec.Topic, rec.Partition, rec.Value))
		}
		got = append(got, strings.Join(s, " "))
	}
	want := []string{"out[2]=a state[0]=1", "out[1]=b state[0]=2", "state[0]=2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("transactions %q, want %q", got, want)
	}
}
