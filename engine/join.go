package engine

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/record"
)

// Joins, as Quix Streams 3.x builds them (quixstreams/dataframe/joins/):
// each side's records go through an operation on a timestamped store
// (StoreTx.Timestamped) keyed by the message key, and the two sides are
// then merged (Merge) into one dataframe. The stores belong to the
// sides' streams, and both sides' partitions p are one task's, so an
// operation on one side reads the other side's store.

// Merger merges a left and a right record into one; a side without a
// match is None.
type Merger func(c *Context, left, right starlark.Value) (starlark.Value, error)

// MergeKeepLeft merges two dicts, the left one's values winning
// (on_merge="keep-left").
func MergeKeepLeft(_ *Context, left, right starlark.Value) (starlark.Value, error) {
	return mergeDicts("keep-left", right, left, false)
}

// MergeKeepRight merges two dicts, the right one's values winning
// (on_merge="keep-right").
func MergeKeepRight(_ *Context, left, right starlark.Value) (starlark.Value, error) {
	return mergeDicts("keep-right", left, right, false)
}

// MergeRaise merges two dicts that share no key, and fails on one they
// share (on_merge="raise", the default).
func MergeRaise(_ *Context, left, right starlark.Value) (starlark.Value, error) {
	return mergeDicts("raise", left, right, true)
}

// MergeWith calls fn(left, right) (on_merge=callable).
func MergeWith(fn starlark.Callable) Merger {
	return func(c *Context, left, right starlark.Value) (starlark.Value, error) {
		return starlark.Call(c.Thread, fn, starlark.Tuple{left, right}, nil)
	}
}

// asDict returns a dict side of a merge; nil for None.
func asDict(how string, v starlark.Value) (*starlark.Dict, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case *starlark.Dict:
		return v, nil
	}
	return nil, fmt.Errorf(`TypeError: on_merge=%q merges dicts, got %s; pass a function (left, right) as on_merge to merge other values`, how, v.Type())
}

// mergeDicts returns {**first, **second}; with disjoint, a key of both is
// an error naming every such key.
func mergeDicts(how string, first, second starlark.Value, disjoint bool) (starlark.Value, error) {
	a, err := asDict(how, first)
	if err != nil {
		return nil, err
	}
	b, err := asDict(how, second)
	if err != nil {
		return nil, err
	}
	size := 0
	for _, side := range []*starlark.Dict{a, b} {
		if side != nil {
			size += side.Len()
		}
	}
	d := starlark.NewDict(size)
	var overlap []string
	for i, side := range []*starlark.Dict{a, b} {
		if side == nil {
			continue
		}
		for _, kv := range side.Items() {
			if disjoint && i == 1 {
				if _, found, _ := d.Get(kv[0]); found {
					s, ok := starlark.AsString(kv[0])
					if !ok {
						s = kv[0].String()
					}
					overlap = append(overlap, s)
				}
			}
			if err := d.SetKey(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}
	if len(overlap) > 0 {
		sort.Strings(overlap)
		return nil, fmt.Errorf(`ValueError: Overlapping columns: %s.You need to provide either an "on_merge" value of 'keep-left' or 'keep-right' or a custom merger function.`, strings.Join(overlap, ", "))
	}
	return d, nil
}

// timestamped returns the timestamped state of the record's key in the
// store with that ID.
func timestamped(c *Context, store string, key starlark.Value) (TimestampedState, error) {
	tx, err := c.Transaction(store)
	if err != nil {
		return nil, err
	}
	prefix, err := tx.Prefix(key)
	if err != nil {
		return nil, err
	}
	return tx.Timestamped(prefix)
}

// JoinOptions configure a join's operations.
type JoinOptions struct {
	// Grace is how long, in event time, a key's stored records are kept
	// after a later record of the key (grace_ms).
	Grace int64
	Merge Merger
	// Desc is the join's description in topologies ("join_asof, inner").
	Desc string
}

// AsOfRight is the right side of sdf.join_asof: it stores each record in
// store at its timestamp (one value per timestamp) and passes nothing on.
func AsOfRight(store string, opts JoinOptions) Op {
	return &asOfRightOp{store: store, opts: opts}
}

type asOfRightOp struct {
	store string
	opts  JoinOptions
}

func (o *asOfRightOp) Name() string { return "join_asof (right)" }
func (o *asOfRightOp) Describe() string {
	return fmt.Sprintf("store %q, grace %dms", storeName(o.store), o.opts.Grace)
}

func (o *asOfRightOp) Compose(pos string, _ Step) Step {
	return func(c *Context, r Row) error {
		st, err := timestamped(c, o.store, r.Key)
		if err == nil {
			err = st.Set(r.Timestamp, r.Value, o.opts.Grace, false)
		}
		if err != nil {
			return fail(c, "join_asof", pos, err)
		}
		return nil
	}
}

// AsOfLeft is the left side of sdf.join_asof: each record is merged with
// the right record of its key stored at the greatest timestamp at or
// before its own. A record without one (or whose match is None or empty,
// which Quix Streams treats as none) is dropped by an inner join and
// merged with None by a left join.
func AsOfLeft(rightStore string, inner bool, opts JoinOptions) Op {
	return &asOfLeftOp{store: rightStore, inner: inner, opts: opts}
}

type asOfLeftOp struct {
	store string
	inner bool
	opts  JoinOptions
}

func (o *asOfLeftOp) Name() string     { return "join_asof" }
func (o *asOfLeftOp) Describe() string { return o.opts.Desc }

func (o *asOfLeftOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		st, err := timestamped(c, o.store, r.Key)
		if err != nil {
			return fail(c, "join_asof", pos, err)
		}
		right, ok, err := st.Latest(r.Timestamp)
		if err != nil {
			return fail(c, "join_asof", pos, err)
		}
		if !ok || !bool(right.Truth()) {
			if o.inner {
				return nil
			}
			right = starlark.None
		}
		v, err := o.opts.Merge(c, r.Value, right)
		if err != nil {
			return fail(c, "join_asof", pos, err)
		}
		r.Value = v
		return next(c, r)
	}
}

// IntervalSide is one side of sdf.join_interval. Each record is stored
// in its own side's store (keeping every record of a timestamp), then
// merged with each record of its key in the other side's store whose
// timestamp lies in [timestamp - lookBack, timestamp]: the left side
// looks back backward_ms into the right store, the right side
// forward_ms into the left one. Without a match, a record is dropped or,
// when emitUnmatched (the left side of a left or outer join, the right
// side of a right or outer join), merged with None. Headers are dropped,
// as Quix Streams does.
func IntervalSide(left bool, own, other string, lookBack int64, emitUnmatched bool, opts JoinOptions) Op {
	return &intervalOp{left: left, own: own, other: other, lookBack: lookBack, emitUnmatched: emitUnmatched, opts: opts}
}

type intervalOp struct {
	left          bool
	own, other    string
	lookBack      int64
	emitUnmatched bool
	opts          JoinOptions
}

func (o *intervalOp) Name() string {
	if o.left {
		return "join_interval"
	}
	return "join_interval (right)"
}

func (o *intervalOp) Describe() string {
	return fmt.Sprintf("%s, store %q, looks back %dms", o.opts.Desc, storeName(o.own), o.lookBack)
}

func (o *intervalOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		if err := o.join(c, r, next); err != nil {
			return fail(c, "join_interval", pos, err)
		}
		return nil
	}
}

