package windows

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Aggregate is what a window computes from its records: an aggregate
// folded record by record, a collection of the records kept beside it
// (Collection), or both. Aggregation (Quix Streams 2.5.1's .sum() and
// the others) and Aggregators (3.x's classes, .agg(), .collect())
// implement it.
type Aggregate interface {
	// Aggregates reports whether windows keep an aggregate; a window
	// that only collects stores None to mark that it exists.
	Aggregates() bool
	// Collects reports whether windows collect their records.
	Collects() bool
	// Init is the aggregate of a window without records.
	Init() starlark.Value
	// Step folds a record's value, with its timestamp, into cur.
	Step(th *starlark.Thread, cur, value starlark.Value, ts int64) (starlark.Value, error)
	// CollectValue is what the collection keeps of a record's value.
	CollectValue(value starlark.Value) (starlark.Value, error)
	// Record is the emitted record of the window [start, end) with
	// aggregate cur and the collected values.
	Record(cur starlark.Value, collected []starlark.Value, start, end int64) (starlark.Value, error)
}

var (
	keyStart = starlark.String("start")
	keyEnd   = starlark.String("end")
	keyValue = starlark.String("value")
)

// valueRecord is {"start": start, "end": end, "value": v}.
func valueRecord(start, end int64, v starlark.Value) *starlark.Dict {
	d := starlark.NewDict(3)
	_ = d.SetKey(keyStart, starlark.MakeInt64(start))
	_ = d.SetKey(keyEnd, starlark.MakeInt64(end))
	_ = d.SetKey(keyValue, v)
	return d
}

// Aggregator is one of Quix Streams 3.x's aggregation classes (Sum,
// Count, Mean, Min, Max, Earliest, Latest, First, Last, Reduce): they
// skip None values (First aside), and with a column they aggregate
// value.get(column) of dict values.
type Aggregator struct {
	Class  string // the class name: "Sum", ...
	Column string // "" for the whole value
	init   func() starlark.Value
	agg    func(th *starlark.Thread, old, v starlark.Value, ts int64) (starlark.Value, error)
	result func(v starlark.Value) starlark.Value
}

// StateSuffix is the aggregator's part of its state key: the class name,
// then /column when it has one.
func (a *Aggregator) StateSuffix() string {
	if a.Column == "" {
		return a.Class
	}
	return a.Class + "/" + a.Column
}

func (a *Aggregator) String() string {
	if a.Column == "" {
		return a.Class + "()"
	}
	return fmt.Sprintf("%s(column=%q)", a.Class, a.Column)
}

func (a *Aggregator) step(th *starlark.Thread, old, v starlark.Value, ts int64) (starlark.Value, error) {
	if a.Column != "" {
		got, found, err := lookup(v, a.Column)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if v = got; !found {
			v = starlark.None
		}
	}
	return a.agg(th, old, v, ts)
}

// lookup is value[name] of a dict value; value.get(name) where not found
// is None.
func lookup(v starlark.Value, name string) (starlark.Value, bool, error) {
	m, ok := v.(starlark.Mapping)
	if !ok {
		return nil, false, fmt.Errorf("the value is %s, not a dict with a %q key", v.Type(), name)
	}
	return m.Get(starlark.String(name))
}

func none() starlark.Value                    { return starlark.None }
func zero() starlark.Value                    { return starlark.MakeInt(0) }
func same(v starlark.Value) starlark.Value    { return v }
func firstOf(v starlark.Value) starlark.Value { return index(v, 0) }
func index(v starlark.Value, i int) starlark.Value {
	if x, ok := v.(starlark.Indexable); ok && x.Len() > i {
		return x.Index(i)
	}
	return starlark.None
}

// skipNone wraps an aggregation step that 3.x does not call for None.
func skipNone(f func(old, v starlark.Value, ts int64) (starlark.Value, error)) func(*starlark.Thread, starlark.Value, starlark.Value, int64) (starlark.Value, error) {
	return func(_ *starlark.Thread, old, v starlark.Value, ts int64) (starlark.Value, error) {
		if v == starlark.None {
			return old, nil
		}
		return f(old, v, ts)
	}
}

// NewSum is Sum(column=None): 0 + the values.
func NewSum(column string) *Aggregator {
	return &Aggregator{Class: "Sum", Column: column, init: zero, result: same,
		agg: skipNone(func(old, v starlark.Value, _ int64) (starlark.Value, error) { return arith(syntax.PLUS, old, v) })}
}

// NewCount is Count(column=None): the number of values that are not None.
func NewCount(column string) *Aggregator {
	return &Aggregator{Class: "Count", Column: column, init: zero, result: same,
		agg: skipNone(func(old, _ starlark.Value, _ int64) (starlark.Value, error) {
			return arith(syntax.PLUS, old, starlark.MakeInt(1))
		})}
}

