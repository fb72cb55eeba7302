package engine

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/windows"
)

// Processor is a window definition's per-record logic
// (windows.Fixed.Process, or a sliding window's).
type Processor interface {
	Process(th *starlark.Thread, st windows.State, value starlark.Value, ts int64, late func(windows.Late)) (updated, expired []windows.Result, err error)
}

// Window aggregates records into the windows of def, kept in the named
// windowed store, and emits their records ({"start", "end", "value"}, or
// the columns of .agg()) keyed by the message key with the window start
// as timestamp and no headers: the
// closed windows with final, the updated ones otherwise (current). A
// record without a key is skipped with a warning, as in Quix Streams.
func Window(store string, def Processor, final bool) Op {
	return &windowOp{store: store, def: def, final: final}
}

type windowOp struct {
	store string
	def   Processor
	final bool
}

func (o *windowOp) Name() string { return "window" }
func (o *windowOp) Describe() string {
	mode := "current"
	if o.final {
		mode = "final"
	}
	return fmt.Sprintf("store %q, %s", o.store, mode)
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
		late := func(l windows.Late) {
			if m == nil {
				return
			}
			c.log().Warn(fmt.Sprintf("Skipping window processing for expired window timestamp=%d window=[%d,%d) min_valid_window_end=%d partition=%s[%d] offset=%d",
				l.Timestamp, l.Window.Start, l.Window.End, l.MinValidEndRaw, m.Topic, m.Partition, m.Offset))
		}
		updated, expired, err := o.def.Process(c.Thread, ws, r.Value, r.Timestamp, late)
		if err != nil {
			return fail(c, "window", pos, err)
		}
		out := updated
		if o.final {
			out = expired
		}
		for _, w := range out {
			if err := next(c, Row{Value: w.Value, Key: r.Key, Timestamp: w.Start}); err != nil {
				return err
			}
		}
		return nil
	}
}
