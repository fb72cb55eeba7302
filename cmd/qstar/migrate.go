package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/qstar-dev/qstar/runtime"
)

func migrateCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "migrate", "APP.py [flags]",
		"Convert a Python Quix Streams app to a qstar script, as far as can be done\n"+
			"mechanically: imports qstar provides stay, the if __name__ == \"__main__\": block\n"+
			"moves to the top level, f-strings become str.format, annotations go, generators\n"+
			"return lists, try runs its body, {**d} becomes dict(...), ** becomes pow(),\n"+
			"chained comparisons are split (docs/migration.md lists every conversion).\n"+
			"The script goes to standard output (lines keep their numbers); standard error\n"+
			"lists each change as \"converted\" and, with its line and replacement, what\n"+
			"Starlark cannot express (class, with, global, decorators). Exit code 1 when\n"+
			"something needs rewriting by hand, or when the converted script does not\n"+
			"compile. See docs/migration.md.")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	src, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	out, notes := runtime.Migrate(string(src))
	fmt.Fprint(e.stdout, out)
	manual := 0
	for _, n := range notes {
		switch {
		case n.Line == 0:
			fmt.Fprintf(e.stderr, "%s: %s\n", pos[0], n.Message)
		case n.Manual:
			manual++
			fmt.Fprintf(e.stderr, "%s:%d: %s\n", pos[0], n.Line, n.Message)
		default:
			fmt.Fprintf(e.stderr, "%s:%d: converted: %s\n", pos[0], n.Line, n.Message)
		}
	}
	if manual > 0 {
		return fmt.Errorf("%d line(s) need rewriting by hand (listed above)", manual)
	}
	// The output must load: compile it as qstar check would.
	if err := runtime.CheckMigrated(strings.TrimSuffix(pos[0], ".py")+".star", []byte(out)); err != nil {
		return fmt.Errorf("the converted script does not compile; please report this: %w", err)
	}
	return nil
}
