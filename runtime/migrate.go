package runtime

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// MigrationNote is something of a Python file that Starlark cannot
// express, with its 1-based line and a suggested rewrite.
type MigrationNote struct {
	Line    int
	Message string
}

// Migrate converts a Python Quix Streams app into a qstar script as far as
// that can be done mechanically:
//
//   - imports of quixstreams and datetime.timedelta, and `import json`,
//     stay (qstar accepts them); other imports are commented out and noted;
//   - the body of `if __name__ == "__main__":` moves to the top level;
//   - f-strings become %-formatting ("%s is %d" % (a, b)); format specs
//     other than d are noted (Starlark's % has no precision);
//   - `x is None` / `x is not None` become == / !=;
//   - `raise X(...)` becomes fail(...), `assert c, m` an if ... fail(m);
//
// and notes, with line numbers, what it cannot convert: classes,
// try/except, with, global/nonlocal, decorators, yield, chained
// comparisons, set literals, del, and other imports. Line numbers of the
// output match the input's.
func Migrate(src string) (string, []MigrationNote) {
	lines := strings.Split(src, "\n")
	var notes []MigrationNote
	note := func(i int, format string, args ...any) {
		notes = append(notes, MigrationNote{Line: i + 1, Message: fmt.Sprintf(format, args...)})
	}
	mainIndent := -1 // the indentation of a `if __name__ == "__main__":` body being dedented
	mainBody := 0
	inDoc := "" // the quotes of a triple-quoted string spanning lines
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if inDoc != "" {
			if strings.Contains(line, inDoc) {
				inDoc = ""
			}
			continue
		}
		for _, q := range []string{tripleDouble, tripleSingle} {
			if strings.Count(line, q)%2 == 1 {
				inDoc = q
			}
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if mainIndent >= 0 {
			if trimmed != "" && indent < mainIndent {
				mainIndent = -1
			} else if trimmed != "" {
				line = line[mainIndent:]
				lines[i] = line
				indent -= mainIndent
				mainBody++
			}
		}
		if mainRe.MatchString(line) {
			lines[i] = ""
			mainIndent = -2 // set from the next non-empty line
			continue
		}
		if mainIndent == -2 && trimmed != "" {
			mainIndent = indent
			lines[i] = line[indent:]
			line = lines[i]
			indent = 0
			mainBody++
		}
		if strings.HasPrefix(trimmed, "#") || trimmed == "" {
			continue
		}
		switch {
		case importRe.MatchString(trimmed):
			if !importOK(trimmed) {
				lines[i] = commentOut(line)
				note(i, "import commented out: Starlark has no imports; qstar predeclares Application, the serializers, TopicConfig, timedelta, json and math. Replace what the module provided (os.environ: pass settings as constants or use Quix__* environment variables qstar reads)")
			}
			continue
		case classRe.MatchString(trimmed):
			note(i, "class: Starlark has no classes; use dicts for data and functions for behaviour")
		case strings.HasPrefix(trimmed, "try:") || strings.HasPrefix(trimmed, "except") || strings.HasPrefix(trimmed, "finally:"):
			note(i, "try/except: Starlark has no exceptions; check inputs explicitly (if \"x\" in value: ...), or let the error stop the job and use Application(on_processing_error=...) to skip bad messages")
		case strings.HasPrefix(trimmed, "with "):
			note(i, "with: Starlark has no context managers; call the functions directly")
		case strings.HasPrefix(trimmed, "global ") || strings.HasPrefix(trimmed, "nonlocal "):
			note(i, "%s: Starlark globals are frozen after loading; keep changing values in State (stateful=True) or pass them as arguments", strings.Fields(trimmed)[0])
		case strings.HasPrefix(trimmed, "@"):
			note(i, "decorator: Starlark has none; call the wrapping function explicitly")
		case strings.HasPrefix(trimmed, "yield") || strings.Contains(trimmed, " yield "):
			note(i, "yield: Starlark has no generators; build and return a list (with apply(..., expand=True))")
		case strings.HasPrefix(trimmed, "del "):
			note(i, "del: use dict.pop(key) instead")
		case strings.HasPrefix(trimmed, "async ") || strings.HasPrefix(trimmed, "await "):
			note(i, "async/await: Starlark has no coroutines")
		case strings.HasPrefix(trimmed, "raise"):
			lines[i] = convertRaise(line)
		case strings.HasPrefix(trimmed, "assert "):
			lines[i] = convertAssert(line)
		}
		if defRe.MatchString(strings.TrimSpace(lines[i])) {
			lines[i] = stripAnnotations(lines[i])
		}
		lines[i] = convertFStrings(lines[i], func(msg string) { note(i, "%s", msg) })
		code := stripStrings(lines[i])
		for _, b := range missingBuiltins {
			if b.re.MatchString(code) {
				note(i, "%s", b.msg)
			}
		}
		lines[i] = isNoneRe.ReplaceAllStringFunc(lines[i], func(m string) string {
			if strings.Contains(m, "not") {
				return " != None"
			}
			return " == None"
		})
		if chainedRe.MatchString(stripStrings(lines[i])) {
			note(i, "chained comparison: Starlark does not chain them; write a < b and b < c")
		}
		if setLitRe.MatchString(stripStrings(lines[i])) {
			note(i, "set literal: write set([...]) instead of {...}")
		}
		if isRe.MatchString(stripStrings(lines[i])) {
			note(i, "is / is not: Starlark has no identity operator; compare with == (or use series.is_(...) on columns)")
		}
	}
	if mainBody > 0 {
		notes = append(notes, MigrationNote{Line: 0, Message: "the body of `if __name__ == \"__main__\":` was moved to the top level"})
	}
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].Line < notes[j].Line })
	return strings.Join(lines, "\n"), notes
}