func (o *intervalOp) join(c *Context, r Row, next Step) error {
	own, err := timestamped(c, o.own, r.Key)
	if err != nil {
		return err
	}
	if err := own.Set(r.Timestamp, r.Value, o.opts.Grace, true); err != nil {
		return err
	}
	other, err := timestamped(c, o.other, r.Key)
	if err != nil {
		return err
	}
	matches, err := other.Interval(r.Timestamp-o.lookBack, r.Timestamp+1)
	if err != nil {
		return err
	}
	if len(matches) == 0 && o.emitUnmatched {
		matches = []starlark.Value{starlark.None}
	}
	r.Headers = []record.Header{}
	for _, m := range matches {
		left, right := r.Value, m
		if !o.left {
			left, right = m, r.Value
		}
		v, err := o.opts.Merge(c, left, right)
		if err != nil {
			return err
		}
		out := r
		out.Value = v
		if err := next(c, out); err != nil {
			return err
		}
	}
	return nil
}

// LookupJoin is sdf.join_lookup: each record's value (a dict) is enriched
// in place by join, with the lookup key of the record: its message key
// (column "" and on nil), the value's column, or on(value, key).
func LookupJoin(desc, column string, on starlark.Callable, join func(key starlark.Value, value *starlark.Dict) error) Op {
	return &lookupOp{desc: desc, column: column, on: on, join: join}
}

type lookupOp struct {
	desc   string
	column string
	on     starlark.Callable
	join   func(key starlark.Value, value *starlark.Dict) error
}

func (o *lookupOp) Name() string     { return "join_lookup" }
func (o *lookupOp) Describe() string { return o.desc }

func (o *lookupOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		d, ok := r.Value.(*starlark.Dict)
		if !ok {
			return fail(c, "join_lookup", pos, fmt.Errorf("TypeError: join_lookup enriches dict values, got %s", r.Value.Type()))
		}
		key := r.Key
		switch {
		case o.on != nil:
			k, err := starlark.Call(c.Thread, o.on, starlark.Tuple{r.Value, r.Key}, nil)
			if err != nil {
				return fail(c, "join_lookup", pos, err)
			}
			key = k
		case o.column != "":
			k, found, err := d.Get(starlark.String(o.column))
			if err == nil && !found {
				err = fmt.Errorf("KeyError: %q (the lookup key column, on=)", o.column)
			}
			if err != nil {
				return fail(c, "join_lookup", pos, err)
			}
			key = k
		}
		if err := o.join(key, d); err != nil {
			return fail(c, "join_lookup", pos, err)
		}
		return next(c, r)
	}
}
