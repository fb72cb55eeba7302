// Package engine composes a pipeline graph into closures and runs it over a
// stream of messages, one task per assigned partition.
//
// Model:
//   - A pipeline is a graph of *Node, one root per source topic. Builtins add
//     nodes while a script runs; the graph is read-only afterwards.
//   - Compose turns a graph into a Step once, before any message is
//     processed. A Step is a closure that runs one operation and calls the
//     next; nothing walks the graph per message.
//   - A node with several children (branching) hands each child its own deep
//     copy of the value, except the last child, which gets the original.
//   - Each assigned partition is a task with its own goroutine, Starlark
//     thread and Context. Order within a partition is preserved; partitions
//     run in parallel. Script globals are frozen, so tasks share callables.
//   - A checkpoint is a barrier: every task finishes what it was handed, the
//     producer flushes and reports every delivery, and only then are the
//     consumer offsets committed. A failure anywhere commits nothing further,
//     so no offset is committed past a message whose outputs were not
//     delivered (at-least-once).
//
// The engine knows Kafka only through the Consumer and Producer interfaces;
// runtime plugs in the kafka package's clients, tests plug in fakes.
package engine
