package python

import (
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// TimeModule is the part of Python's time module stream apps use:
// time() (seconds since the epoch, a float), time_ns(), monotonic() and
// perf_counter(). There is no sleep(): a callback that sleeps holds up
// its partition.
func TimeModule() *starlarkstruct.Module {
	start := time.Now()
	noArgs := func(name string, f func() starlark.Value) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
				return nil, err
			}
			return f(), nil
		})
	}
	return &starlarkstruct.Module{Name: "time", Members: starlark.StringDict{
		"time":         noArgs("time.time", func() starlark.Value { return starlark.Float(float64(time.Now().UnixNano()) / 1e9) }),
		"time_ns":      noArgs("time.time_ns", func() starlark.Value { return starlark.MakeInt64(time.Now().UnixNano()) }),
		"monotonic":    noArgs("time.monotonic", func() starlark.Value { return starlark.Float(time.Since(start).Seconds()) }),
		"perf_counter": noArgs("time.perf_counter", func() starlark.Value { return starlark.Float(time.Since(start).Seconds()) }),
	}}
}
