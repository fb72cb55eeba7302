// Package kafka wraps the Kafka clients qstar uses: confluent-kafka-go's
// consumer, producer and admin client (librdkafka, linked statically), and
// kfake, a Kafka-protocol broker in Go used as the embedded broker for local
// development and tests.
//
// It is the only package that imports confluent-kafka-go or kfake, and the
// only one that builds a librdkafka configuration. Client defaults follow
// Quix Streams 2.5.1:
//   - consumer: enable.auto.commit=false, enable.auto.offset.store=false,
//     partition.assignment.strategy=cooperative-sticky, and the
//     application's group.id and auto.offset.reset, which extra
//     configuration cannot override;
//   - producer: partitioner=murmur2 and enable.idempotence=true, both
//     overridable by extra configuration.
//
// Ownership: a Message returned by Consumer.Poll is the caller's; Produce
// copies key and value before it returns. A Consumer is used from one
// goroutine; a Producer is safe for concurrent use.
package kafka
