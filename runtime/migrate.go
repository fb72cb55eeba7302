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
	parts := splitTop(s, stripStrings(s))
	if last := parts[len(parts)-1]; strings.TrimSpace(last) == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
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