// NewMean is Mean(column=None): stored as [sum, count] from [0.0, 0];
// None over no values.
func NewMean(column string) *Aggregator {
	return &Aggregator{Class: "Mean", Column: column,
		init: func() starlark.Value { return starlark.Tuple{starlark.Float(0), starlark.MakeInt(0)} },
		agg: skipNone(func(old, v starlark.Value, _ int64) (starlark.Value, error) {
			s, err := arith(syntax.PLUS, index(old, 0), v)
			if err != nil {
				return nil, err
			}
			c, err := arith(syntax.PLUS, index(old, 1), starlark.MakeInt(1))
			if err != nil {
				return nil, err
			}
			return starlark.Tuple{s, c}, nil
		}),
		result: func(v starlark.Value) starlark.Value {
			if c, ok := index(v, 1).(starlark.Int); !ok || c.Sign() == 0 {
				return starlark.None
			}
			m, err := starlark.Binary(syntax.SLASH, index(v, 0), index(v, 1))
			if err != nil {
				return starlark.None
			}
			return m
		}}
}

// NewMax is Max(column=None); NewMin is Min(column=None).
func NewMax(column string) *Aggregator { return newExtreme("Max", column, syntax.GT) }

// NewMin is Min(column=None).
func NewMin(column string) *Aggregator { return newExtreme("Min", column, syntax.LT) }

func newExtreme(class, column string, op syntax.Token) *Aggregator {
	return &Aggregator{Class: class, Column: column, init: none, result: same,
		agg: skipNone(func(old, v starlark.Value, _ int64) (starlark.Value, error) {
			if old == starlark.None {
				return v, nil
			}
			better, err := compare(op, v, old)
			if err != nil || !better {
				return old, err
			}
			return v, nil
		})}
}

// NewEarliest is Earliest(column=None): the value with the smallest
// timestamp (the first of equals), stored as [value, timestamp].
func NewEarliest(column string) *Aggregator {
	return newTimed("Earliest", column, func(ts, old int64) bool { return ts < old })
}

// NewLatest is Latest(column=None): the value with the largest timestamp
// (the last of equals).
func NewLatest(column string) *Aggregator {
	return newTimed("Latest", column, func(ts, old int64) bool { return ts >= old })
}

func newTimed(class, column string, replaces func(ts, old int64) bool) *Aggregator {
	return &Aggregator{Class: class, Column: column, init: none,
		agg: skipNone(func(old, v starlark.Value, ts int64) (starlark.Value, error) {
			if old != starlark.None {
				if oldTS, ok := index(old, 1).(starlark.Int); ok {
					if n, _ := oldTS.Int64(); !replaces(ts, n) {
						return old, nil
					}
				}
			}
			return starlark.Tuple{v, starlark.MakeInt64(ts)}, nil
		}),
		result: func(v starlark.Value) starlark.Value {
			if v == starlark.None {
				return v
			}
			return firstOf(v)
		}}
}

// NewFirst is First(column=None): the first value processed (None
// counts: a window whose first value is None takes the next one).
func NewFirst(column string) *Aggregator {
	return &Aggregator{Class: "First", Column: column, init: none, result: same,
		agg: func(_ *starlark.Thread, old, v starlark.Value, _ int64) (starlark.Value, error) {
			if old == starlark.None {
				return v, nil
			}
			return old, nil
		}}
}

// NewLast is Last(column=None): the last value processed that is not None.
func NewLast(column string) *Aggregator {
	return &Aggregator{Class: "Last", Column: column, init: none, result: same,
		agg: skipNone(func(_, v starlark.Value, _ int64) (starlark.Value, error) { return v, nil })}
}

// NewReduce is Reduce(reducer, initializer): initializer(value) while the
// aggregate is None, then reducer(aggregate, value). It sees None values.
func NewReduce(reducer, initializer starlark.Callable) *Aggregator {
	return &Aggregator{Class: "Reduce", init: none, result: same,
		agg: func(th *starlark.Thread, old, v starlark.Value, _ int64) (starlark.Value, error) {
			if old == starlark.None {
				return starlark.Call(th, initializer, starlark.Tuple{v}, nil)
			}
			return starlark.Call(th, reducer, starlark.Tuple{old, v}, nil)
		}}
}

// Collector is Quix Streams 3.x's Collect(column=None): a window's
// values (or their column), in the order the collection keeps them.
type Collector struct {
	Column string // "" for the whole value
}

// Named is a result column of .agg() and what computes it: an
// *Aggregator or a *Collector.
type Named struct {
	Name       string
	Aggregator *Aggregator
	Collector  *Collector
}

// Aggregators is the Aggregate of Quix Streams 3.x's windows. Single is
// .sum(), .collect() and the other methods (one aggregator or collector,
// emitted as {"start", "end", "value"}; the aggregate is the
// aggregator's own); otherwise it is .agg(name=...) (emitted as the
// aggregator columns, the collector columns, "start" and "end"; the
// aggregate is a dict by "name/StateSuffix").
type Aggregators struct {
	Single     bool
	aggs       []Named
	stateKeys  []starlark.String
	collectors []Named
	collectAll bool     // a collector takes the whole value
	columns    []string // the columns collectors take, in first-use order
}

