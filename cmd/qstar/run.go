package main

import (
	"context"
	"fmt"
	"io"
	"os"
	runtimepprof "runtime/pprof"

	"github.com/qstar-dev/qstar/internal/procstats"
	"github.com/qstar-dev/qstar/runtime"
)

func runCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "JOB.star [flags]",
		"Load JOB.star and run the application it defines until interrupted.\n"+
			"Broker resolution, first found wins: --broker, Application(broker_address=),\n"+
			"$Quix__Broker__Address, then an embedded broker keeping its data in --data-dir\n"+
			"(shared with other qstar commands using the same directory). --broker embedded\n"+
			"uses the embedded broker even when the script sets broker_address=.")
	broker := fs.String("broker", "", "Kafka bootstrap servers `ADDR` (host:port[,host:port]); \"embedded\" runs on the embedded broker whatever the script or environment sets")
	brokerWait := fs.Duration("broker-wait", runtime.BrokerWait, "how long to wait for a configured broker to accept connections before failing (0: do not check)")
	dataDir := fs.String("data-dir", runtime.DefaultDataDir, "embedded broker data `DIR`, used when no broker is configured")
	quiet := fs.Bool("quiet", false, "no status line on a terminal")
	watchFlag := fs.Bool("watch", false, "reload the job when its script or a file it loads changes, keeping offsets and state")
	metricsAddr := fs.String("metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics (e.g. :9464)")
	stateDir := fs.String("state-dir", "", "state store `DIR`, overriding Application(state_dir=) and $Quix__State__Dir")
	idle := fs.Duration("stop-when-idle", 0, "exit 0 once no message has arrived for this `DURATION` and everything is committed (0: never)")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	logLevel := fs.String("log-level", "", "log `LEVEL` (DEBUG, INFO, WARNING, ERROR), overriding Application(loglevel=)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile to `FILE` when the run ends")
	statsFile := fs.String("runtime-stats", "", "write the Go runtime's counts (heap allocations, GC cycles, GC CPU seconds) as JSON to `FILE` when the run ends")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	// The Go runtime's default GC target (GOGC=100) stands: with the
	// allocations per message halved, 400 no longer saved CPU and cost
	// 1.8x the peak RSS (docs/benchmarks.md). GOGC in the environment wins.
	stopProfiles, err := startProfiles(*cpuProfile, *memProfile, *statsFile)
	if err != nil {
		return err
	}
	defer stopProfiles()
	log, level, err := newLogger(e, *logFormat)
	if err != nil {
		return err
	}
	opts := runtime.Options{
		LogLevel:     *logLevel,
		StateDir:     *stateDir,
		MetricsAddr:  *metricsAddr,
		Progress:     progressWriter(e, *quiet),
		Watch:        *watchFlag,
		Broker:       *broker,
		BrokerWait:   *brokerWait,
		DataDir:      *dataDir,
		StopWhenIdle: *idle,
		Stdout:       e.stdout,
		Logger:       log,
		Level:        level,
		Getenv:       e.getenv,
	}
	// app.run(count=, timeout=) runs the job while the script loads, with
	// the same options.
	script, err := runtime.LoadFileWith(pos[0], e.stdout, &runtime.ClientOptions{Broker: *broker, DataDir: *dataDir, Logger: log, Getenv: e.getenv, Run: &opts, Context: ctx})
	if err != nil {
		return scriptError(err)
	}
	defer script.Close()
	if script.App.PendingRun() == nil {
		return nil // a script that only used get_producer()/get_consumer(), or app.run(count=, timeout=)
	}
	return runtime.Run(ctx, script, opts)
}

// startProfiles starts CPU profiling and returns the function that stops
// it and writes the heap profile and the runtime's counts.
func startProfiles(cpu, mem, stats string) (func(), error) {
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err != nil {
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		if err := runtimepprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("cpu profile: %w", err)
		}
		cpuFile = f
	}
	return func() {
		if cpuFile != nil {
			runtimepprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			if f, err := os.Create(mem); err == nil {
				_ = runtimepprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		if stats != "" {
			_ = procstats.Write(stats)
		}
	}, nil
}

// progressWriter is where the status line goes: standard error, when
// standard output is a terminal and --quiet is not given.
func progressWriter(e *env, quiet bool) io.Writer {
	if quiet {
		return nil
	}
	f, ok := e.stdout.(*os.File)
	if !ok {
		return nil
	}
	if info, err := f.Stat(); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return e.stderr
}
