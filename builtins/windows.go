package builtins

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins/python"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/windows"
)

// WindowDefinition is what a window method of a StreamingDataFrame
// returns (sdf.tumbling_window(...), sdf.tumbling_count_window(...),
// ...); an aggregation method turns it into a Window. Its kind decides
// the rest: parameters, store names, methods and processor.
type WindowDefinition struct {
	sdf    *DataFrame
	kind   *windowKind
	params windowParams
	pos    string
}

// windowParams are a window definition's arguments; those a kind does not
// take are 0 (step is duration for tumbling time windows, 0 for tumbling
// count windows).
type windowParams struct {
	duration, step, grace, count int64
	name                         string
	onLate                       starlark.Callable // nil unless on_late= is given
}

// named adds a time window's name= and on_late= arguments to p.
func (p windowParams) named(fn string, name, onLate starlark.Value) (windowParams, error) {
	var err error
	if onLate != starlark.None {
		if p.onLate, err = callbackFn(fn, "on_late", onLate, 10); err != nil {
			return windowParams{}, err
		}
	}
	p.name, err = optString(fn, "name", name)
	return p, err
}

// windowKind is one kind of window, the one place that knows it.
type windowKind struct {
	method string // the StreamingDataFrame method
	typ    string // the definition's type name
	// unpack reads and checks the method's arguments.
	unpack func(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (windowParams, error)
	// store is the auto-generated store name, without the name= prefix;
	// suffix is the method (sum, collect, ...), "" for agg().
	store func(p windowParams, suffix string) string
	// wholeName: name= is the whole store name (2.5.1's time windows),
	// rather than a prefix of it (3.x).
	wholeName bool
	// classic: .sum() and the other methods have 2.5.1's semantics
	// (None is not skipped); otherwise 3.x's aggregator classes.
	classic bool
	// closing is the closing_strategy final() and current() take.
	closing closingArg
	// attrs are the definition's properties.
	attrs     []string
	processor func(p windowParams, agg windows.Aggregate, closing windows.Closing) engine.Processor
}

// closingArg is what closing_strategy a window's final() and current()
// accept.
type closingArg int

const (
	noClosing  closingArg = iota // count windows: no argument
	anyClosing                   // "key" or "partition", or None for 2.5.1's clock
	keyClosing                   // sliding windows: "key" (their only clock)
)

// timeWindowKind is a time window: 2.5.1's (classic) tumbling and hopping
// windows, or 3.x's sliding window.
func timeWindowKind(method, typ string, hopping, classic bool, closing closingArg, processor func(windowParams, windows.Aggregate, windows.Closing) engine.Processor) *windowKind {
	prefix := strings.TrimSuffix(method, "_window") + "_window"
	return &windowKind{
		method: method, typ: typ, wholeName: classic, classic: classic, closing: closing,
		attrs: []string{"duration_ms", "grace_ms", "name", "step_ms"},
		unpack: func(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (windowParams, error) {
			var duration, step, grace milliseconds
			var name, onLate starlark.Value = starlark.None, starlark.None
			var err error
			if hopping {
				err = starlark.UnpackArgs(fn, args, kwargs, "duration_ms", &duration, "step_ms", &step, "grace_ms?", &grace, "name?", &name, "on_late?", &onLate)
			} else {
				err = starlark.UnpackArgs(fn, args, kwargs, "duration_ms", &duration, "grace_ms?", &grace, "name?", &name, "on_late?", &onLate)
				step.ms = duration.ms
			}
			if err != nil {
				return windowParams{}, err
			}
			switch {
			case duration.ms < 1:
				return windowParams{}, fmt.Errorf("%s: duration_ms must be at least 1, got %d", fn, duration.ms)
			case grace.ms < 0:
				return windowParams{}, fmt.Errorf("%s: grace_ms must not be negative, got %d", fn, grace.ms)
			case hopping && (step.ms <= 0 || step.ms >= duration.ms):
				return windowParams{}, fmt.Errorf("%s: step_ms must be greater than 0 and smaller than duration_ms (%d), got %d", fn, duration.ms, step.ms)
			}
			return windowParams{duration: duration.ms, step: step.ms, grace: grace.ms}.named(fn, name, onLate)
		},
		store: func(p windowParams, suffix string) string {
			s := fmt.Sprintf("%s_%d", prefix, p.duration)
			if hopping {
				s += fmt.Sprintf("_%d", p.step)
			}
			if suffix != "" {
				s += "_" + suffix
			}
			return s
		},
		processor: processor,
	}
}

func countWindowKind(method, typ string, step int64) *windowKind {
	return &windowKind{
		method: method, typ: typ,
		attrs: []string{"name"},
		unpack: func(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (windowParams, error) {
			var count int64
			s := step
			var name starlark.Value = starlark.None
			var err error
			if step < 0 {
				err = starlark.UnpackArgs(fn, args, kwargs, "count", &count, "step", &s, "name?", &name)
			} else {
				err = starlark.UnpackArgs(fn, args, kwargs, "count", &count, "name?", &name)
			}
			if err != nil {
				return windowParams{}, err
			}
			switch {
			case count < 2:
				return windowParams{}, fmt.Errorf("%s: Window count must be greater than 1 (ValueError), got %d", fn, count)
			case step < 0 && s < 1:
				return windowParams{}, fmt.Errorf("%s: Window step must be greater or equal to 1 (ValueError), got %d", fn, s)
			}
			n, err := optString(fn, "name", name)
			return windowParams{count: count, step: s, name: n}, err
		},
		store: func(_ windowParams, suffix string) string {
			if suffix == "" {
				return method
			}
			return method + "_" + suffix
		},
		processor: func(p windowParams, agg windows.Aggregate, _ windows.Closing) engine.Processor {
			return windows.CountWindow{Max: p.count, Step: p.step, Agg: agg}
		},
	}
}

// sessionWindowKind is session_window(timeout_ms, grace_ms=0, name=None,
// on_late=None): beyond Quix Streams, with 3.x's method semantics and
// name= as a prefix.
func sessionWindowKind() *windowKind {
	return &windowKind{
		method: "session_window", typ: "SessionWindowDefinition",
		attrs: []string{"grace_ms", "name", "timeout_ms"},
		unpack: func(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (windowParams, error) {
			var timeout, grace milliseconds
			var name, onLate starlark.Value = starlark.None, starlark.None
			if err := starlark.UnpackArgs(fn, args, kwargs, "timeout_ms", &timeout, "grace_ms?", &grace, "name?", &name, "on_late?", &onLate); err != nil {
				return windowParams{}, err
			}
			switch {
			case timeout.ms < 1:
				return windowParams{}, fmt.Errorf("%s: timeout_ms must be at least 1, got %d", fn, timeout.ms)
			case grace.ms < 0:
				return windowParams{}, fmt.Errorf("%s: grace_ms must not be negative, got %d", fn, grace.ms)
			}
			return windowParams{duration: timeout.ms, grace: grace.ms}.named(fn, name, onLate)
		},
		store: func(p windowParams, suffix string) string {
			s := fmt.Sprintf("session_window_%d", p.duration)
			if suffix != "" {
				s += "_" + suffix
			}
			return s
		},
		processor: func(p windowParams, agg windows.Aggregate, _ windows.Closing) engine.Processor {
			return windows.Session{Timeout: p.duration, Grace: p.grace, Agg: agg}
		},
	}
}

// windowKinds are the window kinds, by StreamingDataFrame method.
var windowKinds = func() map[string]*windowKind {
	fixed := func(p windowParams, agg windows.Aggregate, closing windows.Closing) engine.Processor {
		return windows.Fixed{Duration: p.duration, Step: p.step, Grace: p.grace, Agg: agg, Closing: closing}
	}
	kinds := map[string]*windowKind{}
	for _, k := range []*windowKind{
		timeWindowKind("tumbling_window", "TumblingTimeWindowDefinition", false, true, anyClosing, fixed),
		timeWindowKind("hopping_window", "HoppingTimeWindowDefinition", true, true, anyClosing, fixed),
		timeWindowKind("sliding_window", "SlidingTimeWindowDefinition", false, false, keyClosing, func(p windowParams, agg windows.Aggregate, _ windows.Closing) engine.Processor {
			return windows.Sliding{Duration: p.duration, Grace: p.grace, Agg: agg}
		}),
		countWindowKind("tumbling_count_window", "TumblingCountWindowDefinition", 0),
		countWindowKind("hopping_count_window", "HoppingCountWindowDefinition", -1),
		countWindowKind("sliding_count_window", "SlidingCountWindowDefinition", 1),
		sessionWindowKind(),
	} {
		kinds[k.method] = k
	}
	return kinds
}()

// Window is a window with its aggregation; .final() and .current() return
// the StreamingDataFrame of its results.
type Window struct {
	def   *WindowDefinition
	agg   windows.Aggregate
	store string // the store's name
	id    string // the store's engine.StoreID
}

var (
	_ starlark.HasAttrs = (*WindowDefinition)(nil)
	_ starlark.HasAttrs = (*Window)(nil)
)

func (w *WindowDefinition) String() string {
	if w.params.count > 0 {
		return fmt.Sprintf("<%s count=%d>", w.kind.typ, w.params.count)
	}
	return fmt.Sprintf("<%s duration_ms=%d>", w.kind.typ, w.params.duration)
}
func (w *WindowDefinition) Type() string         { return w.kind.typ }
func (w *WindowDefinition) Freeze()              {}
func (w *WindowDefinition) Truth() starlark.Bool { return true }
func (w *WindowDefinition) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: %s", w.Type())
}

func (w *Window) String() string        { return fmt.Sprintf("<Window %s>", w.store) }
func (w *Window) Type() string          { return strings.TrimSuffix(w.def.kind.typ, "Definition") }
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

// windowMethod is the StreamingDataFrame method of a window kind.
func windowMethod(kind *windowKind) *starlark.Builtin {
	return starlark.NewBuiltin("StreamingDataFrame."+kind.method, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		p, err := kind.unpack(b.Name(), args, kwargs)
		if err != nil {
			return nil, err
		}
		return &WindowDefinition{sdf: b.Receiver().(*DataFrame), kind: kind, params: p, pos: callerPos(thread)}, nil
	})
}

var windowDefinitionMethods = map[string]*starlark.Builtin{}

func init() {
	classic := map[string]func() windows.Aggregation{"sum": windows.Sum, "count": windows.Count, "mean": windows.Mean, "min": windows.Min, "max": windows.Max}
	current := map[string]func(string) *windows.Aggregator{"sum": windows.NewSum, "count": windows.NewCount, "mean": windows.NewMean, "min": windows.NewMin, "max": windows.NewMax}
	for _, name := range []string{"sum", "count", "mean", "min", "max"} {
		name := name
		windowDefinitionMethods[name] = starlark.NewBuiltin("WindowDefinition."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			w := b.Receiver().(*WindowDefinition)
			if w.kind.classic {
				return w.window(b.Name(), classic[name](), name)
			}
			return w.single(b.Name(), windows.Named{Name: "value", Aggregator: current[name]("")}, name)
		})
	}
	windowDefinitionMethods["reduce"] = starlark.NewBuiltin("WindowDefinition.reduce", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		r, i, err := unpackReduce(b.Name(), args, kwargs)
		if err != nil {
			return nil, err
		}
		w := b.Receiver().(*WindowDefinition)
		if w.kind.classic {
			return w.window(b.Name(), windows.Reduce(r, i), "reduce")
		}
		return w.single(b.Name(), windows.Named{Name: "value", Aggregator: windows.NewReduce(r, i)}, "reduce")
	})
	windowDefinitionMethods["collect"] = starlark.NewBuiltin("WindowDefinition.collect", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return b.Receiver().(*WindowDefinition).single(b.Name(), windows.Named{Name: "value", Collector: &windows.Collector{}}, "collect")
	})
	windowDefinitionMethods["agg"] = starlark.NewBuiltin("WindowDefinition.agg", windowAgg)
	for method, kind := range windowKinds {
		dataframeMethods[method] = windowMethod(kind)
	}
}

