package builtins

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
)

// Concatenations and joins (Quix Streams 3.14-3.17): a dataframe fed by
// two. Their topics' partitions p belong to one task (engine: a
// sub-topology), so that a side's operation can read the other side's
// store.

// sdfConcat implements sdf.concat(other): one dataframe of both
// dataframes' records, in the order their task receives them (aligned by
// timestamp across topics). Of different topics, its stream is the
// topics' merged stream: stateful operations after it have stores of
// their own, and need the topics to have the same partition count.
func sdfConcat(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	d := b.Receiver().(*DataFrame)
	var other *DataFrame
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "other", &other); err != nil {
		return nil, err
	}
	if other.app != d.app {
		return nil, fmt.Errorf("%s: the dataframes belong to different Applications", b.Name())
	}
	return d.merge(callerPos(thread), "concat", other), nil
}

// merge returns the dataframe fed by d and other.
func (d *DataFrame) merge(pos, name string, other *DataFrame) *DataFrame {
	byName := map[string]*Topic{}
	for _, t := range append(d.sources(), other.sources()...) {
		byName[t.Name()] = t
	}
	out := &DataFrame{app: d.app, topic: d.topic, node: engine.Merge(pos, name, d.node, other.node), grouped: d.grouped}
	if out.grouped == nil {
		out.grouped = other.grouped
	}
	if len(byName) > 1 {
		names := make([]string, 0, len(byName))
		for n := range byName {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out.merged = append(out.merged, byName[n])
		}
		out.topic = out.merged[0]
	}
	return out
}

// checkCopartitioned fails when the topics' declared partition counts
// (TopicConfig.num_partitions) differ, as Quix Streams'
// TopicManager.ensure_topics_copartitioned. Topics without a config are
// checked at start, against the broker.
func checkCopartitioned(topics []*Topic) error {
	counts := map[int]bool{}
	var parts []string
	for _, t := range topics {
		if t.config == nil {
			return nil
		}
		counts[t.config.NumPartitions] = true
		parts = append(parts, fmt.Sprintf("%q (%d partitions)", t.Name(), t.config.NumPartitions))
	}
	if len(counts) > 1 {
		return fmt.Errorf("TopicPartitionsMismatch: The underlying topics must have the same number of partitions to use State; got %s", strings.Join(parts, ", "))
	}
	return nil
}

// joinArgs are the arguments join_asof and join_interval share.
type joinArgs struct {
	right   *DataFrame
	how     string
	onMerge starlark.Value
	grace   milliseconds
	name    starlark.Value
}

// newJoinArgs returns the joins' defaults: how="inner", on_merge="raise",
// grace_ms=timedelta(days=7), name=None.
func newJoinArgs() joinArgs {
	return joinArgs{how: "inner", onMerge: starlark.String("raise"), grace: milliseconds{sevenDays}, name: starlark.None}
}

// sevenDays is join_asof's and join_interval's default grace_ms.
const sevenDays = 7 * 24 * 3600 * 1000

// prepare checks the arguments shared by the joins and returns the store
// name and the join's options.
func (a *joinArgs) prepare(fn string, left *DataFrame, hows ...string) (string, engine.JoinOptions, error) {
	name, merge, err := a.check(fn, left, hows)
	opts := engine.JoinOptions{Grace: a.grace.ms, Merge: merge, Desc: fmt.Sprintf("%s, with %s, grace %dms", a.how, a.right.stream(), a.grace.ms)}
	return name, opts, err
}

func (a *joinArgs) check(fn string, left *DataFrame, hows []string) (string, engine.Merger, error) {
	if a.right.app != left.app {
		return "", nil, fmt.Errorf("%s: the dataframes belong to different Applications", fn)
	}
	ok := false
	for _, h := range hows {
		ok = ok || a.how == h
	}
	if !ok {
		return "", nil, fmt.Errorf("%s: ValueError: Join type not supported: %s", fn, a.how)
	}
	var merge engine.Merger
	switch m := a.onMerge.(type) {
	case starlark.String:
		switch m {
		case "keep-left":
			merge = engine.MergeKeepLeft
		case "keep-right":
			merge = engine.MergeKeepRight
		case "raise":
			merge = engine.MergeRaise
		}
	case starlark.Callable:
		merge = engine.MergeWith(m)
	}
	if merge == nil {
		return "", nil, fmt.Errorf(`%s: ValueError: Invalid "on_merge" value: %s. Provide either one of keep-left, keep-right, raise or a callable to merge records manually.`, fn, a.onMerge)
	}
	if left.stream() == a.right.stream() {
		return "", nil, fmt.Errorf("%s: ValueError: Joining dataframes originating from the same topic is not yet supported.", fn)
	}
	if err := checkCopartitioned(append(left.sources(), a.right.sources()...)); err != nil {
		return "", nil, fmt.Errorf("%s: %w", fn, err)
	}
	name, err := optString(fn, "name", a.name)
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		name = "join"
	}
	return name, merge, nil
}

