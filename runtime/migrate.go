package runtime

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/qstar-dev/qstar/builtins"
	"github.com/qstar-dev/qstar/builtins/python"
)

// MigrationNote is a remark on one line (1-based; 0 for the whole file)
// of a Python file being migrated. A Manual note is something Starlark
// cannot express, with what to write instead; the others say what migrate
// changed.
type MigrationNote struct {
	Line    int
	Message string
	Manual  bool
}

// Migrate converts a Python Quix Streams app into a qstar script as far as
// that can be done mechanically, keeping line numbers:
//
//   - imports stay when qstar provides the module (quixstreams, datetime,
//     json, math, os, dotenv, collections, time, hashlib, uuid, logging,
//     typing); others are commented out and noted;
//   - the body of `if __name__ == "__main__":` moves to the top level;
//   - f-strings become str.format calls (format specs, !r and {x=} kept);
//   - type annotations go, on one line or several;
//   - `x is None` / `x is not None` become == / !=;
//   - a generator function builds and returns a list instead;
//   - `try:` runs its body (`if True:`), its except blocks are dropped;
//   - a one-line `with open(...) as f: pass` is dropped;
//   - {**a, **b} becomes dict(a, **b); chained comparisons are split;
//   - a ** b becomes pow(a, b), f(x for x in xs) f([x for x in xs]);
//   - `raise X(...)` becomes fail(...), `assert c, m` an if ... fail(m);
//
// and notes, with line numbers, what it cannot convert: classes, with
// blocks, global/nonlocal, decorators, async, and imports of modules
// qstar lacks.
func Migrate(src string) (string, []MigrationNote) {
	m := &migration{lines: strings.Split(src, "\n")}
	m.convertLines()
	out := strings.Join(m.lines, "\n")
	out = m.convertDictUnpacking(out)
	out = convertGeneratorArgs(out)
	out = convertPower(out)
	sort.SliceStable(m.notes, func(i, j int) bool { return m.notes[i].Line < m.notes[j].Line })
	return out, m.notes
}

type migration struct {
	lines []string
	notes []MigrationNote
}

func (m *migration) manual(i int, format string, args ...any) {
	m.notes = append(m.notes, MigrationNote{Line: i + 1, Message: fmt.Sprintf(format, args...), Manual: true})
}

func (m *migration) changed(i int, format string, args ...any) {
	m.notes = append(m.notes, MigrationNote{Line: i + 1, Message: fmt.Sprintf(format, args...)})
}

var (
	mainRe     = regexp.MustCompile(`^if\s+__name__\s*==\s*["']__main__["']\s*:\s*(#.*)?$`)
	importRe   = regexp.MustCompile(`^(import\s+\S|from\s+\S+\s+import\s)`)
	classRe    = regexp.MustCompile(`^class\s+\w+`)
	isNoneRe   = regexp.MustCompile(`\s+is\s+(not\s+)?None\b`)
	isRe       = regexp.MustCompile(`\bis\b`)
	fstrRe     = regexp.MustCompile(`\b[fF]("([^"\\]|\\.)*"|'([^'\\]|\\.)*')`)
	fstrOddRe  = regexp.MustCompile(`\b([rR][fF]|[fF][rR])["']|\b[fF]("""|\'\'\')`)
	defRe      = regexp.MustCompile(`^(async\s+)?def\s+\w+\s*\(`)
	stringRe   = regexp.MustCompile(`"([^"\\]|\\.)*"|'([^'\\]|\\.)*'`)
	withPassRe = regexp.MustCompile(`^with\s+open\(.*\)\s*(as\s+\w+\s*)?:\s*pass\s*(#.*)?$`)
	exceptRe   = regexp.MustCompile(`^(except\b.*|finally\s*):\s*(#.*)?$`)
	varAnnRe   = regexp.MustCompile(`^(\s*)([A-Za-z_]\w*)\s*:\s*[A-Za-z_][\w\[\], .|]*(=\s*(.*))?$`)
	yieldRe    = regexp.MustCompile(`^(\s*)yield\b\s*(.*)$`)
	yieldFrom  = regexp.MustCompile(`^from\s+(.*)$`)
	delRe      = regexp.MustCompile(`^(\s*)del\s+(\w+)\[(.+)\]\s*$`)
)

