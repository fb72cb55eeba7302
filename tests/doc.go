// Package tests holds qstar's end-to-end tests: real .star jobs run by the
// real engine and the real Kafka client (confluent-kafka-go) against a real
// Kafka-protocol broker (kfake) started inside each test, and the qstar
// command line run as child processes.
package tests
