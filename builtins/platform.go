package builtins

import "strings"

// Platform is a managed Kafka platform an Application connects to (Quix
// Cloud): it supplies the connection and names the consumer group and
// topics the platform's way. Package runtime provides it through
// Registry.Connect.
type Platform interface {
	// Brokers returns the bootstrap servers.
	Brokers() string
	// Connection returns librdkafka connection settings (security, SASL,
	// certificate), bootstrap.servers excluded.
	Connection() map[string]string
	// ExtraConfig returns client settings the application's
	// consumer_extra_config and producer_extra_config override.
	ExtraConfig() map[string]string
	// ConsumerGroup returns the group the application's consumers join.
	ConsumerGroup(group string) string
	// Topic returns the cluster name of the topic a script calls name.
	Topic(name string) (string, error)
	// Strip returns a cluster name (topic or group) as the script would
	// have written it.
	Strip(name string) string
}

// internalTopic returns the name of an internal topic of a source topic,
// as Quix Streams' TopicManager names it: {kind}__{group}--{topic}--{suffix}
// (kind is "changelog" or "repartition"). A source topic that is itself
// internal appears as {kind}.{topic}.{suffix}. On a platform, group and
// topic are taken without the platform's prefix and the result is resolved
// like a topic of the script's.
func (a *Application) internalTopic(kind, topic, suffix string) (string, error) {
	group := a.cfg.ConsumerGroup
	if a.platform != nil {
		group, topic = a.platform.Strip(group), a.platform.Strip(topic)
	}
	name := kind + "__" + group + "--" + nestedTopic(group, topic) + "--" + suffix
	if a.platform != nil {
		return a.platform.Topic(name)
	}
	return name, nil
}

// nestedTopic returns how an internal topic's name appears inside another
// internal topic's name: repartition__{group}--{topic}--{op} becomes
// repartition.{topic}.{op}. Other names are unchanged.
func nestedTopic(group, topic string) string {
	if !strings.Contains(topic, "__"+group+"--") {
		return topic
	}
	return strings.ReplaceAll(strings.ReplaceAll(topic, "__"+group, ""), "--", ".")
}
