// Command qstar runs Kafka stream-processing pipelines written in Starlark
// with the API of Quix Streams.
//
//	qstar run JOB.star        run a job
//	qstar broker              run a local Kafka-compatible broker
//	qstar produce TOPIC       write JSON Lines from stdin to a topic
//	qstar consume TOPIC       print a topic's messages as JSON Lines
//	qstar test [PATH ...]     run test_*.star files without a broker
//	qstar check JOB.star      validate a job and print its topology
//	qstar migrate APP.py      convert a Quix Streams app to Starlark
//	qstar version             print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is the qstar release; overridden at build time with
// -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type command struct {
	name    string
	usage   string // argument synopsis
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

func commands() []command {
	return []command{
		{"run", "JOB.star [flags]", "run a job until stopped (or idle with --stop-when-idle)", runCmd},
		{"broker", "[flags]", "run a local Kafka-compatible broker (kfake)", brokerCmd},
		{"produce", "TOPIC [flags]", "write JSON Lines from standard input to TOPIC", produceCmd},
		{"consume", "TOPIC [flags]", "print TOPIC's messages as JSON Lines", consumeCmd},
		{"reset", "JOB.star [flags]", "put a job back to its start: offsets, state, internal topics", resetCmd},
		{"test", "[PATH ...] [flags]", "run test_*.star files without a broker", testCmd},
		{"check", "JOB.star [flags]", "validate a job and print its topology", checkCmd},
		{"migrate", "APP.py", "convert a Python Quix Streams app to a qstar script", migrateCmd},
		{"version", "", "print the qstar version", versionCmd},
	}
}

// env is what commands use of the process: streams and the environment.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// flagErrHelp is flag.ErrHelp: --help was asked for.
var flagErrHelp = flag.ErrHelp

// usageError is a command-line mistake: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(Main(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}))
}

// signalContext is cancelled by the first SIGINT or SIGTERM; a second one
// exits at once.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		cancel()
		<-ch
		fmt.Fprintln(os.Stderr, "qstar: interrupted again, exiting without a final checkpoint")
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}

// Main runs the command line args and returns the exit code.
func Main(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			return Main(ctx, []string{args[1], "--help"}, e)
		}
		printUsage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		var ue usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(e.stderr, "qstar %s: %s\nRun 'qstar %s --help' for usage.\n", c.name, ue.msg, c.name)
			return 2
		default:
			fmt.Fprintf(e.stderr, "qstar %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "qstar: unknown command %q\n\n", args[0])
	printUsage(e.stderr)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "qstar runs Kafka stream-processing pipelines written in Starlark with the Quix Streams API.\n\nUsage:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  qstar %-8s %-18s %s\n", c.name, c.usage, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'qstar COMMAND --help' for a command's flags.\n"+
		"With no broker configured (--broker, Application(broker_address=), %s),\n"+
		"commands use an embedded broker whose data lives in --data-dir.\n", "Quix__Broker__Address")
}

// newFlags returns a FlagSet whose --help prints the command's usage.
func newFlags(e *env, name, usage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: qstar %s %s\n\n%s\n\nFlags:\n", name, usage, summary)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}

// parse parses flags that may come before or after the positional
// arguments (qstar run job.star --broker x), and checks their count.
func parse(fs *flag.FlagSet, args []string, positional int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != positional {
		return nil, usageError{fmt.Sprintf("want %d argument(s), got %d", positional, len(pos))}
	}
	return pos, nil
}

// newLogger returns the command's logger on stderr and its level.
func newLogger(e *env, format string) (*slog.Logger, *slog.LevelVar, error) {
	level := &slog.LevelVar{}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), level, nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), level, nil
	}
	return nil, nil, usageError{fmt.Sprintf("--log-format must be text or json, not %q", format)}
}

func versionCmd(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "", "Print the qstar version.")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "qstar %s\n", version)
	return nil
}
