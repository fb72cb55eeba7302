package engine

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Expr is a native column expression (a StreamingSeries): a tree of Go
// closures evaluated on a row without entering the Starlark interpreter,
// except where the script supplies a function (Call).
type Expr struct {
	eval func(c *Context, r *Row) (starlark.Value, error)
	// Desc is a Python-like rendering for messages: value["a"] > 5.
	Desc string
}

// Call implements Func.
func (e *Expr) Call(c *Context, r *Row) (starlark.Value, error) { return e.eval(c, r) }

// ColumnError is a column that a row's value does not have, or a value
// that has no columns. Pos is where the script accessed the column.
type ColumnError struct {
	Column string
	Pos    string
	Value  starlark.Value // the value (or nested value) that lacks it
}

func (e *ColumnError) Error() string {
	var msg string
	if _, ok := e.Value.(starlark.Mapping); ok {
		msg = fmt.Sprintf("column %q does not exist in the message value", e.Column)
	} else {
		msg = fmt.Sprintf("cannot read column %q: the message value is a %s, not a dict", e.Column, e.Value.Type())
	}
	if e.Pos != "" {
		return e.Pos + ": " + msg
	}
	return msg
}

// Value returns the row's value: the identity expression, the root of
// every column expression.
func Value() *Expr {
	return &Expr{Desc: "value", eval: func(_ *Context, r *Row) (starlark.Value, error) { return r.Value, nil }}
}

// Const returns an expression whose result is always v (which must be
// frozen or immutable).
func Const(v starlark.Value) *Expr {
	return &Expr{Desc: v.String(), eval: func(*Context, *Row) (starlark.Value, error) { return v, nil }}
}

// Column returns x[name] for a dict-like x. A missing key is a *ColumnError
// naming the column and pos.
func Column(x *Expr, name string, pos string) *Expr {
	var key starlark.Value = starlark.String(name) // boxed once, not per lookup
	return &Expr{
		Desc: fmt.Sprintf("%s[%q]", x.Desc, name),
		eval: func(c *Context, r *Row) (starlark.Value, error) {
			v, err := x.eval(c, r)
			if err != nil {
				return nil, err
			}
			if d, ok := v.(*starlark.Dict); ok { // the common case, without an interface call
				got, found, err := d.Get(key)
				if err != nil || !found {
					return nil, &ColumnError{Column: name, Pos: pos, Value: v}
				}
				return got, nil
			}
			m, ok := v.(starlark.Mapping)
			if !ok {
				return nil, &ColumnError{Column: name, Pos: pos, Value: v}
			}
			got, found, err := m.Get(key)
			if err != nil || !found {
				return nil, &ColumnError{Column: name, Pos: pos, Value: v}
			}
			return got, nil
		},
	}
}

// Index returns x[key] for a non-string key (a list index, an int dict key).
func Index(x *Expr, key starlark.Value, pos string) *Expr {
	return &Expr{
		Desc: fmt.Sprintf("%s[%s]", x.Desc, key),
		eval: func(c *Context, r *Row) (starlark.Value, error) {
			v, err := x.eval(c, r)
			if err != nil {
				return nil, err
			}
			got, err := getIndex(v, key)
			if err != nil {
				return nil, fmt.Errorf("%s: %s[%s]: %w", pos, x.Desc, key, err)
			}
			return got, nil
		},
	}
}

func getIndex(v, key starlark.Value) (starlark.Value, error) {
	switch x := v.(type) {
	case starlark.Mapping:
		got, found, err := x.Get(key)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, fmt.Errorf("key %s not found", key)
		}
		return got, nil
	case starlark.Indexable:
		i, err := starlark.AsInt32(key)
		if err != nil {
			return nil, fmt.Errorf("%s index: %v", v.Type(), err)
		}
		n := x.Len()
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return nil, fmt.Errorf("index %d out of range [0:%d]", i, n)
		}
		return x.Index(i), nil
	}
	return nil, fmt.Errorf("%s is not subscriptable", v.Type())
}

// Binary returns x op y for an arithmetic op (+ - * / // %), with fast
// paths for floats and small ints.
func Binary(op syntax.Token, x, y *Expr) *Expr {
	return both(op, x, y, func(a, b starlark.Value) (starlark.Value, error) { return Arith(op, a, b) })
}

// both builds an expression of two operands, both always evaluated.
func both(op syntax.Token, x, y *Expr, fn func(a, b starlark.Value) (starlark.Value, error)) *Expr {
	return &Expr{
		Desc: fmt.Sprintf("(%s %s %s)", x.Desc, op, y.Desc),
		eval: func(c *Context, r *Row) (starlark.Value, error) {
			a, err := x.eval(c, r)
			if err != nil {
				return nil, err
			}
			b, err := y.eval(c, r)
			if err != nil {
				return nil, err
			}
			return fn(a, b)
		},
	}
}

// Arith computes a op b with Starlark (= Python) semantics, avoiding the
// generic path for float and int operands.
func Arith(op syntax.Token, a, b starlark.Value) (starlark.Value, error) {
	if fa, fb, ok := floats(a, b); ok {
		switch op {
		case syntax.PLUS:
			return starlark.Float(fa + fb), nil
		case syntax.MINUS:
			return starlark.Float(fa - fb), nil
		case syntax.STAR:
			return starlark.Float(fa * fb), nil
		case syntax.SLASH:
			if fb == 0 {
				return nil, errors.New("floating-point division by zero")
			}
			return starlark.Float(fa / fb), nil
		}
	}
	return starlark.Binary(op, a, b)
}

