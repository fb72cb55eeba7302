package builtins

import (
	"fmt"
	"sync/atomic"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/qstar-dev/qstar/engine"
)

// The names of the builtins the loader's syntax rewrite calls in place of
// comparison operators and truth tests (see runtime).
var (
	// CompareName maps a comparison operator to the builtin that builds a
	// StreamingSeries when an operand is one and compares otherwise.
	CompareName = map[syntax.Token]string{
		syntax.LT: "__qstar_lt__", syntax.LE: "__qstar_le__", syntax.GT: "__qstar_gt__",
		syntax.GE: "__qstar_ge__", syntax.EQL: "__qstar_eq__", syntax.NEQ: "__qstar_ne__",
	}
	// CompareCondName maps each of those to its variant for a tested
	// condition, which rejects a StreamingSeries.
	CompareCondName = map[string]string{}
)

// BuildingName is the predeclared flag that is true while pipelines are
// being built (see Registry.Building).
const BuildingName = "__qstar_building__"

// Flag is a boolean script value whose truth is set from Go: the
// __qstar_building__ flag. Safe for concurrent use.
type Flag struct{ on atomic.Bool }

// Set sets the flag.
func (f *Flag) Set(on bool) { f.on.Store(on) }

func (f *Flag) String() string        { return fmt.Sprintf("<flag %v>", f.on.Load()) }
func (f *Flag) Type() string          { return "flag" }
func (f *Flag) Freeze()               {}
func (f *Flag) Truth() starlark.Bool  { return starlark.Bool(f.on.Load()) }
func (f *Flag) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: flag") }

// TruthCheckName is the builtin that passes a value through unless it is
// a StreamingSeries or StreamingDataFrame, whose truth is undefined.
const TruthCheckName = "__qstar_if__"

func init() {
	for _, name := range CompareName {
		CompareCondName[name] = name[:len(name)-2] + "_if__"
	}
}

// operatorBuiltins returns the builtins named above.
func operatorBuiltins() starlark.StringDict {
	d := starlark.StringDict{
		TruthCheckName: starlark.NewBuiltin("bool", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			if err := truthCheck(args[0]); err != nil {
				return nil, err
			}
			return args[0], nil
		}),
	}
	for op, name := range CompareName {
		d[name] = compareBuiltin(op, false)
		d[CompareCondName[name]] = compareBuiltin(op, true)
	}
	return d
}

func truthCheck(v starlark.Value) error {
	switch v.(type) {
	case *Series:
		return fmt.Errorf("the truth of a StreamingSeries is undefined (in if, while, and, or, not): " +
			"combine conditions with & | ~, e.g. (sdf[\"a\"] > 1) & (sdf[\"b\"] < 2), and filter with sdf[condition]")
	case *DataFrame:
		return fmt.Errorf("the truth of a StreamingDataFrame is undefined (in if, while, and, or, not)")
	}
	return nil
}

func compareBuiltin(op syntax.Token, cond bool) *starlark.Builtin {
	return starlark.NewBuiltin(op.String(), func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		x, y := args[0], args[1]
		var out starlark.Value
		switch {
		case isFrame(x) || isFrame(y):
			return nil, fmt.Errorf("cannot compare a StreamingDataFrame; select a column first, e.g. sdf[\"a\"] %s 5", op)
		case isSeries(x):
			s, err := x.(*Series).compare(op, y, starlark.Left)
			if err != nil {
				return nil, err
			}
			out = s
		case isSeries(y):
			s, err := y.(*Series).compare(op, x, starlark.Right)
			if err != nil {
				return nil, err
			}
			out = s
		default:
			ok, err := engine.CompareValues(op, x, y)
			if err != nil {
				return nil, err
			}
			return starlark.Bool(ok), nil
		}
		if cond {
			return nil, truthCheck(out)
		}
		return out, nil
	})
}

func isSeries(v starlark.Value) bool { _, ok := v.(*Series); return ok }
func isFrame(v starlark.Value) bool  { _, ok := v.(*DataFrame); return ok }