var (
	mainRe    = regexp.MustCompile(`^if\s+__name__\s*==\s*["']__main__["']\s*:\s*(#.*)?$`)
	importRe  = regexp.MustCompile(`^(import\s+\S|from\s+\S+\s+import\s)`)
	classRe   = regexp.MustCompile(`^class\s+\w+`)
	isNoneRe  = regexp.MustCompile(`\s+is\s+(not\s+)?None\b`)
	chainedRe = regexp.MustCompile(`[^<>=!]\s*(<|>|<=|>=)\s*[\w\]\)"']+\s*(<|>|<=|>=)\s*[^=]`)
	setLitRe  = regexp.MustCompile(`[=(,\[]\s*\{\s*[^:{}]+\s*(,\s*[^:{}]+\s*)*\}`)
	isRe      = regexp.MustCompile(`\bis\b`)
	fstrRe    = regexp.MustCompile(`\bf("([^"\\]|\\.)*"|'([^'\\]|\\.)*')`)
	fixedRe   = regexp.MustCompile(`^\.\d+f$`)
	defRe     = regexp.MustCompile(`^def\s+\w+\s*\(`)
	stringRe  = regexp.MustCompile(`"([^"\\]|\\.)*"|'([^'\\]|\\.)*'`)
)

// missingBuiltins are Python built-ins Starlark lacks, with rewrites.
var missingBuiltins = []struct {
	re  *regexp.Regexp
	msg string
}{
	{regexp.MustCompile(`\bisinstance\(`), "isinstance(): use type(x) == \"dict\" (or \"list\", \"str\", \"int\", \"float\")"},
	{regexp.MustCompile(`\bround\(`), "round(): Starlark has none; use int(x + 0.5) or \"%.2f\" % x for display"},
	{regexp.MustCompile(`(^|[^.\w])sum\(`), "sum(): Starlark has none; add in a for loop, or use a window's .sum()"},
	{regexp.MustCompile(`\{\s*\*\*`), "{**d, ...}: Starlark has no dict unpacking; use dict(d, key=value) or d.update(...)"},
	{regexp.MustCompile(`\bos\.(environ|getenv)`), "os.environ: not available; qstar reads Quix__Broker__Address, Quix__Consumer_Group and Quix__State__Dir itself, and --broker / --state-dir"},
}