func indentOf(line string) int { return len(line) - len(strings.TrimLeft(line, " \t")) }

func (m *migration) convertLines() {
	mainIndent := -1 // the indentation of a `if __name__ == "__main__":` body being dedented
	mainBody := 0
	inDoc := "" // the quotes of a triple-quoted string spanning lines
	dropIndent := -1
	brackets := 0 // bracket depth at the start of the line
	modules := importModules(python.NewEnviron(func(string) string { return "" }), builtins.Predeclared(), nil)
	for i := 0; i < len(m.lines); i++ {
		line := m.lines[i]
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
		indent := indentOf(line)
		if mainIndent >= 0 {
			if trimmed != "" && indent < mainIndent {
				mainIndent = -1
			} else if trimmed != "" {
				line = line[mainIndent:]
				m.lines[i] = line
				indent -= mainIndent
				mainBody++
			}
		}
		if mainRe.MatchString(line) {
			m.lines[i] = ""
			mainIndent = -2 // set from the next non-empty line
			continue
		}
		if mainIndent == -2 && trimmed != "" {
			mainIndent = indent
			m.lines[i] = line[indent:]
			line = m.lines[i]
			indent = 0
			mainBody++
		}
		if dropIndent >= 0 {
			if trimmed == "" || indent > dropIndent {
				if trimmed != "" {
					m.lines[i] = commentOut(line)
				}
				continue
			}
			if strings.HasPrefix(trimmed, "else") && strings.HasSuffix(strings.TrimSpace(stripComment(trimmed)), ":") && indent == dropIndent {
				// try ... else: runs when the body did not fail, as it
				// always does here.
				m.lines[i] = line[:indent] + "if True:"
				dropIndent = -1
				continue
			}
			dropIndent = -1
		}
		if strings.HasPrefix(trimmed, "#") || trimmed == "" {
			continue
		}
		open := brackets // inside a display or call spanning lines
		brackets = max(brackets+depth(stripComment(stripStrings(line))), 0)
		switch {
		case importRe.MatchString(trimmed):
			// The statement may go on over several lines: ( ... ) or \.
			stmt, last := stripComment(trimmed), i
			for (depth(stmt) > 0 || strings.HasSuffix(strings.TrimSpace(stmt), "\\")) && last+1 < len(m.lines) {
				last++
				stmt = strings.TrimSuffix(strings.TrimSpace(stmt), "\\") + " " + stripComment(strings.TrimSpace(m.lines[last]))
			}
			if _, _, err := resolveImports("app.py", []byte(stmt), modules); err != nil {
				for j := i; j <= last; j++ {
					m.lines[j] = commentOut(m.lines[j])
				}
				m.manual(i, "import commented out: %s; replace what it gave", strings.TrimPrefix(err.Error(), "app.py:1:1: "))
			}
			i, brackets = last, open
			continue
		case withPassRe.MatchString(trimmed):
			m.lines[i] = commentOut(line)
			m.changed(i, "with open(...): pass dropped: scripts do not open files")
			continue
		case classRe.MatchString(trimmed):
			m.manual(i, "class: Starlark has no classes; use dicts for data and functions for behaviour")
		case trimmed == "try:" || strings.HasPrefix(trimmed, "try:"):
			m.lines[i] = strings.Replace(line, "try:", "if True:", 1)
			m.changed(i, "try: its body runs as is; Starlark has no exceptions, so an error stops the job (Application(on_processing_error=...) can skip bad messages)")
			continue
		case exceptRe.MatchString(trimmed):
			if strings.HasPrefix(trimmed, "finally") {
				m.lines[i] = line[:indent] + "if True:"
				m.changed(i, "finally: its body runs after the try body")
				continue
			}
			m.lines[i] = commentOut(line)
			dropIndent = indent
			m.changed(i, "except block dropped: Starlark has no exceptions")
			continue
		case strings.HasPrefix(trimmed, "with "):
			m.manual(i, "with: Starlark has no context managers; call the functions directly")
		case strings.HasPrefix(trimmed, "global ") || strings.HasPrefix(trimmed, "nonlocal "):
			m.manual(i, "%s: Starlark globals are frozen after loading; keep changing values in State (stateful=True) or pass them as arguments", strings.Fields(trimmed)[0])
		case strings.HasPrefix(trimmed, "@"):
			m.manual(i, "decorator: Starlark has none; call the wrapping function explicitly")
		case strings.HasPrefix(trimmed, "async ") || strings.HasPrefix(trimmed, "await "):
			m.manual(i, "async/await: Starlark has no coroutines")
		case strings.HasPrefix(trimmed, "raise"):
			m.lines[i] = convertRaise(line)
		case strings.HasPrefix(trimmed, "assert "):
			m.lines[i] = convertAssert(line)
		case delRe.MatchString(line):
			sm := delRe.FindStringSubmatch(line)
			m.lines[i] = sm[1] + sm[2] + ".pop(" + sm[3] + ")"
		case strings.HasPrefix(trimmed, "del "):
			m.manual(i, "del: use dict.pop(key) instead")
		}
		if defRe.MatchString(strings.TrimSpace(m.lines[i])) {
			m.convertDef(i) // joins a signature over several lines onto line i
			brackets = max(open+depth(stripComment(stripStrings(m.lines[i]))), 0)
		} else if sm := varAnnRe.FindStringSubmatch(m.lines[i]); sm != nil && open == 0 && !strings.HasPrefix(trimmed, "lambda") && !isKeyword(sm[2]) {
			if sm[3] == "" {
				m.lines[i] = sm[1] + "pass"
			} else {
				m.lines[i] = sm[1] + sm[2] + " = " + sm[4]
			}
		}
		if fstrOddRe.MatchString(m.lines[i]) {
			m.manual(i, "raw or triple-quoted f-string: write it as \"...{}...\".format(x)")
		} else {
			m.lines[i] = convertFStrings(m.lines[i], func(msg string) { m.manual(i, "%s", msg) })
		}
		m.lines[i] = isNoneRe.ReplaceAllStringFunc(m.lines[i], func(s string) string {
			if strings.Contains(s, "not") {
				return " != None"
			}
			return " == None"
		})
		m.lines[i] = splitChainedComparisons(m.lines[i])
		if code := stripStrings(m.lines[i]); inDoc == "" && isRe.MatchString(stripComment(code)) {
			m.manual(i, "is / is not: Starlark has no identity operator; compare with == (or use series.is_(...) on columns)")
		}
	}
	if mainBody > 0 {
		m.notes = append(m.notes, MigrationNote{Line: 0, Message: "the body of `if __name__ == \"__main__\":` was moved to the top level"})
	}
}

