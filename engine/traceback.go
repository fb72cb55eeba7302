package engine

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// tracebackEnds is how many frames a traceback keeps at each end; the
// ones between are counted, not printed.
const tracebackEnds = 20

// Traceback renders a Starlark error as starlark's Backtrace does
// ("Traceback (most recent call last):", a line per frame, "Error: msg"),
// but readable after a runaway recursion: a frame repeated more than
// three times in a row prints three times and then "[Previous line
// repeated N more times]", as Python does, and of what remains only the
// first and last tracebackEnds lines are kept, with the count of the
// frames elided between them.
func Traceback(ee *starlark.EvalError) string {
	stack := ee.CallStack
	suffix := ""
	if last := len(stack) - 1; last >= 0 && stack[last].Pos.Filename() == "<builtin>" {
		suffix = " in " + stack[last].Name
		stack = stack[:last]
	}
	type line struct {
		text   string
		frames int // how many frames it stands for
	}
	var lines []line
	for i := 0; i < len(stack); {
		text := fmt.Sprintf("  %s: in %s", stack[i].Pos, stack[i].Name)
		j := i + 1
		for j < len(stack) && stack[j] == stack[i] {
			j++
		}
		for k := 0; k < min(j-i, 3); k++ {
			lines = append(lines, line{text, 1})
		}
		if n := j - i - 3; n > 0 {
			lines = append(lines, line{fmt.Sprintf("  [Previous line repeated %d more times]", n), n})
		}
		i = j
	}
	var b strings.Builder
	if len(lines) > 0 {
		b.WriteString("Traceback (most recent call last):\n")
	}
	for i, l := range lines {
		if len(lines) > 2*tracebackEnds && i >= tracebackEnds && i < len(lines)-tracebackEnds {
			if i == tracebackEnds {
				elided := 0
				for _, m := range lines[tracebackEnds : len(lines)-tracebackEnds] {
					elided += m.frames
				}
				fmt.Fprintf(&b, "  ... %d frames elided ...\n", elided)
			}
			continue
		}
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "Error%s: %s", suffix, ee.Msg)
	return b.String()
}
