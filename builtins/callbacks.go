package builtins

import (
	"errors"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/qstar-dev/qstar/engine"
	"github.com/qstar-dev/qstar/record"
	"github.com/qstar-dev/qstar/serde"
)

// Callbacks returns the engine callbacks of the application's
//
//	on_consumer_error(exc, message, logger) -> bool
//	on_processing_error(exc, row, logger) -> bool
//	on_producer_error(exc, row, logger) -> bool
//	on_message_processed(topic, partition, offset)
//
// exc has .type and .message; row has .value, .key, .timestamp, .headers,
// .topic, .partition, .offset; message the same with raw bytes; logger has
// debug, info, warning, error and exception. A truthy result skips the
// message (or, for on_producer_error, the produce) and carries on.
func (a *Application) Callbacks() engine.Callbacks {
	var cb engine.Callbacks
	c := a.cfg
	if f := c.OnConsumerError; f != nil {
		cb.OnConsumerError = func(ctx *engine.Context, err error, m *record.Record) (bool, error) {
			return callHandler(ctx, f, err, messageValue(m))
		}
	}
	if f := c.OnProcessingError; f != nil {
		cb.OnProcessingError = func(ctx *engine.Context, err error, r *engine.Row) (bool, error) {
			return callHandler(ctx, f, err, rowValue(ctx, r))
		}
	}
	if f := c.OnProducerError; f != nil {
		cb.OnProducerError = func(ctx *engine.Context, err error, r *engine.Row) (bool, error) {
			return callHandler(ctx, f, err, rowValue(ctx, r))
		}
	}
	if f := c.OnMessageProcessed; f != nil {
		cb.OnMessageProcessed = func(ctx *engine.Context, m *record.Record) error {
			_, err := starlark.Call(ctx.Thread, f, starlark.Tuple{starlark.String(m.Topic), starlark.MakeInt(int(m.Partition)), starlark.MakeInt64(m.Offset)}, nil)
			return err
		}
	}
	return cb
}

func callHandler(ctx *engine.Context, f starlark.Callable, err error, subject starlark.Value) (bool, error) {
	v, cerr := starlark.Call(ctx.Thread, f, starlark.Tuple{exceptionValue(err), subject, loggerValue(ctx)}, nil)
	if cerr != nil {
		return false, cerr
	}
	return bool(v.Truth()), nil
}

func exceptionValue(err error) starlark.Value {
	kind := "ProcessingError"
	var se *serde.Error
	var de *engine.DeserializeError
	if errors.As(err, &se) || errors.As(err, &de) {
		kind = "SerializationError"
	}
	var ce *engine.ColumnError
	if errors.As(err, &ce) {
		kind = "ColumnDoesNotExist"
	}
	return starlarkstruct.FromStringDict(starlark.String("Exception"), starlark.StringDict{
		"type":    starlark.String(kind),
		"message": starlark.String(err.Error()),
	})
}

func rowValue(ctx *engine.Context, r *engine.Row) starlark.Value {
	d := starlark.StringDict{
		"value":     r.Value,
		"key":       r.Key,
		"timestamp": starlark.MakeInt64(r.Timestamp),
		"headers":   engine.HeadersValue(r.Headers),
	}
	if m := ctx.Message; m != nil {
		d["topic"], d["partition"], d["offset"] = starlark.String(m.Topic), starlark.MakeInt(int(m.Partition)), starlark.MakeInt64(m.Offset)
	}
	return starlarkstruct.FromStringDict(starlark.String("Row"), d)
}

func messageValue(m *record.Record) starlark.Value {
	bytesOrNone := func(b []byte) starlark.Value {
		if b == nil {
			return starlark.None
		}
		return starlark.Bytes(b)
	}
	return starlarkstruct.FromStringDict(starlark.String("Message"), starlark.StringDict{
		"topic":     starlark.String(m.Topic),
		"partition": starlark.MakeInt(int(m.Partition)),
		"offset":    starlark.MakeInt64(m.Offset),
		"key":       bytesOrNone(m.Key),
		"value":     bytesOrNone(m.Value),
		"timestamp": starlark.MakeInt64(m.Timestamp),
		"headers":   engine.HeadersValue(m.Headers),
	})
}

// loggerValue is the logger argument of error callbacks.
func loggerValue(ctx *engine.Context) starlark.Value {
	log := ctx.Logger()
	method := func(name string, emit func(string)) *starlark.Builtin {
		return starlark.NewBuiltin("logger."+name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			parts := make([]string, len(args))
			for i, a := range args {
				if s, ok := a.(starlark.String); ok {
					parts[i] = string(s)
				} else {
					parts[i] = a.String()
				}
			}
			emit(strings.Join(parts, " "))
			return starlark.None, nil
		})
	}
	return starlarkstruct.FromStringDict(starlark.String("Logger"), starlark.StringDict{
		"debug":     method("debug", func(s string) { log.Debug(s) }),
		"info":      method("info", func(s string) { log.Info(s) }),
		"warning":   method("warning", func(s string) { log.Warn(s) }),
		"error":     method("error", func(s string) { log.Error(s) }),
		"exception": method("exception", func(s string) { log.Error(s) }),
	})
}

// handlerArg checks an error-callback argument of Application.
func handlerArg(fn, name string, v starlark.Value, nargs int) (starlark.Callable, error) {
	if v == starlark.None {
		return nil, nil
	}
	return callbackFn(fn, name, v, nargs)
}
