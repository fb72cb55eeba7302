package main

import (
	"context"
	"errors"

	"github.com/qstar-dev/qstar/runtime"
)

func resetCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reset", "JOB.star [flags]",
		"Put JOB.star's application back to its start, so that the next `qstar run` processes\n"+
			"every input message again with empty state: its consumer group is deleted and its\n"+
			"offsets of the input topics set to their start; its changelog and repartition topics\n"+
			"are deleted, and so is its state directory (state_dir/consumer_group). On the embedded\n"+
			"broker its output topics are deleted too; on another cluster they are kept, and the\n"+
			"reset needs --yes. The job must not be running. The broker is found as by qstar run.")
	broker := fs.String("broker", "", "Kafka bootstrap servers `ADDR`; \"embedded\" resets on the embedded broker whatever the script sets")
	dataDir := fs.String("data-dir", runtime.DefaultDataDir, "embedded broker data `DIR`")
	stateDir := fs.String("state-dir", "", "state store `DIR`, overriding Application(state_dir=) and $Quix__State__Dir")
	dryRun := fs.Bool("dry-run", false, "print what would be reset and change nothing")
	yes := fs.Bool("yes", false, "reset on a broker that is not the embedded one")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	log, _, err := newLogger(e, "text")
	if err != nil {
		return err
	}
	// Loaded without Kafka clients (get_producer() fails), so that a
	// script producing at load time changes nothing: this only reads the
	// pipeline.
	script, err := runtime.LoadFile(pos[0], e.stdout)
	if err != nil {
		return scriptError(err)
	}
	defer script.Close()
	if script.App.Run() == nil {
		return errors.New(pos[0] + " runs no application (app.run): nothing to reset")
	}
	return runtime.Reset(ctx, script, runtime.ResetOptions{
		Broker: *broker, DataDir: *dataDir, StateDir: *stateDir, Getenv: e.getenv, Logger: log,
		DryRun: *dryRun, Yes: *yes,
	}, e.stdout)
}
