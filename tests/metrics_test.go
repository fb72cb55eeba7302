package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/runtime"
)

// TestMetricsEndpoint scrapes --metrics-addr while a job runs and checks
// the counters report what it did.
func TestMetricsEndpoint(t *testing.T) {
	addr := startBroker(t)
	var in strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&in, `{"key": "k%d", "value": {"n": %d}, "timestamp": %d}`+"\n", i, i, 1000+i)
	}
	if _, err := runtime.ProduceLines(context.Background(), strings.NewReader(in.String()), addr, "in", runtime.ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	s, err := runtime.Load("job.star", []byte(cliJob), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(context.Background(), s, runtime.Options{
			Broker: addr, StopWhenIdle: 3 * time.Second, Stdout: &bytes.Buffer{}, Logger: testLogger(t),
			Getenv: noEnv, StateDir: t.TempDir(), MetricsAddr: metricsAddr,
		})
	}()
	want := []string{
		"qstar_messages_consumed_total 10",
		"qstar_messages_produced_total 9", // n=0 is filtered out
		"qstar_partitions_assigned 1",
		`qstar_consumer_lag{topic="in",partition="0"} 0`,
		"# TYPE qstar_checkpoints_total counter",
	}
	var body string
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(body, w)
			}
			if ok {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("metrics lack %q:\n%s", w, body)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