func isKeyword(s string) bool {
	switch s {
	case "else", "elif", "if", "for", "while", "try", "except", "finally", "with", "def", "lambda", "return", "class":
		return true
	}
	return false
}

// convertDef strips the annotations of the def starting at line i (its
// signature may span lines: it is joined onto line i and the other lines
// are left empty) and turns a generator into a function returning a list.
func (m *migration) convertDef(i int) {
	end := i
	sig := m.lines[i]
	for depth(sig) > 0 && end+1 < len(m.lines) {
		end++
		sig += " " + strings.TrimSpace(m.lines[end])
	}
	for j := i + 1; j <= end; j++ {
		m.lines[j] = ""
	}
	m.lines[i] = stripAnnotations(sig)
	// A body with yield (not in nested defs) is a generator.
	defIndent := indentOf(m.lines[i])
	bodyIndent := -1
	var yields []int
	last := end
	for j := end + 1; j < len(m.lines); j++ {
		t := strings.TrimSpace(m.lines[j])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind := indentOf(m.lines[j])
		if ind <= defIndent {
			break
		}
		if bodyIndent < 0 {
			bodyIndent = ind
		}
		last = j
		if yieldRe.MatchString(m.lines[j]) {
			yields = append(yields, j)
		}
	}
	if len(yields) == 0 || bodyIndent < 0 {
		return
	}
	pad := strings.Repeat(" ", bodyIndent)
	const acc = "_yielded"
	first := end + 1
	for strings.TrimSpace(m.lines[first]) == "" {
		first++
	}
	if first > end+1 {
		m.lines[first-1] = pad + acc + " = []"
	} else {
		m.lines[end] += "\n" + pad + acc + " = []" // one line more from here on
	}
	for _, j := range yields {
		sm := yieldRe.FindStringSubmatch(m.lines[j])
		switch {
		case sm[2] == "":
			continue
		case yieldFrom.MatchString(sm[2]):
			m.lines[j] = sm[1] + acc + ".extend(" + yieldFrom.FindStringSubmatch(sm[2])[1] + ")"
		default:
			m.lines[j] = sm[1] + acc + ".append(" + sm[2] + ")"
		}
	}
	for j := first; j <= last; j++ {
		if strings.TrimSpace(m.lines[j]) == "return" {
			m.lines[j] = m.lines[j][:indentOf(m.lines[j])] + "return " + acc
		}
	}
	if last+1 < len(m.lines) && strings.TrimSpace(m.lines[last+1]) == "" {
		m.lines[last+1] = pad + "return " + acc
	} else {
		m.lines[last] += "\n" + pad + "return " + acc
	}
	m.changed(i, "generator: the function collects what it yields in a list and returns it (apply(..., expand=True) takes lists)")
}

