package builtins

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/qstar-dev/qstar/engine"
)

// messageContext implements message_context(): inside a callback, the
// current record's topic, partition, offset, key, timestamp and headers.
//
//	message_context() -> MessageContext(topic, partition, offset, key, timestamp, headers)
//
// Quix Streams 2.5.1's MessageContext has no key or timestamp; qstar adds
// them (as later Quix Streams releases do).
func messageContext(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	c := engine.FromThread(thread)
	if c == nil || c.Message == nil {
		return nil, fmt.Errorf("%s: can only be called while a message is processed (inside a callback)", b.Name())
	}
	m := c.Message
	key, ts, hs := starlark.Value(starlark.None), m.Timestamp, m.Headers
	if r := c.Row; r != nil {
		key, ts, hs = r.Key, r.Timestamp, r.Headers
	}
	return starlarkstruct.FromStringDict(starlark.String("MessageContext"), starlark.StringDict{
		"topic":     starlark.String(m.Topic),
		"partition": starlark.MakeInt(int(m.Partition)),
		"offset":    starlark.MakeInt64(m.Offset),
		"key":       key,
		"timestamp": starlark.MakeInt64(ts),
		"headers":   engine.HeadersValue(hs),
	}), nil
}

// messageKey implements message_key(), which the released Quix Streams
// 2.5.x exports: the current message's key, as message_context().key.
//
//	message_key() -> the key (deserialized), or None
func messageKey(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	c := engine.FromThread(thread)
	if c == nil || c.Message == nil {
		return nil, fmt.Errorf("%s: can only be called while a message is processed (inside a callback)", b.Name())
	}
	if c.Row != nil {
		return c.Row.Key, nil
	}
	return starlark.None, nil
}
