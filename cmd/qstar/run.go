package main

import (
	"context"
	"errors"

	"github.com/qstar-dev/qstar/runtime"
)

func runCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "JOB.star [flags]",
		"Load JOB.star and run the application it defines until interrupted.\n"+
			"Broker resolution, first found wins: --broker, Application(broker_address=),\n"+
			"$Quix__Broker__Address, then an embedded broker keeping its data in --data-dir\n"+
			"(shared with other qstar commands using the same directory).")
	broker := fs.String("broker", "", "Kafka bootstrap servers `ADDR` (host:port[,host:port])")
	dataDir := fs.String("data-dir", runtime.DefaultDataDir, "embedded broker data `DIR`, used when no broker is configured")
	idle := fs.Duration("stop-when-idle", 0, "exit 0 once no message has arrived for this `DURATION` and everything is committed (0: never)")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	log, level, err := newLogger(e, *logFormat)
	if err != nil {
		return err
	}
	script, err := runtime.LoadFile(pos[0], e.stdout)
	if err != nil {
		var le *runtime.LoadError
		if errors.As(err, &le) {
			return errors.New(le.Msg)
		}
		return err
	}
	return runtime.Run(ctx, script, runtime.Options{
		Broker:       *broker,
		DataDir:      *dataDir,
		StopWhenIdle: *idle,
		Stdout:       e.stdout,
		Logger:       log,
		Level:        level,
		Getenv:       e.getenv,
	})
}
