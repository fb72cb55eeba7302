package tests

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/portaltest"
	"github.com/qstar-dev/qstar/kafka"
	qrecord "github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/runtime"
)

const quixToken = "sdk-0123456789abcdef"

// quixCloud is a Quix Cloud for tests: an embedded broker that takes only
// SASL over TLS, with a certificate of its own, and a Portal API that
// serves its settings (the CA certificate base64-encoded, as Quix Cloud
// does) and creates topics on it.
type quixCloud struct {
	broker *kafka.Broker
	portal *portaltest.Server
	conn   map[string]string // what a client needs to reach the broker
	env    map[string]string
}

func startQuixCloud(t *testing.T, existing ...portaltest.Topic) *quixCloud {
	t.Helper()
	certPEM, cert := selfSignedCert(t)
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Users:              []kafka.User{{Mechanism: "SCRAM-SHA-256", Name: "acme-prod", Password: secret}},
		TLS:                &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		NoAutoCreateTopics: true}) // topics exist only through the Portal API
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	c := &quixCloud{broker: b, conn: map[string]string{
		"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "acme-prod", "sasl.password": secret,
		"ssl.ca.pem": string(certPEM),
	}}
	admin, err := kafka.NewAdmin(b.Addr(), c.conn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	// The workspace's topics exist on the broker, with two partitions.
	create := func(id string, cfg portaltest.Created) error {
		spec := kafka.TopicSpec{Name: id, NumPartitions: 2, ReplicationFactor: 1}
		if p := cfg.Configuration.Partitions; p != nil {
			spec.NumPartitions = *p
		}
		if p := cfg.Configuration.CleanupPolicy; p != nil {
			spec.Config = map[string]string{"cleanup.policy": *p}
		}
		_, err := admin.EnsureTopics(context.Background(), []kafka.TopicSpec{spec})
		return err
	}
	for _, tp := range existing {
		if err := create(tp.ID, portaltest.Created{}); err != nil {
			t.Fatal(err)
		}
	}
	settings := map[string]any{"bootstrap.servers": b.Addr(), "ssl.ca.cert": base64.StdEncoding.EncodeToString(certPEM)}
	for k, v := range c.conn {
		if k != "ssl.ca.pem" {
			settings[k] = v
		}
	}
	c.portal = portaltest.Start(portaltest.Config{Token: quixToken, Workspaces: []string{"acme-prod"}, Librdkafka: settings,
		Topics: existing, Create: create})
	t.Cleanup(c.portal.Close)
	c.env = map[string]string{"Quix__Portal__Api": c.portal.URL, "Quix__Sdk__Token": quixToken}
	return c
}

func (c *quixCloud) getenv(k string) string { return c.env[k] }

// selfSignedCert returns a certificate for 127.0.0.1 that is its own CA,
// PEM-encoded and ready to serve.
func selfSignedCert(t *testing.T) ([]byte, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "qstar test broker"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, cert
}

