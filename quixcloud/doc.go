// Package quixcloud connects an application to Quix Cloud through the Quix
// Portal API, as Quix Streams does when given an SDK token: it finds the
// workspace, fetches the librdkafka connection settings (certificate
// included), names topics and the consumer group the workspace's way and
// creates topics through the API.
//
// It depends on the standard library only; package runtime plugs a
// Workspace into the script's Application.
package quixcloud
