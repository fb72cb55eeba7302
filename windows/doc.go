// Package windows implements time windows with the semantics of Quix
// Streams 2.5.1: window ranges aligned to multiples of the step from epoch
// 0, aggregations (sum, count, mean, min, max, reduce), the per-partition
// "latest timestamp" clock, lateness and expiry, and final/current
// emission; plus sliding windows as later Quix Streams releases define
// them.
//
// The package holds the logic only. The aggregates live in a State (one
// message key's windows of one store partition) that package state
// implements on RocksDB; tests use an in-memory one.
//
// Windows are [start, end). A message at ts belongs to every window with
// start <= ts < end and start >= 0.
package windows
