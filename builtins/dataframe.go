package builtins

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins/python"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
)

// DataFrame is the script's StreamingDataFrame: a position in a pipeline
// graph. Each method adds an operation after it and returns a new
// StreamingDataFrame; the receiver is unchanged.
type DataFrame struct {
	app   *Application
	topic *Topic // the source topic (the first of merged)
	// merged are the source topics of a dataframe made by concat or a
	// join of dataframes of different topics, sorted by name; nil for a
	// dataframe of one topic.
	merged  []*Topic
	node    *engine.Node
	grouped *groupBy // set after group_by
	frozen  bool
}

// sources returns the dataframe's source topics.
func (d *DataFrame) sources() []*Topic {
	if d.merged != nil {
		return d.merged
	}
	return []*Topic{d.topic}
}

// sourceNames returns the names of the dataframe's source topics, sorted.
func (d *DataFrame) sourceNames() []string {
	var names []string
	for _, t := range d.sources() {
		names = append(names, t.Name())
	}
	return names
}

// stream returns the ID of the dataframe's stream, which names its
// stores: its topic, or the merged topics' names joined by "--" (Quix
// Streams' stream_id).
func (d *DataFrame) stream() string { return strings.Join(d.sourceNames(), "--") }

var (
	_ starlark.HasAttrs  = (*DataFrame)(nil)
	_ starlark.Mapping   = (*DataFrame)(nil)
	_ starlark.HasSetKey = (*DataFrame)(nil)
)

func (d *DataFrame) String() string {
	if d.merged != nil {
		return fmt.Sprintf("<StreamingDataFrame on topics %q>", d.sourceNames())
	}
	return fmt.Sprintf("<StreamingDataFrame on topic %q>", d.topic.Name())
}
func (d *DataFrame) Type() string         { return "StreamingDataFrame" }
func (d *DataFrame) Freeze()              { d.frozen = true }
func (d *DataFrame) Truth() starlark.Bool { return true }
func (d *DataFrame) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: StreamingDataFrame")
}

var dataframeMethods = map[string]*starlark.Builtin{
	"apply":         starlark.NewBuiltin("StreamingDataFrame.apply", sdfApply),
	"update":        starlark.NewBuiltin("StreamingDataFrame.update", sdfUpdate),
	"filter":        starlark.NewBuiltin("StreamingDataFrame.filter", sdfFilter),
	"to_topic":      starlark.NewBuiltin("StreamingDataFrame.to_topic", sdfToTopic),
	"print":         starlark.NewBuiltin("StreamingDataFrame.print", sdfPrint),
	"set_timestamp": starlark.NewBuiltin("StreamingDataFrame.set_timestamp", sdfSetTimestamp),
	"contains":      starlark.NewBuiltin("StreamingDataFrame.contains", sdfContains),
	"test":          starlark.NewBuiltin("StreamingDataFrame.test", sdfTest),
	"group_by":      starlark.NewBuiltin("StreamingDataFrame.group_by", sdfGroupBy),
	"concat":        starlark.NewBuiltin("StreamingDataFrame.concat", sdfConcat),
	"join_asof":     starlark.NewBuiltin("StreamingDataFrame.join_asof", sdfJoinAsOf),
	"join_interval": starlark.NewBuiltin("StreamingDataFrame.join_interval", sdfJoinInterval),
	"join_lookup":   starlark.NewBuiltin("StreamingDataFrame.join_lookup", sdfJoinLookup),
	"sink":          starlark.NewBuiltin("StreamingDataFrame.sink", sdfSink),
}

func (d *DataFrame) Attr(name string) (starlark.Value, error) {
	if name == "stream_id" {
		return starlark.String(d.stream()), nil
	}
	if m, ok := dataframeMethods[name]; ok {
		return d.app.reg.buildOnly(m, d), nil
	}
	return nil, nil
}

func (d *DataFrame) AttrNames() []string {
	return append(methodNames(dataframeMethods), "stream_id")
}

func (d *DataFrame) then(thread *starlark.Thread, op engine.Op) *DataFrame {
	return d.thenAt(callerPos(thread), op)
}

func (d *DataFrame) thenAt(pos string, op engine.Op) *DataFrame {
	return &DataFrame{app: d.app, topic: d.topic, merged: d.merged, node: d.node.Then(op, pos), grouped: d.grouped}
}

