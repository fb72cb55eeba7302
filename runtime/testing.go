package runtime

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins"
)

// TestResult is the outcome of one test_* function.
type TestResult struct {
	File     string
	Name     string
	Pos      string // where the function is defined
	Err      error  // nil: passed
	Failure  string // the failure as shown: "file:line:col: message" and a backtrace
	Duration time.Duration
}

// FindTestFiles returns the test_*.star files under paths (files are taken
// as they are; directories are searched recursively), sorted.
func FindTestFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	seen := map[string]bool{}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != p && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasPrefix(d.Name(), "test_") && strings.HasSuffix(d.Name(), ".star") && !seen[path] {
				seen[path] = true
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	return files, nil
}

// RunTestFile loads a test file and runs each top-level function whose
// name starts with "test_" and matches filter (nil: all), in definition
// order. A file that fails to load returns an error. print() and
// sdf.print() output goes to stdout.
func RunTestFile(path string, filter *regexp.Regexp, stdout io.Writer) ([]TestResult, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	predeclared := builtins.Predeclared()
	predeclared["assert"] = builtins.AssertModule()
	globals, reg, err := execScript(path, src, stdout, predeclared)
	if err != nil {
		return nil, err
	}
	type test struct {
		name string
		fn   *starlark.Function
	}
	var tests []test
	for name, v := range globals {
		if fn, ok := v.(*starlark.Function); ok && strings.HasPrefix(name, "test_") && (filter == nil || filter.MatchString(name)) {
			tests = append(tests, test{name, fn})
		}
	}
	sort.Slice(tests, func(i, j int) bool {
		return tests[i].fn.Position().Line < tests[j].fn.Position().Line
	})
	var results []TestResult
	for _, t := range tests {
		thread := &starlark.Thread{Name: t.name, Print: printTo(stdout)}
		builtins.SetRegistry(thread, reg)
		start := time.Now()
		reg.BeginTest()
		reg.Building.Set(true) // test functions build pipelines
		_, err := starlark.Call(thread, t.fn, nil, nil)
		reg.Building.Set(false)
		reg.ResetTestState() // each test function starts with fresh state
		r := TestResult{File: path, Name: t.name, Pos: t.fn.Position().String(), Err: err, Duration: time.Since(start)}
		if err != nil {
			r.Failure = failureText(err)
		}
		results = append(results, r)
	}
	return results, nil
}

func failureText(err error) string {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		var ae *builtins.AssertionError
		if errors.As(ee.Unwrap(), &ae) {
			// An assertion: the position of the assert call says it all.
			for i := len(ee.CallStack) - 1; i >= 0; i-- {
				if p := ee.CallStack[i].Pos; p.Filename() != "<builtin>" && p.IsValid() {
					return fmt.Sprintf("%s: %s", p, ae.Msg)
				}
			}
		}
		return EvalErrorText(ee)
	}
	return err.Error()
}
