package runtime

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/qstar-dev/qstar/engine"
)

// Topology is what a script runs: its source topics and the operations
// below each, the state stores, internal topics and sinks. `qstar check`
// prints it.
type Topology struct {
	Script string
	AppPos string
	Group  string
	// Guarantee is the application's processing_guarantee.
	Guarantee engine.Guarantee
	Sources   []*engine.Source
	Internal  map[string]string // repartition topic -> its source topic
	// Feeds are the application's sources (app.add_source) by the topic
	// each produces to: `CSVSource "rows" reading rows.csv`.
	Feeds map[string]string
	// SourceStates are the sources' position topics.
	SourceStates []string
	Stores       []TopologyStore
	Sinks        []string
}

// TopologyStore is a state store and its changelog topic ("" if off).
type TopologyStore struct {
	Name, Topic, Changelog string
	Windowed, Timestamped  bool
}

// TopologyOf describes a loaded script's application.
func TopologyOf(s *Script) *Topology {
	app := s.App
	cfg := app.Config()
	t := &Topology{Script: s.Filename, AppPos: app.Pos(), Group: cfg.ConsumerGroup, Guarantee: cfg.ProcessingGuarantee, Sources: app.Run().Sources, Internal: map[string]string{}}
	t.Feeds = map[string]string{}
	for _, s := range app.Sources() {
		t.Feeds[s.Topic.Name()] = fmt.Sprintf("%s %q reading %s", s.Kind, s.Name, s.From)
		t.SourceStates = append(t.SourceStates, sourceStateTopic(cfg.ConsumerGroup, s.Name))
	}
	for _, tp := range app.Topics() {
		if src := tp.RepartitionOf(); src != "" {
			t.Internal[tp.Name()] = src
		}
	}
	for _, st := range app.Stores() {
		t.Stores = append(t.Stores, TopologyStore{Name: st.Name, Topic: st.Topic, Windowed: st.Windowed, Timestamped: st.Timestamped, Changelog: st.Changelog})
	}
	sinks := map[string]bool{}
	seen := map[*engine.Node]bool{}
	for _, src := range t.Sources {
		walk(src.Root, seen, func(n *engine.Node) {
			if tp := engine.Target(n.Op()); tp != nil && t.Internal[tp.Name] == "" {
				sinks[tp.Name] = true
			}
		})
	}
	for s := range sinks {
		t.Sinks = append(t.Sinks, s)
	}
	sort.Strings(t.Sinks)
	return t
}

// walk calls fn on each node below n not seen yet (a merge node is below
// several roots).
func walk(n *engine.Node, seen map[*engine.Node]bool, fn func(*engine.Node)) {
	for _, c := range n.Children() {
		if seen[c] {
			continue
		}
		seen[c] = true
		fn(c)
		walk(c, seen, fn)
	}
}

// mergeLabel describes a node with several parents: which topics meet
// there.
func (t *Topology) mergeLabel(n *engine.Node) string {
	roots := map[*engine.Node]string{}
	for _, src := range t.Sources {
		roots[src.Root] = src.Topic.Name
	}
	var names []string
	for _, r := range n.Roots() {
		if name, ok := roots[r]; ok {
			names = append(names, fmt.Sprintf("%q", name))
		}
	}
	sort.Strings(names)
	return fmt.Sprintf("%s (merges %s)", n.Op().Name(), strings.Join(names, " and "))
}

func (t *Topology) label(n *engine.Node) string {
	if len(n.Parents()) > 1 {
		return t.mergeLabel(n)
	}
	return opLabel(n)
}

func codecName(v any) string {
	if n, ok := v.(interface{ Name() string }); ok {
		return n.Name()
	}
	return "?"
}

func opLabel(n *engine.Node) string {
	label := n.Op().Name()
	if d := n.Op().Describe(); d != "" {
		label += " (" + d + ")"
	}
	return label
}