// Get implements sdf[key]:
//   - sdf["a"]: the column a, a StreamingSeries;
//   - sdf[["a", "b"]]: a dataframe of only those columns, in that order;
//   - sdf[series]: a dataframe of the records where series is truthy;
//   - sdf[sdf2]: the same, where sdf2 is sdf followed by apply() steps.
func (d *DataFrame) Get(k starlark.Value) (starlark.Value, bool, error) {
	pos := d.app.reg.pos()
	switch k.(type) {
	case *starlark.List, starlark.Tuple, *Series, *DataFrame:
		if !d.app.reg.Building.on.Load() {
			return nil, false, builtAtRunError("StreamingDataFrame[...]")
		}
	}
	switch k := k.(type) {
	case starlark.String:
		return &Series{expr: engine.Column(engine.Value(), string(k), pos), reg: d.app.reg}, true, nil
	case *starlark.List, starlark.Tuple:
		var cols []string
		iter := starlark.Iterate(k)
		defer iter.Done()
		var x starlark.Value
		for iter.Next(&x) {
			s, ok := x.(starlark.String)
			if !ok {
				return nil, false, fmt.Errorf("StreamingDataFrame[...]: column names must be str, got %s", x.Type())
			}
			cols = append(cols, string(s))
		}
		return d.thenAt(pos, engine.Project(cols)), true, nil
	case *Series:
		return d.thenAt(pos, engine.Filter(k.expr)), true, nil
	case *DataFrame:
		e, err := d.diff(k)
		if err != nil {
			return nil, false, fmt.Errorf("StreamingDataFrame[...]: %v", err)
		}
		return d.thenAt(pos, engine.Filter(e)), true, nil
	}
	return nil, false, fmt.Errorf("StreamingDataFrame[...]: unsupported key type %s; use a column name (str), a list of column names, or a condition such as sdf[\"a\"] > 5", k.Type())
}

// diff returns the apply() steps that lead from d to other as an
// expression, and removes them from the graph: they run as part of the
// expression, not as a branch.
func (d *DataFrame) diff(other *DataFrame) (*engine.Expr, error) {
	e, err := engine.ChainExpr(d.node, other.node)
	if err != nil {
		return nil, err
	}
	engine.FirstAfter(d.node, other.node).Detach()
	return e, nil
}

// SetKey implements sdf["x"] = value: a constant, a StreamingSeries, or a
// dataframe derived from sdf by apply() steps. It changes sdf in place,
// as Quix Streams does.
func (d *DataFrame) SetKey(k, v starlark.Value) error {
	if d.frozen {
		return fmt.Errorf("cannot assign a column to a StreamingDataFrame defined before the script finished loading")
	}
	name, ok := k.(starlark.String)
	if !ok {
		return fmt.Errorf("StreamingDataFrame[...] = ...: the column name must be a str, not %s", k.Type())
	}
	pos := d.app.reg.pos()
	var fn engine.Func
	switch v := v.(type) {
	case *Series:
		fn = v.expr
	case *DataFrame:
		e, err := d.diff(v)
		if err != nil {
			return fmt.Errorf("StreamingDataFrame[%q] = ...: %v", string(name), err)
		}
		fn = e
	default:
		v.Freeze()
		fn = engine.Const(v)
	}
	d.node = d.node.Then(engine.Assign(string(name), fn), pos)
	return nil
}

// callback unpacks a user function argument and checks, where the callable
// says how many parameters it takes, that it accepts the arguments it
// will get: value (or value, key, timestamp, headers with metadata), and a
// State last when stateful.
func callback(fn string, v starlark.Value, metadata bool) (*engine.Callback, error) {
	return callbackFor(fn, v, metadata, false)
}

func callbackFor(fn string, v starlark.Value, metadata, stateful bool) (*engine.Callback, error) {
	c, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: want a function, got %s", fn, v.Type())
	}
	nargs, what := 1, "value"
	if metadata {
		nargs, what = 4, "value, key, timestamp, headers (metadata=True)"
	}
	if stateful {
		nargs++
		what += " and state (stateful=True)"
	}
	if f, ok := c.(*starlark.Function); ok {
		if err := checkArity(f, nargs); err != nil {
			return nil, fmt.Errorf("%s: %s must accept %d argument(s) (%s): %v", fn, f.Name(), nargs, what, err)
		}
	}
	return &engine.Callback{Fn: c, Metadata: metadata}, nil
}

