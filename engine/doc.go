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
//     store transactions produce their changelog records, the producer
//     flushes and reports every delivery, the stores check their changelog
//     positions, and only then does the commit step run: the consumer
//     offsets (AtLeastOnce) or one Kafka transaction holding outputs,
//     changelog records and offsets (ExactlyOnce). The state is written
//     after the commit. A failure anywhere commits nothing further, so no
//     offset is committed past a message whose outputs were not delivered;
//     in exactly-once mode the open transaction is aborted.
//   - The graph is never changed while it runs: builtins refuse to build
//     after load. Once the run's context is done, a task's Starlark thread
//     is cancelled if its callback does not return within ShutdownGrace.
//
// The engine knows Kafka only through the Consumer, Rebalancer, Producer
// and Transactor interfaces, and state only through Stores, StorePartition
// and StoreTx, all declared here; runtime plugs in the kafka and state
// packages, tests plug in memory implementations (Tester is the engine as
// sdf.test() runs it). Every layer passes package record's types.
package engine
