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
func TestStarBehaviour(t *testing.T) {
	files, err := filepath.Glob("testdata/star/test_*.star")
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