// userFunc builds the engine function of a callback argument; a stateful
// one registers the source topic's "default" store, as Quix Streams does.
func (d *DataFrame) userFunc(fn string, v starlark.Value, metadata, stateful bool) (engine.Func, error) {
	cb, err := callbackFor(fn, v, metadata, stateful)
	if err != nil {
		return nil, err
	}
	if !stateful {
		return cb, nil
	}
	id, err := d.registerStore("default", storePlain)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	return &engine.Stateful{Callback: *cb, Store: id, NewState: NewState}, nil
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
	var expand, metadata, stateful bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "func", &fn, "stateful?", &stateful, "expand?", &expand, "metadata?", &metadata); err != nil {
		return nil, err
	}
	f, err := d.userFunc(b.Name(), fn, metadata, stateful)
	if err != nil {
		return nil, err
	}
	return d.then(thread, engine.Apply(f, expand)), nil
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
	var metadata, stateful bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "func", &fn, "stateful?", &stateful, "metadata?", &metadata); err != nil {
		return nil, err
	}
	f, err := d.userFunc(b.Name(), fn, metadata, stateful)
	if err != nil {
		return nil, err
	}
	return d.then(thread, op(f)), nil
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
	return d.then(thread, engine.Print(python.Repr)), nil
}

// sdfSetTimestamp implements sdf.set_timestamp(func): the record's
// timestamp becomes func(value, key, timestamp, headers), for later
// operations and for produced messages.
func sdfSetTimestamp(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var fn starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "func", &fn); err != nil {
		return nil, err
	}
	cb, err := callback(b.Name(), fn, true)
	if err != nil {
		return nil, err
	}
	return d.then(thread, engine.SetTimestamp(cb)), nil
}

// sdfContains implements sdf.contains(key): a StreamingSeries that is True
// when the value has the column key (for a str value: the substring).
func sdfContains(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var key starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key); err != nil {
		return nil, err
	}
	key.Freeze()
	return &Series{reg: d.app.reg, expr: engine.Unary(fmt.Sprintf("contains(%s)", key), engine.Value(), func(v starlark.Value) (starlark.Value, error) {
		ok, err := engine.In(key, v)
		return starlark.Bool(ok), err
	})}, nil
}

// sdfTest implements sdf.test(value, key=None, timestamp=0, headers=None,
// partition=0, topic=None): it runs one record through the operations
// from the source topic to sdf on the engine (engine.Tester), on the
// calling thread, and returns the records that reach sdf as a list of
// (value, key, timestamp, headers) tuples. A dataframe of several topics
// (concat, joins) needs topic=, the Topic (or its name) the record comes
// from. Branches
// off that path do not run, as in Quix Streams. to_topic() steps
// serialize and produce nothing, except a group_by's, whose repartition
// topic is consumed (in the same partition) by the operations after it.
// Stateful steps, windows and joins keep their state in memory between
// calls until the test function ends.
func sdfTest(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var topic *Topic
	var rest []starlark.Tuple
	for _, kv := range kwargs {
		if kv[0] != starlark.String("topic") {
			rest = append(rest, kv)
			continue
		}
		if kv[1] == starlark.None {
			continue
		}
		switch v := kv[1].(type) {
		case *Topic:
			topic = v
		case starlark.String:
			if topic = d.app.topics[string(v)]; topic == nil {
				return nil, fmt.Errorf("%s: the application has no topic %q", b.Name(), string(v))
			}
		default:
			return nil, fmt.Errorf("%s: topic must be a Topic (or a topic's name), not %s", b.Name(), kv[1].Type())
		}
	}
	row, partition, err := unpackTestRowPartition(b, args, rest)
	if err != nil {
		return nil, err
	}
	stages, err := d.testStages(topic)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	t, err := d.app.reg.tester(d.app, threadPrinter{thread})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	rows, err := t.Process(thread, partition, row, stages, d.app.storeSpecs())
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(rows))
	for i, r := range rows {
		out[i] = starlark.Tuple{r.Value, r.Key, starlark.MakeInt64(r.Timestamp), engine.HeadersValue(r.Headers)}
	}
	return starlark.NewList(out), nil
}

// testStages returns the stages of sdf.test(), last first: from topic
// (d's own when nil) up to d, then each group_by's upstream topic up to
// its repartition produce.
func (d *DataFrame) testStages(topic *Topic) ([]engine.Stage, error) {
	given := topic
	if topic == nil || d.merged == nil {
		if d.merged != nil {
			return nil, fmt.Errorf("the dataframe reads topics %q: pass topic= to say which one the record comes from", d.sourceNames())
		}
		topic = d.topic // a given topic must be where its group_by chain starts
	}
	stages, err := d.stagesFrom(topic)
	if err == nil && given != nil && stages[0].Topic != given.t {
		err = fmt.Errorf("the dataframe does not read topic %q (it reads %q)", given.Name(), stages[0].Topic.Name)
	}
	return stages, err
}