// WriteText prints the topology as an indented tree.
func (t *Topology) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s: application created at %s, consumer group %q, processing guarantee %s\n", t.Script, t.AppPos, t.Group, t.Guarantee)
	printed := map[*engine.Node]bool{}
	for _, src := range t.Sources {
		tp := src.Topic
		fmt.Fprintf(w, "\nsource %q (value %s, key %s)", tp.Name, codecName(tp.ValueDeserializer), codecName(tp.KeyDeserializer))
		if from := t.Internal[tp.Name]; from != "" {
			fmt.Fprintf(w, ", internal: group_by of %q", from)
		}
		if feed := t.Feeds[tp.Name]; feed != "" {
			fmt.Fprintf(w, ", fed by %s", feed)
		}
		fmt.Fprintln(w)
		var tree func(n *engine.Node, indent string)
		tree = func(n *engine.Node, indent string) {
			kids := n.Children()
			for i, c := range kids {
				branch, next := "├─ ", "│  "
				if i == len(kids)-1 {
					branch, next = "└─ ", "   "
				}
				if printed[c] {
					// A merge below an earlier source: its operations are there.
					fmt.Fprintf(w, "%s%s%s    %s (operations after it: above)\n", indent, branch, t.label(c), c.Pos())
					continue
				}
				printed[c] = true
				fmt.Fprintf(w, "%s%s%s    %s\n", indent, branch, t.label(c), c.Pos())
				tree(c, indent+next)
			}
		}
		tree(src.Root, "")
		if len(src.Root.Children()) == 0 {
			fmt.Fprintln(w, "(no operations)")
		}
	}
	if len(t.Stores) > 0 {
		fmt.Fprintln(w, "\nstate stores:")
		for _, s := range t.Stores {
			kind := "key-value"
			switch {
			case s.Windowed:
				kind = "windowed"
			case s.Timestamped:
				kind = "timestamped, for a join"
			}
			cl := "no changelog"
			if s.Changelog != "" {
				cl = "changelog " + s.Changelog
			}
			fmt.Fprintf(w, "  %s (%s) on %q, %s\n", s.Name, kind, s.Topic, cl)
		}
	}
	var internal []string
	for name, src := range t.Internal {
		internal = append(internal, fmt.Sprintf("  %s (repartition, partitions of %q)", name, src))
	}
	for _, s := range t.Stores {
		if s.Changelog != "" {
			internal = append(internal, fmt.Sprintf("  %s (changelog, compacted, partitions of %q)", s.Changelog, s.Topic))
		}
	}
	for _, s := range t.SourceStates {
		internal = append(internal, fmt.Sprintf("  %s (a source's position, compacted, 1 partition)", s))
	}
	if len(internal) > 0 {
		sort.Strings(internal)
		fmt.Fprintln(w, "\ninternal topics:")
		fmt.Fprintln(w, strings.Join(internal, "\n"))
	}
	if len(t.Sinks) > 0 {
		fmt.Fprintf(w, "\nsinks: %s\n", strings.Join(quoteAll(t.Sinks), ", "))
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// graph walks the topology as nodes and edges for the diagram formats.
func (t *Topology) graph(topicNode func(id, name string), opNode func(id, label, pos string), edge func(from, to string)) {
	topicID := func(name string) string { return "t_" + sanitize(name) }
	seen := map[string]bool{}
	topic := func(name string) string {
		id := topicID(name)
		if !seen[id] {
			seen[id] = true
			topicNode(id, name)
		}
		return id
	}
	n := 0
	ids := map[*engine.Node]string{}
	for _, src := range t.Sources {
		var visit func(parent string, node *engine.Node)
		visit = func(parent string, node *engine.Node) {
			for _, c := range node.Children() {
				if id, ok := ids[c]; ok { // a merge: one node, an edge from each parent
					edge(parent, id)
					continue
				}
				n++
				id := fmt.Sprintf("op%d", n)
				ids[c] = id
				opNode(id, t.label(c), c.Pos())
				edge(parent, id)
				if tp := engine.Target(c.Op()); tp != nil {
					edge(id, topic(tp.Name))
				}
				visit(id, c)
			}
		}
		visit(topic(src.Topic.Name), src.Root)
	}
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// WriteMermaid prints the topology as a Mermaid flowchart.
func (t *Topology) WriteMermaid(w io.Writer) {
	esc := func(s string) string { return strings.ReplaceAll(s, `"`, "#quot;") }
	fmt.Fprintln(w, "flowchart LR")
	t.graph(
		func(id, name string) { fmt.Fprintf(w, "  %s[(\"%s\")]\n", id, esc(name)) },
		func(id, label, pos string) {
			fmt.Fprintf(w, "  %s[\"%s<br/><small>%s</small>\"]\n", id, esc(label), esc(pos))
		},
		func(from, to string) { fmt.Fprintf(w, "  %s --> %s\n", from, to) },
	)
}

// WriteDot prints the topology as a Graphviz digraph.
func (t *Topology) WriteDot(w io.Writer) {
	esc := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) }
	fmt.Fprintln(w, "digraph qstar {\n  rankdir=LR;")
	t.graph(
		func(id, name string) { fmt.Fprintf(w, "  %s [shape=cylinder, label=\"%s\"];\n", id, esc(name)) },
		func(id, label, pos string) {
			fmt.Fprintf(w, "  %s [shape=box, label=\"%s\\n%s\"];\n", id, esc(label), esc(pos))
		},
		func(from, to string) { fmt.Fprintf(w, "  %s -> %s;\n", from, to) },
	)
	fmt.Fprintln(w, "}")
}
