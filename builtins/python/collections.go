package python

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// CollectionsModule is Python's collections module as far as stream apps
// use it: Counter, and OrderedDict (dict, as dicts keep insertion order).
func CollectionsModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "collections", Members: starlark.StringDict{
		"Counter":     counterClass{classBase{"collections", "Counter"}},
		"OrderedDict": starlark.Universe["dict"],
	}}
}

// Counter is collections.Counter: a dict of counts in which a missing key
// counts 0. It keeps insertion order; its repr and most_common() order
// by count, highest first, ties in insertion order.
//
//	Counter(iterable_or_mapping=None, **kwargs)
type Counter struct {
	d *starlark.Dict
}

var (
	_ starlark.IterableMapping = (*Counter)(nil)
	_ starlark.HasSetKey       = (*Counter)(nil)
	_ starlark.Container       = (*Counter)(nil)
	_ starlark.Sequence        = (*Counter)(nil)
	_ starlark.HasAttrs        = (*Counter)(nil)
	_ starlark.Comparable      = (*Counter)(nil)
	_ Reprer                   = (*Counter)(nil)
	_ Class                    = counterClass{}
)

type counterClass struct{ classBase }

// IsInstance implements Class.
func (counterClass) IsInstance(v starlark.Value) bool { _, ok := v.(*Counter); return ok }

// CallInternal implements starlark.Callable.
func (counterClass) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 1 {
		return nil, fmt.Errorf("Counter: expected at most 1 argument, got %d", len(args))
	}
	c := &Counter{d: starlark.NewDict(0)}
	if len(args) == 1 && args[0] != starlark.None {
		if err := c.add(args[0], 1); err != nil {
			return nil, fmt.Errorf("Counter: %w", err)
		}
	}
	for _, kv := range kwargs {
		if err := c.d.SetKey(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// add counts the items of an iterable, or adds a mapping's counts, times
// sign (update and subtract).
func (c *Counter) add(src starlark.Value, sign int) error {
	if m, ok := src.(starlark.IterableMapping); ok {
		for _, kv := range m.Items() {
			if err := c.incSigned(kv[0], kv[1], sign); err != nil {
				return err
			}
		}
		return nil
	}
	if s, ok := src.(starlark.String); ok {
		// Python iterates a str by character.
		for _, r := range string(s) {
			if err := c.inc(starlark.String(string(r)), starlark.MakeInt(sign)); err != nil {
				return err
			}
		}
		return nil
	}
	it, ok := src.(starlark.Iterable)
	if !ok {
		return fmt.Errorf("'%s' object is not iterable", src.Type())
	}
	iter := it.Iterate()
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		if err := c.inc(x, starlark.MakeInt(sign)); err != nil {
			return err
		}
	}
	return nil
}

// incSigned adds n to k's count, or subtracts it when sign is negative.
func (c *Counter) incSigned(k, n starlark.Value, sign int) error {
	if sign < 0 {
		var err error
		if n, err = starlark.Unary(syntax.MINUS, n); err != nil {
			return err
		}
	}
	return c.inc(k, n)
}

func (c *Counter) inc(k, n starlark.Value) error {
	old, found, err := c.d.Get(k)
	if err != nil {
		return err
	}
	if !found {
		old = starlark.MakeInt(0)
	}
	sum, err := starlark.Binary(syntax.PLUS, old, n)
	if err != nil {
		return err
	}
	return c.d.SetKey(k, sum)
}

func (c *Counter) String() string             { return c.PyRepr() }
func (c *Counter) Type() string               { return "Counter" }
func (c *Counter) Freeze()                    { c.d.Freeze() }
func (c *Counter) Truth() starlark.Bool       { return c.d.Len() > 0 }
func (c *Counter) Hash() (uint32, error)      { return 0, fmt.Errorf("unhashable type: 'Counter'") }
func (c *Counter) Len() int                   { return c.d.Len() }
func (c *Counter) Iterate() starlark.Iterator { return c.d.Iterate() }
func (c *Counter) Items() []starlark.Tuple    { return c.d.Items() }

// Get implements starlark.Mapping: a missing key counts 0.
func (c *Counter) Get(k starlark.Value) (starlark.Value, bool, error) {
	v, found, err := c.d.Get(k)
	if err != nil || found {
		return v, found, err
	}
	return starlark.MakeInt(0), true, nil
}

// Has implements starlark.Container: `k in c` is true only for counted
// keys.
func (c *Counter) Has(k starlark.Value) (bool, error) {
	_, found, err := c.d.Get(k)
	return found, err
}

// SetKey implements starlark.HasSetKey.
func (c *Counter) SetKey(k, v starlark.Value) error { return c.d.SetKey(k, v) }

// CompareSameType implements starlark.Comparable (== and != only).
func (c *Counter) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	return starlark.CompareDepth(op, c.d, y.(*Counter).d, depth)
}