// depth is the bracket depth at the end of s (strings skipped).
func depth(s string) int {
	d := 0
	for _, c := range stripStrings(s) {
		switch c {
		case '(', '[', '{':
			d++
		case ')', ']', '}':
			d--
		}
	}
	return d
}

// stripAnnotations removes type annotations from a def line:
// def f(a: dict, state: State = None) -> dict:  =>  def f(a, state=None):
func stripAnnotations(line string) string {
	open := strings.Index(line, "(")
	close := matchingParen(line, open)
	if open < 0 || close < open {
		return line
	}
	params := line[open+1 : close]
	var out []string
	for _, p := range splitParams(params) {
		name, rest, found := strings.Cut(p, ":")
		if found && !strings.ContainsAny(name, "=([{") {
			if _, def, ok := strings.Cut(rest, "="); ok {
				p = strings.TrimSpace(name) + "=" + strings.TrimSpace(def)
			} else {
				p = strings.TrimSpace(name)
			}
		}
		if strings.TrimSpace(p) != "" {
			out = append(out, strings.TrimSpace(p))
		}
	}
	tail := line[close+1:]
	if i := strings.Index(tail, "->"); i >= 0 {
		tail = ":" + tail[strings.LastIndex(tail, ":")+1:]
	}
	return line[:open+1] + strings.Join(out, ", ") + ")" + tail
}

func matchingParen(s string, open int) int {
	if open < 0 {
		return -1
	}
	d := 0
	blank := stripStrings(s)
	for i := open; i < len(blank); i++ {
		switch blank[i] {
		case '(', '[', '{':
			d++
		case ')', ']', '}':
			d--
			if d == 0 {
				return i
			}
		}
	}
	return -1
}

