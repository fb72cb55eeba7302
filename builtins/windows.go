package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins/python"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/windows"
)

// WindowDefinition is what sdf.tumbling_window(...), sdf.hopping_window(...)
// and sdf.sliding_window(...) return; an aggregation method turns it into
// a Window.
//
//	sdf.tumbling_window(duration_ms, grace_ms=0, name=None)
//	sdf.hopping_window(duration_ms, step_ms, grace_ms=0, name=None)
//	sdf.sliding_window(duration_ms, grace_ms=0, name=None)
//	.sum() .count() .mean() .min() .max() .reduce(reducer, initializer)
type WindowDefinition struct {
	sdf                   *DataFrame
	kind                  string // "tumbling", "hopping", "sliding"
	duration, step, grace int64
	name                  string
	pos                   string
}

// Window is a window with its aggregation; .final() and .current() return
// the StreamingDataFrame of its results.
type Window struct {
	def   *WindowDefinition
	agg   windows.Aggregation
	store string
}

var (
	_ starlark.HasAttrs = (*WindowDefinition)(nil)
	_ starlark.HasAttrs = (*Window)(nil)
)

func (w *WindowDefinition) String() string {
	return fmt.Sprintf("<%sWindowDefinition duration_ms=%d>", title(w.kind), w.duration)
}
func (w *WindowDefinition) Type() string         { return title(w.kind) + "WindowDefinition" }
func (w *WindowDefinition) Freeze()              {}
func (w *WindowDefinition) Truth() starlark.Bool { return true }
func (w *WindowDefinition) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: %s", w.Type())
}

func title(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func (w *Window) String() string        { return fmt.Sprintf("<Window %s>", w.store) }
func (w *Window) Type() string          { return title(w.def.kind) + "Window" }
func (w *Window) Freeze()               {}
func (w *Window) Truth() starlark.Bool  { return true }
func (w *Window) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", w.Type()) }

// milliseconds unpacks a duration as Quix Streams' ensure_milliseconds: an
// int, or a timedelta converted with int(round(total_seconds, 3) * 1000).
type milliseconds struct{ ms int64 }

func (m *milliseconds) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.Int:
		n, ok := v.Int64()
		if !ok {
			return fmt.Errorf("%s is out of range", v)
		}
		m.ms = n
	case python.Timedelta:
		m.ms = v.Milliseconds()
	default:
		return fmt.Errorf("want an int of milliseconds or a timedelta, got %s", v.Type())
	}
	return nil
}

func windowMethod(kind string) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		d := b.Receiver().(*DataFrame)
		var duration, step, grace milliseconds
		var name starlark.Value = starlark.None
		var err error
		if kind == "hopping" {
			err = starlark.UnpackArgs(b.Name(), args, kwargs, "duration_ms", &duration, "step_ms", &step, "grace_ms?", &grace, "name?", &name)
		} else {
			err = starlark.UnpackArgs(b.Name(), args, kwargs, "duration_ms", &duration, "grace_ms?", &grace, "name?", &name)
		}
		if err != nil {
			return nil, err
		}
		switch {
		case duration.ms < 1:
			return nil, fmt.Errorf("%s: duration_ms must be at least 1, got %d", b.Name(), duration.ms)
		case grace.ms < 0:
			return nil, fmt.Errorf("%s: grace_ms must not be negative, got %d", b.Name(), grace.ms)
		case kind == "hopping" && (step.ms <= 0 || step.ms >= duration.ms):
			return nil, fmt.Errorf("%s: step_ms must be greater than 0 and smaller than duration_ms (%d), got %d", b.Name(), duration.ms, step.ms)
		}
		if kind != "hopping" {
			step.ms = duration.ms
		}
		n, err := optString(b.Name(), "name", name)
		if err != nil {
			return nil, err
		}
		return &WindowDefinition{sdf: d, kind: kind, duration: duration.ms, step: step.ms, grace: grace.ms, name: n, pos: callerPos(thread)}, nil
	}
}

var windowDefinitionMethods = map[string]*starlark.Builtin{}

