// Package portaltest is an in-process Quix Portal API for tests: the
// endpoints qstar's Quix Cloud support calls, backed by a topic creation
// function (for end-to-end tests, one that creates the topic on an
// embedded broker).
package portaltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Topic is a workspace topic as the Portal API lists it.
type Topic struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	LastError string `json:"lastError,omitempty"`
}

// Created is a POST /{ws}/topics request body.
type Created struct {
	Name          string `json:"name"`
	Configuration struct {
		Partitions        *int    `json:"partitions"`
		ReplicationFactor *int    `json:"replicationFactor"`
		RetentionMinutes  *int64  `json:"retentionInMinutes"`
		RetentionBytes    *int64  `json:"retentionInBytes"`
		CleanupPolicy     *string `json:"cleanupPolicy"`
	} `json:"configuration"`
}

// Config sets up a Server.
type Config struct {
	Token string
	// Workspaces are the ids GET /workspaces lists; the first is the one
	// whose topics and broker settings are served.
	Workspaces []string
	// Librdkafka is the body of GET /workspaces/{ws}/broker/librdkafka.
	Librdkafka map[string]any
	// Topics are the workspace's existing topics; those "Creating" become
	// Ready as created ones do.
	Topics []Topic
	// Create is called for each created topic with its cluster name
	// ({ws}-{name}) and configuration; an error makes the topic's status
	// Error with the error as lastError.
	Create func(id string, c Created) error
	// CreatingPolls is how many listings show a created topic as
	// "Creating" before it is "Ready".
	CreatingPolls int
	// Racing are topics another instance creates between the client's
	// listing and its creation request: they are not listed until a
	// creation request for them, which fails with "already exists".
	Racing []Topic
	// Fail answers requests whose "METHOD escaped-path" is a key with that
	// status.
	Fail map[string]int
}

// Server is a running fake Portal API.
type Server struct {
	*httptest.Server
	cfg Config

	mu       sync.Mutex
	topics   []Topic
	creating map[string]int
	requests []string
	created  []Created
	badAuth  int
}

// Start starts a fake Portal API; Close it when done.
func Start(cfg Config) *Server {
	s := &Server{cfg: cfg, topics: append([]Topic(nil), cfg.Topics...), creating: map[string]int{}}
	for _, t := range s.topics {
		if t.Status == "Creating" {
			s.creating[t.ID] = cfg.CreatingPolls
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Requests returns "METHOD escaped-path" of every request served.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Created returns the bodies of the topic creation requests.
func (s *Server) Created() []Created {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Created(nil), s.created...)
}

// BadAuth returns how many requests lacked the token or the API version.
func (s *Server) BadAuth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badAuth
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := r.Method + " " + r.URL.EscapedPath()
	s.requests = append(s.requests, req)
	if status, ok := s.cfg.Fail[req]; ok {
		http.Error(w, `{"message":"injected failure"}`, status)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.cfg.Token || r.Header.Get("X-Version") != "2.0" {
		s.badAuth++
		http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	ws := ""
	if len(s.cfg.Workspaces) > 0 {
		ws = s.cfg.Workspaces[0]
	}
	parts := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i, p := range parts {
		parts[i], _ = url.PathUnescape(p)
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/workspaces":
		var list []map[string]string
		for _, id := range s.cfg.Workspaces {
			list = append(list, map[string]string{"workspaceId": id, "name": id + " name"})
		}
		reply(w, list)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "workspaces" && parts[2] == "broker" && parts[3] == "librdkafka":
		if parts[1] != ws {
			http.Error(w, `{"message":"workspace not found"}`, http.StatusNotFound)
			return
		}
		reply(w, s.cfg.Librdkafka)
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == ws && parts[1] == "topics":
		for i, t := range s.topics {
			if n, ok := s.creating[t.ID]; ok {
				if n <= 0 {
					delete(s.creating, t.ID)
					s.topics[i].Status = "Ready"
				} else {
					s.creating[t.ID] = n - 1
				}
			}
		}
		reply(w, s.topics)
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == ws && parts[1] == "topics":
		for _, t := range s.topics {
			if t.Name == parts[2] {
				reply(w, t)
				return
			}
		}
		http.Error(w, `{"message":"topic not found"}`, http.StatusNotFound)
	case r.Method == http.MethodPost && len(parts) == 2 && parts[0] == ws && parts[1] == "topics":
		var c Created
		if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.Name == "" {
			http.Error(w, `{"message":"bad topic"}`, http.StatusBadRequest)
			return
		}
		id := ws + "-" + c.Name
		for _, t := range s.cfg.Racing {
			if t.ID == id && !slices.ContainsFunc(s.topics, func(have Topic) bool { return have.ID == id }) {
				s.topics = append(s.topics, t)
			}
		}
		for _, t := range s.topics {
			if t.ID == id {
				http.Error(w, fmt.Sprintf(`{"message":"topic %s already exists"}`, c.Name), http.StatusBadRequest)
				return
			}
		}
		s.created = append(s.created, c)
		t := Topic{ID: id, Name: c.Name, Status: "Creating"}
		if s.cfg.Create != nil {
			if err := s.cfg.Create(id, c); err != nil {
				t.Status, t.LastError = "Error", err.Error()
			}
		}
		if t.Status == "Creating" {
			s.creating[id] = s.cfg.CreatingPolls
		}
		s.topics = append(s.topics, t)
		reply(w, t)
	default:
		// Not 404, which means "no such topic" to the client.
		http.Error(w, `{"message":"no such endpoint"}`, http.StatusNotImplemented)
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
