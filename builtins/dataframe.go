package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
)

// DataFrame is the script's StreamingDataFrame: a position in a pipeline
// graph. Each method adds an operation after it and returns a new
// StreamingDataFrame; the receiver is unchanged.
type DataFrame struct {
	app   *Application
	topic *Topic // the source topic
	node  *engine.Node
}

var _ starlark.HasAttrs = (*DataFrame)(nil)

func (d *DataFrame) String() string {
	return fmt.Sprintf("<StreamingDataFrame on topic %q>", d.topic.Name())
}
func (d *DataFrame) Type() string         { return "StreamingDataFrame" }
func (d *DataFrame) Freeze()              {}
func (d *DataFrame) Truth() starlark.Bool { return true }
func (d *DataFrame) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: StreamingDataFrame")
}

var dataframeMethods = map[string]*starlark.Builtin{
	"apply":    starlark.NewBuiltin("StreamingDataFrame.apply", sdfApply),
	"update":   starlark.NewBuiltin("StreamingDataFrame.update", sdfUpdate),
	"filter":   starlark.NewBuiltin("StreamingDataFrame.filter", sdfFilter),
	"to_topic": starlark.NewBuiltin("StreamingDataFrame.to_topic", sdfToTopic),
	"print":    starlark.NewBuiltin("StreamingDataFrame.print", sdfPrint),
}

func (d *DataFrame) Attr(name string) (starlark.Value, error) {
	if m, ok := dataframeMethods[name]; ok {
		return m.BindReceiver(d), nil
	}
	return nil, nil
}

func (d *DataFrame) AttrNames() []string { return methodNames(dataframeMethods) }

func (d *DataFrame) then(thread *starlark.Thread, op engine.Op) *DataFrame {
	return &DataFrame{app: d.app, topic: d.topic, node: d.node.Then(op, callerPos(thread))}
}

// callback unpacks a user function argument and checks, where the callable
// says how many parameters it takes, that it accepts nargs positional
// arguments.
func callback(fn string, v starlark.Value, metadata bool) (*engine.Callback, error) {
	c, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: want a function, got %s", fn, v.Type())
	}
	nargs := 1
	if metadata {
		nargs = 4
	}
	if f, ok := c.(*starlark.Function); ok {
		if err := checkArity(f, nargs); err != nil {
			what := "value"
			if metadata {
				what = "value, key, timestamp, headers (metadata=True)"
			}
			return nil, fmt.Errorf("%s: %s must accept %d argument(s) (%s): %v", fn, f.Name(), nargs, what, err)
		}
	}
	return &engine.Callback{Fn: c, Metadata: metadata}, nil
}

func checkArity(f *starlark.Function, n int) error {
	positional := f.NumParams() - f.NumKwonlyParams()
	if f.HasVarargs() {
		positional--
	}
	if f.HasKwargs() {
		positional--
	}
	required := 0
	for i := 0; i < positional; i++ {
		if f.ParamDefault(i) == nil {
			required++
		}
	}
	if n < required || (n > positional && !f.HasVarargs()) {
		return fmt.Errorf("it is declared at %s with %d parameter(s)", f.Position(), positional)
	}
	return nil
}

// sdfApply implements sdf.apply(func, expand=False, metadata=False): the
// value becomes func(value); with expand, each item of the result becomes
// a record.
func sdfApply(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var fn starlark.Value
	var expand, metadata bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "func", &fn, "expand?", &expand, "metadata?", &metadata); err != nil {
		return nil, err
	}
	cb, err := callback(b.Name(), fn, metadata)
	if err != nil {
		return nil, err
	}
	return d.then(thread, engine.Apply(cb, expand)), nil
}

// sdfUpdate implements sdf.update(func, metadata=False): func is called for
// its effect (usually mutating the value); the value passes on.
func sdfUpdate(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return callbackOp(thread, b, args, kwargs, engine.Update)
}

// sdfFilter implements sdf.filter(func, metadata=False): records pass when
// func's result is truthy.
func sdfFilter(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return callbackOp(thread, b, args, kwargs, engine.Filter)
}

// callbackOp adds the operation op(func) for a method taking (func, metadata=False).
func callbackOp(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, op func(engine.Func) engine.Op) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var fn starlark.Value
	var metadata bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "func", &fn, "metadata?", &metadata); err != nil {
		return nil, err
	}
	cb, err := callback(b.Name(), fn, metadata)
	if err != nil {
		return nil, err
	}
	return d.then(thread, op(cb)), nil
}

// sdfToTopic implements sdf.to_topic(topic, key=None): produce each record
// to topic with its timestamp and headers; the key is the record's key, or
// key(value) when key is given.
func sdfToTopic(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var t *Topic
	var key starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "topic", &t, "key?", &key); err != nil {
		return nil, err
	}
	if _, ok := d.app.topics[t.Name()]; !ok {
		return nil, fmt.Errorf("%s: topic %q was not declared with this application's app.topic()", b.Name(), t.Name())
	}
	var keyFn engine.Func
	if key != starlark.None {
		cb, err := callback(b.Name(), key, false)
		if err != nil {
			return nil, err
		}
		keyFn = cb
	}
	return d.then(thread, engine.ToTopic(t.t, keyFn)), nil
}

// sdfPrint implements sdf.print(pretty=True, metadata=False): write each
// record's value, key and timestamp to standard output, one line each.
func sdfPrint(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var pretty, metadata bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pretty?", &pretty, "metadata?", &metadata); err != nil {
		return nil, err
	}
	return d.then(thread, engine.Print()), nil
}