func (c *quixCloud) produce(t *testing.T, topic string, values ...string) {
	t.Helper()
	p, err := kafka.NewProducer(kafka.ProducerConfig{Brokers: c.broker.Addr(), Connection: c.conn})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if err := p.Produce(&qrecord.Record{Topic: topic, Partition: -1, Value: []byte(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// read returns the values of a whole topic, sorted.
func (c *quixCloud) read(t *testing.T, topic string) []string {
	t.Helper()
	r, err := kafka.NewReader(c.broker.Addr(), topic, true, c.conn, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for idle := time.Now(); time.Since(idle) < time.Second; {
		m, err := r.Poll(100 * time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if m != nil {
			out = append(out, string(m.Value))
			idle = time.Now()
		}
	}
	sort.Strings(out)
	return out
}

// TestQuixCloud runs a group_by + stateful job as a Quix Cloud application
// (Application(quix_sdk_token=...) with Quix__Portal__Api pointing at a
// local Portal API): the workspace comes from the token, the broker
// settings (SASL over TLS, and the CA certificate) from the API reach
// librdkafka, topics are named and
// created the workspace's way through the API, the consumer group is
// prefixed, and neither the token nor the password is logged. A second
// run with an empty state directory restores the totals from the
// workspace-named changelog.
func TestQuixCloud(t *testing.T) {
	// "orders" is known to the workspace under an id of its own.
	cloud := startQuixCloud(t, portaltest.Topic{ID: "acme-prod-orders-v2", Name: "orders", Status: "Ready"})
	dir := t.TempDir()
	job := filepath.Join(dir, "job.star")
	script := `
app = Application(quix_sdk_token="` + quixToken + `", consumer_group="totals", auto_offset_reset="earliest")
orders = app.topic("orders")
totals = app.topic("totals")
print("topics:", orders.name, totals.name)

def add(value, state):
    total = state.get("total", 0) + value["amount"]
    state.set("total", total)
    return {"user": value["user"], "total": total}

sdf = app.dataframe(orders).group_by("user").apply(add, stateful=True).to_topic(totals)
app.run()
`
	if err := os.WriteFile(job, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cloud.produce(t, "acme-prod-orders-v2", `{"user":"ann","amount":5}`, `{"user":"bob","amount":1}`, `{"user":"ann","amount":2}`)

	run := func(stateDir string) string {
		var stdout, logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(io.MultiWriter(&logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
		s, err := runtime.LoadFileWith(job, &stdout, &runtime.ClientOptions{Logger: log, Getenv: cloud.getenv})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := runtime.Run(context.Background(), s, runtime.Options{StopWhenIdle: 1500 * time.Millisecond, Stdout: &stdout,
			Logger: log, Getenv: cloud.getenv, StateDir: stateDir}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), "topics: acme-prod-orders-v2 acme-prod-totals") {
			t.Errorf("script saw the topic names %q", stdout.String())
		}
		for _, s := range []string{secret, quixToken} {
			if strings.Contains(logs.String(), s) {
				t.Errorf("the logs contain the secret %q", s)
			}
		}
		return logs.String()
	}
	logs := run(t.TempDir())
	if !strings.Contains(logs, "workspace=acme-prod") || !strings.Contains(logs, "consumer_group=acme-prod-totals") {
		t.Errorf("the logs do not name the workspace and the prefixed group:\n%s", logs)
	}
	want := []string{`{"user":"ann","total":5}`, `{"user":"ann","total":7}`, `{"user":"bob","total":1}`}
	if got := cloud.read(t, "acme-prod-totals"); !slices.Equal(got, want) {
		t.Errorf("output = %v, want %v", got, want)
	}

	// Topics were created through the API with the workspace prefix left
	// out; internal topics got the source's partition count and the
	// changelog is compacted.
	repartition := "repartition__totals--orders-v2--user"
	changelog := "changelog__totals--repartition.orders-v2.user--default"
	var created []string
	for _, c := range cloud.portal.Created() {
		p, cp := "null", "null"
		if c.Configuration.Partitions != nil {
			p = fmt.Sprint(*c.Configuration.Partitions)
		}
		if c.Configuration.CleanupPolicy != nil {
			cp = *c.Configuration.CleanupPolicy
		}
		created = append(created, fmt.Sprintf("%s partitions=%s cleanup=%s", c.Name, p, cp))
	}
	wantCreated := []string{"totals partitions=null cleanup=null", repartition + " partitions=2 cleanup=null", changelog + " partitions=2 cleanup=compact"}
	if !slices.Equal(created, wantCreated) {
		t.Errorf("created through the API:\n%s\nwant\n%s", strings.Join(created, "\n"), strings.Join(wantCreated, "\n"))
	}
	if cloud.portal.BadAuth() != 0 {
		t.Errorf("%d requests lacked the token or X-Version", cloud.portal.BadAuth())
	}
	// One record per key: ann's two updates share a checkpoint.
	if got, want := cloud.read(t, "acme-prod-"+changelog), []string{"1", "7"}; !slices.Equal(got, want) {
		t.Errorf("the changelog holds %v, want %v", got, want)
	}

	// The group's offsets are committed under the workspace-prefixed name.
	cons, err := kafka.NewConsumer(kafka.ConsumerConfig{Brokers: cloud.broker.Addr(), GroupID: "acme-prod-totals", Connection: cloud.conn})
	if err != nil {
		t.Fatal(err)
	}
	committed, err := cons.Committed([]qrecord.TopicPartition{{Topic: "acme-prod-orders-v2", Partition: 0}, {Topic: "acme-prod-orders-v2", Partition: 1}})
	cons.Close()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, tp := range committed {
		total += max(tp.Offset, 0)
	}
	if total != 3 {
		t.Errorf("group acme-prod-totals committed %d source messages, want 3: %+v", total, committed)
	}

	// Second run, state directory empty: state comes back from the
	// changelog; nothing is created again.
	before := len(cloud.portal.Created())
	cloud.produce(t, "acme-prod-orders-v2", `{"user":"bob","amount":10}`)
	run(t.TempDir())
	if got := len(cloud.portal.Created()); got != before {
		t.Errorf("the second run created %d more topics", got-before)
	}
	want = append(want, `{"user":"bob","total":11}`)
	sort.Strings(want)
	if got := cloud.read(t, "acme-prod-totals"); !slices.Equal(got, want) {
		t.Errorf("output after the restart = %v, want %v", got, want)
	}
}

// TestQuixCloudErrors: Portal API failures stop the job at load, naming the
// script line and the URL, never the token.
func TestQuixCloudErrors(t *testing.T) {
	cloud := startQuixCloud(t)
	dir := t.TempDir()
	job := filepath.Join(dir, "job.star")
	if err := os.WriteFile(job, []byte("app = Application()\napp.dataframe(app.topic(\"in\"))\napp.run()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"wrong token", map[string]string{"Quix__Sdk__Token": "wrong-token"},
			`job.star:1:18: Application: quix cloud: find the workspace: portal API: status 401 for url "` + cloud.portal.URL + `/workspaces": {"message":"unauthorized"}`},
		{"wrong token in a workspace", map[string]string{"Quix__Sdk__Token": "wrong-token", "Quix__Workspace__Id": "acme-prod"},
			`job.star:1:18: Application: quix cloud: fetch the broker settings of workspace "acme-prod": portal API: status 401 for url "` + cloud.portal.URL + `/workspaces/acme-prod/broker/librdkafka": {"message":"unauthorized"}`},
		{"unknown workspace", map[string]string{"Quix__Workspace__Id": "other"}, `portal API: status 404 for url "` + cloud.portal.URL + `/workspaces/other/broker/librdkafka"`},
		{"token and broker", map[string]string{"Quix__Broker__Address": "localhost:9092"}, `cannot provide both "broker_address" (or Quix__Broker__Address) and "quix_sdk_token" (or Quix__Sdk__Token)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range cloud.env {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			s, err := runtime.LoadFileWith(job, io.Discard, &runtime.ClientOptions{Logger: testLogger(t), Getenv: func(k string) string { return env[k] }})
			if err == nil {
				s.Close()
				t.Fatal("the script loaded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain\n%s", err, tc.want)
			}
			if strings.Contains(err.Error(), "wrong-token") || strings.Contains(err.Error(), quixToken) {
				t.Error("the error shows the token")
			}
		})
	}
	// Application.Quix() needs the token from the environment.
	quix := filepath.Join(dir, "quix.star")
	if err := os.WriteFile(quix, []byte("app = Application.Quix()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runtime.LoadFileWith(quix, io.Discard, &runtime.ClientOptions{Logger: testLogger(t), Getenv: func(string) string { return "" }})
	if want := "quix.star:1:23: Application.Quix: a Quix Cloud auth token (SDK or PAT) is required; set with environment variable Quix__Sdk__Token"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Application.Quix() without a token: %v", err)
	}
}

// TestQuixCloudLoad: Application.Quix() takes the token from
// Quix__Sdk__Token and warns that it is deprecated; app.get_producer()
// connects to the workspace; with --broker the Portal API is not contacted
// and names stay as written.
func TestQuixCloudLoad(t *testing.T) {
	cloud := startQuixCloud(t)
	job := filepath.Join(t.TempDir(), "job.star")
	if err := os.WriteFile(job, []byte("app = Application.Quix(consumer_group=\"g\")\nprint(app.topic(\"in\").name)\napp.dataframe(app.topic(\"in\"))\napp.run()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	s, err := runtime.LoadFileWith(job, &stdout, &runtime.ClientOptions{Logger: testLogger(t), Getenv: cloud.getenv})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := strings.TrimSpace(stdout.String()); got != "acme-prod-in" {
		t.Errorf("topic name = %q, want acme-prod-in", got)
	}
	if cfg := s.App.Config(); cfg.ConsumerGroup != "acme-prod-g" || cfg.ConsumerExtraConfig["metadata.max.age.ms"] != "180000" || cfg.Connection["sasl.username"] != "acme-prod" {
		t.Errorf("config = group %q, consumer extra %v, connection has sasl.username=%q", cfg.ConsumerGroup, cfg.ConsumerExtraConfig, cfg.Connection["sasl.username"])
	}
	if w := s.App.Warnings(); len(w) != 1 || !strings.Contains(w[0], "Application.Quix() is deprecated") {
		t.Errorf("warnings = %q", w)
	}

	// app.get_producer() creates the topics declared so far through the
	// Portal API (the broker creates none by itself) and reaches the
	// workspace's broker with its settings.
	gen := filepath.Join(filepath.Dir(job), "gen.star")
	if err := os.WriteFile(gen, []byte("app = Application()\nevents = app.topic(\"events\")\np = app.get_producer()\np.produce(events, {\"n\": 1})\np.flush()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = runtime.LoadFileWith(gen, io.Discard, &runtime.ClientOptions{Logger: testLogger(t), Getenv: cloud.getenv})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := cloud.read(t, "acme-prod-events"); !slices.Equal(got, []string{`{"n":1}`}) {
		t.Errorf("the script's producer wrote %v to acme-prod-events", got)
	}

	n := len(cloud.portal.Requests())
	stdout.Reset()
	s, err = runtime.LoadFileWith(job, &stdout, &runtime.ClientOptions{Broker: "localhost:9092", Logger: testLogger(t), Getenv: cloud.getenv})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if got := strings.TrimSpace(stdout.String()); got != "in" || len(cloud.portal.Requests()) != n {
		t.Errorf("with --broker: topic %q, %d Portal API requests", got, len(cloud.portal.Requests())-n)
	}
}
