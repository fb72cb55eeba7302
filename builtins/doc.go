// Package builtins defines the Starlark-facing types of qstar's script API,
// which mirrors Quix Streams 2.5.1: Application, Topic, StreamingDataFrame,
// timedelta and the serializer classes.
//
// Model: running a script records a pipeline; nothing here does I/O. Each
// StreamingDataFrame method adds a node to an engine graph and returns a new
// StreamingDataFrame (pipeline objects are immutable; `sdf["x"] = ...` is the
// one in-place change, as in Quix Streams). app.run() records what to run;
// package runtime runs it once the script has finished loading.
//
// Every builtin is registered under its qualified name
// ("StreamingDataFrame.apply") so that errors start with it, and records the
// script position of its call so that failures at run time can name the
// line that declared the operation.
//
// Per-load state (the applications a script created) lives in a Registry
// stored on the loading thread, never in package variables.
package builtins
