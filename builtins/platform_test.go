package builtins

import (
	"strings"
	"testing"
)

// prefixPlatform names topics "ws-{name}", as a workspace that knows none.
type prefixPlatform struct{}

func (prefixPlatform) Brokers() string                   { return "b:9092" }
func (prefixPlatform) Connection() map[string]string     { return nil }
func (prefixPlatform) ExtraConfig() map[string]string    { return nil }
func (prefixPlatform) ConsumerGroup(group string) string { return "ws-" + group }
func (prefixPlatform) Topic(name string) (string, error) { return "ws-" + name, nil }
func (prefixPlatform) Strip(name string) string          { return strings.TrimPrefix(name, "ws-") }

// TestInternalTopicNames pins Quix Streams' TopicManager names, with and
// without a platform.
func TestInternalTopicNames(t *testing.T) {
	app := &Application{cfg: AppConfig{ConsumerGroup: "g"}}
	cloud := &Application{cfg: AppConfig{ConsumerGroup: "ws-g"}, platform: prefixPlatform{}}
	for _, tc := range []struct {
		app                 *Application
		kind, topic, suffix string
		want                string
	}{
		{app, "changelog", "input", "default", "changelog__g--input--default"},
		{app, "repartition", "input", "user", "repartition__g--input--user"},
		// An internal source topic is nested.
		{app, "changelog", "repartition__g--t--op", "default", "changelog__g--repartition.t.op--default"},
		// Another group's internal topic is a plain name.
		{app, "changelog", "repartition__h--t--op", "default", "changelog__g--repartition__h--t--op--default"},
		{cloud, "changelog", "ws-input", "default", "ws-changelog__g--input--default"},
		{cloud, "changelog", "ws-repartition__g--t--op", "default", "ws-changelog__g--repartition.t.op--default"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			got, err := tc.app.internalTopic(tc.kind, tc.topic, tc.suffix)
			if err != nil || got != tc.want {
				t.Errorf("internalTopic(%s, %s, %s) = %q, %v; want %q", tc.kind, tc.topic, tc.suffix, got, err, tc.want)
			}
		})
	}
}