// floats reports whether a and b are numbers, at least one a float, that
// convert to float64 exactly (ints within ±2^53).
func floats(a, b starlark.Value) (float64, float64, bool) {
	fa, aFloat, ok := asFloat(a)
	if !ok {
		return 0, 0, false
	}
	fb, bFloat, ok := asFloat(b)
	if !ok || !(aFloat || bFloat) {
		return 0, 0, false
	}
	return fa, fb, true
}

const maxExact = 1 << 53

func asFloat(v starlark.Value) (f float64, isFloat, ok bool) {
	switch v := v.(type) {
	case starlark.Float:
		return float64(v), true, true
	case starlark.Int:
		if i, ok := v.Int64(); ok && i > -maxExact && i < maxExact {
			return float64(i), false, true
		}
	}
	return 0, false, false
}

// Compare returns x op y for a comparison op (< <= > >= == !=), with a
// numeric fast path: go.starlark.net compares an int with a float through
// exact rational arithmetic (~400 ns, 11 allocations).
func Compare(op syntax.Token, x, y *Expr) *Expr {
	return both(op, x, y, func(a, b starlark.Value) (starlark.Value, error) {
		ok, err := CompareValues(op, a, b)
		return starlark.Bool(ok), err
	})
}

// CompareValues compares a and b as Python would.
func CompareValues(op syntax.Token, a, b starlark.Value) (bool, error) {
	fa, aFloat, okA := asFloat(a)
	fb, bFloat, okB := asFloat(b)
	if okA && okB && (aFloat || bFloat) {
		switch op {
		case syntax.LT:
			return fa < fb, nil
		case syntax.LE:
			return fa <= fb, nil
		case syntax.GT:
			return fa > fb, nil
		case syntax.GE:
			return fa >= fb, nil
		case syntax.EQL:
			return fa == fb, nil
		case syntax.NEQ:
			return fa != fb, nil
		}
	}
	return starlark.Compare(op, a, b)
}

// And returns x & y with Python's `and` semantics, as Quix Streams does:
// the result is an operand (x's value when falsy, else y's), and y is not
// evaluated when x's value is falsy.
func And(x, y *Expr) *Expr {
	return &Expr{
		Desc: fmt.Sprintf("(%s & %s)", x.Desc, y.Desc),
		eval: func(c *Context, r *Row) (starlark.Value, error) {
			a, err := x.eval(c, r)
			if err != nil || !a.Truth() {
				return a, err
			}
			return y.eval(c, r)
		},
	}
}

// Or returns x | y with Python's `or` semantics.
func Or(x, y *Expr) *Expr {
	return &Expr{
		Desc: fmt.Sprintf("(%s | %s)", x.Desc, y.Desc),
		eval: func(c *Context, r *Row) (starlark.Value, error) {
			a, err := x.eval(c, r)
			if err != nil || a.Truth() {
				return a, err
			}
			return y.eval(c, r)
		},
	}
}

// Unary builds a one-operand expression from fn.
func Unary(desc string, x *Expr, fn func(v starlark.Value) (starlark.Value, error)) *Expr {
	return &Expr{
		Desc: desc,
		eval: func(c *Context, r *Row) (starlark.Value, error) {
			v, err := x.eval(c, r)
			if err != nil {
				return nil, err
			}
			return fn(v)
		},
	}
}

// Not returns ~x: not x, always a bool.
func Not(x *Expr) *Expr {
	return Unary("~"+x.Desc, x, func(v starlark.Value) (starlark.Value, error) { return !v.Truth(), nil })
}

// Map returns fn(x): a user function over a column (series.apply).
func Map(x *Expr, fn starlark.Callable) *Expr {
	return &Expr{
		Desc: fmt.Sprintf("%s.apply(%s)", x.Desc, fn.Name()),
		eval: func(c *Context, r *Row) (starlark.Value, error) {
			v, err := x.eval(c, r)
			if err != nil {
				return nil, err
			}
			c.Row = r
			c.args1[0] = v
			out, err := starlark.Call(c.Thread, fn, c.args1[:], nil)
			c.args1[0], c.Row = nil, nil
			return out, err
		},
	}
}

// Identical reports whether a and b are the same value, as Python's `is`
// does for the values a pipeline holds: None, booleans, numbers and
// strings by value; dicts, lists and other mutable values by identity.
func Identical(a, b starlark.Value) bool {
	switch a := a.(type) {
	case starlark.NoneType:
		return b == starlark.None
	case starlark.Bool:
		bb, ok := b.(starlark.Bool)
		return ok && a == bb
	case starlark.Int, starlark.Float, starlark.String, starlark.Bytes:
		if a.Type() != b.Type() {
			return false
		}
		eq, err := starlark.Equal(a, b)
		return err == nil && eq
	case starlark.Tuple:
		bt, ok := b.(starlark.Tuple)
		return ok && len(a) == len(bt) && (len(a) == 0 || unsafe.SliceData(a) == unsafe.SliceData(bt))
	case *starlark.Dict, *starlark.List, *starlark.Set:
		return a == b
	}
	return false
}

// Abs returns abs(v) for a number.
func Abs(v starlark.Value) (starlark.Value, error) {
	switch v := v.(type) {
	case starlark.Float:
		return starlark.Float(math.Abs(float64(v))), nil
	case starlark.Int:
		if v.Sign() < 0 {
			return starlark.Binary(syntax.MINUS, starlark.MakeInt(0), v)
		}
		return v, nil
	}
	return nil, fmt.Errorf("bad operand type for abs(): %s", v.Type())
}

// In reports `item in container` as Python does for lists, tuples, sets,
// dicts (keys) and strings (substrings).
func In(item, container starlark.Value) (bool, error) {
	v, err := starlark.Binary(syntax.IN, item, container)
	if err != nil {
		return false, err
	}
	return bool(v.Truth()), nil
}