// windowAgg implements .agg(name=Sum(), ...): the named aggregations and
// collections at once, emitted as {name: ..., "start", "end"}.
func windowAgg(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: takes keyword arguments only (name=Sum(), ...), got %d positional", b.Name(), len(args))
	}
	named := make([]windows.Named, 0, len(kwargs))
	for _, kv := range kwargs {
		col := string(kv[0].(starlark.String))
		if col == "start" || col == "end" {
			return nil, fmt.Errorf("%s: `start` and `end` are reserved keywords for the window boundaries (ValueError)", b.Name())
		}
		op, ok := kv[1].(*aggregationValue)
		if !ok {
			return nil, fmt.Errorf("%s: operation `%s:%s` must be either BaseAggregator or BaseCollector (TypeError)", b.Name(), col, kv[1])
		}
		named = append(named, windows.Named{Name: col, Aggregator: op.agg, Collector: op.collector})
	}
	agg, err := windows.NewAggregators(named, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return b.Receiver().(*WindowDefinition).window(b.Name(), agg, "")
}

// single is a 3.x method (.collect(), or .sum() of a count window): one
// aggregator or collector, emitted as {"start", "end", "value"}.
func (w *WindowDefinition) single(fn string, n windows.Named, suffix string) (*Window, error) {
	agg, err := windows.NewAggregators([]windows.Named{n}, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	return w.window(fn, agg, suffix)
}

// unpackReduce reads and checks reduce()'s and Reduce()'s functions.
func unpackReduce(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Callable, starlark.Callable, error) {
	var reducer, initializer starlark.Value
	if err := starlark.UnpackArgs(fn, args, kwargs, "reducer", &reducer, "initializer", &initializer); err != nil {
		return nil, nil, err
	}
	r, err := callbackFn(fn, "reducer", reducer, 2)
	if err != nil {
		return nil, nil, err
	}
	i, err := callbackFn(fn, "initializer", initializer, 1)
	if err != nil {
		return nil, nil, err
	}
	return r, i, nil
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
// grace_ms, step_ms (None unless hopping) and name (None unless given)
// for time windows; name for count windows.
func (w *WindowDefinition) Attr(name string) (starlark.Value, error) {
	if m, ok := windowDefinitionMethods[name]; ok {
		return w.sdf.app.reg.buildOnly(m, w), nil
	}
	if !slices.Contains(w.kind.attrs, name) {
		return nil, nil
	}
	p := w.params
	switch name {
	case "duration_ms", "timeout_ms":
		return starlark.MakeInt64(p.duration), nil
	case "grace_ms":
		return starlark.MakeInt64(p.grace), nil
	case "step_ms":
		if p.step == p.duration {
			return starlark.None, nil
		}
		return starlark.MakeInt64(p.step), nil
	case "name":
		if p.name == "" {
			return starlark.None, nil
		}
		return starlark.String(p.name), nil
	}
	return nil, nil
}

func (w *WindowDefinition) AttrNames() []string {
	return append(methodNames(windowDefinitionMethods), w.kind.attrs...)
}

// window names the store (Quix Streams' auto names, with name= as the
// whole name for 2.5.1's time windows and as a prefix otherwise) and
// registers it.
func (w *WindowDefinition) window(fn string, agg windows.Aggregate, suffix string) (*Window, error) {
	store := w.kind.store(w.params, suffix)
	switch {
	case w.params.name != "" && w.kind.wholeName:
		store = w.params.name
	case w.params.name != "":
		store = w.params.name + "_" + store
	}
	stream := w.sdf.stream()
	if w.sdf.app.hasStore(stream, store) {
		return nil, fmt.Errorf("%s: a window store named %q is already registered for topic %q; give this window another name= (WindowedStoreAlreadyRegisteredError)", fn, store, stream)
	}
	id, err := w.sdf.registerStore(store, storeWindowed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	return &Window{def: w, agg: agg, store: store, id: id}, nil
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
		var strategy starlark.Value = starlark.None
		var err error
		if w.def.kind.closing == noClosing {
			err = starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0)
		} else {
			err = starlark.UnpackArgs(b.Name(), args, kwargs, "closing_strategy?", &strategy)
		}
		if err != nil {
			return nil, err
		}
		closing, err := closingStrategy(b.Name(), strategy)
		if err != nil {
			return nil, err
		}
		if w.def.kind.closing == keyClosing && closing == windows.ClosingPartition {
			return nil, fmt.Errorf("%s: Sliding window only support the 'key' closing strategy (TypeError)", b.Name())
		}
		if !final && w.agg.Collects() {
			return nil, fmt.Errorf("%s: BaseCollectors are not supported by `current` windows (InvalidOperation): collected values are only emitted by final()", b.Name())
		}
		p := w.def.params
		opts := engine.WindowOptions{OnLate: p.onLate, Quix3: p.onLate != nil || strategy != starlark.None || !w.def.kind.classic}
		return w.def.sdf.then(thread, engine.Window(w.id, w.def.kind.processor(p, w.agg, closing), final, opts)), nil
	}
}

// closingStrategy reads final()'s and current()'s closing_strategy:
// None (2.5.1's partition clock, qstar's default), or 3.x's "key" or
// "partition", in any case.
func closingStrategy(fn string, v starlark.Value) (windows.Closing, error) {
	if v == starlark.None {
		return windows.ClosingPartitionClock, nil
	}
	if s, ok := v.(starlark.String); ok {
		switch strings.ToLower(string(s)) {
		case "key":
			return windows.ClosingKey, nil
		case "partition":
			return windows.ClosingPartition, nil
		}
	}
	return 0, fmt.Errorf(`%s: closing strategy must be one of "key" or "partition" (TypeError), got %s`, fn, v)
}
