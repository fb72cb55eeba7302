package builtins

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
)

// Series is the script's StreamingSeries: a column expression evaluated
// natively on each record (sdf["a"], sdf["a"] * 2, sdf["a"] > 5, ...).
// Nothing is evaluated when it is built.
type Series struct {
	expr *engine.Expr
	reg  *Registry
}

var (
	_ starlark.HasAttrs  = (*Series)(nil)
	_ starlark.HasBinary = (*Series)(nil)
	_ starlark.HasUnary  = (*Series)(nil)
	_ starlark.Mapping   = (*Series)(nil)
)

// Expr returns the series' engine expression.
func (s *Series) Expr() *engine.Expr { return s.expr }

func (s *Series) String() string        { return fmt.Sprintf("<StreamingSeries %s>", s.expr.Desc) }
func (s *Series) Type() string          { return "StreamingSeries" }
func (s *Series) Freeze()               {}
func (s *Series) Truth() starlark.Bool  { return true } // bool(series) is rejected by the rewrite
func (s *Series) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: StreamingSeries") }

func (s *Series) with(e *engine.Expr) *Series { return &Series{expr: e, reg: s.reg} }

// Get implements s[key]: a nested column (str key) or an index.
func (s *Series) Get(k starlark.Value) (starlark.Value, bool, error) {
	pos := s.reg.pos()
	if name, ok := k.(starlark.String); ok {
		return s.with(engine.Column(s.expr, string(name), pos)), true, nil
	}
	if _, ok := k.(*Series); ok {
		return nil, false, fmt.Errorf("a StreamingSeries cannot be indexed by a StreamingSeries")
	}
	k.Freeze()
	return s.with(engine.Index(s.expr, k, pos)), true, nil
}

// operand turns a Binary operand into an expression: a series, or a
// constant (frozen, as every record shares it).
func operand(v starlark.Value) (*engine.Expr, error) {
	switch v := v.(type) {
	case *Series:
		return v.expr, nil
	case *DataFrame:
		return nil, fmt.Errorf("cannot combine a StreamingSeries with a StreamingDataFrame; select a column with sdf[\"name\"]")
	}
	v.Freeze()
	return engine.Const(v), nil
}

// Binary implements + - * / // % & | with a series on either side.
func (s *Series) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	x, z, err := s.operands(y, side)
	if err != nil {
		return nil, err
	}
	switch op {
	case syntax.PLUS, syntax.MINUS, syntax.STAR, syntax.SLASH, syntax.SLASHSLASH, syntax.PERCENT:
		return s.with(engine.Binary(op, x, z)), nil
	case syntax.AMP:
		return s.with(engine.And(x, z)), nil
	case syntax.PIPE:
		return s.with(engine.Or(x, z)), nil
	}
	return nil, nil // the interpreter reports the unsupported operator
}

// Unary implements ~series (not) and -series.
func (s *Series) Unary(op syntax.Token) (starlark.Value, error) {
	switch op {
	case syntax.TILDE:
		return s.with(engine.Not(s.expr)), nil
	case syntax.MINUS:
		return s.with(engine.Binary(syntax.MINUS, engine.Const(starlark.MakeInt(0)), s.expr)), nil
	}
	return nil, nil
}

// compare builds s op y.
func (s *Series) compare(op syntax.Token, y starlark.Value, side starlark.Side) (*Series, error) {
	x, z, err := s.operands(y, side)
	if err != nil {
		return nil, err
	}
	return s.with(engine.Compare(op, x, z)), nil
}

// operands returns the left and right operands of s op y, with s on side's
// other side.
func (s *Series) operands(y starlark.Value, side starlark.Side) (x, z *engine.Expr, err error) {
	other, err := operand(y)
	if err != nil {
		return nil, nil, err
	}
	if side == starlark.Right {
		return other, s.expr, nil
	}
	return s.expr, other, nil
}

var seriesMethods = map[string]*starlark.Builtin{}