// splitParams splits a parameter list at top-level commas.
func splitParams(s string) []string {
	var out []string
	d, start := 0, 0
	blank := stripStrings(s)
	for i := 0; i < len(blank); i++ {
		switch blank[i] {
		case '(', '[', '{':
			d++
		case ')', ']', '}':
			d--
		case ',':
			if d == 0 {
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
	if parts := splitParams(rest); len(parts) == 2 {
		cond, msg = strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
	}
	return indent + "if not (" + cond + "): fail(" + msg + ")"
}

// convertFStrings turns f"a {x} b {y:.2f} {z!r} {w=}" into
// "a {} b {:.2f} {!r} w={!r}".format(x, y, z, w).
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
				format.WriteString("{{")
				i++
			case c == '}' && i+1 < len(body) && body[i+1] == '}':
				format.WriteString("}}")
				i++
			case c == '{':
				end := fieldClose(body, i)
				if end < 0 {
					noteFn("f-string with an unclosed {: convert it by hand")
					return f
				}
				field := body[i+1 : end]
				expr, conv, spec := splitField(field)
				if strings.HasSuffix(strings.TrimRight(expr, " "), "=") && !strings.HasSuffix(strings.TrimRight(expr, " "), "==") {
					// {x=} writes the expression text, then its repr
					// (or its formatted value with a spec).
					text := expr
					format.WriteString(strings.ReplaceAll(strings.ReplaceAll(text, "{", "{{"), "}", "}}"))
					expr = strings.TrimSuffix(strings.TrimRight(expr, " "), "=")
					if conv == "" && spec == "" {
						conv = "r"
					}
				}
				args = append(args, strings.TrimSpace(expr))
				format.WriteByte('{')
				if conv != "" {
					format.WriteString("!" + conv)
				}
				if spec != "" {
					// Nested fields in the spec ({x:{width}}) become
					// further arguments, in order.
					var sb strings.Builder
					for j := 0; j < len(spec); j++ {
						if spec[j] == '{' {
							k := strings.IndexByte(spec[j:], '}')
							if k < 0 {
								noteFn("f-string format spec with an unclosed {: convert it by hand")
								return f
							}
							args = append(args, strings.TrimSpace(spec[j+1:j+k]))
							sb.WriteString("{}")
							j += k
							continue
						}
						sb.WriteByte(spec[j])
					}
					format.WriteString(":" + sb.String())
				}
				format.WriteByte('}')
				i = end
			default:
				format.WriteByte(c)
			}
		}
		s := quote + format.String() + quote
		if len(args) == 0 {
			return strings.ReplaceAll(strings.ReplaceAll(s, "{{", "{"), "}}", "}")
		}
		return s + ".format(" + strings.Join(args, ", ") + ")"
	})
}

// fieldClose finds the '}' that closes the replacement field opened at i,
// skipping brackets and strings inside the expression.
func fieldClose(body string, i int) int {
	d := 0
	var q byte
	for j := i + 1; j < len(body); j++ {
		c := body[j]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '(' || c == '[' || c == '{':
			d++
		case c == ')' || c == ']':
			d--
		case c == '}':
			if d == 0 {
				return j
			}
			d--
		}
	}
	return -1
}

// splitField splits an f-string field into its expression, conversion
// (r, s, a) and format spec, at the top level.
func splitField(field string) (expr, conv, spec string) {
	d := 0
	var q byte
	for j := 0; j < len(field); j++ {
		c := field[j]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '(' || c == '[' || c == '{':
			d++
		case c == ')' || c == ']' || c == '}':
			d--
		case d == 0 && c == '!' && j+1 < len(field) && field[j+1] != '=':
			expr = field[:j]
			rest := field[j+1:]
			conv = rest[:1]
			if k := strings.IndexByte(rest, ':'); k >= 0 {
				spec = rest[k+1:]
			}
			return expr, conv, spec
		case d == 0 && c == ':':
			return field[:j], "", field[j+1:]
		}
	}
	return field, "", ""
}

// stripStrings blanks string literals, for checks that must not look
// inside them.
func stripStrings(line string) string {
	return stringRe.ReplaceAllStringFunc(line, func(s string) string { return strings.Repeat("_", len(s)) })
}

// compRe matches Python's comparison operators.
var (
	compRe     = regexp.MustCompile(`(<=|>=|==|!=|<|>|\bnot\s+in\b|\bin\b)`)
	compLeadRe = regexp.MustCompile(`^\s*(return\s+|if\s+|elif\s+|while\s+|assert\s+|not\s+|[\w.]+\s*=\s*)?`)
)

// splitChainedComparisons rewrites a < b < c into (a < b and b < c),
// which Starlark lacks, for each chain in a line whose operands hold no
// boolean operator, conditional or lambda.
func splitChainedComparisons(line string) string {
	for range 20 {
		next, ok := splitOneChain(line)
		if !ok {
			return line
		}
		line = next
	}
	return line
}

