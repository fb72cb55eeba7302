package runtime

import (
	"bytes"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
)

func builtinsPredeclared() starlark.StringDict { return builtins.Predeclared() }

// The same logic twice: five native column operations (get, arithmetic,
// compare, filter, assign), and one Starlark apply.
const (
	nativeJob = `
app = Application()
sdf = app.dataframe(app.topic("in"))
sdf = sdf[sdf["amount"] > 100]
sdf["amount_eur"] = sdf["amount"] * 0.92
sdf.to_topic(app.topic("out"))
app.run()
`
	starlarkJob = `
app = Application()
def convert(v):
    if v["amount"] > 100:
        v["amount_eur"] = v["amount"] * 0.92
        return [v]
    return []
sdf = app.dataframe(app.topic("in"))
sdf = sdf.apply(convert, expand=True)
sdf.to_topic(app.topic("out"))
app.run()
`
)

type nullProducer struct{ n int }

func (p *nullProducer) Produce(*record.Record) error       { p.n++; return nil }
func (p *nullProducer) Flush(time.Duration) error          { return nil }
func (p *nullProducer) Offset(string, int32) (int64, bool) { return 0, false }

// pipeline loads a job and returns a function processing one message on
// one task context, the thread the task runs on, and the producer.
func pipeline(tb testing.TB, job string) (func(*record.Record) error, *starlark.Thread, *nullProducer) {
	tb.Helper()
	s, err := Load("job.star", []byte(job), &bytes.Buffer{})
	if err != nil {
		tb.Fatal(err)
	}
	src := s.App.Run().Sources[0]
	step := engine.Compose(src.Root)
	thread := &starlark.Thread{}
	prod := &nullProducer{}
	c := engine.NewContext(thread, prod, nil)
	return func(m *record.Record) error {
		row, err := src.Topic.Deserialize(m)
		if err != nil {
			return err
		}
		c.Message = m
		return step(c, row)
	}, thread, prod
}

func message() *record.Record {
	return &record.Record{Topic: "in", Key: []byte("c-0042"), Timestamp: 1700000000000,
		Value: []byte(`{"id":12345,"customer":"c-0042","amount":123.45,"currency":"EUR","country":"DE","ok":true}`)}
}

// TestNativePipelineNeverEntersTheInterpreter pins that column expressions
// run without executing a single Starlark instruction per message, while
// the same logic as a Starlark apply does.
func TestNativePipelineNeverEntersTheInterpreter(t *testing.T) {
	for _, tc := range []struct {
		name  string
		job   string
		steps bool
	}{{"native", nativeJob, false}, {"starlark", starlarkJob, true}} {
		process, thread, prod := pipeline(t, tc.job)
		for i := 0; i < 100; i++ {
			if err := process(message()); err != nil {
				t.Fatal(err)
			}
		}
		if prod.n != 100 {
			t.Errorf("%s: produced %d, want 100", tc.name, prod.n)
		}
		if got := thread.ExecutionSteps() > 0; got != tc.steps {
			t.Errorf("%s: %d interpreter steps for 100 messages", tc.name, thread.ExecutionSteps())
		}
	}
}

// BenchmarkColumnPipeline: per message, deserialize + five column
// operations + serialize, native vs one Starlark apply. Reports the
// interpreter steps per message.
func BenchmarkColumnPipeline(b *testing.B) {
	for _, bc := range []struct{ name, job string }{{"native", nativeJob}, {"starlark-apply", starlarkJob}} {
		b.Run(bc.name, func(b *testing.B) {
			process, thread, _ := pipeline(b, bc.job)
			m := message()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := process(m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(thread.ExecutionSteps())/float64(b.N), "interp-steps/op")
		})
	}
}

// BenchmarkRewriteCost measures what the comparison rewrite costs inside
// a def callback (lambdas are not rewritten): the same function loaded
// with and without the rewrite.
func BenchmarkRewriteCost(b *testing.B) {
	const src = `
def f(v):
    if v["a"] > 5:
        return v["b"] == "x"
    return False
`
	plain, err := starlark.ExecFileOptions(fileOptions, &starlark.Thread{}, "plain.star", src, nil)
	if err != nil {
		b.Fatal(err)
	}
	rewritten, _, err := execScript("rewritten.star", []byte(src), &bytes.Buffer{}, builtinsPredeclared())
	if err != nil {
		b.Fatal(err)
	}
	v := starlark.NewDict(2)
	_ = v.SetKey(starlark.String("a"), starlark.MakeInt(7))
	_ = v.SetKey(starlark.String("b"), starlark.String("x"))
	for _, bc := range []struct {
		name string
		fn   starlark.Value
	}{{"plain", plain["f"]}, {"rewritten", rewritten["f"]}} {
		b.Run(bc.name, func(b *testing.B) {
			thread := &starlark.Thread{}
			args := starlark.Tuple{v}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := starlark.Call(thread, bc.fn, args, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
