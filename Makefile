# qstar — the two commands a new machine needs:
#   make run    build qstar and run the quickstart job on the embedded broker
#   make test   run every test
SHELL := /bin/bash
GO    ?= go
BIN   := bin/qstar
DATA  := .qstar/quickstart
export PATH := $(PATH):/usr/local/go/bin

.PHONY: run test build deps test-deps bench clean

# deps installs the C libraries cgo needs (RocksDB for the state store),
# with sudo when not root. librdkafka ships inside confluent-kafka-go.
deps:
	@if ! dpkg -s librocksdb-dev >/dev/null 2>&1; then \
		echo "installing librocksdb-dev"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq librocksdb-dev >/dev/null; \
	fi

# test-deps installs the servers the tests start on loopback ports:
# PostgreSQL (lookups, PostgreSQLSink) and Redis (RedisSink), with sudo
# when not root.
test-deps: deps
	@if ! dpkg -s postgresql redis-server >/dev/null 2>&1; then \
		echo "installing postgresql and redis-server (the tests start their own servers)"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql redis-server >/dev/null; \
	fi

build: deps
	$(GO) build -o $(BIN) ./cmd/qstar

# run: fresh embedded-broker data, the sample readings in, the quickstart job
# until idle (its sdf.print() shows each result), then the output topic.
run: build
	@rm -rf $(DATA)
	@echo "== producing scripts/examples/quickstart.input.jsonl to topic readings"
	@$(BIN) produce readings --data-dir $(DATA) < scripts/examples/quickstart.input.jsonl
	@echo "== qstar run scripts/examples/quickstart.star (stops after 2s without new messages)"
	@$(BIN) run scripts/examples/quickstart.star --data-dir $(DATA) --stop-when-idle 2s
	@echo "== qstar consume hot-readings"
	@$(BIN) consume hot-readings --data-dir $(DATA) --from-beginning --stop-when-idle 1s

test: test-deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) run ./cmd/qstar test scripts/examples

# bench measures throughput against raw confluent-kafka-go pass-through on a
# separate broker process (and the PostgreSQL sink against plain COPY, on a
# server it starts: hence test-deps) and rewrites docs/benchmarks.md.
bench: test-deps
	$(GO) build -o bin/qstar ./cmd/qstar
	$(GO) build -o bin/qstar-bench ./cmd/qstar-bench
	bin/qstar-bench -qstar bin/qstar -messages 1000000 -write docs/benchmarks.md

clean:
	rm -rf bin .qstar
