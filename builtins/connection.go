package builtins

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// ConnectionConfig is the script's ConnectionConfig: how to reach and
// authenticate to the brokers. It is passed as
// Application(broker_address=ConnectionConfig(...)).
//
//	ConnectionConfig(bootstrap_servers, security_protocol=None, sasl_mechanism=None,
//	                 sasl_username=None, sasl_password=None, ssl_ca_location=None,
//	                 ssl_certificate_location=None, ssl_key_location=None,
//	                 ssl_key_password=None, ...)
//
// Any other librdkafka connection setting may be given by its name with
// "_" for "." (ssl_endpoint_identification_algorithm="none"). Secrets
// (passwords, keys) are never shown: the object prints them as "***".
type ConnectionConfig struct {
	settings map[string]string // librdkafka names
}

var _ starlark.Value = (*ConnectionConfig)(nil)

// secretSettings are never printed.
var secretSettings = map[string]bool{
	"sasl.password": true, "ssl.key.password": true, "ssl.keystore.password": true,
	"ssl.key.pem": true, "sasl.oauthbearer.client.secret": true, "ssl_key": true,
}

// NewConnectionConfig implements ConnectionConfig(...).
func NewConnectionConfig(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c := &ConnectionConfig{settings: map[string]string{}}
	if len(args) > 1 {
		return nil, fmt.Errorf("%s: only bootstrap_servers may be positional", b.Name())
	}
	if len(args) == 1 {
		s, ok := args[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: bootstrap_servers must be a str, not %s", b.Name(), args[0].Type())
		}
		c.settings["bootstrap.servers"] = string(s)
	}
	for _, kv := range kwargs {
		name := strings.ReplaceAll(string(kv[0].(starlark.String)), "_", ".")
		switch v := kv[1].(type) {
		case starlark.NoneType:
			continue
		case starlark.String:
			c.settings[name] = string(v)
		case starlark.Int, starlark.Bool:
			c.settings[name] = strings.ToLower(v.String())
		default:
			return nil, fmt.Errorf("%s: %s must be a str, int or bool, not %s", b.Name(), kv[0], v.Type())
		}
	}
	if c.settings["bootstrap.servers"] == "" {
		return nil, fmt.Errorf("%s: bootstrap_servers is required", b.Name())
	}
	if p, ok := c.settings["security.protocol"]; ok {
		switch strings.ToLower(p) {
		case "plaintext", "ssl", "sasl_plaintext", "sasl_ssl":
		default:
			return nil, fmt.Errorf("%s: security_protocol must be plaintext, ssl, sasl_plaintext or sasl_ssl, not %q", b.Name(), p)
		}
	}
	if m, ok := c.settings["sasl.mechanism"]; ok {
		switch strings.ToUpper(m) {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER":
		default:
			return nil, fmt.Errorf("%s: sasl_mechanism must be PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER, not %q", b.Name(), m)
		}
	}
	return c, nil
}

// Brokers returns the bootstrap servers.
func (c *ConnectionConfig) Brokers() string { return c.settings["bootstrap.servers"] }

// Settings returns the librdkafka connection settings, bootstrap.servers
// excluded.
func (c *ConnectionConfig) Settings() map[string]string {
	out := make(map[string]string, len(c.settings))
	for k, v := range c.settings {
		if k != "bootstrap.servers" {
			out[k] = v
		}
	}
	return out
}

func (c *ConnectionConfig) String() string {
	keys := make([]string, 0, len(c.settings))
	for k := range c.settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		v := fmt.Sprintf("%q", c.settings[k])
		if secretSettings[k] {
			v = `"***"`
		}
		parts[i] = strings.ReplaceAll(k, ".", "_") + "=" + v
	}
	return "ConnectionConfig(" + strings.Join(parts, ", ") + ")"
}
func (c *ConnectionConfig) Type() string         { return "ConnectionConfig" }
func (c *ConnectionConfig) Freeze()              {}
func (c *ConnectionConfig) Truth() starlark.Bool { return true }
func (c *ConnectionConfig) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: ConnectionConfig")
}
