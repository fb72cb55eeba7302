package engine

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Step runs one composed operation on a row and passes its results on.
// Steps are built once by Compose and shared by every task; per-task state
// lives in the Context.
type Step func(c *Context, r Row) error

// Op is one pipeline operation. Compose wraps next (the composed rest of the
// pipeline) in a Step; pos is where the script declared the operation, for
// error messages.
type Op interface {
	Name() string
	Compose(pos string, next Step) Step
}

// Node is one operation in a pipeline graph. A root node (from NewRoot) has
// no operation and stands for the source topic.
type Node struct {
	op       Op
	pos      string
	children []*Node
}

// NewRoot returns the root node of a pipeline fed by one source topic.
func NewRoot() *Node { return &Node{} }

// Then adds a child running op, declared at pos, and returns it.
func (n *Node) Then(op Op, pos string) *Node {
	child := &Node{op: op, pos: pos}
	n.children = append(n.children, child)
	return child
}

// Op returns the node's operation; nil for a root.
func (n *Node) Op() Op { return n.op }

// Pos returns where the script declared the node's operation.
func (n *Node) Pos() string { return n.pos }

// Children returns the nodes fed by n, in declaration order.
func (n *Node) Children() []*Node { return n.children }

// Compose turns the graph below root into one Step. It runs once per
// pipeline, never per message.
func Compose(root *Node) Step {
	return composeNode(root)
}

func composeNode(n *Node) Step {
	next := composeChildren(n.children)
	if n.op == nil {
		return next
	}
	return n.op.Compose(n.pos, next)
}

func discard(*Context, Row) error { return nil }

func composeChildren(children []*Node) Step {
	switch len(children) {
	case 0:
		return discard
	case 1:
		return composeNode(children[0])
	}
	steps := make([]Step, len(children))
	for i, c := range children {
		steps[i] = composeNode(c)
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
