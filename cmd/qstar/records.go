package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/qstar-dev/qstar/runtime"
)

// brokerFlags are the connection flags of produce and consume.
type brokerFlags struct {
	broker  *string
	dataDir *string
}

func (b brokerFlags) connect(e *env, logFormat string) (string, func(), *slog.Logger, error) {
	log, _, err := newLogger(e, logFormat)
	if err != nil {
		return "", nil, nil, err
	}
	addr, closeBroker, err := runtime.Broker(runtime.ResolveBroker(*b.broker, "", e.getenv), *b.dataDir, log)
	return addr, closeBroker, log, err
}

func produceCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "produce", "TOPIC [flags]",
		"Read JSON Lines records from standard input and produce them to TOPIC,\n"+
			"creating it if missing. Record: {\"key\": str|null, \"value\": any, \"timestamp\": ms,\n"+
			"\"partition\": n, \"headers\": {name: str}}; only \"value\" is required. The key is\n"+
			"written as UTF-8 bytes, the value as compact JSON (or raw text with --value-format str).")
	bf := brokerFlags{
		broker:  fs.String("broker", "", "Kafka bootstrap servers `ADDR` (default: $Quix__Broker__Address, else the embedded broker)"),
		dataDir: fs.String("data-dir", runtime.DefaultDataDir, "embedded broker data `DIR`"),
	}
	format := fs.String("value-format", "json", "how to write each value: json or str")
	partitions := fs.Int("partitions", 1, "partition count `N` if the topic must be created")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *format != "json" && *format != "str" {
		return usageError{fmt.Sprintf("--value-format must be json or str, not %q", *format)}
	}
	addr, closeBroker, log, err := bf.connect(e, "text")
	if err != nil {
		return err
	}
	defer closeBroker()
	n, err := runtime.ProduceLines(ctx, e.stdin, addr, pos[0], runtime.ProduceOptions{ValueFormat: *format, Partitions: *partitions, Logger: log})
	fmt.Fprintf(e.stderr, "produced %d message(s) to %q\n", n, pos[0])
	return err
}

func consumeCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "consume", "TOPIC [flags]",
		"Print TOPIC's messages as JSON Lines: {\"topic\", \"partition\", \"offset\", \"timestamp\",\n"+
			"\"key\", \"value\", \"headers\"}. The key is printed as a string or null; the value as\n"+
			"JSON when it is valid JSON, else as a string. As text (str), a byte that is not valid\n"+
			"UTF-8 is written \\xNN; use hex or base64 for the exact bytes.")
	bf := brokerFlags{
		broker:  fs.String("broker", "", "Kafka bootstrap servers `ADDR` (default: $Quix__Broker__Address, else the embedded broker)"),
		dataDir: fs.String("data-dir", runtime.DefaultDataDir, "embedded broker data `DIR`"),
	}
	fromBeginning := fs.Bool("from-beginning", false, "start at the oldest message instead of the end")
	idle := fs.Duration("stop-when-idle", 0, "exit once nothing new arrived for this `DURATION` (0: run until interrupted)")
	keyFormat := fs.String("key-format", "str", "`FORMAT` of keys: str, hex or base64")
	valueFormat := fs.String("value-format", "json", "`FORMAT` of values: json (JSON when valid, else str), str, hex or base64")
	isolation := fs.String("isolation", runtime.ReadCommitted, "`LEVEL`: read_committed shows only committed transactions' messages (what exactly-once consumers see), read_uncommitted shows every message")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	if *isolation != runtime.ReadCommitted && *isolation != runtime.ReadUncommitted {
		return usageError{fmt.Sprintf("--isolation must be read_committed or read_uncommitted, not %q", *isolation)}
	}
	if !slices.Contains(runtime.ByteFormats, *keyFormat) {
		return usageError{fmt.Sprintf("--key-format must be str, hex or base64, not %q", *keyFormat)}
	}
	if *valueFormat != "json" && !slices.Contains(runtime.ByteFormats, *valueFormat) {
		return usageError{fmt.Sprintf("--value-format must be json, str, hex or base64, not %q", *valueFormat)}
	}
	addr, closeBroker, log, err := bf.connect(e, "text")
	if err != nil {
		return err
	}
	defer closeBroker()
	_, err = runtime.ConsumeLines(ctx, e.stdout, addr, pos[0], runtime.ConsumeOptions{FromBeginning: *fromBeginning, StopWhenIdle: *idle,
		Isolation: *isolation, KeyFormat: *keyFormat, ValueFormat: *valueFormat, Logger: log})
	return err
}
