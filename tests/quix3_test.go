package tests

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/qstar-dev/qstar/runtime"
)

// TestQuix3 runs the qstar test files translated from Quix Streams
// v3.25.0's own tests (testdata/quix3/test_*.star): the same inputs and
// expected outputs, on the real engine and state.
func TestQuix3(t *testing.T) {
	files, _ := filepath.Glob("testdata/quix3/test_*.star")
	if len(files) == 0 {
		t.Fatal("no test files in testdata/quix3")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			results, err := runtime.RunTestFile(f, nil, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(results) == 0 {
				t.Fatalf("%s has no tests", f)
			}
			for _, r := range results {
				if r.Err != nil {
					t.Errorf("%s: %s", r.Name, r.Failure)
				}
			}
		})
	}
}
