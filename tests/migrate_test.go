package tests

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/runtime"
)

// TestMigrate converts Quix Streams apps written in Python with
// `qstar migrate`: two convert completely and run (the group_by +
// stateful one against a broker, checked record by record); the third
// uses what Starlark cannot express, and every such line is listed with
// its number.
func TestMigrate(t *testing.T) {
	migrate := func(name string) (string, string, int) {
		cmd := exec.Command(qstarBin, "migrate", "testdata/migrate/"+name+".py")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return stdout.String(), stderr.String(), code
	}

	// A hopping-window app converts cleanly and loads.
	src, notes, code := migrate("temperature_windows")
	if code != 0 {
		t.Errorf("temperature_windows: exit %d\n%s", code, notes)
	}
	if _, err := runtime.Load("temperature_windows.star", []byte(src), &bytes.Buffer{}); err != nil {
		t.Errorf("converted temperature_windows does not load: %v\n%s", err, src)
	}

	// A group_by + stateful app with annotations, f-strings and `is not
	// None` converts, loads, and runs with the results Python would give.
	src, notes, code = migrate("spend_totals")
	if code != 0 {
		t.Fatalf("spend_totals: exit %d\n%s", code, notes)
	}
	for _, want := range []string{"def accumulate(purchase, state):", `!= None`, `("%s: %s" % (purchase['customer_id'], total,))`, "\napp.run(sdf)"} {
		if !strings.Contains(src, want) {
			t.Errorf("converted spend_totals lacks %q:\n%s", want, src)
		}
	}
	s, err := runtime.Load("spend_totals.star", []byte(src), &bytes.Buffer{})
	if err != nil {
		t.Fatalf("converted spend_totals does not load: %v\n%s", err, src)
	}
	addr := startBroker(t)
	produceRecords(t, addr, parseRecords(t, strings.NewReader(`{"topic": "purchases", "key": "p1", "value": {"customer_id": "c1", "amount": 10.5}, "timestamp": 1000}
{"topic": "purchases", "key": "p2", "value": {"customer_id": "c1", "amount": 2, "coupon": "X"}, "timestamp": 2000}
{"topic": "purchases", "key": "p3", "value": {"customer_id": "c2", "amount": 0}, "timestamp": 3000}
`)))
	if err := runtime.Run(context.Background(), s, runtime.Options{Broker: addr, StopWhenIdle: time.Second, Stdout: &bytes.Buffer{},
		Logger: testLogger(t), Getenv: noEnv, StateDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	diffRecords(t, consumeTopic(t, addr, "spend-totals"), parseRecords(t, strings.NewReader(`{"topic":"spend-totals","key":"c1","value":{"customer":"c1","total":10.5,"label":"c1: 10.5"},"timestamp":1000}
{"topic":"spend-totals","key":"c1","value":{"customer":"c1","total":12.5,"label":"c1: 12.5"},"timestamp":2000}
`)))

	// What Starlark cannot express is listed by line.
	_, notes, code = migrate("legacy_enricher")
	if code != 1 {
		t.Errorf("legacy_enricher: exit %d, want 1", code)
	}
	for _, want := range []string{
		"legacy_enricher.py:1: import commented out",
		"legacy_enricher.py:9: class: Starlark has no classes",
		"legacy_enricher.py:15: global:",
		"legacy_enricher.py:17: try/except",
		"legacy_enricher.py:21: isinstance()",
		"legacy_enricher.py:22: round()",
		"legacy_enricher.py:23: {**d, ...}",
		"legacy_enricher.py:26: os.environ",
		"legacy_enricher.py:30: with:",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

func TestMigrateFStrings(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`x = f"{a} and {b}"`, `x = ("%s and %s" % (a, b,))`},
		{`x = f'{v["k"]}%'`, `x = ('%s%%' % (v["k"],))`},
		{`x = f"{v:.1f}"`, `x = f"{v:.1f}"`}, // noted, left for a rewrite by hand
		{`x = f"{n:d} {{literal}}"`, `x = ("%d {literal}" % (n,))`},
		{`x = f"plain"`, `x = "plain"`},
		{`x = f"{r!r}"`, `x = ("%r" % (r,))`},
	} {
		got, _ := runtime.Migrate(tc.in)
		if got != tc.want {
			t.Errorf("Migrate(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
