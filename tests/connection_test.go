package tests

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/kafka"
	qrecord "github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/runtime"
)

const secret = "s3cr3t-Pa55w0rd"

// TestSASLConnection runs a job against a broker that requires SASL
// authentication (unauthenticated clients are refused): with
// ConnectionConfig's settings the job consumes and produces, so they
// reached librdkafka; and the password appears nowhere in the logs or the
// config's repr.
func TestSASLConnection(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256"} {
		t.Run(mech, func(t *testing.T) {
			b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Users: []kafka.User{{Mechanism: mech, Name: "app", Password: secret}}})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			job := `
conn = ConnectionConfig("` + b.Addr() + `", security_protocol="sasl_plaintext", sasl_mechanism="` + mech + `",
                        sasl_username="app", sasl_password="` + secret + `")
print(conn)
app = Application(broker_address=conn, consumer_group="g", auto_offset_reset="earliest")
inp = app.topic("in")
out = app.topic("out")
app.dataframe(inp).apply(lambda v: {"seen": v}).to_topic(out)
app.run()
`
			var stdout, logs bytes.Buffer
			s, err := runtime.Load("job.star", []byte(job), &stdout)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(stdout.String(), `sasl_password="***"`) || strings.Contains(stdout.String(), secret) {
				t.Errorf("ConnectionConfig printed %q", stdout.String())
			}
			// Produce the input with the same credentials.
			p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: b.Addr(), Connection: map[string]string{
				"security.protocol": "sasl_plaintext", "sasl.mechanism": mech, "sasl.username": "app", "sasl.password": secret}})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Produce(&qrecord.Record{Topic: "in", Partition: -1, Value: []byte(`1`)}); err != nil {
				t.Fatal(err)
			}
			if err := p.Close(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(io.MultiWriter(&logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
			if err := runtime.Run(context.Background(), s, runtime.Options{StopWhenIdle: time.Second, Stdout: &stdout,
				Logger: log, Getenv: noEnv, StateDir: t.TempDir()}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "consumed=1") {
				t.Errorf("the job did not consume through SASL:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), secret) {
				t.Error("the password appears in the logs")
			}
		})
	}
}
