package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/serde"
)

// groupBy links a repartitioned dataframe to the one it was grouped from.
type groupBy struct {
	upstream *DataFrame   // the dataframe group_by was called on
	hop      *engine.Node // the produce to the repartition topic, after upstream
}

// sdfGroupBy implements
//
//	sdf.group_by(key, name=None, value_deserializer="json", key_deserializer="json",
//	             value_serializer="json", key_serializer="json")
//
// It re-keys records through the internal topic
// repartition__{consumer_group}--{topic}--{name or key}, created with the
// source topic's partition count; key is a column name or a function of
// the value (which then needs name=). It returns a new StreamingDataFrame
// fed by that topic: state and windows after it are scoped by the new key.
// Only one group_by is allowed per dataframe lineage.
func sdfGroupBy(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var key, name starlark.Value = nil, starlark.None
	vd := deserializerArg{serde.NewJSON()}
	kd := deserializerArg{serde.JSON{}}
	vs := serializerArg{serde.JSON{}}
	ks := serializerArg{serde.JSON{}}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "name?", &name,
		"value_deserializer?", &vd, "key_deserializer?", &kd, "value_serializer?", &vs, "key_serializer?", &ks); err != nil {
		return nil, err
	}
	if d.grouped != nil {
		return nil, fmt.Errorf("%s: only one group_by operation is allowed per StreamingDataFrame (GroupByLimitExceeded)", b.Name())
	}
	op, err := optString(b.Name(), "name", name)
	if err != nil {
		return nil, err
	}
	pos := callerPos(thread)
	var keyFn engine.Func
	switch k := key.(type) {
	case starlark.String:
		if k == "" {
			return nil, fmt.Errorf(`%s: parameter "key" cannot be empty`, b.Name())
		}
		keyFn = engine.Column(engine.Value(), string(k), pos)
		if op == "" {
			op = string(k)
		}
	case starlark.Callable:
		if op == "" {
			return nil, fmt.Errorf(`%s: group_by requires "name" parameter when "key" is a function`, b.Name())
		}
		cb, err := callback(b.Name(), k, false)
		if err != nil {
			return nil, err
		}
		keyFn = cb
	default:
		return nil, fmt.Errorf("%s: group_by 'key' must be callable or string (column name), not %s", b.Name(), key.Type())
	}
	app := d.app
	topicName, err := app.internalTopic("repartition", d.stream(), op)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if _, exists := app.topics[topicName]; exists {
		return nil, fmt.Errorf("%s: a group_by named %q already exists for topic %q; give it another name=", b.Name(), op, d.topic.Name())
	}
	rt := &Topic{pos: pos, repartitionOf: d.topic.Name(), t: &engine.Topic{
		Name: topicName, KeyDeserializer: kd.d, ValueDeserializer: vd.d, KeySerializer: ks.s, ValueSerializer: vs.s,
	}}
	app.topics[topicName] = rt
	app.order = append(app.order, topicName)
	hop := d.node.Then(engine.ToTopic(rt.t, keyFn), pos)
	root := engine.NewRoot()
	app.roots[topicName] = root
	app.rootOf = append(app.rootOf, topicName)
	g := &groupBy{upstream: d, hop: hop}
	app.grouped[topicName] = g
	return &DataFrame{app: app, topic: rt, node: root, grouped: g}, nil
}
