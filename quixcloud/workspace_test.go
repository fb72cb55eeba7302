package quixcloud

import (
	"context"
	"encoding/base64"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qstar-dev/qstar/internal/portaltest"
)

const token = "sdk-token-123"

func connect(t *testing.T, p *portaltest.Server, ws string) *Workspace {
	t.Helper()
	w, err := Connect(context.Background(), Options{Token: token, PortalAPI: p.URL, WorkspaceID: ws, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestConnectFetchesBrokerSettings(t *testing.T) {
	pem := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	p := portaltest.Start(portaltest.Config{Token: token, Workspaces: []string{"acme-prod"}, Librdkafka: map[string]any{
		"bootstrap.servers":                     "kafka-1:9093,kafka-2:9093",
		"security.protocol":                     "SASL_SSL",
		"sasl.mechanism":                        "SCRAM-SHA-256",
		"sasl.username":                         "acme-prod",
		"sasl.password":                         "pw",
		"ssl.ca.cert":                           base64.StdEncoding.EncodeToString([]byte(pem)),
		"socket.timeout.ms":                     60000,
		"ssl.endpoint.identification.algorithm": nil,
	}})
	defer p.Close()

	// No workspace id: the token's only workspace is used.
	w := connect(t, p, "")
	if w.ID() != "acme-prod" {
		t.Errorf("workspace = %q", w.ID())
	}
	if w.Brokers() != "kafka-1:9093,kafka-2:9093" {
		t.Errorf("brokers = %q", w.Brokers())
	}
	want := map[string]string{
		"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256",
		"sasl.username": "acme-prod", "sasl.password": "pw", "ssl.ca.pem": pem, "socket.timeout.ms": "60000",
	}
	if got := w.Connection(); !reflect.DeepEqual(got, want) {
		t.Errorf("connection = %v, want %v", got, want)
	}
	if got := w.ExtraConfig(); got["connections.max.idle.ms"] != "180000" || got["metadata.max.age.ms"] != "180000" {
		t.Errorf("extra config = %v", got)
	}
	if got, want := p.Requests(), []string{"GET /workspaces", "GET /workspaces/acme-prod/broker/librdkafka"}; !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %v, want %v", got, want)
	}
	if p.BadAuth() != 0 {
		t.Error("a request lacked the token or X-Version")
	}

	// With a workspace id, the workspaces are not listed.
	p2 := portaltest.Start(portaltest.Config{Token: token, Workspaces: []string{"acme-prod", "acme-dev"}, Librdkafka: map[string]any{"bootstrap.servers": "k:9092"}})
	defer p2.Close()
	if w := connect(t, p2, "acme-prod"); w.ID() != "acme-prod" {
		t.Errorf("workspace = %q", w.ID())
	}
	if got := p2.Requests(); len(got) != 1 {
		t.Errorf("requests = %v", got)
	}
}

func TestConnectErrors(t *testing.T) {
	p := portaltest.Start(portaltest.Config{Token: token, Workspaces: []string{"ws-a", "ws-b"}, Librdkafka: map[string]any{"security.protocol": "SASL_SSL"}})
	defer p.Close()
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no token", Options{PortalAPI: p.URL}, "auth token (SDK or PAT) is required; set with environment variable Quix__Sdk__Token"},
		{"several workspaces", Options{Token: token, PortalAPI: p.URL}, "reaches 2 workspaces (ws-a, ws-b); set Quix__Workspace__Id"},
		{"wrong token", Options{Token: "nope", PortalAPI: p.URL, WorkspaceID: "ws-a"}, `portal API: status 401 for url "` + p.URL + `/workspaces/ws-a/broker/librdkafka": {"message":"unauthorized"}`},
		{"no bootstrap servers", Options{Token: token, PortalAPI: p.URL, WorkspaceID: "ws-a"}, `broker settings of workspace "ws-a" have no bootstrap.servers`},
		{"bad url", Options{Token: token, PortalAPI: "portal"}, "Quix__Portal__Api=\"portal/\" is not an http(s) URL"},
		{"not http", Options{Token: token, PortalAPI: "ftp://portal"}, "Quix__Portal__Api=\"ftp://portal/\" is not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Connect(context.Background(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "nope") || strings.Contains(err.Error(), token) {
				t.Errorf("the token appears in the error: %v", err)
			}
		})
	}
	var apiErr *APIError
	_, err := Connect(context.Background(), Options{Token: "nope", PortalAPI: p.URL, WorkspaceID: "ws-a"})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Errorf("error %v is not an *APIError with status 401", err)
	}
}

