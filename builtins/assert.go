package builtins

import (
	"fmt"
	"regexp"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// AssertModule is the `assert` module of `qstar test` files:
//
//	assert.eq(actual, expected, msg=None)
//	assert.ne(actual, unexpected, msg=None)
//	assert.true(cond, msg=None)
//	assert.contains(container, item, msg=None)
//	assert.fails(fn, pattern) -> the error message of fn(), which must fail with a message matching pattern
//
// A failed assertion is an error; the test runner reports it with the
// script position of the assert call.
func AssertModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "assert", Members: starlark.StringDict{
		"eq":       starlark.NewBuiltin("assert.eq", assertEq(true)),
		"ne":       starlark.NewBuiltin("assert.ne", assertEq(false)),
		"true":     starlark.NewBuiltin("assert.true", assertTrue),
		"contains": starlark.NewBuiltin("assert.contains", assertContains),
		"fails":    starlark.NewBuiltin("assert.fails", assertFails),
	}}
}

// AssertionError is a failed assertion.
type AssertionError struct{ Msg string }

func (e *AssertionError) Error() string { return e.Msg }

func withMsg(msg starlark.Value, text string) error {
	if s, ok := msg.(starlark.String); ok && s != "" {
		text = string(s) + ": " + text
	}
	return &AssertionError{Msg: text}
}

func assertEq(want bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x, y starlark.Value
		var msg starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "actual", &x, "expected", &y, "msg?", &msg); err != nil {
			return nil, err
		}
		eq, err := starlark.Equal(x, y)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		if eq != want {
			if want {
				return nil, withMsg(msg, fmt.Sprintf("%s: got %s, want %s", b.Name(), x, y))
			}
			return nil, withMsg(msg, fmt.Sprintf("%s: got %s, which it must not be", b.Name(), x))
		}
		return starlark.None, nil
	}
}

func assertTrue(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cond starlark.Value
	var msg starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "cond", &cond, "msg?", &msg); err != nil {
		return nil, err
	}
	if err := truthCheck(cond); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if !cond.Truth() {
		return nil, withMsg(msg, fmt.Sprintf("%s: %s is not true", b.Name(), cond))
	}
	return starlark.None, nil
}

func assertContains(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var container, item starlark.Value
	var msg starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "container", &container, "item", &item, "msg?", &msg); err != nil {
		return nil, err
	}
	in, err := starlark.Binary(syntax.IN, item, container)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if !in.Truth() {
		return nil, withMsg(msg, fmt.Sprintf("%s: %s is not in %s", b.Name(), item, container))
	}
	return starlark.None, nil
}

func assertFails(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	var pattern string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "pattern", &pattern); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: bad pattern: %v", b.Name(), err)
	}
	_, err = starlark.Call(thread, fn, nil, nil)
	if err == nil {
		return nil, &AssertionError{Msg: fmt.Sprintf("%s: %s did not fail", b.Name(), fn.Name())}
	}
	text := err.Error()
	if ee, ok := err.(*starlark.EvalError); ok {
		text = ee.Msg
	}
	if !re.MatchString(text) {
		return nil, &AssertionError{Msg: fmt.Sprintf("%s: %s failed with %q, which does not match %q", b.Name(), fn.Name(), text, pattern)}
	}
	return starlark.String(text), nil
}