// joinStore registers a join's timestamped store on d's stream; a
// second join using it is an error, as in Quix Streams.
func (d *DataFrame) joinStore(fn, name string) (string, error) {
	if d.app.hasStore(d.stream(), name) {
		return "", fmt.Errorf("%s: StoreAlreadyRegisteredError: a store named %q is already registered for %q; give the join another name=", fn, name, d.stream())
	}
	id, err := d.registerStore(name, storeTimestamped)
	if err != nil {
		return "", fmt.Errorf("%s: %w", fn, err)
	}
	return id, nil
}

// sdfJoinAsOf implements
//
//	sdf.join_asof(right, how="inner", on_merge="raise", grace_ms=timedelta(days=7), name=None)
//
// with Quix Streams 3.15's semantics: right's records are stored per key
// and timestamp in a store of right's stream (name, default "join"),
// kept for grace_ms of event time after a later record of the key; each
// left record is merged with the latest right record of its key at or
// before its timestamp. how="inner" drops a left record without one;
// "left" merges it with None.
func sdfJoinAsOf(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	left := b.Receiver().(*DataFrame)
	a := newJoinArgs()
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "right", &a.right, "how?", &a.how, "on_merge?", &a.onMerge, "grace_ms?", &a.grace, "name?", &a.name); err != nil {
		return nil, err
	}
	name, opts, err := a.prepare(b.Name(), left, "inner", "left")
	if err != nil {
		return nil, err
	}
	store, err := a.right.joinStore(b.Name(), name)
	if err != nil {
		return nil, err
	}
	pos := callerPos(thread)
	r := a.right.thenAt(pos, engine.AsOfRight(store, opts))
	l := left.thenAt(pos, engine.AsOfLeft(store, a.how == "inner", opts))
	return l.merge(pos, "join_asof", r), nil
}

// sdfJoinInterval implements
//
//	sdf.join_interval(right, how="inner", on_merge="raise", grace_ms=timedelta(days=7),
//	                  name=None, backward_ms=0, forward_ms=0)
//
// with Quix Streams 3.17's semantics: both sides' records are stored per
// key and timestamp (every one kept) in stores of their streams, for
// grace_ms; a left record is merged with each right record of its key in
// [timestamp - backward_ms, timestamp], a right record with each left one
// in [timestamp - forward_ms, timestamp]. Unmatched records come out
// merged with None for how="left" (left ones), "right" (right ones) and
// "outer" (both). Headers are dropped.
func sdfJoinInterval(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	left := b.Receiver().(*DataFrame)
	a := newJoinArgs()
	var backward, forward milliseconds
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "right", &a.right, "how?", &a.how, "on_merge?", &a.onMerge, "grace_ms?", &a.grace, "name?", &a.name,
		"backward_ms?", &backward, "forward_ms?", &forward); err != nil {
		return nil, err
	}
	name, opts, err := a.prepare(b.Name(), left, "inner", "left", "right", "outer")
	if err != nil {
		return nil, err
	}
	if backward.ms > a.grace.ms {
		return nil, fmt.Errorf("%s: ValueError: The backward_ms must not be greater than the grace_ms to avoid losing data.", b.Name())
	}
	leftStore, err := left.joinStore(b.Name(), name)
	if err != nil {
		return nil, err
	}
	rightStore, err := a.right.joinStore(b.Name(), name)
	if err != nil {
		return nil, err
	}
	pos := callerPos(thread)
	r := a.right.thenAt(pos, engine.IntervalSide(false, rightStore, leftStore, forward.ms, a.how == "right" || a.how == "outer", opts))
	l := left.thenAt(pos, engine.IntervalSide(true, leftStore, rightStore, backward.ms, a.how == "left" || a.how == "outer", opts))
	return l.merge(pos, "join_interval", r), nil
}