// splitOneChain rewrites the innermost chained comparison of line.
func splitOneChain(line string) (string, bool) {
	blank := stripStrings(line)
	type region struct{ start, end, depth int }
	regions := []region{{0, len(blank), 0}}
	var stack []int
	for i := 0; i < len(blank); i++ {
		switch blank[i] {
		case '(', '[', '{':
			stack = append(stack, i)
		case ')', ']', '}':
			if len(stack) > 0 {
				open := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				regions = append(regions, region{open + 1, i, len(stack) + 1})
			}
		case '#':
			regions[0].end = i
			i = len(blank)
		}
	}
	sort.SliceStable(regions, func(i, j int) bool { return regions[i].depth > regions[j].depth })
	for _, r := range regions {
		// Mask nested brackets, so only this level's operators count.
		masked := []byte(blank[r.start:r.end])
		d := 0
		for i, c := range masked {
			switch c {
			case '(', '[', '{':
				d++
				if d > 1 {
					masked[i] = '_'
				}
				continue
			case ')', ']', '}':
				d--
				if d > 0 {
					masked[i] = '_'
				}
				continue
			}
			if d > 0 {
				masked[i] = '_'
			}
		}
		pieceStart := 0
		for i := 0; i <= len(masked); i++ {
			if i < len(masked) && masked[i] != ',' && masked[i] != ';' && !(masked[i] == ':' && !strings.Contains(string(masked[pieceStart:i]), "lambda")) {
				continue
			}
			piece := string(masked[pieceStart:i])
			start := r.start + pieceStart
			pieceStart = i + 1
			if strings.Contains(piece, " and ") || strings.Contains(piece, " or ") || strings.Contains(piece, "lambda") ||
				strings.Contains(piece, " if ") || strings.Contains(piece, " else ") || strings.Contains(piece, " for ") ||
				strings.HasPrefix(strings.TrimSpace(piece), "for ") {
				continue
			}
			shiftless := strings.NewReplacer("<<", "__", ">>", "__", "->", "__").Replace(piece)
			locs := compRe.FindAllStringIndex(shiftless, -1)
			if len(locs) < 2 {
				continue
			}
			orig := line[start : start+len(piece)]
			lead := compLeadRe.FindString(orig)
			if strings.HasSuffix(strings.TrimSpace(lead), "=") && strings.Contains(piece[:len(lead)], "==") || len(lead) > locs[0][0] {
				lead = ""
			}
			var operands, ops []string
			prev := len(lead)
			for _, l := range locs {
				operands = append(operands, strings.TrimSpace(orig[prev:l[0]]))
				ops = append(ops, orig[l[0]:l[1]])
				prev = l[1]
			}
			operands = append(operands, strings.TrimSpace(orig[prev:]))
			var parts []string
			for j, op := range ops {
				parts = append(parts, operands[j]+" "+op+" "+operands[j+1])
			}
			trail := orig[len(strings.TrimRight(orig, " ")):]
			repl := lead + "(" + strings.Join(parts, " and ") + ")" + trail
			return line[:start] + repl + line[start+len(piece):], true
		}
	}
	return line, false
}

// convertDictUnpacking rewrites dict displays with ** items, which
// Starlark lacks: {**a, **b} becomes dict(a, **b) and {"k": v, **d}
// becomes dict({"k": v}, **d) (later keys win, earlier positions stay, as
// in Python). Newlines inside the display are kept, so line numbers do
// not move.
func (m *migration) convertDictUnpacking(src string) string {
	blank := blankStringsMultiline(src)
	for {
		at := strings.Index(blank, "**")
		found := false
		for at >= 0 {
			prev := strings.TrimRight(blank[:at], " \t\n")
			open := -1
			if strings.HasSuffix(prev, "{") || strings.HasSuffix(prev, ",") {
				open = enclosingBrace(blank, at)
			}
			if open >= 0 {
				close := matchingParen(blank, open)
				if close > open {
					repl, ok := dictFromParts(src[open+1:close], blank[open+1:close])
					if ok {
						src = src[:open] + repl + src[close+1:]
						blank = blankStringsMultiline(src)
						found = true
						break
					}
				}
			}
			next := strings.Index(blank[at+2:], "**")
			if next < 0 {
				at = -1
			} else {
				at += 2 + next
			}
		}
		if !found {
			return src
		}
	}
}

