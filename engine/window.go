package engine

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/windows"
)

// Processor is a window definition's per-record logic
// (windows.Fixed.Process, or a sliding window's). late is called for each
// window the record came too late for.
type Processor interface {
	Process(th *starlark.Thread, st windows.State, key, value starlark.Value, ts int64, late func(windows.Late) error) (updated, expired []windows.Result, err error)
}

// WindowOptions are a window's optional behaviours.
type WindowOptions struct {
	// OnLate is Quix Streams 3.x's on_late: called for each window a
	// record is too late for with (value, key, timestamp_ms, late_by_ms,
	// start, end, store_name, topic, partition, offset); the warning is
	// logged only if it returns a true value.
	OnLate starlark.Callable
	// Quix3 logs late records with Quix Streams 3.x's warning rather than
	// 2.5.1's (a window with on_late or a closing strategy is a 3.x one).
	Quix3 bool
}

// Window aggregates records into the windows of def, kept in the named
// windowed store, and emits their records ({"start", "end", "value"}, or
// the columns of .agg()) keyed by the message key (or, for the windows of
// other keys that closing_strategy="partition" closes, by their
// serialized key as bytes) with the window start as timestamp and no
// headers: the closed windows with final, the updated ones otherwise
// (current). A record without a key is skipped with a warning, as in
// Quix Streams.
func Window(store string, def Processor, final bool, opts WindowOptions) Op {
	return &windowOp{store: store, def: def, final: final, opts: opts}
}

type windowOp struct {
	store string
	def   Processor
	final bool
	opts  WindowOptions
}

func (o *windowOp) Name() string { return "window" }
func (o *windowOp) Describe() string {
	mode := "current"
	if o.final {
		mode = "final"
	}
	return fmt.Sprintf("store %q, %s", storeName(o.store), mode)
}

func (o *windowOp) Compose(pos string, next Step) Step {
	return func(c *Context, r Row) error {
		m := c.Message
		if r.Key == starlark.None {
			if m != nil {
				c.log().Warn(fmt.Sprintf("Skipping window processing for a message because the key is None, partition='%s[%d]' offset='%d'.", m.Topic, m.Partition, m.Offset))
			}
			return nil
		}
		tx, err := c.Transaction(o.store)
		if err != nil {
			return fail(c, "window", pos, err)
		}
		prefix, err := tx.Prefix(r.Key)
		if err != nil {
			return fail(c, "window", pos, err)
		}
		ws, err := tx.Windows(prefix)
		if err != nil {
			return fail(c, "window", pos, err)
		}
		updated, expired, err := o.def.Process(c.Thread, ws, r.Key, r.Value, r.Timestamp, c.lateFor(o, r))
		if err != nil {
			return fail(c, "window", pos, err)
		}
		out := updated
		if o.final {
			out = expired
		}
		for _, w := range out {
			key := r.Key
			if w.Key != nil {
				key = w.Key
			}
			if err := next(c, Row{Value: w.Value, Key: key, Timestamp: w.Start}); err != nil {
				return err
			}
		}
		return nil
	}
}

// lateFor returns the late-record callback of a window op for the row
// being processed: one function per Context, made at its first use, with
// the op and row it reports on set per call (a closure per message would
// be an allocation per message). The row is copied, not referenced, so
// that the caller's stays on its stack.
func (c *Context) lateFor(o *windowOp, r Row) func(windows.Late) error {
	c.lateOp, c.lateRow = o, r
	if c.lateFn == nil {
		c.lateFn = func(l windows.Late) error { return c.lateOp.late(c, c.lateRow, l) }
	}
	return c.lateFn
}

// late calls on_late for a late record, and logs the warning unless
// on_late returned a false value.
func (o *windowOp) late(c *Context, r Row, l windows.Late) error {
	m := c.Message
	if o.opts.OnLate != nil {
		var topic, partition, offset starlark.Value = starlark.None, starlark.None, starlark.None
		if m != nil {
			topic, partition, offset = starlark.String(m.Topic), starlark.MakeInt(int(m.Partition)), starlark.MakeInt64(m.Offset)
		}
		v, err := starlark.Call(c.Thread, o.opts.OnLate, starlark.Tuple{
			r.Value, r.Key, starlark.MakeInt64(l.Timestamp), starlark.MakeInt64(l.LateBy()),
			starlark.MakeInt64(l.Window.Start), starlark.MakeInt64(l.Window.End), starlark.String(storeName(o.store)),
			topic, partition, offset,
		}, nil)
		if err != nil {
			return fmt.Errorf("on_late: %w", err)
		}
		if !v.Truth() {
			return nil
		}
	}
	if m == nil {
		return nil
	}
	if o.opts.Quix3 {
		c.log().Warn(fmt.Sprintf("Skipping window processing for the closed window timestamp_ms=%d window=(%d, %d) late_by_ms=%d store_name=%s partition=%s[%d] offset=%d",
			l.Timestamp, l.Window.Start, l.Window.End, l.LateBy(), storeName(o.store), m.Topic, m.Partition, m.Offset))
		return nil
	}
	c.log().Warn(fmt.Sprintf("Skipping window processing for expired window timestamp=%d window=[%d,%d) min_valid_window_end=%d partition=%s[%d] offset=%d",
		l.Timestamp, l.Window.Start, l.Window.End, l.MaxExpiredEnd+1, m.Topic, m.Partition, m.Offset))
	return nil
}
