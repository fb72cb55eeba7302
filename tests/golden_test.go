package tests

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/runtime"
)

var update = flag.Bool("update", false, "rewrite the want sections of golden files")

// archive is a txtar file: a comment, then "-- name --" sections.
type archive struct {
	comment string
	files   []archiveFile
}

type archiveFile struct {
	name string
	data string
}

func parseArchive(s string) archive {
	var a archive
	var cur *archiveFile
	for _, line := range strings.SplitAfter(s, "\n") {
		t := strings.TrimRight(line, "\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			a.files = append(a.files, archiveFile{name: t[3 : len(t)-3]})
			cur = &a.files[len(a.files)-1]
			continue
		}
		if cur == nil {
			a.comment += line
		} else {
			cur.data += line
		}
	}
	return a
}

func (a archive) get(name string) (string, bool) {
	for _, f := range a.files {
		if f.name == name {
			return f.data, true
		}
	}
	return "", false
}

func (a archive) String() string {
	var b strings.Builder
	b.WriteString(a.comment)
	for _, f := range a.files {
		b.WriteString("-- " + f.name + " --\n" + f.data)
	}
	return b.String()
}

// TestGolden runs each testdata/golden/*.txtar: job.star against its own
// broker with input.jsonl, then compares the output topics with want.jsonl
// record by record, or the error with want.err exactly. -update rewrites
// the want sections from what the job did.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.txtar")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(string(raw))
			job, ok := a.get("job.star")
			if !ok {
				t.Fatal("no job.star section")
			}
			input, _ := a.get("input.jsonl")
			addr := startBroker(t)
			produceRecords(t, addr, parseRecords(t, strings.NewReader(input)))

			var runErr error
			s, err := runtime.Load("job.star", []byte(job), &bytes.Buffer{})
			if err != nil {
				runErr = err
			} else {
				runErr = runtime.Run(context.Background(), s, runtime.Options{
					Broker: addr, StopWhenIdle: 700 * time.Millisecond, Stdout: &bytes.Buffer{},
					Logger: testLogger(t), Getenv: noEnv, StateDir: t.TempDir(),
				})
			}
			if wantErr, ok := a.get("want.err"); ok {
				got := ""
				if runErr != nil {
					got = runErr.Error() + "\n"
				}
				if *update {
					setSection(&a, "want.err", got)
					writeArchive(t, file, a)
				} else if got != wantErr {
					t.Errorf("error:\n%s\nwant:\n%s", got, wantErr)
				}
				return
			}
			if runErr != nil {
				t.Fatal(runErr)
			}
			wantText, _ := a.get("want.jsonl")
			want := parseRecords(t, strings.NewReader(wantText))
			topics := topicsOf(want)
			var got []record
			for _, topic := range topics {
				got = append(got, consumeTopic(t, addr, topic)...)
			}
			if *update {
				var b strings.Builder
				for _, r := range got {
					b.WriteString(r.JSON() + "\n")
				}
				setSection(&a, "want.jsonl", b.String())
				writeArchive(t, file, a)
				return
			}
			diffRecords(t, got, want)
		})
	}
}

func topicsOf(recs []record) []string {
	var topics []string
	seen := map[string]bool{}
	for _, r := range recs {
		if !seen[r.Topic] {
			seen[r.Topic] = true
			topics = append(topics, r.Topic)
		}
	}
	return topics
}

func setSection(a *archive, name, data string) {
	for i := range a.files {
		if a.files[i].name == name {
			a.files[i].data = data
			return
		}
	}
	a.files = append(a.files, archiveFile{name: name, data: data})
}

func writeArchive(t *testing.T, file string, a archive) {
	if err := os.WriteFile(file, []byte(a.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
