package runtime

// The expression-level conversions of qstar migrate: f-strings, chained
// comparisons, dict unpacking, generator arguments and the ** power
// operator. They work on source text with string literals blanked, so
// nothing inside a string is changed.

import (
	"regexp"
	"sort"
	"strings"
)

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
	return scanTop(body, i+1, func(j int) bool { return body[j] == '}' })
}

// splitField splits an f-string field into its expression, conversion
// (r, s, a) and format spec, at the top level.
func splitField(field string) (expr, conv, spec string) {
	j := scanTop(field, 0, func(j int) bool {
		return field[j] == ':' || field[j] == '!' && j+1 < len(field) && field[j+1] != '='
	})
	switch {
	case j < 0:
		return field, "", ""
	case field[j] == ':':
		return field[:j], "", field[j+1:]
	}
	rest := field[j+1:]
	if k := strings.IndexByte(rest, ':'); k >= 0 {
		spec = rest[k+1:]
	}
	return field[:j], rest[:1], spec
}

// scanTop returns the index of the first byte of s from start for which
// stop is true, outside string literals and outside brackets opened after
// start (a closing bracket with none open is offered to stop); -1 when
// there is none.
func scanTop(s string, start int, stop func(j int) bool) int {
	d := 0
	var q byte
	for j := start; j < len(s); j++ {
		c := s[j]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '(' || c == '[' || c == '{':
			d++
		case (c == ')' || c == ']' || c == '}') && d > 0:
			d--
		case d == 0 && stop(j):
			return j
		}
	}
	return -1
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
