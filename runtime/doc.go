// Package runtime loads qstar scripts and runs the applications they
// define: it wires package builtins (what a script records), package engine
// (how a pipeline runs) and package kafka (the clients and the embedded
// broker) together.
//
// Loading: the Quix Streams names are predeclared, so a script needs no
// imports; `from quixstreams import ...`, `from datetime import timedelta`
// and `import json` / `import math` lines are accepted and blanked before
// parsing (an `as` alias becomes an assignment on the same line), which
// keeps every line number. Scripts may use top-level if/for, while, sets
// and global reassignment (`sdf = sdf.apply(...)`), as Python allows.
//
// Errors read "file:line:col: message"; errors raised while the script
// runs carry the Starlark backtrace.
package runtime
