# inferd build and test entry points. `make test` is what CI runs.
GO        ?= go
BIN       ?= bin/inferd
# Packages whose tests stay affordable under the race detector on 2 cores.
RACE_PKGS ?= ./keys/... ./codec/... ./cmd/... ./node/... ./p2p/... ./ledger/store/... ./consensus/wal/...
# Everything else runs once without -race (the ledger's property and crash
# tests, the consensus simulator and the multi-process end-to-end tests).
PLAIN_PKGS = $(shell $(GO) list ./... | grep -v -E '/(keys|codec|cmd|node|p2p)(/|$$)|/ledger/store|/consensus/wal')
SEEDS     ?= 10000

.PHONY: build build-static test test-short fmt-check vet lint run bench bench-net sim clean

# The commit for `inferd version` where the Go toolchain does not stamp it (-buildvcs=false).
GIT_COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)

# build also makes bin/inferd-serve, the static inference server the devnet demo puts in a
# container image (compute/serveimage finds it next to inferd; else the demo builds it with go).
build:
	$(GO) build -ldflags "-X main.gitCommit=$(GIT_COMMIT)" -o $(BIN) ./cmd/inferd
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "-s -w" -o $(dir $(BIN))inferd-serve ./cmd/inferd-serve

# build-static: a static binary (no cgo) for contrib/docker/Dockerfile.local and other minimal hosts.
build-static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.gitCommit=$(GIT_COMMIT)" -o bin/inferd-static ./cmd/inferd

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: fmt-check vet
	$(GO) test -count=1 -timeout 15m $(PLAIN_PKGS)
	$(GO) test -count=1 -race -timeout 15m $(RACE_PKGS)

test-short:
	$(GO) test -short -count=1 ./...

lint: fmt-check vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# exec: the devnet replaces the recipe's shell, so make's own child is inferd. Ctrl-C reaches it
# (the terminal signals the whole process group) and so does SIGTERM to make (GNU make passes
# SIGTERM on to its children); SIGINT sent to make's pid alone is not passed on by GNU make:
# signal the group (kill -INT -PGID) or use SIGTERM. See docs/operations.md; e2e TestMakeRunStops.
run: build
	exec $(BIN) devnet --home .devnet $(ARGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

sim:
	$(GO) test -run TestSimSeeds -timeout 0 ./consensus/sim/ -seeds $(SEEDS) -v

clean:
	rm -rf bin

# bench-net: 4 validator processes on loopback under rising load (see docs/benchmarks.md).
# BENCH_FLAGS passes flags to the tool, e.g. BENCH_FLAGS='-validators 16 -delays 0 -cpuprofile /tmp/prof'.
BENCH_FLAGS ?=
bench-net: build
	$(GO) run ./tools/benchnet -bin $(BIN) $(BENCH_FLAGS)

# burst: 20,000 signed txs posted to a 4-validator devnet; every accepted tx must end committed
# or dropped with a reason (e2e TestBurstNoSilentLoss; make test runs it with 2,000).
.PHONY: burst
burst:
	INFERD_BURST_TXS=20000 $(GO) test -count=1 -run 'TestBurstNoSilentLoss$$' -v -timeout 10m ./e2e/

# bench-idle: idle CPU per validator (4 processes, no transactions) with empty blocks off,
# with commit_delay 0 and with the defaults (docs/benchmarks.md). WINDOW sets the sampling time.
WINDOW ?= 30s
.PHONY: bench-idle
bench-idle: build
	$(GO) run ./tools/benchnet -bin $(BIN) -mode idle -window $(WINDOW)

# bench-content: add and fetch of a 1 GiB file (two inferd processes on loopback) beside
# single-core sha256 and a raw TCP copy in the same run (docs/benchmarks.md, docs/content.md).
bench-content:
	INFERD_BENCH_MIB=1024 $(GO) test -run '^$$' -bench 'BenchmarkAdd$$|BenchmarkAddBadgerOnly|BenchmarkSHA256' -benchtime 1x -timeout 30m ./content/
	INFERD_BENCH_FETCH=1024 $(GO) test -count=1 -run TestContentFetchBench -v -timeout 30m ./e2e/

# chaos: real inferd processes under a schedule of faults (tools/chaos, docs/reliability.md).
MANIFEST ?= tools/chaos/manifests/short.toml
.PHONY: chaos
chaos: build
	$(GO) run ./tools/chaos -manifest $(MANIFEST) -bin $(BIN)

# fuzz: every Go fuzz target in the repository, one at a time, FUZZTIME each
# (tools/fuzz.sh; FUZZPARALLEL sets the workers, FUZZPKGS narrows the packages).
FUZZTIME ?= 30s
.PHONY: fuzz
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) sh tools/fuzz.sh

# attacks: the economic attack suite against a real devnet (e2e/attacks, docs/incentives.md):
# every attack with its attacker-vs-honest figures and a SUMMARY line. `make test` runs the
# governance and contest attacks; INFERD_ATTACKS=all adds the compute attacks.
.PHONY: attacks
attacks:
	INFERD_ATTACKS=all $(GO) test -count=1 -v -timeout 20m -run TestAttacks ./e2e/attacks/