// stripAnnotations removes type annotations from a def line:
// def f(a: dict, state: State = None) -> dict:  =>  def f(a, state = None):
func stripAnnotations(line string) string {
	open := strings.Index(line, "(")
	close := strings.LastIndex(line, ")")
	if open < 0 || close < open {
		return line
	}
	params := line[open+1 : close]
	var out []string
	for _, p := range splitParams(params) {
		name, rest, found := strings.Cut(p, ":")
		if found {
			if _, def, ok := strings.Cut(rest, "="); ok {
				p = strings.TrimSpace(name) + "=" + strings.TrimSpace(def)
			} else {
				p = strings.TrimSpace(name)
			}
		}
		out = append(out, strings.TrimSpace(p))
	}
	tail := line[close+1:]
	if i := strings.Index(tail, "->"); i >= 0 {
		tail = ":" + tail[strings.LastIndex(tail, ":")+1:]
	}
	return line[:open+1] + strings.Join(out, ", ") + ")" + tail
}

// splitParams splits a parameter list at top-level commas.
func splitParams(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		out = append(out, s[start:])
	}
	return out
}

const (
	tripleDouble = "\"\"\""
	tripleSingle = "'''"
)

func importOK(stmt string) bool {
	switch {
	case strings.HasPrefix(stmt, "from quixstreams"):
		return true
	case strings.HasPrefix(stmt, "from datetime import timedelta"):
		return true
	case stmt == "import json" || stmt == "import math":
		return true
	}
	return false
}

func commentOut(line string) string {
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	return indent + "# qstar migrate: " + strings.TrimSpace(line)
}

func convertRaise(line string) string {
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "raise"))
	if i := strings.Index(rest, "("); i >= 0 && strings.HasSuffix(rest, ")") {
		return indent + "fail(" + rest[i+1:len(rest)-1] + ")"
	}
	if rest == "" {
		return indent + `fail("error")`
	}
	return indent + "fail(" + fmt.Sprintf("%q", rest) + ")"
}

func convertAssert(line string) string {
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "assert"))
	cond, msg := rest, `"assertion failed"`
	if i := strings.LastIndex(rest, ","); i > 0 {
		cond, msg = strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+1:])
	}
	return indent + "if not (" + cond + "): fail(" + msg + ")"
}

// convertFStrings turns f"a {x} b {y:.2f}" into ("a %s b %.2f" % (x, y)).
func convertFStrings(line string, noteFn func(string)) string {
	return fstrRe.ReplaceAllStringFunc(line, func(f string) string {
		quote := f[1:2]
		body := f[2 : len(f)-1]
		var format strings.Builder
		var args []string
		for i := 0; i < len(body); i++ {
			c := body[i]
			switch {
			case c == '{' && i+1 < len(body) && body[i+1] == '{':
				format.WriteByte('{')
				i++
			case c == '}' && i+1 < len(body) && body[i+1] == '}':
				format.WriteByte('}')
				i++
			case c == '%':
				format.WriteString("%%")
			case c == '{':
				end := strings.IndexByte(body[i:], '}')
				if end < 0 {
					noteFn("f-string with an unclosed {: convert it by hand")
					return f
				}
				expr := body[i+1 : i+end]
				spec, verb := "", "s"
				if j := strings.LastIndex(expr, "!r"); j >= 0 && j == len(expr)-2 {
					expr, verb = expr[:j], "r"
				}
				if j := strings.Index(expr, ":"); j >= 0 && !strings.ContainsAny(expr[j:], "[]()") {
					expr, spec = expr[:j], expr[j+1:]
					switch {
					case fixedRe.MatchString(spec):
						noteFn(fmt.Sprintf("f-string format spec %q: Starlark's %% has no precision; use \"%%s\" %% (math.round(x * 100) / 100) or keep full precision with %%f", spec))
						return f
					case spec == "d":
						verb, spec = "d", ""
					default:
						noteFn(fmt.Sprintf("f-string format spec %q has no %%-equivalent here: convert it by hand", spec))
						return f
					}
				}
				format.WriteString("%" + spec + verb)
				args = append(args, strings.TrimSpace(expr))
				i += end
			default:
				format.WriteByte(c)
			}
		}
		s := quote + format.String() + quote
		if len(args) == 0 {
			return strings.ReplaceAll(s, "%%", "%")
		}
		return "(" + s + " % (" + strings.Join(args, ", ") + ",))"
	})
}

// stripStrings blanks string literals, for checks that must not look
// inside them.
func stripStrings(line string) string {
	return stringRe.ReplaceAllString(line, `""`)
}
