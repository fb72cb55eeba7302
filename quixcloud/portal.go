package quixcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Environment variables of Quix Streams' Quix Cloud support.
const (
	EnvSdkToken        = "Quix__Sdk__Token"
	EnvPortalAPI       = "Quix__Portal__Api"
	EnvWorkspaceID     = "Quix__Workspace__Id"
	EnvDeploymentID    = "Quix__Deployment__Id"
	EnvStateEnabled    = "Quix__Deployment__State__Enabled"
	DefaultPortalAPI   = "https://portal-api.platform.quix.io/"
	apiVersion         = "2.0"
	defaultTimeout     = 30 * time.Second
	defaultCreateWait  = 60 * time.Second
	defaultPollEvery   = time.Second
	maxTopicNameLength = 249
)

// APIError is a Portal API response other than 2xx. Its message names the
// URL and the response body, never the token.
type APIError struct {
	StatusCode int
	URL        string
	Body       string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("portal API: status %d for url %q", e.StatusCode, e.URL)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// client calls the Portal API with the token and API version headers.
type client struct {
	base    *url.URL
	token   string
	http    *http.Client
	timeout time.Duration
}

func newClient(portal, token string, hc *http.Client, timeout time.Duration) (*client, error) {
	if !strings.HasSuffix(portal, "/") {
		portal += "/"
	}
	base, err := url.Parse(portal)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("quix cloud: %s=%q is not an http(s) URL", EnvPortalAPI, portal)
	}
	return &client{base: base, token: token, http: hc, timeout: timeout}, nil
}

// do sends a request to path (relative to the portal URL, its segments
// escaped with seg) and decodes a JSON response into out when out
// is not nil. It returns the raw body too.
func (c *client) do(ctx context.Context, method, path string, body, out any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u, err := url.Parse(c.base.String() + strings.TrimPrefix(path, "/"))
	if err != nil {
		return nil, err
	}
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Version", apiVersion)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("quix cloud: %s %s: %w", method, u.Redacted(), unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("quix cloud: %s %s: read response: %w", method, u.Redacted(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		text := strings.TrimSpace(string(data))
		if len(text) > 500 {
			text = text[:500] + "..."
		}
		return data, &APIError{StatusCode: resp.StatusCode, URL: u.Redacted(), Body: text}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return data, fmt.Errorf("quix cloud: %s %s: unexpected response: %w", method, u.Redacted(), err)
		}
	}
	return data, nil
}

// unwrapURLError drops *url.Error's "Get "url":" prefix, which repeats
// what the caller says.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// seg is a path segment, escaped for use in a request path.
func seg(s string) string { return url.PathEscape(s) }
