package engine

import (
	"errors"
	"fmt"

	"go.starlark.net/starlark"
)

// Step runs one composed operation on a row and passes its results on.
// Steps are built once by Compose and shared by every task; per-task state
// lives in the Context.
type Step func(c *Context, r Row) error

// Op is one pipeline operation. Compose wraps next (the composed rest of the
// pipeline) in a Step; pos is where the script declared the operation, for
// error messages. Describe renders its details for `qstar check`.
type Op interface {
	Name() string
	Describe() string
	Compose(pos string, next Step) Step
}

// Describe renders a Func for topologies: a function's name or an
// expression.
func Describe(f Func) string {
	switch f := f.(type) {
	case *Callback:
		return f.Fn.Name()
	case *Stateful:
		return f.Fn.Name() + ", stateful"
	case *Expr:
		return f.Desc
	case nil:
		return ""
	}
	return fmt.Sprintf("%T", f)
}

// Node is one operation in a pipeline graph. A root node (from NewRoot) has
// no operation and stands for the source topic. A node made by Merge has
// two or more parents (a concatenation or a join): what reaches any of
// them reaches it.
type Node struct {
	op       Op
	pos      string
	parents  []*Node
	children []*Node
}

// parent returns the node's only parent; nil for a root or a merge.
func (n *Node) parent() *Node {
	if len(n.parents) == 1 {
		return n.parents[0]
	}
	return nil
}

// Parents returns the nodes that feed n: none for a root, two or more for
// a merge.
func (n *Node) Parents() []*Node { return n.parents }

// Merge returns a node fed by every one of nodes, declared at pos: name
// is what merges them ("concat", or the join whose sides meet there). It
// runs no operation of its own.
func Merge(pos, name string, nodes ...*Node) *Node {
	m := &Node{op: concatOp{name}, pos: pos, parents: nodes}
	for _, n := range nodes {
		n.children = append(n.children, m)
	}
	return m
}

// concatOp is a merge node's operation: records pass through.
type concatOp struct{ name string }

func (o concatOp) Name() string                   { return o.name }
func (concatOp) Describe() string                 { return "" }
func (concatOp) Compose(_ string, next Step) Step { return next }

// Roots returns the roots n descends from, each once, in the order a
// depth-first walk up the first parents meets them.
func (n *Node) Roots() []*Node {
	var roots []*Node
	seen := map[*Node]bool{}
	var walk func(*Node)
	walk = func(n *Node) {
		if seen[n] {
			return
		}
		seen[n] = true
		if len(n.parents) == 0 {
			roots = append(roots, n)
		}
		for _, p := range n.parents {
			walk(p)
		}
	}
	walk(n)
	return roots
}

// NewRoot returns the root node of a pipeline fed by one source topic.
func NewRoot() *Node { return &Node{} }

// Then adds a child running op, declared at pos, and returns it.
func (n *Node) Then(op Op, pos string) *Node {
	child := &Node{op: op, pos: pos, parents: []*Node{n}}
	n.children = append(n.children, child)
	return child
}

// Op returns the node's operation; nil for a root.
func (n *Node) Op() Op { return n.op }

// Pos returns where the script declared the node's operation.
func (n *Node) Pos() string { return n.pos }

// Children returns the nodes fed by n, in declaration order.
func (n *Node) Children() []*Node { return n.children }

// Detach removes n from its parent's children, so that composing the
// graph no longer runs it. It is used for nodes that a script created only
// to use as an expression (sdf[sdf.apply(f)]).
func (n *Node) Detach() {
	for _, p := range n.parents {
		for i, c := range p.children {
			if c == n {
				p.children = append(p.children[:i:i], p.children[i+1:]...)
				break
			}
		}
	}
}

// ComposeChain composes only the operations on the paths from root to
// n, ending in sink: what reaches n from root reaches sink (through each
// path: the branches a concat merges each deliver theirs). Branches off
// the paths do not run, except sdf.sink()s of the nodes on them (a sink
// is terminal: it changes no row), so that a test sees what a sink
// receives. It serves sdf.test(). A nil Step means n does not descend
// from root.
func ComposeChain(root, n *Node, sink Step) Step {
	on := map[*Node]bool{}
	var up func(*Node) bool
	up = func(x *Node) bool {
		if v, seen := on[x]; seen {
			return v
		}
		on[x] = x == root
		for _, p := range x.parents {
			if up(p) {
				on[x] = true
			}
		}
		return on[x]
	}
	if !up(n) {
		return nil
	}
	keep := func(x *Node) bool {
		if on[x] {
			return true
		}
		if sinkOf(x.op) == nil {
			return false
		}
		for _, p := range x.parents {
			if on[p] {
				return true
			}
		}
		return false
	}
	c := composer{memo: map[*Node]Step{}, keep: keep, target: n, sink: sink}
	return c.node(root)
}

// Compose turns the graph below root into one Step. It runs once per
// pipeline, never per message.
func Compose(root *Node) Step {
	return ComposeAll([]*Node{root})[0]
}

// ComposeAll composes the graphs below roots, one Step each. A node below
// two roots (after a Merge) is composed once and shared.
func ComposeAll(roots []*Node) []Step { return composeAll(roots, nil) }