// mostCommon orders the items by count, highest first, ties in insertion
// order.
func (c *Counter) mostCommon() []starlark.Tuple {
	items := c.d.Items()
	sort.SliceStable(items, func(i, j int) bool {
		lt, err := starlark.Compare(syntax.GT, items[i][1], items[j][1])
		return err == nil && lt
	})
	return items
}

// PyRepr implements Reprer: Counter({'a': 2, 'b': 1}).
func (c *Counter) PyRepr() string {
	if c.d.Len() == 0 {
		return "Counter()"
	}
	var b strings.Builder
	b.WriteString("Counter({")
	for i, kv := range c.mostCommon() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Repr(kv[0]))
		b.WriteString(": ")
		b.WriteString(Repr(kv[1]))
	}
	b.WriteString("})")
	return b.String()
}

var counterMethods = map[string]*starlark.Builtin{
	"most_common": starlark.NewBuiltin("Counter.most_common", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var n starlark.Value = starlark.None
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n?", &n); err != nil {
			return nil, err
		}
		items := b.Receiver().(*Counter).mostCommon()
		if ni, ok := n.(starlark.Int); ok {
			k, fits := ni.Int64()
			if !fits && ni.Sign() > 0 {
				k = int64(len(items))
			}
			if k < 0 {
				k = 0
			}
			if int(k) < len(items) {
				items = items[:k]
			}
		}
		out := make([]starlark.Value, len(items))
		for i, kv := range items {
			out[i] = starlark.Tuple{kv[0], kv[1]}
		}
		return starlark.NewList(out), nil
	}),
	"update": starlark.NewBuiltin("Counter.update", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, b.Receiver().(*Counter).addArgs(b.Name(), args, kwargs, 1)
	}),
	"subtract": starlark.NewBuiltin("Counter.subtract", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, b.Receiver().(*Counter).addArgs(b.Name(), args, kwargs, -1)
	}),
	"total": starlark.NewBuiltin("Counter.total", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		var total starlark.Value = starlark.MakeInt(0)
		for _, kv := range b.Receiver().(*Counter).d.Items() {
			var err error
			if total, err = starlark.Binary(syntax.PLUS, total, kv[1]); err != nil {
				return nil, err
			}
		}
		return total, nil
	}),
	"elements": starlark.NewBuiltin("Counter.elements", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		var out []starlark.Value
		for _, kv := range b.Receiver().(*Counter).d.Items() {
			n, _ := starlark.AsInt32(kv[1])
			for i := 0; i < n; i++ {
				out = append(out, kv[0])
			}
		}
		return starlark.NewList(out), nil
	}),
	"copy": starlark.NewBuiltin("Counter.copy", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		out := &Counter{d: starlark.NewDict(0)}
		for _, kv := range b.Receiver().(*Counter).d.Items() {
			_ = out.d.SetKey(kv[0], kv[1])
		}
		return out, nil
	}),
}

func (c *Counter) addArgs(name string, args starlark.Tuple, kwargs []starlark.Tuple, sign int) error {
	if len(args) > 1 {
		return fmt.Errorf("%s: expected at most 1 argument, got %d", name, len(args))
	}
	if len(args) == 1 && args[0] != starlark.None {
		if err := c.add(args[0], sign); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, kv := range kwargs {
		if err := c.incSigned(kv[0], kv[1], sign); err != nil {
			return err
		}
	}
	return nil
}

// Attr implements starlark.HasAttrs: Counter's methods, then dict's.
func (c *Counter) Attr(name string) (starlark.Value, error) {
	if m, ok := counterMethods[name]; ok {
		return m.BindReceiver(c), nil
	}
	return c.d.Attr(name)
}

// AttrNames implements starlark.HasAttrs.
func (c *Counter) AttrNames() []string {
	names := c.d.AttrNames()
	for k := range counterMethods {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
