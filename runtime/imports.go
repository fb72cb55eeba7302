package runtime

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/qstar-dev/qstar/builtins/python"
)

// quixNames are the names a script may import from quixstreams (and its
// submodules: quixstreams.models, quixstreams.context, ...); they are
// predeclared too.
var quixNames = []string{"Application", "JSONSerializer", "JSONDeserializer", "StringSerializer",
	"StringDeserializer", "IntegerSerializer", "IntegerDeserializer", "DoubleSerializer",
	"DoubleDeserializer", "BytesSerializer", "BytesDeserializer", "TopicConfig", "message_context",
	"message_key", "State", "StreamingDataFrame", "StreamingSeries", "ConnectionConfig", "RocksDBOptions",
	"QuixDeserializer", "QuixTimeseriesSerializer", "QuixEventsSerializer",
	// quixstreams.dataframe.windows
	"Sum", "Count", "Mean", "Min", "Max", "Earliest", "Latest", "First", "Last", "Reduce", "Collect",
	// quixstreams.dataframe.joins.lookups
	"SQLiteLookup", "SQLiteLookupField", "SQLiteLookupQueryField", "PostgresLookup", "PostgresLookupField", "PostgresLookupQueryField",
	// quixstreams.sinks (core, community.postgresql, community.redis, ...)
	"ListSink", "PostgreSQLSink", "RedisSink", "FileSink", "LocalFileSink", "JSONFormat", "ParquetFormat", "CSVSink", "SinkBackpressureError",
	// quixstreams.sources (core.csv, community.file, ...)
	"CSVSource", "FileSource", "LocalFileSource", "KafkaReplicatorSource"}

// importModules are the Python modules a script may import, for one load:
// os and dotenv read and write env.
func importModules(env *python.Environ, predeclared starlark.StringDict, log *slog.Logger) map[string]starlark.Value {
	quix := &starlarkstruct.Module{Name: "quixstreams", Members: starlark.StringDict{}}
	for _, name := range quixNames {
		if v, ok := predeclared[name]; ok {
			quix.Members[name] = v
		}
	}
	mods := map[string]starlark.Value{"quixstreams": quix}
	if log == nil {
		log = slog.Default()
	}
	logf := func(level int, name, msg string) {
		log.Log(context.Background(), slog.Level((level-20)/10*4), msg, "logger", name)
	}
	for name, m := range python.Modules(env, logf) {
		mods[name] = m
	}
	for _, name := range []string{"json", "math"} {
		mods[name] = predeclared[name]
	}
	return mods
}

var (
	fromImport  = regexp.MustCompile(`^(\s*)from\s+([A-Za-z_][\w.]*)\s+import\s+(.*)$`)
	plainImport = regexp.MustCompile(`^(\s*)import\s+(.*)$`)
)