// composeAll is ComposeAll with every branch that ends in no child (and
// not in a sink) ending in outputs (nil: nothing).
func composeAll(roots []*Node, outputs Sink) []Step {
	c := composer{memo: map[*Node]Step{}}
	if outputs != nil {
		c.out = SinkTo(outputs).Compose("outputs", discard)
	}
	steps := make([]Step, len(roots))
	for i, r := range roots {
		steps[i] = c.node(r)
	}
	return steps
}

// composer composes a graph: every node, or (keep set) only the nodes
// kept, with target's operation followed by sink instead of its
// children.
type composer struct {
	memo   map[*Node]Step
	keep   func(*Node) bool
	target *Node
	sink   Step
	out    Step // where a branch with no child ends; nil: discard
}

func (c *composer) node(n *Node) Step {
	if s, ok := c.memo[n]; ok {
		return s
	}
	var next Step
	if n == c.target && c.target != nil {
		next = c.sink
		if kept := c.kept(n.children); len(kept) > 0 {
			sinks, target := c.children(kept), c.sink
			next = func(c *Context, r Row) error {
				if err := sinks(c, r); err != nil {
					return err
				}
				return target(c, r)
			}
		}
	} else if c.out != nil && len(c.kept(n.children)) == 0 && sinkOf(n.op) == nil {
		next = c.out
	} else {
		next = c.children(n.children)
	}
	s := next
	if n.op != nil {
		s = n.op.Compose(n.pos, next)
	}
	if len(n.parents) > 1 {
		c.memo[n] = s
	}
	return s
}

func discard(*Context, Row) error { return nil }

// kept returns the nodes of all that are composed.
func (c *composer) kept(all []*Node) []*Node {
	if c.keep == nil {
		return all
	}
	var out []*Node
	for _, x := range all {
		if c.keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func (c *composer) children(all []*Node) Step {
	children := c.kept(all)
	switch len(children) {
	case 0:
		return discard
	case 1:
		return c.node(children[0])
	}
	steps := make([]Step, len(children))
	for i, x := range children {
		steps[i] = c.node(x)
	}
	last := len(steps) - 1
	return func(c *Context, r Row) error {
		for i, s := range steps {
			branch := r
			if i < last {
				v, err := DeepCopy(r.Value)
				if err != nil {
					return err
				}
				branch.Value = v
			}
			if err := s(c, branch); err != nil {
				return err
			}
		}
		return nil
	}
}

// DeepCopy copies the mutable parts of v (dicts, lists, and tuples that
// hold them) so that a branch cannot see another branch's changes.
// Immutable values are returned as they are.
func DeepCopy(v starlark.Value) (starlark.Value, error) {
	return deepCopy(v, 0)
}

func deepCopy(v starlark.Value, depth int) (starlark.Value, error) {
	if depth > 1000 {
		return nil, fmt.Errorf("cannot copy a value nested deeper than 1000 levels")
	}
	switch v := v.(type) {
	case *starlark.Dict:
		d := starlark.NewDict(v.Len())
		for _, kv := range v.Items() {
			c, err := deepCopy(kv[1], depth+1)
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(kv[0], c); err != nil {
				return nil, err
			}
		}
		return d, nil
	case *starlark.List:
		elems := make([]starlark.Value, v.Len())
		for i := range elems {
			c, err := deepCopy(v.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			elems[i] = c
		}
		return starlark.NewList(elems), nil
	case starlark.Tuple:
		out := make(starlark.Tuple, len(v))
		for i, e := range v {
			c, err := deepCopy(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// ChainExpr turns the operations after from, up to and including to, into
// an expression yielding the value they produce: the "diff" Quix Streams
// computes for sdf[sdf2] and sdf["x"] = sdf2. Every operation must be an
// apply without expand; from must be an ancestor of to.
func ChainExpr(from, to *Node) (*Expr, error) {
	var fns []Func
	for n := to; n != from; n = n.parent() {
		if n == nil || n.op == nil {
			return nil, errors.New("the StreamingDataFrame is not derived from this one (no common parent)")
		}
		a, ok := n.op.(*applyOp)
		if !ok || a.expand {
			name := n.op.Name()
			if ok {
				name = "apply(expand=True)"
			}
			return nil, fmt.Errorf("only apply() without expand can be used as a column or a filter; the StreamingDataFrame has %s at %s", name, n.pos)
		}
		fns = append(fns, a.fn)
	}
	if len(fns) == 0 {
		return nil, errors.New("the StreamingDataFrame is the same as this one: nothing to compute")
	}
	for i, j := 0, len(fns)-1; i < j; i, j = i+1, j-1 {
		fns[i], fns[j] = fns[j], fns[i]
	}
	return &Expr{
		Desc: fmt.Sprintf("<%d apply step(s)>", len(fns)),
		eval: func(c *Context, r *Row) (starlark.Value, error) {
			row := *r
			for _, fn := range fns {
				v, err := c.call(fn, row)
				if err != nil {
					return nil, err
				}
				row.Value = v
			}
			return row.Value, nil
		},
	}, nil
}

// FirstAfter returns the node on the path from `from` to `to` that
// directly follows from, or nil.
func FirstAfter(from, to *Node) *Node {
	for n := to; n != nil; n = n.parent() {
		if n.parent() == from {
			return n
		}
	}
	return nil
}