// enclosingBrace returns the index of the '{' directly enclosing i (at
// depth 0 relative to i), or -1 when i is inside another bracket.
func enclosingBrace(blank string, i int) int {
	d := 0
	for j := i - 1; j >= 0; j-- {
		switch blank[j] {
		case ')', ']', '}':
			d++
		case '(', '[':
			if d == 0 {
				return -1
			}
			d--
		case '{':
			if d == 0 {
				return j
			}
			d--
		}
	}
	return -1
}

// dictFromParts builds dict(...) from the items of a display.
func dictFromParts(items, blankItems string) (string, bool) {
	parts := splitTop(items, blankItems)
	unpacks := false
	for _, p := range parts {
		if strings.HasPrefix(strings.TrimSpace(p), "**") {
			unpacks = true
		}
	}
	if !unpacks {
		return "", false // x ** 2 inside a display, not unpacking
	}
	var groups []string
	var entries []string
	for _, p := range parts {
		t := strings.TrimSpace(p)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, "**") {
			if len(entries) > 0 {
				groups = append(groups, "{"+strings.Join(entries, ", ")+"}")
				entries = nil
			}
			groups = append(groups, strings.TrimSpace(t[2:]))
			continue
		}
		if !strings.Contains(blankStringsMultiline(t), ":") {
			return "", false // a set display
		}
		entries = append(entries, t)
	}
	if len(entries) > 0 {
		groups = append(groups, "{"+strings.Join(entries, ", ")+"}")
	}
	if len(groups) == 0 {
		return "", false
	}
	out := "dict(" + groups[0] + ")"
	if len(groups) > 1 {
		out = "dict(" + groups[0] + ", **" + groups[1] + ")"
		for _, g := range groups[2:] {
			out = "dict(" + out + ", **" + g + ")"
		}
	}
	if n := strings.Count(items, "\n") - strings.Count(out, "\n"); n > 0 {
		out = out[:len(out)-1] + strings.Repeat("\n", n) + ")"
	}
	return out, true
}

