package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/windows"
)

// aggregationValue is an instance of one of Quix Streams 3.x's
// aggregation classes (quixstreams.dataframe.windows: Sum, Count, Mean,
// Min, Max, Earliest, Latest, First, Last, Reduce, Collect), an argument
// of window.agg(name=...).
type aggregationValue struct {
	agg       *windows.Aggregator
	collector *windows.Collector
}

var _ starlark.HasAttrs = (*aggregationValue)(nil)

func (a *aggregationValue) String() string {
	if a.collector != nil {
		if a.collector.Column == "" {
			return "Collect()"
		}
		return fmt.Sprintf("Collect(column=%q)", a.collector.Column)
	}
	return a.agg.String()
}

func (a *aggregationValue) Type() string {
	if a.collector != nil {
		return "Collect"
	}
	return a.agg.Class
}
func (a *aggregationValue) Freeze()              {}
func (a *aggregationValue) Truth() starlark.Bool { return true }
func (a *aggregationValue) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: %s", a.Type())
}

// Attr implements starlark.HasAttrs: column (None for the whole value)
// and, for aggregators, state_suffix.
func (a *aggregationValue) Attr(name string) (starlark.Value, error) {
	col := ""
	if a.collector != nil {
		col = a.collector.Column
	} else {
		col = a.agg.Column
	}
	switch name {
	case "column":
		if col == "" {
			return starlark.None, nil
		}
		return starlark.String(col), nil
	case "state_suffix":
		if a.agg != nil {
			return starlark.String(a.agg.StateSuffix()), nil
		}
	}
	return nil, nil
}

func (a *aggregationValue) AttrNames() []string {
	if a.agg != nil {
		return []string{"column", "state_suffix"}
	}
	return []string{"column"}
}

// aggregationClasses are the constructors of the aggregation classes.
func aggregationClasses() starlark.StringDict {
	d := starlark.StringDict{}
	for name, f := range map[string]func(string) *windows.Aggregator{
		"Sum": windows.NewSum, "Count": windows.NewCount, "Mean": windows.NewMean,
		"Min": windows.NewMin, "Max": windows.NewMax, "Earliest": windows.NewEarliest,
		"Latest": windows.NewLatest, "First": windows.NewFirst, "Last": windows.NewLast,
	} {
		f := f
		d[name] = starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			col, err := unpackColumn(b.Name(), args, kwargs)
			if err != nil {
				return nil, err
			}
			return &aggregationValue{agg: f(col)}, nil
		})
	}
	d["Collect"] = starlark.NewBuiltin("Collect", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		col, err := unpackColumn(b.Name(), args, kwargs)
		if err != nil {
			return nil, err
		}
		return &aggregationValue{collector: &windows.Collector{Column: col}}, nil
	})
	d["Reduce"] = starlark.NewBuiltin("Reduce", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		r, i, err := unpackReduce(b.Name(), args, kwargs)
		if err != nil {
			return nil, err
		}
		return &aggregationValue{agg: windows.NewReduce(r, i)}, nil
	})
	return d
}

// unpackColumn reads an aggregation class's column=None argument.
func unpackColumn(fn string, args starlark.Tuple, kwargs []starlark.Tuple) (string, error) {
	var column starlark.Value = starlark.None
	if err := starlark.UnpackArgs(fn, args, kwargs, "column?", &column); err != nil {
		return "", err
	}
	return optString(fn, "column", column)
}
