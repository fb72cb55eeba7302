package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/engine"
)

// State is the script's State object, passed to stateful callbacks: a
// key-value store scoped by the current message key. Values are any JSON
// value; reads see the writes of the same checkpoint.
//
//	state.get(key, default=None)
//	state.set(key, value)
//	state.delete(key)
//	state.exists(key)
type State struct {
	tx     engine.StateTx
	prefix []byte
}

var _ starlark.HasAttrs = (*State)(nil)

// NewState implements engine.StateFactory.
func NewState(tx engine.StateTx, prefix []byte) starlark.Value { return &State{tx: tx, prefix: prefix} }

func (s *State) String() string        { return "<State>" }
func (s *State) Type() string          { return "State" }
func (s *State) Freeze()               {}
func (s *State) Truth() starlark.Bool  { return true }
func (s *State) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: State") }

var stateMethods = map[string]*starlark.Builtin{
	"get":    starlark.NewBuiltin("State.get", stateGet),
	"set":    starlark.NewBuiltin("State.set", stateSet),
	"delete": starlark.NewBuiltin("State.delete", stateDelete),
	"exists": starlark.NewBuiltin("State.exists", stateExists),
}

func (s *State) Attr(name string) (starlark.Value, error) {
	if m, ok := stateMethods[name]; ok {
		return m.BindReceiver(s), nil
	}
	return nil, nil
}

func (s *State) AttrNames() []string { return methodNames(stateMethods) }

func stateGet(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*State)
	var key starlark.Value
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "default?", &def); err != nil {
		return nil, err
	}
	v, ok, err := s.tx.Get(s.prefix, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if !ok {
		return def, nil
	}
	return v, nil
}

func stateSet(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*State)
	var key, value starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key, "value", &value); err != nil {
		return nil, err
	}
	if err := s.tx.Set(s.prefix, key, value); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

func stateDelete(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*State)
	var key starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key); err != nil {
		return nil, err
	}
	if err := s.tx.Delete(s.prefix, key); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

func stateExists(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := b.Receiver().(*State)
	var key starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "key", &key); err != nil {
		return nil, err
	}
	ok, err := s.tx.Exists(s.prefix, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.Bool(ok), nil
}