func (d *DataFrame) stagesFrom(topic *Topic) ([]engine.Stage, error) {
	app := d.app
	stage := func(t *Topic, node *engine.Node) engine.Stage {
		return engine.Stage{Topic: t.t, Root: app.roots[t.Name()], Node: node, Group: app.subTopology(t.Name())}
	}
	stages := []engine.Stage{stage(topic, d.node)}
	for t := topic; t.repartitionOf != ""; {
		g := app.grouped[t.Name()]
		if g.upstream.merged != nil {
			return nil, fmt.Errorf("the record would go through group_by of a dataframe of several topics (%q), which sdf.test() cannot feed: test the dataframe before the group_by", g.upstream.sourceNames())
		}
		t = g.upstream.topic
		stages = append([]engine.Stage{stage(t, g.hop)}, stages...)
	}
	return stages, nil
}

// subTopology returns the source topics whose pipelines meet topic's
// (engine.SubTopologies).
func (a *Application) subTopology(topic string) []string { return a.SubTopologies()[topic] }

// SubTopologies returns, for each source topic of the application's
// dataframes, the sorted topics of its sub-topology: those its pipeline
// is joined or concatenated with, transitively (engine.SubTopologies).
func (a *Application) SubTopologies() map[string][]string {
	var sources []*engine.Source
	for _, n := range a.rootOf {
		sources = append(sources, &engine.Source{Topic: a.topics[n].t, Root: a.roots[n]})
	}
	return engine.SubTopologies(sources)
}

// Stateful reports whether a store of the application is changed by the
// messages of one of topics.
func (a *Application) Stateful(topics []string) bool {
	for _, s := range a.stores {
		if len(s.Topics) == 0 && slices.Contains(topics, s.Topic) {
			return true
		}
		for _, t := range s.Topics {
			if slices.Contains(topics, t) {
				return true
			}
		}
	}
	return false
}

// unpackTestRowPartition reads sdf.test's arguments, partition included.
func unpackTestRowPartition(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (engine.Row, int32, error) {
	var partition int
	var rest []starlark.Tuple
	for _, kv := range kwargs {
		if kv[0] == starlark.String("partition") {
			p, err := starlark.AsInt32(kv[1])
			if err != nil || p < 0 {
				return engine.Row{}, 0, fmt.Errorf("%s: partition must be a non-negative int", b.Name())
			}
			partition = p
			continue
		}
		rest = append(rest, kv)
	}
	row, err := unpackTestRow(b, args, rest)
	return row, int32(partition), err
}

func bindContext(thread *starlark.Thread, c *engine.Context) func() { return engine.Bind(thread, c) }

// unpackTestRow reads (value, key=None, timestamp=0, headers=None). The
// value is deep-copied so that the pipeline may mutate it.
func unpackTestRow(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (engine.Row, error) {
	var value, key, headers starlark.Value = nil, starlark.None, starlark.None
	var ts int64
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "value", &value, "key?", &key, "timestamp?", &ts, "headers?", &headers); err != nil {
		return engine.Row{}, err
	}
	v, err := engine.DeepCopy(value)
	if err != nil {
		return engine.Row{}, fmt.Errorf("%s: %v", b.Name(), err)
	}
	hs, err := unpackHeaders(headers)
	if err != nil {
		return engine.Row{}, fmt.Errorf("%s: headers: %v", b.Name(), err)
	}
	return engine.Row{Value: v, Key: key, Timestamp: ts, Headers: hs}, nil
}

// unpackHeaders accepts None, a list of (name, value) tuples or a dict;
// values are bytes or str.
func unpackHeaders(v starlark.Value) ([]record.Header, error) {
	var pairs []starlark.Tuple
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case *starlark.Dict:
		pairs = v.Items()
	case starlark.Iterable:
		it := v.Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			t, ok := x.(starlark.Tuple)
			if !ok || len(t) != 2 {
				return nil, fmt.Errorf("want (name, value) pairs, got %s", x.Type())
			}
			pairs = append(pairs, t)
		}
	default:
		return nil, fmt.Errorf("want None, a dict or a list of (name, value) pairs, got %s", v.Type())
	}
	hs := make([]record.Header, 0, len(pairs))
	for _, p := range pairs {
		name, ok := p[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("header names must be str, got %s", p[0].Type())
		}
		switch val := p[1].(type) {
		case starlark.Bytes:
			hs = append(hs, record.Header{Key: string(name), Value: []byte(val)})
		case starlark.String:
			hs = append(hs, record.Header{Key: string(name), Value: []byte(val)})
		default:
			return nil, fmt.Errorf("header values must be bytes or str, got %s", p[1].Type())
		}
	}
	return hs, nil
}

// threadPrinter sends print() output of sdf.test() to the thread's Print.
type threadPrinter struct{ thread *starlark.Thread }

func (p threadPrinter) Write(b []byte) (int, error) {
	if p.thread.Print != nil {
		p.thread.Print(p.thread, strings.TrimSuffix(string(b), "\n"))
	}
	return len(b), nil
}
