# gale — common tasks. `make test` is what CI runs (.ci/run).
GO       ?= go
PKGS     := ./...
FUZZTIME ?= 5s
# fuzz-short runs each target for a number of inputs, not a duration: Go
# 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" when a duration runs out mid-exec (golang/go#75804, fixed in
# Go 1.27); a count has no deadline to race.
FUZZSHORT ?= 200000x
LDFLAGS  := -s -w -X main.version=$(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test test-deps lint unit race fuzz fuzz-short bench bench-quick bench-deps benchcmp clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/gale ./cmd/gale

run:
	$(GO) run ./cmd/gale $(ARGS)

# test-deps installs the real peers the integration tests talk to.
test-deps:
	./scripts/install-deps.sh test

bench-deps:
	./scripts/install-deps.sh bench

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

unit:
	$(GO) test -count=1 $(PKGS)

race:
	$(GO) test -race -count=1 $(PKGS)

# fuzz-short runs every fuzz target briefly; `make fuzz FUZZTIME=10m` for real runs.
fuzz-short:
	$(MAKE) fuzz FUZZTIME=$(FUZZSHORT)

fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

test: test-deps lint race fuzz-short bench-quick

bench-quick:
	$(GO) run ./bench -quick -strict -servers gale

bench: bench-deps
	$(GO) run ./bench

# benchcmp OLD=<rev> NEW=<rev>: micro-benchmarks of two commits through benchstat.
OLD ?= HEAD~1
NEW ?= HEAD
benchcmp:
	./scripts/benchcmp.sh $(OLD) $(NEW)

clean:
	rm -rf bin