func init() {
	for name, op := range map[string]syntax.Token{"gt": syntax.GT, "ge": syntax.GE, "lt": syntax.LT, "le": syntax.LE, "eq": syntax.EQL, "ne": syntax.NEQ} {
		op := op
		seriesMethods[name] = starlark.NewBuiltin("StreamingSeries."+name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var other starlark.Value
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &other); err != nil {
				return nil, err
			}
			out, err := b.Receiver().(*Series).compare(op, other, starlark.Left)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", b.Name(), err)
			}
			return out, nil
		})
	}
	for name, fn := range map[string]builtinFunc{
		"apply":    seriesApply,
		"isin":     seriesIsin,
		"contains": seriesContains,
		"is_":      seriesIs(false),
		"isnot":    seriesIs(true),
		"isnull":   seriesNull(false),
		"notnull":  seriesNull(true),
		"abs":      seriesAbs,
		"test":     seriesTest,
	} {
		seriesMethods[name] = starlark.NewBuiltin("StreamingSeries."+name, fn)
	}
}

func (s *Series) Attr(name string) (starlark.Value, error) {
	if m, ok := seriesMethods[name]; ok {
		return m.BindReceiver(s), nil
	}
	return nil, nil
}

func (s *Series) AttrNames() []string { return methodNames(seriesMethods) }

// seriesApply implements series.apply(func): func(column value).
func seriesApply(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*Series)
	var fn starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "func", &fn); err != nil {
		return nil, err
	}
	cb, err := callback(b.Name(), fn, false)
	if err != nil {
		return nil, err
	}
	return s.with(engine.Map(s.expr, cb.Fn)), nil
}

// seriesIsin implements series.isin(values): value in values.
func seriesIsin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*Series)
	var values starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "values", &values); err != nil {
		return nil, err
	}
	if _, ok := values.(*Series); ok {
		return nil, fmt.Errorf("%s: values must be a constant collection, not a StreamingSeries", b.Name())
	}
	values.Freeze()
	return s.with(engine.Unary(fmt.Sprintf("%s.isin(%s)", s.expr.Desc, values), s.expr, func(v starlark.Value) (starlark.Value, error) {
		ok, err := engine.In(v, values)
		return starlark.Bool(ok), err
	})), nil
}

// seriesContains implements series.contains(item): item in value.
func seriesContains(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*Series)
	var item starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "other", &item); err != nil {
		return nil, err
	}
	item.Freeze()
	return s.with(engine.Unary(fmt.Sprintf("%s.contains(%s)", s.expr.Desc, item), s.expr, func(v starlark.Value) (starlark.Value, error) {
		ok, err := engine.In(item, v)
		return starlark.Bool(ok), err
	})), nil
}

// seriesIs implements series.is_(other) and series.isnot(other).
func seriesIs(negate bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		s := b.Receiver().(*Series)
		var other starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "other", &other); err != nil {
			return nil, err
		}
		other.Freeze()
		return s.with(engine.Unary(fmt.Sprintf("%s.%s(%s)", s.expr.Desc, b.Name(), other), s.expr, func(v starlark.Value) (starlark.Value, error) {
			return starlark.Bool(engine.Identical(v, other) != negate), nil
		})), nil
	}
}

// seriesNull implements series.isnull() and series.notnull().
func seriesNull(negate bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		s := b.Receiver().(*Series)
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return s.with(engine.Unary(fmt.Sprintf("%s.%s()", s.expr.Desc, b.Name()), s.expr, func(v starlark.Value) (starlark.Value, error) {
			return starlark.Bool((v == starlark.None) != negate), nil
		})), nil
	}
}

// seriesAbs implements series.abs().
func seriesAbs(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*Series)
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return s.with(engine.Unary(fmt.Sprintf("%s.abs()", s.expr.Desc), s.expr, engine.Abs)), nil
}

// seriesTest implements series.test(value, key=None, timestamp=0,
// headers=None): the series evaluated on one record.
func seriesTest(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*Series)
	row, err := unpackTestRow(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	c := engine.NewContext(thread, nil, nil)
	c.Message = &record.Record{Timestamp: row.Timestamp}
	restore := bindContext(thread, c)
	defer restore()
	return s.expr.Call(c, &row)
}
