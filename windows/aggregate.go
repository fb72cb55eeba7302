package windows

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Aggregation folds values into a window's aggregate. Built-ins run in Go;
// Reduce calls the script's functions.
type Aggregation struct {
	// Name is the suffix of auto-generated store names: sum, count, mean,
	// min, max, reduce.
	Name string
	// step returns the new aggregate from the stored one (found=false when
	// the window is new) and the value.
	step func(th *starlark.Thread, cur starlark.Value, found bool, value starlark.Value) (starlark.Value, error)
	// result turns a stored aggregate into the emitted value.
	result func(cur starlark.Value) (starlark.Value, error)
}

func identity(v starlark.Value) (starlark.Value, error) { return v, nil }

// Aggregates reports true: a 2.5.1 window keeps an aggregate.
func (a Aggregation) Aggregates() bool { return true }

// Collects reports false: 2.5.1 has no collect().
func (a Aggregation) Collects() bool { return false }

// Init is None: each aggregation starts from a window without an
// aggregate (or with None stored, as the reference does).
func (a Aggregation) Init() starlark.Value { return starlark.None }

// Step folds a value into the aggregate.
func (a Aggregation) Step(th *starlark.Thread, cur, value starlark.Value, _ int64) (starlark.Value, error) {
	return a.step(th, cur, cur != nil && cur != starlark.None, value)
}

// CollectValue is unused: the aggregation does not collect.
func (a Aggregation) CollectValue(value starlark.Value) (starlark.Value, error) { return value, nil }

// Record is {"start", "end", "value"}.
func (a Aggregation) Record(cur starlark.Value, _ []starlark.Value, start, end int64) (starlark.Value, error) {
	v, err := a.result(cur)
	if err != nil {
		return nil, err
	}
	return valueRecord(start, end, v), nil
}

// Sum adds values: 0 + v1 + v2 + ..., with Python's int/float rules.
func Sum() Aggregation {
	return Aggregation{Name: "sum", result: identity, step: func(_ *starlark.Thread, cur starlark.Value, found bool, v starlark.Value) (starlark.Value, error) {
		if !found || cur == starlark.None {
			cur = starlark.MakeInt(0)
		}
		return arith(syntax.PLUS, cur, v)
	}}
}

// Count counts values (ignoring them).
func Count() Aggregation {
	return Aggregation{Name: "count", result: identity, step: func(_ *starlark.Thread, cur starlark.Value, found bool, _ starlark.Value) (starlark.Value, error) {
		if !found || cur == starlark.None {
			cur = starlark.MakeInt(0)
		}
		return arith(syntax.PLUS, cur, starlark.MakeInt(1))
	}}
}

// Mean averages values; the aggregate is stored as [sum, count] (Quix
// Streams' tuple) and emitted as sum / count, always a float.
func Mean() Aggregation {
	return Aggregation{
		Name: "mean",
		step: func(_ *starlark.Thread, cur starlark.Value, found bool, v starlark.Value) (starlark.Value, error) {
			sum, count := starlark.Value(starlark.Float(0)), starlark.Value(starlark.MakeInt(0))
			if found {
				pair, ok := cur.(starlark.Indexable)
				if !ok || pair.Len() != 2 {
					return nil, fmt.Errorf("mean: stored aggregate %s is not [sum, count]", cur)
				}
				sum, count = pair.Index(0), pair.Index(1)
			}
			s, err := arith(syntax.PLUS, sum, v)
			if err != nil {
				return nil, err
			}
			c, err := arith(syntax.PLUS, count, starlark.MakeInt(1))
			if err != nil {
				return nil, err
			}
			return starlark.NewList([]starlark.Value{s, c}), nil
		},
		result: func(cur starlark.Value) (starlark.Value, error) {
			pair, ok := cur.(starlark.Indexable)
			if !ok || pair.Len() != 2 {
				return nil, fmt.Errorf("mean: stored aggregate %s is not [sum, count]", cur)
			}
			s, err := starlark.Binary(syntax.SLASH, pair.Index(0), pair.Index(1))
			if err != nil {
				return nil, err
			}
			if i, ok := s.(starlark.Int); ok {
				return i.Float(), nil
			}
			return s, nil
		},
	}
}

// Max keeps the largest value; Min the smallest.
func Max() Aggregation { return extreme("max", syntax.GT) }

// Min keeps the smallest value.
func Min() Aggregation { return extreme("min", syntax.LT) }

func extreme(name string, op syntax.Token) Aggregation {
	return Aggregation{Name: name, result: identity, step: func(_ *starlark.Thread, cur starlark.Value, found bool, v starlark.Value) (starlark.Value, error) {
		if !found || cur == starlark.None {
			return v, nil
		}
		better, err := compare(op, v, cur)
		if err != nil {
			return nil, err
		}
		if better {
			return v, nil
		}
		return cur, nil
	}}
}

// Reduce folds with the script's functions: initializer(value) for a new
// window (or a stored None, as the reference does), else
// reducer(aggregate, value).
func Reduce(reducer, initializer starlark.Callable) Aggregation {
	return Aggregation{Name: "reduce", result: identity, step: func(th *starlark.Thread, cur starlark.Value, found bool, v starlark.Value) (starlark.Value, error) {
		if !found || cur == starlark.None {
			return starlark.Call(th, initializer, starlark.Tuple{v}, nil)
		}
		return starlark.Call(th, reducer, starlark.Tuple{cur, v}, nil)
	}}
}

// arith computes a op b with float fast paths.
func arith(op syntax.Token, a, b starlark.Value) (starlark.Value, error) {
	if fa, ok := a.(starlark.Float); ok {
		if fb, ok := b.(starlark.Float); ok && op == syntax.PLUS {
			return fa + fb, nil
		}
	}
	return starlark.Binary(op, a, b)
}

// compare compares numbers without the rational path for int vs float.
func compare(op syntax.Token, a, b starlark.Value) (bool, error) {
	fa, aok := num(a)
	fb, bok := num(b)
	if aok && bok {
		if op == syntax.GT {
			return fa > fb, nil
		}
		return fa < fb, nil
	}
	return starlark.Compare(op, a, b)
}

func num(v starlark.Value) (float64, bool) {
	switch v := v.(type) {
	case starlark.Float:
		return float64(v), true
	case starlark.Int:
		if i, ok := v.Int64(); ok && i > -(1<<53) && i < 1<<53 {
			return float64(i), true
		}
	}
	return 0, false
}
