package builtins

import (
	"fmt"

	"go.starlark.net/lib/math"
	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins/python"
)

// Predeclared returns the names every script sees: the Quix Streams API
// (Application, the serializer classes), timedelta, the json and math
// modules, and __name__ = "__main__" so that a migrated
// `if __name__ == "__main__":` block runs.
func Predeclared() starlark.StringDict {
	d := starlark.StringDict{
		"Application":      applicationClass{starlark.NewBuiltin("Application", NewApplication)},
		"timedelta":        starlark.NewBuiltin("timedelta", python.NewTimedelta),
		"json":             python.JSONModule(),
		"math":             math.Module,
		"__name__":         starlark.String("__main__"),
		"message_context":  starlark.NewBuiltin("message_context", messageContext),
		"message_key":      starlark.NewBuiltin("message_key", messageKey),
		"TopicConfig":      starlark.NewBuiltin("TopicConfig", NewTopicConfig),
		"ConnectionConfig": starlark.NewBuiltin("ConnectionConfig", NewConnectionConfig),
		"RocksDBOptions":   starlark.NewBuiltin("RocksDBOptions", NewRocksDBOptions),
		// Names Python apps import for type annotations; they cannot be
		// constructed in a script.
		"State":              typeOnly("State", "State objects are passed to stateful callbacks (stateful=True)"),
		"StreamingDataFrame": typeOnly("StreamingDataFrame", "use app.dataframe(topic)"),
		"StreamingSeries":    typeOnly("StreamingSeries", "use sdf[\"column\"]"),
	}
	// Python's built-in functions where Starlark's differ or are missing
	// (round, sum, isinstance, str, print, ...), and the hooks of the
	// loader's rewrite (% formatting, str.format and other methods).
	for k, v := range python.Builtins() {
		d[k] = v
	}
	for k, v := range python.Hooks() {
		d[k] = v
	}
	for k, v := range serdeConstructors() {
		d[k] = v
	}
	for k, v := range quixConstructors() {
		d[k] = v
	}
	for k, v := range aggregationClasses() {
		d[k] = v
	}
	for k, v := range lookupClasses() {
		d[k] = v
	}
	for k, v := range sinkClasses() {
		d[k] = v
	}
	for k, v := range sourceClasses() {
		d[k] = v
	}
	for k, v := range operatorBuiltins() {
		d[k] = v
	}
	return d
}

func typeOnly(name, hint string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, b *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		return nil, fmt.Errorf("%s cannot be created in a script: %s", b.Name(), hint)
	})
}
