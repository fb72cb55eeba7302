package tests

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/qstar-dev/qstar/runtime"
)

// TestStarBehaviour runs the .star behaviour suites in testdata/star (the
// dataframe and series semantics of Quix Streams) through the same runner
// as `qstar test`; every test_* function must pass.
func TestStarBehaviour(t *testing.T) { runStarSuites(t, "testdata/star/test_*.star") }

// TestQuix3 runs the suites translated from Quix Streams v3.25.0's own
// tests (testdata/quix3): the same inputs and expected outputs, on the
// real engine and state.
func TestQuix3(t *testing.T) { runStarSuites(t, "testdata/quix3/test_*.star") }

// runStarSuites runs the .star files matching pattern as `qstar test`
// does; every test_* function must pass.
func runStarSuites(t *testing.T, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no suites: %v", err)
	}
	for _, f := range files {
		var out bytes.Buffer
		results, err := runtime.RunTestFile(f, nil, &out)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(results) == 0 {
			t.Errorf("%s has no tests", f)
		}
		for _, r := range results {
			t.Run(filepath.Base(f)+"/"+r.Name, func(t *testing.T) {
				if r.Err != nil {
					t.Error(r.Failure)
				}
			})
		}
	}
}