// NewAggregators returns the Aggregate of the named aggregators and
// collectors, in order. single requires exactly one.
func NewAggregators(named []Named, single bool) (*Aggregators, error) {
	if len(named) == 0 {
		return nil, fmt.Errorf("at least one aggregator or collector must be defined")
	}
	if single && len(named) > 1 {
		return nil, fmt.Errorf("only one aggregator or collector can be defined")
	}
	a := &Aggregators{Single: single}
	seen := map[string]bool{}
	for _, n := range named {
		switch {
		case n.Aggregator != nil:
			a.aggs = append(a.aggs, n)
			a.stateKeys = append(a.stateKeys, starlark.String(n.Name+"/"+n.Aggregator.StateSuffix()))
		case n.Collector != nil:
			a.collectors = append(a.collectors, n)
			if n.Collector.Column == "" {
				a.collectAll = true
			} else if !seen[n.Collector.Column] {
				seen[n.Collector.Column] = true
				a.columns = append(a.columns, n.Collector.Column)
			}
		}
	}
	return a, nil
}

// Aggregates reports whether there is an aggregator.
func (a *Aggregators) Aggregates() bool { return len(a.aggs) > 0 }

// Collects reports whether there is a collector.
func (a *Aggregators) Collects() bool { return len(a.collectors) > 0 }

// Init is the aggregator's initial value (Single), or a dict of them.
func (a *Aggregators) Init() starlark.Value {
	if a.Single {
		if len(a.aggs) == 0 {
			return starlark.None
		}
		return a.aggs[0].Aggregator.init()
	}
	d := starlark.NewDict(len(a.aggs))
	for i, n := range a.aggs {
		_ = d.SetKey(a.stateKeys[i], n.Aggregator.init())
	}
	return d
}

// Step folds value into each aggregator's state.
func (a *Aggregators) Step(th *starlark.Thread, cur, value starlark.Value, ts int64) (starlark.Value, error) {
	if a.Single {
		if len(a.aggs) == 0 {
			return starlark.None, nil
		}
		return a.aggs[0].Aggregator.step(th, cur, value, ts)
	}
	d := starlark.NewDict(len(a.aggs))
	for i, n := range a.aggs {
		old, err := a.stateOf(cur, i)
		if err != nil {
			return nil, err
		}
		v, err := n.Aggregator.step(th, old, value, ts)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", n.Name, n.Aggregator, err)
		}
		_ = d.SetKey(a.stateKeys[i], v)
	}
	return d, nil
}

// stateOf is aggregator i's state in cur, or its initial value.
func (a *Aggregators) stateOf(cur starlark.Value, i int) (starlark.Value, error) {
	if m, ok := cur.(starlark.Mapping); ok {
		v, found, err := m.Get(a.stateKeys[i])
		if err != nil {
			return nil, err
		}
		if found {
			return v, nil
		}
	} else if cur != starlark.None {
		return nil, fmt.Errorf("the stored window aggregate is %s, not a dict of aggregations", cur.Type())
	}
	return a.aggs[i].Aggregator.init(), nil
}

// CollectValue is the value itself (Single, or a collector of the whole
// value), else a dict of the columns the collectors take.
func (a *Aggregators) CollectValue(value starlark.Value) (starlark.Value, error) {
	if a.Single || a.collectAll {
		return value, nil
	}
	d := starlark.NewDict(len(a.columns))
	for _, c := range a.columns {
		v, found, err := lookup(value, c)
		if err != nil {
			return nil, fmt.Errorf("Collect(column=%q): %w", c, err)
		}
		if !found {
			return nil, fmt.Errorf("Collect(column=%q): the value has no key %q (KeyError)", c, c)
		}
		_ = d.SetKey(starlark.String(c), v)
	}
	return d, nil
}

// Record is the window's emitted record.
func (a *Aggregators) Record(cur starlark.Value, collected []starlark.Value, start, end int64) (starlark.Value, error) {
	if a.Single {
		if len(a.aggs) == 1 {
			return valueRecord(start, end, a.aggs[0].Aggregator.result(cur)), nil
		}
		return valueRecord(start, end, starlark.NewList(append([]starlark.Value(nil), collected...))), nil
	}
	d := starlark.NewDict(len(a.aggs) + len(a.collectors) + 2)
	for i, n := range a.aggs {
		old, err := a.stateOf(cur, i)
		if err != nil {
			return nil, err
		}
		_ = d.SetKey(starlark.String(n.Name), n.Aggregator.result(old))
	}
	for _, n := range a.collectors {
		var items []starlark.Value
		if n.Collector.Column == "" {
			items = append(items, collected...)
		} else {
			items = make([]starlark.Value, 0, len(collected))
			for _, c := range collected {
				v, found, err := lookup(c, n.Collector.Column)
				if err != nil {
					return nil, fmt.Errorf("Collect(column=%q): %w", n.Collector.Column, err)
				}
				if !found {
					v = starlark.None
				}
				items = append(items, v)
			}
		}
		_ = d.SetKey(starlark.String(n.Name), starlark.NewList(items))
	}
	_ = d.SetKey(keyStart, starlark.MakeInt64(start))
	_ = d.SetKey(keyEnd, starlark.MakeInt64(end))
	return d, nil
}