// splitTop splits s at commas outside brackets (using its blanked copy).
func splitTop(s, blank string) []string {
	var out []string
	d, start := 0, 0
	for i := 0; i < len(blank); i++ {
		switch blank[i] {
		case '(', '[', '{':
			d++
		case ')', ']', '}':
			d--
		case ',':
			if d == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// blankStringsMultiline blanks string literals and comments of a whole
// source (keeping its length and newlines).
func blankStringsMultiline(src string) string {
	b := []byte(src)
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '#':
			for i < len(b) && b[i] != '\n' {
				b[i] = '_'
				i++
			}
		case c == '"' || c == '\'':
			q := string(c)
			if strings.HasPrefix(src[i:], strings.Repeat(q, 3)) {
				q = strings.Repeat(q, 3)
			}
			j := i + len(q)
			for j < len(b) && !strings.HasPrefix(src[j:], q) {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			end := min(j+len(q), len(b))
			for k := i; k < end; k++ {
				if b[k] != '\n' {
					b[k] = '_'
				}
			}
			i = end - 1
		}
	}
	return string(b)
}

// CheckMigrated compiles a migrated script with qstar's predeclared names
// and the modules it imports, without running it: what qstar check would
// reject at load time for syntax or unknown names.
func CheckMigrated(filename string, src []byte) error {
	predeclared := builtins.Predeclared()
	modules := importModules(python.NewEnviron(func(string) string { return "" }), predeclared, nil)
	src, bindings, err := resolveImports(filename, src, modules)
	if err != nil {
		return err
	}
	for k, v := range bindings {
		predeclared[k] = v
	}
	predeclared[builtins.BuildingName] = starlark.False
	f, err := fileOptions.Parse(filename, src, 0)
	if err != nil {
		return loadError(err)
	}
	pythonRewrite(f)
	rewrite(f)
	if _, err := starlark.FileProgram(f, predeclared.Has); err != nil {
		return loadError(err)
	}
	return nil
}

// convertGeneratorArgs turns a generator expression passed as a call's
// only argument, f(x for x in xs), into a list comprehension,
// f([x for x in xs]): Starlark has no generators, and the functions that
// take them (any, all, sum, sorted, list, ...) take lists.
func convertGeneratorArgs(src string) string {
	blank := blankStringsMultiline(src)
	var out strings.Builder
	last := 0
	for i := 0; i < len(blank); i++ {
		if blank[i] != '(' {
			continue
		}
		close := matchingParen(blank, i)
		if close < 0 {
			continue
		}
		inner := blank[i+1 : close]
		if !isGeneratorExpr(inner) {
			continue
		}
		// Only for calls: the paren follows a name, ) or ].
		before := strings.TrimRight(blank[:i], " \t")
		if before == "" || !(isIdentChar(before[len(before)-1]) || before[len(before)-1] == ')' || before[len(before)-1] == ']') {
			continue
		}
		out.WriteString(src[last : i+1])
		out.WriteString("[" + src[i+1:close] + "]")
		last = close
		i = close
	}
	out.WriteString(src[last:])
	return out.String()
}

// isGeneratorExpr says whether the text inside parentheses is one
// generator expression: a top-level " for ... in " and no top-level comma.
func isGeneratorExpr(inner string) bool {
	d := 0
	hasFor := false
	for i := 0; i < len(inner); i++ {
		switch inner[i] {
		case '(', '[', '{':
			d++
		case ')', ']', '}':
			d--
		case ',':
			if d == 0 {
				return false
			}
		case 'f':
			if d == 0 && strings.HasPrefix(inner[i:], "for ") && (i == 0 || inner[i-1] == ' ' || inner[i-1] == '\n') {
				hasFor = true
			}
		}
	}
	return hasFor && strings.Contains(inner, " in ")
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// convertPower turns a ** b, which Starlark lacks, into pow(a, b), for
// operands that are names, numbers, attribute and index chains, calls or
// parenthesized expressions (with a unary minus on the exponent).
// Unpacking (f(**kw), {**d}) is left alone.
func convertPower(src string) string {
	for range 1000 {
		blank := blankStringsMultiline(src)
		at := -1
		for i := strings.Index(blank, "**"); i >= 0; {
			prev := strings.TrimRight(blank[:i], " \t\n")
			if prev != "" && !strings.ContainsAny(prev[len(prev)-1:], "(,{[=:*") {
				at = i
				break
			}
			next := strings.Index(blank[i+2:], "**")
			if next < 0 {
				break
			}
			i += 2 + next
		}
		if at < 0 {
			return src
		}
		lo := operandStart(blank, at)
		hi := operandEnd(blank, at+2)
		if lo < 0 || hi < 0 {
			return src
		}
		left := strings.TrimSpace(src[lo:at])
		right := strings.TrimSpace(src[at+2 : hi])
		src = src[:lo] + "pow(" + left + ", " + right + ")" + src[hi:]
	}
	return src
}

// operandStart finds where the operand ending before i starts.
func operandStart(blank string, i int) int {
	j := i
	for j > 0 && blank[j-1] == ' ' {
		j--
	}
	for j > 0 {
		c := blank[j-1]
		switch {
		case c == ')' || c == ']':
			open := matchingOpen(blank, j-1)
			if open < 0 {
				return -1
			}
			j = open
		case isIdentChar(c) || c == '.' || c == '_':
			j--
		default:
			return j
		}
	}
	return j
}

// operandEnd finds where the operand starting at i ends.
func operandEnd(blank string, i int) int {
	j := i
	for j < len(blank) && blank[j] == ' ' {
		j++
	}
	if j < len(blank) && (blank[j] == '-' || blank[j] == '+') {
		j++
	}
	start := j
	for j < len(blank) {
		c := blank[j]
		switch {
		case c == '(' || c == '[':
			close := matchingParen(blank, j)
			if close < 0 {
				return -1
			}
			j = close + 1
		case isIdentChar(c) || c == '.':
			j++
		default:
			if j == start {
				return -1
			}
			return j
		}
	}
	return j
}

// matchingOpen finds the bracket opening the one that closes at i.
func matchingOpen(blank string, i int) int {
	d := 0
	for j := i; j >= 0; j-- {
		switch blank[j] {
		case ')', ']', '}':
			d++
		case '(', '[', '{':
			d--
			if d == 0 {
				return j
			}
		}
	}
	return -1
}
