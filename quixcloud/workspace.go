package quixcloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options say how to reach the Portal API.
type Options struct {
	// Token is the SDK token (or personal access token); required.
	Token string
	// PortalAPI is the Portal API's URL; default DefaultPortalAPI.
	PortalAPI string
	// WorkspaceID is the workspace; when empty, the token's only
	// workspace (an error when it has several).
	WorkspaceID string
	// HTTPClient sends the requests; default http.DefaultClient.
	HTTPClient *http.Client
	// Timeout bounds each request; default 30s.
	Timeout time.Duration
	// CreateTimeout bounds the wait for created topics to become Ready;
	// default 60s.
	CreateTimeout time.Duration
	// PollInterval is the wait between checks of created topics; default 1s.
	PollInterval time.Duration
}

func (o *Options) validate() error {
	if o.Token == "" {
		return fmt.Errorf("quix cloud: a Quix Cloud auth token (SDK or PAT) is required; set with environment variable %s", EnvSdkToken)
	}
	if o.PortalAPI == "" {
		o.PortalAPI = DefaultPortalAPI
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.CreateTimeout <= 0 {
		o.CreateTimeout = defaultCreateWait
	}
	if o.PollInterval <= 0 {
		o.PollInterval = defaultPollEvery
	}
	return nil
}

// Workspace is a connected Quix Cloud workspace. Its methods are safe for
// concurrent use.
type Workspace struct {
	id         string
	api        *client
	opts       Options
	brokers    string
	connection map[string]string

	mu     sync.Mutex
	topics map[string]string // resolved topic names, by the name asked for
}

// Connect finds the workspace and fetches its librdkafka connection
// settings: GET /workspaces (only when no workspace id is given) and
// GET /workspaces/{id}/broker/librdkafka.
func Connect(ctx context.Context, opts Options) (*Workspace, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	api, err := newClient(opts.PortalAPI, opts.Token, opts.HTTPClient, opts.Timeout)
	if err != nil {
		return nil, err
	}
	w := &Workspace{id: opts.WorkspaceID, api: api, opts: opts, topics: map[string]string{}}
	if w.id == "" {
		if w.id, err = w.onlyWorkspace(ctx); err != nil {
			return nil, err
		}
	}
	if err := w.fetchConnection(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Workspace) onlyWorkspace(ctx context.Context) (string, error) {
	var list []struct {
		WorkspaceID string `json:"workspaceId"`
		Name        string `json:"name"`
	}
	if _, err := w.api.do(ctx, http.MethodGet, "workspaces", nil, &list); err != nil {
		return "", fmt.Errorf("quix cloud: find the workspace: %w", err)
	}
	switch len(list) {
	case 0:
		return "", fmt.Errorf("quix cloud: no workspace was found for the auth token; set %s", EnvWorkspaceID)
	case 1:
		if list[0].WorkspaceID == "" {
			return "", errors.New("quix cloud: the Portal API listed a workspace without a workspaceId")
		}
		return list[0].WorkspaceID, nil
	}
	ids := make([]string, len(list))
	for i, ws := range list {
		ids[i] = ws.WorkspaceID
	}
	return "", fmt.Errorf("quix cloud: the auth token reaches %d workspaces (%s); set %s to choose one", len(list), strings.Join(ids, ", "), EnvWorkspaceID)
}

// fetchConnection reads the workspace's librdkafka settings. The CA
// certificate comes base64-encoded as ssl.ca.cert and is given to
// librdkafka as ssl.ca.pem.
func (w *Workspace) fetchConnection(ctx context.Context) error {
	data, err := w.api.do(ctx, http.MethodGet, "workspaces/"+seg(w.id)+"/broker/librdkafka", nil, nil)
	if err != nil {
		return fmt.Errorf("quix cloud: fetch the broker settings of workspace %q: %w", w.id, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("quix cloud: the broker settings of workspace %q are not a JSON object: %w", w.id, err)
	}
	conn := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		switch v := v.(type) {
		case nil:
			continue
		case string:
			s = v
		case json.Number:
			s = v.String()
		case bool:
			s = fmt.Sprint(v)
		default:
			return fmt.Errorf("quix cloud: broker setting %q of workspace %q is a %T, not a string, number or bool", k, w.id, v)
		}
		conn[k] = s
	}
	if cert, ok := conn["ssl.ca.cert"]; ok {
		pem, err := base64.StdEncoding.DecodeString(cert)
		if err != nil {
			return fmt.Errorf("quix cloud: the workspace certificate (ssl.ca.cert) is not base64: %w", err)
		}
		delete(conn, "ssl.ca.cert")
		conn["ssl.ca.pem"] = string(pem)
	}
	w.brokers = conn["bootstrap.servers"]
	delete(conn, "bootstrap.servers")
	if w.brokers == "" {
		return fmt.Errorf("quix cloud: the broker settings of workspace %q have no bootstrap.servers", w.id)
	}
	w.connection = conn
	return nil
}

// PortalAPI returns the Portal API's URL.
func (w *Workspace) PortalAPI() string { return w.opts.PortalAPI }

// ID returns the workspace id.
func (w *Workspace) ID() string { return w.id }

// Brokers returns the workspace's bootstrap servers.
func (w *Workspace) Brokers() string { return w.brokers }

// Connection returns the librdkafka connection settings (security, SASL,
// certificate), bootstrap.servers excluded.
func (w *Workspace) Connection() map[string]string {
	out := make(map[string]string, len(w.connection))
	for k, v := range w.connection {
		out[k] = v
	}
	return out
}

// ExtraConfig returns the client settings Quix Streams adds for Quix
// Cloud, which an application's extra config may override: idle
// connections and metadata are refreshed before Azure's load balancer
// drops connections idle for 4 minutes.
func (w *Workspace) ExtraConfig() map[string]string {
	return map[string]string{
		"connections.max.idle.ms": "180000",
		"metadata.max.age.ms":     "180000",
	}
}

// Prefix returns s prefixed with "{workspace id}-", unless it starts with
// the workspace id already (as Quix Streams checks it).
func (w *Workspace) Prefix(s string) string {
	if strings.HasPrefix(s, w.id) {
		return s
	}
	return w.id + "-" + s
}

// Strip returns s without its "{workspace id}-" prefix. As in Quix Streams,
// a string that starts with the workspace id loses it and the character
// after it.
func (w *Workspace) Strip(s string) string {
	switch {
	case !strings.HasPrefix(s, w.id):
		return s
	case len(s) <= len(w.id)+1:
		return ""
	}
	return s[len(w.id)+1:]
}

// ConsumerGroup returns the group the application's consumers join:
// the workspace-prefixed group.
func (w *Workspace) ConsumerGroup(group string) string { return w.Prefix(group) }

// Topic returns the cluster name of the topic a script calls name: the
// id of the workspace's topic of that name (GET /{ws}/topics/{name}), or
// the workspace-prefixed name when the workspace has none.
func (w *Workspace) Topic(name string) (string, error) {
	w.mu.Lock()
	resolved, ok := w.topics[name]
	w.mu.Unlock()
	if ok {
		return resolved, nil
	}
	var t struct {
		ID string `json:"id"`
	}
	_, err := w.api.do(context.Background(), http.MethodGet, seg(w.id)+"/topics/"+seg(name), nil, &t)
	var apiErr *APIError
	switch {
	case err == nil && t.ID != "":
		resolved = t.ID
	case err == nil || errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
		resolved = w.Prefix(name)
	default:
		return "", fmt.Errorf("quix cloud: look up topic %q: %w", name, err)
	}
	if len(resolved) > maxTopicNameLength {
		return "", fmt.Errorf("quix cloud: topic %s exceeds the %d character limit (TopicNameLengthExceeded)", resolved, maxTopicNameLength)
	}
	w.mu.Lock()
	w.topics[name] = resolved
	w.mu.Unlock()
	return resolved, nil
}

// TopicSpec is a topic to create. Zero or nil fields leave the choice to
// Quix Cloud.
type TopicSpec struct {
	Name              string // the cluster name (workspace-prefixed)
	Partitions        int
	ReplicationFactor int
	RetentionMinutes  *int64
	RetentionBytes    *int64
	CleanupPolicy     string
}

// topicStatus is a topic as GET /{ws}/topics lists it.
type topicStatus struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	LastError string `json:"lastError"`
}

func (w *Workspace) listTopics(ctx context.Context) (map[string]topicStatus, error) {
	var list []topicStatus
	if _, err := w.api.do(ctx, http.MethodGet, seg(w.id)+"/topics", nil, &list); err != nil {
		return nil, fmt.Errorf("quix cloud: list the topics of workspace %q: %w", w.id, err)
	}
	out := make(map[string]topicStatus, len(list))
	for _, t := range list {
		out[t.ID] = t
	}
	return out, nil
}

// CreateTopics creates the topics the workspace does not have through the
// Portal API (POST /{ws}/topics), then waits until every topic created or
// still being created is Ready. It returns the names it created.
func (w *Workspace) CreateTopics(ctx context.Context, specs []TopicSpec) ([]string, error) {
	current, err := w.listTopics(ctx)
	if err != nil {
		return nil, err
	}
	var created []string
	pending := map[string]bool{}
	for _, s := range specs {
		name := w.Prefix(s.Name)
		if t, ok := current[name]; ok {
			if t.Status != "Ready" {
				pending[name] = true
			}
			continue
		}
		ok, err := w.createTopic(ctx, s)
		if err != nil {
			return created, err
		}
		if ok {
			created = append(created, name)
		}
		pending[name] = true
	}
	return created, w.waitReady(ctx, pending)
}

// createTopic asks for a topic; false when another instance created it
// meanwhile.
func (w *Workspace) createTopic(ctx context.Context, s TopicSpec) (bool, error) {
	type configuration struct {
		Partitions        *int    `json:"partitions"`
		ReplicationFactor *int    `json:"replicationFactor"`
		RetentionMinutes  *int64  `json:"retentionInMinutes"`
		RetentionBytes    *int64  `json:"retentionInBytes"`
		CleanupPolicy     *string `json:"cleanupPolicy"`
	}
	body := struct {
		Name          string        `json:"name"`
		Configuration configuration `json:"configuration"`
	}{Name: w.Strip(s.Name), Configuration: configuration{
		Partitions: positive(s.Partitions), ReplicationFactor: positive(s.ReplicationFactor),
		RetentionMinutes: s.RetentionMinutes, RetentionBytes: s.RetentionBytes,
	}}
	if s.CleanupPolicy != "" {
		body.Configuration.CleanupPolicy = &s.CleanupPolicy
	}
	_, err := w.api.do(ctx, http.MethodPost, seg(w.id)+"/topics", body, nil)
	var apiErr *APIError
	if errors.As(err, &apiErr) && strings.Contains(apiErr.Body, "already exists") {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("quix cloud: create topic %q: %w", body.Name, err)
	}
	return true, nil
}

// waitReady polls the workspace's topics until every pending one is Ready.
// Topics in status Error are reported with their last error.
func (w *Workspace) waitReady(ctx context.Context, pending map[string]bool) error {
	deadline := time.Now().Add(w.opts.CreateTimeout)
	failed := map[string]string{}
	for len(pending) > 0 && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("quix cloud: wait for topics to be Ready: %w", ctx.Err())
		case <-time.After(w.opts.PollInterval):
		}
		current, err := w.listTopics(ctx)
		if err != nil {
			return err
		}
		for name := range pending {
			switch t := current[name]; t.Status {
			case "Ready":
				delete(pending, name)
			case "Error":
				failed[w.Strip(name)] = t.LastError
				delete(pending, name)
			}
		}
	}
	if len(failed) > 0 {
		var parts []string
		for n, e := range failed {
			parts = append(parts, fmt.Sprintf("%s: %s", n, e))
		}
		sort.Strings(parts)
		return fmt.Errorf("quix cloud: failed to create topics: %s", strings.Join(parts, "; "))
	}
	if len(pending) > 0 {
		var names []string
		for n := range pending {
			names = append(names, w.Strip(n))
		}
		sort.Strings(names)
		return fmt.Errorf("quix cloud: topics were created, but did not become Ready within %s: %s", w.opts.CreateTimeout, strings.Join(names, ", "))
	}
	return nil
}

func positive(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}
