package python

import "go.starlark.net/starlark"

// classBase is what the class values (datetime, date, timezone, Counter)
// share: a value of type "type", immutable, named and hashed as Python
// shows it, "<class 'datetime.date'>". A class embeds it and adds
// CallInternal, IsInstance and its attributes.
type classBase struct{ module, name string }

// Name returns the class's name, as a builtin's.
func (c classBase) Name() string { return c.name }

// String returns "<class 'module.name'>".
func (c classBase) String() string { return "<class '" + c.module + "." + c.name + "'>" }

// Type returns "type".
func (classBase) Type() string { return "type" }

// Freeze does nothing: a class is immutable.
func (classBase) Freeze() {}

// Truth returns True.
func (classBase) Truth() starlark.Bool { return true }

// Hash hashes the class's String().
func (c classBase) Hash() (uint32, error) { return starlark.String(c.String()).Hash() }
