package main

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/qstar-dev/qstar/runtime"
)

func testCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "test", "[PATH ...] [flags]",
		"Run the test_* functions of test_*.star files under PATH (files, or directories\n"+
			"searched recursively; default: the current directory). Test files define\n"+
			"pipelines like jobs and check them with sdf.test(...) and the assert module:\n"+
			"assert.eq, assert.ne, assert.true, assert.contains, assert.fails. No broker is used.")
	run := fs.String("run", "", "run only tests whose name matches `REGEXP`")
	verbose := fs.Bool("v", false, "print every test, not only failures")
	junit := fs.String("junit", "", "write a JUnit XML report to `FILE`")
	var paths []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flagErrHelp) {
				return err
			}
			return usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	var filter *regexp.Regexp
	if *run != "" {
		re, err := regexp.Compile(*run)
		if err != nil {
			return usageError{fmt.Sprintf("-run: %v", err)}
		}
		filter = re
	}
	files, err := runtime.FindTestFiles(paths)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no test_*.star files under %s", strings.Join(paths, " "))
	}
	var all []runtime.TestResult
	var loadErrs []error
	passed, failed := 0, 0
	for _, f := range files {
		results, err := runtime.RunTestFile(f, filter, e.stdout)
		if err != nil {
			failed++
			loadErrs = append(loadErrs, err)
			fmt.Fprintf(e.stdout, "--- FAIL: %s (load)\n    %s\n", f, indent(err.Error()))
			all = append(all, runtime.TestResult{File: f, Name: "(load)", Err: err, Failure: err.Error()})
			continue
		}
		for _, r := range results {
			all = append(all, r)
			if r.Err != nil {
				failed++
				fmt.Fprintf(e.stdout, "--- FAIL: %s (%s, %s)\n    %s\n", r.Name, r.Pos, r.Duration.Round(time.Microsecond), indent(r.Failure))
				continue
			}
			passed++
			if *verbose {
				fmt.Fprintf(e.stdout, "--- PASS: %s (%s, %s)\n", r.Name, r.Pos, r.Duration.Round(time.Microsecond))
			}
		}
	}
	if *junit != "" {
		if err := writeJUnit(*junit, all); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return fmt.Errorf("%d test(s) failed", failed)
	}
	return nil
}

func indent(s string) string { return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") }

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one <testsuite> per file.
func writeJUnit(path string, results []runtime.TestResult) error {
	var out junitSuites
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.File]
		if !ok {
			i = len(out.Suites)
			index[r.File] = i
			out.Suites = append(out.Suites, junitSuite{Name: r.File})
		}
		s := &out.Suites[i]
		c := junitCase{Name: r.Name, Classname: r.File, Time: fmt.Sprintf("%.6f", r.Duration.Seconds())}
		if r.Err != nil {
			first, _, _ := strings.Cut(r.Failure, "\n")
			c.Failure = &junitFailure{Message: first, Text: r.Failure}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	raw, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(raw, '\n')...), 0o644)
}
