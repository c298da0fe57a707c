# Afterlife — the commands the README names. `make demo` runs the main job offline, `make test` runs the tests.
GO       ?= go
BIN      := bin/afterlife
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
DEMO_OUT ?= out/demo
FUZZTIME ?= 10s

.PHONY: build demo test vet fuzz bench clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/afterlife

# The offline demo: serves the demo world on 127.0.0.1, scans it, writes the reports.
demo: build
	$(BIN) demo --data out/demo-data --out $(DEMO_OUT)

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 -timeout 30m ./...

# Every fuzz target, briefly (FUZZTIME each).
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

bench:
	./bench/run.sh

clean:
	rm -rf bin out
