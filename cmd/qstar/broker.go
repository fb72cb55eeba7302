package main

import (
	"context"
	"fmt"

	"github.com/qstar-dev/qstar/kafka"
	"github.com/qstar-dev/qstar/runtime"
)

func brokerCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "broker", "[flags]",
		"Run a Kafka-compatible broker (kfake, one node) for local development until\n"+
			"interrupted. Topics, offsets and consumer groups persist in --data-dir.\n"+
			"Other qstar commands with the same --data-dir and no --broker use it.")
	listen := fs.String("listen", "127.0.0.1:9092", "listen `ADDR` (host:port; port 0 picks a free port)")
	dataDir := fs.String("data-dir", runtime.DefaultDataDir, "data `DIR` (empty: keep everything in memory)")
	logFormat := fs.String("log-format", "text", "log format on stderr: text or json")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	log, _, err := newLogger(e, *logFormat)
	if err != nil {
		return err
	}
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: *listen, DataDir: *dataDir, Logger: log})
	if err != nil {
		return err
	}
	log.Info("broker listening", "address", b.Addr(), "data_dir", *dataDir)
	fmt.Fprintln(e.stdout, b.Addr())
	<-ctx.Done()
	log.Info("broker stopping")
	b.Close()
	return nil
}