// resolveImports turns Python import statements into names the file
// sees: `import json`, `import datetime as dt`, `from datetime import
// datetime, timezone`, `from quixstreams import Application`. Each import
// line is blanked (line numbers stay) and its names come back as
// bindings to predeclare for this file. An import of anything qstar does
// not provide is an error naming the line and what is available.
func resolveImports(filename string, src []byte, modules map[string]starlark.Value) ([]byte, starlark.StringDict, error) {
	bindings := starlark.StringDict{}
	lines := strings.Split(string(src), "\n")
	inString := ""
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if inString != "" {
			if strings.Count(line, inString)%2 == 1 {
				inString = ""
			}
			continue
		}
		for _, q := range []string{`"""`, `'''`} {
			if strings.Count(stripComment(line), q)%2 == 1 {
				inString = q
			}
		}
		if m := plainImport.FindStringSubmatch(line); m != nil {
			for _, part := range strings.Split(stripComment(m[2]), ",") {
				name, alias := splitAlias(part)
				if name == "" {
					continue
				}
				root := strings.SplitN(name, ".", 2)[0]
				mod, ok := modules[root]
				if !ok {
					return nil, nil, fmt.Errorf("%s:%d:%d: cannot import %q: qstar provides the modules %s", filename, i+1, len(m[1])+1, name, moduleList(modules))
				}
				v, err := submodule(mod, name)
				if err != nil {
					return nil, nil, fmt.Errorf("%s:%d:%d: %v", filename, i+1, len(m[1])+1, err)
				}
				if alias != "" && alias != name {
					bindings[alias] = v // import a.b as c binds c to a.b
				} else {
					bindings[root] = mod
				}
			}
			lines[i] = blankStatement(m[1])
			continue
		}
		m := fromImport.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		indent, module, rest := m[1], m[2], stripComment(m[3])
		first := i
		if strings.HasPrefix(strings.TrimSpace(rest), "(") {
			rest = strings.TrimPrefix(strings.TrimSpace(rest), "(")
			for !strings.Contains(rest, ")") {
				if i+1 >= len(lines) {
					return nil, nil, fmt.Errorf("%s:%d:%d: unclosed '(' in import", filename, first+1, len(indent)+1)
				}
				i++
				rest += " " + stripComment(lines[i])
				lines[i] = ""
			}
			rest = rest[:strings.Index(rest, ")")]
		} else {
			for strings.HasSuffix(strings.TrimSpace(rest), "\\") && i+1 < len(lines) {
				rest = strings.TrimSuffix(strings.TrimSpace(rest), "\\")
				i++
				rest += " " + stripComment(lines[i])
				lines[i] = ""
			}
		}
		root := strings.SplitN(module, ".", 2)[0]
		mod, ok := modules[root]
		if !ok {
			return nil, nil, fmt.Errorf("%s:%d:%d: cannot import from %q: qstar provides the modules %s", filename, first+1, len(indent)+1, module, moduleList(modules))
		}
		if root != "quixstreams" {
			var err error
			if mod, err = submodule(mod, module); err != nil {
				return nil, nil, fmt.Errorf("%s:%d:%d: %v", filename, first+1, len(indent)+1, err)
			}
		}
		for _, part := range strings.Split(rest, ",") {
			name, alias := splitAlias(part)
			if name == "" {
				continue
			}
			if name == "*" {
				return nil, nil, fmt.Errorf("%s:%d:%d: from %s import *: name what you use (%s)", filename, first+1, len(indent)+1, module, strings.Join(memberNames(mod), ", "))
			}
			v, err := member(mod, name)
			if err != nil || v == nil {
				return nil, nil, fmt.Errorf("%s:%d:%d: cannot import %q from %q: qstar does not provide it (available: %s)", filename, first+1, len(indent)+1, name, module, strings.Join(memberNames(mod), ", "))
			}
			bindings[cmp.Or(alias, name)] = v
		}
		lines[first] = blankStatement(indent)
	}
	return []byte(strings.Join(lines, "\n")), bindings, nil
}

// blankStatement replaces an import: nothing at top level, `pass` in a
// block, whose only statement it may be.
func blankStatement(indent string) string {
	if indent == "" {
		return ""
	}
	return indent + "pass"
}

// submodule follows a dotted module path (os.path, datetime) from its
// root module.
func submodule(root starlark.Value, dotted string) (starlark.Value, error) {
	parts := strings.Split(dotted, ".")
	v := root
	for _, p := range parts[1:] {
		x, err := member(v, p)
		if err != nil || x == nil {
			return nil, fmt.Errorf("cannot import %q: qstar does not provide it", dotted)
		}
		v = x
	}
	return v, nil
}

func member(v starlark.Value, name string) (starlark.Value, error) {
	if ha, ok := v.(starlark.HasAttrs); ok {
		return ha.Attr(name)
	}
	return nil, nil
}

func memberNames(v starlark.Value) []string {
	ha, ok := v.(starlark.HasAttrs)
	if !ok {
		return nil
	}
	names := ha.AttrNames()
	sort.Strings(names)
	return names
}

func moduleList(modules map[string]starlark.Value) string {
	names := make([]string, 0, len(modules))
	for k := range modules {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func stripComment(s string) string {
	if i := strings.Index(s, "#"); i >= 0 {
		return s[:i]
	}
	return s
}

func splitAlias(part string) (name, alias string) {
	fields := strings.Fields(part)
	switch {
	case len(fields) == 0:
		return "", ""
	case len(fields) == 3 && fields[1] == "as":
		return fields[0], fields[2]
	}
	return strings.Join(fields, " "), ""
}
