package runtime

import (
	"fmt"
	"regexp"
	"strings"

	"go.starlark.net/starlark"
)

// importable lists, per Python module, the names a script may import; they
// are predeclared, so the import line is simply blanked.
var importable = map[string][]string{
	"quixstreams": {"Application", "JSONSerializer", "JSONDeserializer", "StringSerializer",
		"StringDeserializer", "IntegerSerializer", "IntegerDeserializer", "DoubleSerializer",
		"DoubleDeserializer", "BytesSerializer", "BytesDeserializer", "TopicConfig", "message_context",
		"State", "StreamingDataFrame", "StreamingSeries", "ConnectionConfig",
		"QuixDeserializer", "QuixTimeseriesSerializer", "QuixEventsSerializer"},
	"datetime": {"timedelta"},
}

var (
	fromImport  = regexp.MustCompile(`^(\s*)from\s+([A-Za-z_][\w.]*)\s+import\s+(.*)$`)
	plainImport = regexp.MustCompile(`^(\s*)import\s+(.*)$`)
)

// blankImports rewrites Python import statements that name predeclared
// things into blank lines (or alias assignments), keeping line numbers. An
// import of anything else is an error naming the line.
func blankImports(filename string, src []byte, predeclared starlark.StringDict) ([]byte, error) {
	lines := strings.Split(string(src), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := plainImport.FindStringSubmatch(line); m != nil {
			var assigns []string
			for _, part := range strings.Split(stripComment(m[2]), ",") {
				name, alias := splitAlias(part)
				if name != "json" && name != "math" {
					return nil, fmt.Errorf("%s:%d:%d: cannot import %q: Starlark has no import statement; qstar predeclares the Quix Streams names, timedelta, json and math", filename, i+1, len(m[1])+1, name)
				}
				if alias != "" && alias != name {
					assigns = append(assigns, alias+" = "+name)
				}
			}
			lines[i] = m[1] + strings.Join(assigns, "; ")
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
					return nil, fmt.Errorf("%s:%d:%d: unclosed '(' in import", filename, first+1, len(indent)+1)
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
		allowed, ok := importable[root]
		if !ok {
			return nil, fmt.Errorf("%s:%d:%d: cannot import from %q: Starlark has no import statement; qstar predeclares the Quix Streams names and timedelta", filename, first+1, len(indent)+1, module)
		}
		var assigns []string
		for _, part := range strings.Split(rest, ",") {
			name, alias := splitAlias(part)
			if name == "" {
				continue
			}
			if !contains(allowed, name) || predeclared[name] == nil {
				return nil, fmt.Errorf("%s:%d:%d: cannot import %q from %q: qstar does not provide it (available: %s)", filename, first+1, len(indent)+1, name, module, strings.Join(allowed, ", "))
			}
			if alias != "" && alias != name {
				assigns = append(assigns, alias+" = "+name)
			}
		}
		lines[first] = indent + strings.Join(assigns, "; ")
	}
	return []byte(strings.Join(lines, "\n")), nil
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
