package builtins

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Registry collects what one script load created. It is stored on the
// loading thread with SetRegistry.
type Registry struct {
	Apps []*Application
}

const registryKey = "qstar.builtins.registry"

// SetRegistry attaches r to thread, so that builtins called on it register
// what they create.
func SetRegistry(thread *starlark.Thread, r *Registry) { thread.SetLocal(registryKey, r) }

func registry(thread *starlark.Thread) (*Registry, error) {
	r, ok := thread.Local(registryKey).(*Registry)
	if !ok {
		return nil, fmt.Errorf("can only be called while a script loads")
	}
	return r, nil
}

// callerPos returns where the script called the current builtin, as
// "file:line:col".
func callerPos(thread *starlark.Thread) string {
	if thread.CallStackDepth() < 2 {
		return ""
	}
	return thread.CallFrame(1).Pos.String()
}
