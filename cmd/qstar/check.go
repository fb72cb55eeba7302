package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/qstar-dev/qstar/runtime"
)

func checkCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "check", "JOB.star [flags]",
		"Load and validate JOB.star without connecting to Kafka, and print what it runs:\n"+
			"source topics, each operation with its script line, state stores, internal\n"+
			"topics (repartition, changelog) and sinks. Exit code 1 on any problem.")
	format := fs.String("format", "text", "output: text, mermaid or dot")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "mermaid" && *format != "dot" {
		return usageError{fmt.Sprintf("--format must be text, mermaid or dot, not %q", *format)}
	}
	script, err := runtime.LoadFile(pos[0], e.stderr)
	if err != nil {
		return scriptError(err)
	}
	t := runtime.TopologyOf(script)
	switch *format {
	case "mermaid":
		t.WriteMermaid(e.stdout)
	case "dot":
		t.WriteDot(e.stdout)
	default:
		t.WriteText(e.stdout)
	}
	return nil
}

// scriptError is a script's load error as the user reads it:
// "file:line:col: message", without the wrapping.
func scriptError(err error) error {
	var le *runtime.LoadError
	if errors.As(err, &le) {
		return errors.New(le.Msg)
	}
	return err
}