func TestNames(t *testing.T) {
	p := portaltest.Start(portaltest.Config{Token: token, Workspaces: []string{"ws1"}, Librdkafka: map[string]any{"bootstrap.servers": "k:9092"},
		Topics: []portaltest.Topic{{ID: "ws1-orders-7f3a", Name: "orders", Status: "Ready"}}})
	defer p.Close()
	w := connect(t, p, "ws1")
	for _, tc := range []struct{ in, want string }{
		{"orders", "ws1-orders-7f3a"}, // known to the workspace: its id
		{"payments", "ws1-payments"},  // unknown: prefixed
		{"ws1-raw", "ws1-raw"},        // already prefixed
		{"needs space/and%", "ws1-needs space/and%"},
	} {
		got, err := w.Topic(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Topic(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if !slices.Contains(p.Requests(), "GET /ws1/topics/needs%20space%2Fand%25") {
		t.Errorf("the topic name was not escaped as one path segment: %v", p.Requests())
	}
	// Lookups are cached.
	n := len(p.Requests())
	if _, err := w.Topic("orders"); err != nil || len(p.Requests()) != n {
		t.Errorf("a second lookup of the same topic asked the API again")
	}
	if _, err := w.Topic(strings.Repeat("x", 250)); err == nil || !strings.Contains(err.Error(), "249 character limit") {
		t.Errorf("long name: %v", err)
	}
	// Only a 404 means "no such topic".
	p.Close()
	failing := portaltest.Start(portaltest.Config{Token: token, Workspaces: []string{"ws1"}, Librdkafka: map[string]any{"bootstrap.servers": "k:9092"},
		Fail: map[string]int{"GET /ws1/topics/flaky": 503}})
	defer failing.Close()
	if _, err := connect(t, failing, "ws1").Topic("flaky"); err == nil || !strings.Contains(err.Error(), `quix cloud: look up topic "flaky": portal API: status 503`) {
		t.Errorf("a failed lookup: %v", err)
	}
	if g := w.ConsumerGroup("my-group"); g != "ws1-my-group" {
		t.Errorf("group = %q", g)
	}
	if g := w.ConsumerGroup("ws1-my-group"); g != "ws1-my-group" {
		t.Errorf("prefixed group = %q", g)
	}
	for in, want := range map[string]string{"ws1-my-group": "my-group", "my-group": "my-group", "ws1": "", "ws1x-a": "-a"} {
		if got := w.Strip(in); got != want {
			t.Errorf("Strip(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCreateTopics(t *testing.T) {
	var created []string
	p := portaltest.Start(portaltest.Config{Token: token, Workspaces: []string{"ws1"}, Librdkafka: map[string]any{"bootstrap.servers": "k:9092"},
		Topics:        []portaltest.Topic{{ID: "ws1-ready", Name: "ready", Status: "Ready"}, {ID: "ws1-slow", Name: "slow", Status: "Creating"}},
		Racing:        []portaltest.Topic{{ID: "ws1-raced", Name: "raced", Status: "Ready"}},
		CreatingPolls: 2,
		Create: func(id string, c portaltest.Created) error {
			created = append(created, id)
			return nil
		}})
	defer p.Close()
	w := connect(t, p, "ws1")
	minutes, bytes := int64(10080), int64(1<<30)
	got, err := w.CreateTopics(context.Background(), []TopicSpec{
		{Name: "ws1-ready"},
		{Name: "ws1-slow"},
		{Name: "ws1-input"},
		{Name: "ws1-changelog__g--input--default", Partitions: 4, ReplicationFactor: 3, CleanupPolicy: "compact", RetentionMinutes: &minutes, RetentionBytes: &bytes},
		{Name: "ws1-raced"}, // another instance creates it meanwhile: not an error, not ours
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ws1-input", "ws1-changelog__g--input--default"}; !reflect.DeepEqual(got, want) || !reflect.DeepEqual(created, want) {
		t.Errorf("created %v (portal saw %v), want %v", got, created, want)
	}
	bodies := p.Created()
	if len(bodies) != 2 {
		t.Fatalf("bodies = %v", bodies)
	}
	in, cl := bodies[0], bodies[1]
	if in.Name != "input" || in.Configuration.Partitions != nil || in.Configuration.ReplicationFactor != nil || in.Configuration.CleanupPolicy != nil {
		t.Errorf("input topic body = %+v", in)
	}
	c := cl.Configuration
	if cl.Name != "changelog__g--input--default" || *c.Partitions != 4 || *c.ReplicationFactor != 3 || *c.CleanupPolicy != "compact" ||
		*c.RetentionMinutes != minutes || *c.RetentionBytes != bytes {
		t.Errorf("changelog body = %+v", cl)
	}
	// It waited for the topics still being created: the created ones take
	// two listings to become Ready.
	lists := 0
	for _, r := range p.Requests() {
		if r == "GET /ws1/topics" {
			lists++
		}
	}
	if lists < 3 {
		t.Errorf("listed the topics %d times; it cannot have waited for Ready", lists)
	}
}

func TestCreateTopicsFailures(t *testing.T) {
	p := portaltest.Start(portaltest.Config{Token: token, Workspaces: []string{"ws1"}, Librdkafka: map[string]any{"bootstrap.servers": "k:9092"},
		Topics:        []portaltest.Topic{{ID: "ws1-stuck", Name: "stuck", Status: "Creating"}},
		CreatingPolls: 1 << 30,
		Create: func(id string, c portaltest.Created) error {
			if c.Name == "bad" {
				return errors.New("quota exceeded")
			}
			return nil
		}})
	defer p.Close()
	w, err := Connect(context.Background(), Options{Token: token, PortalAPI: p.URL, WorkspaceID: "ws1", PollInterval: time.Millisecond, CreateTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.CreateTopics(context.Background(), []TopicSpec{{Name: "ws1-bad"}})
	if err == nil || err.Error() != "quix cloud: failed to create topics: bad: quota exceeded" {
		t.Errorf("error = %v", err)
	}
	_, err = w.CreateTopics(context.Background(), []TopicSpec{{Name: "ws1-stuck"}})
	if err == nil || !strings.Contains(err.Error(), "did not become Ready within 50ms: stuck") {
		t.Errorf("error = %v", err)
	}
}