func init() {
	for _, name := range []string{"sum", "count", "mean", "min", "max"} {
		name := name
		windowDefinitionMethods[name] = starlark.NewBuiltin("WindowDefinition."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			agg := map[string]func() windows.Aggregation{"sum": windows.Sum, "count": windows.Count, "mean": windows.Mean, "min": windows.Min, "max": windows.Max}[name]()
			return b.Receiver().(*WindowDefinition).window(b.Name(), agg)
		})
	}
	windowDefinitionMethods["reduce"] = starlark.NewBuiltin("WindowDefinition.reduce", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var reducer, initializer starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "reducer", &reducer, "initializer", &initializer); err != nil {
			return nil, err
		}
		r, err := callbackFn(b.Name(), "reducer", reducer, 2)
		if err != nil {
			return nil, err
		}
		i, err := callbackFn(b.Name(), "initializer", initializer, 1)
		if err != nil {
			return nil, err
		}
		return b.Receiver().(*WindowDefinition).window(b.Name(), windows.Reduce(r, i))
	})
}

// callbackFn checks a function argument that receives nargs values.
func callbackFn(fn, param string, v starlark.Value, nargs int) (starlark.Callable, error) {
	c, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a function, got %s", fn, param, v.Type())
	}
	if f, ok := c.(*starlark.Function); ok {
		if err := checkArity(f, nargs); err != nil {
			return nil, fmt.Errorf("%s: %s %s must accept %d argument(s): %v", fn, param, f.Name(), nargs, err)
		}
	}
	return c, nil
}

// Attr implements starlark.HasAttrs: the aggregation methods, and the
// properties Quix Streams' window definitions have: duration_ms,
// grace_ms, step_ms (None unless hopping) and name (None unless given).
func (w *WindowDefinition) Attr(name string) (starlark.Value, error) {
	if m, ok := windowDefinitionMethods[name]; ok {
		return w.sdf.app.reg.buildOnly(m, w), nil
	}
	switch name {
	case "duration_ms":
		return starlark.MakeInt64(w.duration), nil
	case "grace_ms":
		return starlark.MakeInt64(w.grace), nil
	case "step_ms":
		if w.kind != "hopping" {
			return starlark.None, nil
		}
		return starlark.MakeInt64(w.step), nil
	case "name":
		if w.name == "" {
			return starlark.None, nil
		}
		return starlark.String(w.name), nil
	}
	return nil, nil
}

func (w *WindowDefinition) AttrNames() []string {
	return append(methodNames(windowDefinitionMethods), "duration_ms", "grace_ms", "name", "step_ms")
}

// window names the store (Quix Streams' auto names unless name= was
// given) and registers it.
func (w *WindowDefinition) window(fn string, agg windows.Aggregation) (*Window, error) {
	store := w.name
	if store == "" {
		switch w.kind {
		case "hopping":
			store = fmt.Sprintf("hopping_window_%d_%d_%s", w.duration, w.step, agg.Name)
		default:
			store = fmt.Sprintf("%s_window_%d_%s", w.kind, w.duration, agg.Name)
		}
	}
	topic := w.sdf.topic.Name()
	for _, s := range w.sdf.app.stores {
		if s.Topic == topic && s.Name == store {
			return nil, fmt.Errorf("%s: a window store named %q is already registered for topic %q; give this window another name= (WindowedStoreAlreadyRegisteredError)", fn, store, topic)
		}
	}
	if err := w.sdf.app.registerStore(topic, store, true); err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	return &Window{def: w, agg: agg, store: store}, nil
}

var windowMethods = map[string]*starlark.Builtin{
	"final":   starlark.NewBuiltin("Window.final", windowEmit(true)),
	"current": starlark.NewBuiltin("Window.current", windowEmit(false)),
}

// Attr implements starlark.HasAttrs: final(), current(), and name (the
// window's state store name, as Quix Streams names it).
func (w *Window) Attr(name string) (starlark.Value, error) {
	if m, ok := windowMethods[name]; ok {
		return w.def.sdf.app.reg.buildOnly(m, w), nil
	}
	if name == "name" {
		return starlark.String(w.store), nil
	}
	return nil, nil
}

func (w *Window) AttrNames() []string { return append(methodNames(windowMethods), "name") }

// windowEmit implements window.final() (each window once, when it closes)
// and window.current() (every window a record updates, on every record).
func windowEmit(final bool) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		w := b.Receiver().(*Window)
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		var def engine.Processor = windows.Fixed{Duration: w.def.duration, Step: w.def.step, Grace: w.def.grace, Agg: w.agg}
		if w.def.kind == "sliding" {
			def = windows.Sliding{Duration: w.def.duration, Grace: w.def.grace, Agg: w.agg}
		}
		return w.def.sdf.then(thread, engine.Window(w.store, def, final)), nil
	}
}
