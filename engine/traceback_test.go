package engine

import (
	"errors"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

func evalError(t *testing.T, src string) *starlark.EvalError {
	t.Helper()
	_, err := starlark.ExecFileOptions(&syntax.FileOptions{Recursion: true}, &starlark.Thread{}, "job.star", src, nil)
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		t.Fatalf("want an EvalError, got %v", err)
	}
	return ee
}

func TestTraceback(t *testing.T) {
	// A short traceback reads as starlark's own.
	short := evalError(t, "def f(x):\n    return 1 // x\n\ndef g():\n    return f(0)\n\ng()\n")
	if got, want := Traceback(short), short.Backtrace(); got != want {
		t.Errorf("short traceback:\n%s\nwant\n%s", got, want)
	}
	builtin := evalError(t, "def f():\n    return int(\"x\")\nf()\n")
	if got, want := Traceback(builtin), builtin.Backtrace(); got != want {
		t.Errorf("traceback ending in a builtin:\n%s\nwant\n%s", got, want)
	}

	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"direct recursion", "def deep(n):\n    return deep(n + 1)\n\ndeep(0)\n", []string{
			"  job.star:2:16: in deep\n  job.star:2:16: in deep\n  job.star:2:16: in deep\n  [Previous line repeated ",
			"Error: Starlark stack overflow",
		}},
		{"mutual recursion", "def a(n):\n    return b(n)\n\ndef b(n):\n    return a(n)\n\na(0)\n", []string{
			"  job.star:7:2: in <toplevel>\n  job.star:2:13: in a\n  job.star:5:13: in b\n",
			" frames elided ...\n",
			"Error: Starlark stack overflow",
		}},
	} {
		ee := evalError(t, tc.src)
		got := Traceback(ee)
		if n := strings.Count(got, "\n"); n > 2*tracebackEnds+4 {
			t.Errorf("%s: %d lines for %d frames", tc.name, n, len(ee.CallStack))
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: traceback lacks %q:\n%s", tc.name, w, got)
			}
		}
	}
}
