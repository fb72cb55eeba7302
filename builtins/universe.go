package builtins

import (
	"fmt"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/math"
	"go.starlark.net/starlark"
)

// Predeclared returns the names every script sees: the Quix Streams API
// (Application, the serializer classes), timedelta, the json and math
// modules, and __name__ = "__main__" so that a migrated
// `if __name__ == "__main__":` block runs.
func Predeclared() starlark.StringDict {
	d := starlark.StringDict{
		"Application":      applicationClass{starlark.NewBuiltin("Application", NewApplication)},
		"timedelta":        starlark.NewBuiltin("timedelta", NewTimedelta),
		"json":             json.Module,
		"math":             math.Module,
		"__name__":         starlark.String("__main__"),
		"message_context":  starlark.NewBuiltin("message_context", messageContext),
		"TopicConfig":      starlark.NewBuiltin("TopicConfig", NewTopicConfig),
		"ConnectionConfig": starlark.NewBuiltin("ConnectionConfig", NewConnectionConfig),
		// Names Python apps import for type annotations; they cannot be
		// constructed in a script.
		"State":              typeOnly("State", "State objects are passed to stateful callbacks (stateful=True)"),
		"StreamingDataFrame": typeOnly("StreamingDataFrame", "use app.dataframe(topic)"),
		"StreamingSeries":    typeOnly("StreamingSeries", "use sdf[\"column\"]"),
	}
	for k, v := range serdeConstructors() {
		d[k] = v
	}
	for k, v := range quixConstructors() {
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
