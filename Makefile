# SayPro Monitor. `make run` builds and starts the server; `make test` runs every test.
GO        ?= go
BIN       := bin/saypro-monitor
AGENT_BIN := bin/saypro-agent
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git symbolic-ref --short -q HEAD 2>/dev/null || echo unknown)
BUILDDATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VPKG      := github.com/prometheus/common/version
LDFLAGS   := -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) \
             -X $(VPKG).Branch=$(BRANCH) -X $(VPKG).BuildDate=$(BUILDDATE) \
             -X $(VPKG).BuildUser=$(shell id -un 2>/dev/null || echo unknown)@$(shell hostname 2>/dev/null || echo unknown)
# Packages with concurrency get the race detector in `make test`.
RACE_PKGS := ./internal/ingest/... ./internal/server/... ./internal/web/... \
             ./internal/agent/... ./internal/collector/... ./internal/remotewrite/... \
             ./internal/inventory/... ./internal/state/... ./internal/probe/... \
             ./internal/checks/... ./internal/alertmanager/... ./internal/incident/... ./internal/events/... ./internal/auth/... \
             ./internal/logs/...

.PHONY: all build ui ui-unit run test vet fmt-check unit race e2e fuzz bench bench-agent bench-probe bench-alerting bench-ui bench-logs clean

all: build

# The web UI (web/, TypeScript) is built into internal/web/ui/dist and
# embedded in the binary; it needs Node.js and npm.
ui:
	cd web && npm ci && npm run build

build: ui
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/saypro-monitor
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(AGENT_BIN) ./cmd/saypro-agent

run: build
	./$(BIN) server $(ARGS)

test: fmt-check vet unit ui-unit race e2e

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

# Unit tests and type check of the web UI's TypeScript.
ui-unit:
	cd web && npm ci && npm test && npm run typecheck

race:
	$(GO) test -race -count=1 $(RACE_PKGS)

# End-to-end tests build the real binary and run it (and Prometheus from
# Debian's package, when installed) on loopback ports; the agent tests run
# Debian's prometheus-node-exporter beside ours.
e2e: ui
	SAYPRO_REQUIRE_BROWSER=1 $(GO) test -count=1 -timeout 20m ./e2e/...

# Short fuzzing runs of every parser of outside input; FUZZTIME=5m for longer.
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeWriteRequest -fuzztime $(FUZZTIME) ./internal/ingest
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz FuzzParseAlertmanager -fuzztime $(FUZZTIME) ./internal/config
	$(GO) test -run '^$$' -fuzz FuzzIncidentFilter -fuzztime $(FUZZTIME) ./internal/incident
	$(GO) test -run '^$$' -fuzz FuzzDecodeHash -fuzztime $(FUZZTIME) ./internal/auth
	$(GO) test -run '^$$' -fuzz FuzzParseAgent -fuzztime $(FUZZTIME) ./internal/config/agentconfig
	$(GO) test -run '^$$' -fuzz FuzzParsers -fuzztime $(FUZZTIME) ./internal/collector
	$(GO) test -run '^$$' -fuzz FuzzNetlink -fuzztime $(FUZZTIME) ./internal/collector
	$(GO) test -run '^$$' -fuzz FuzzHeartbeat -fuzztime $(FUZZTIME) ./internal/inventory
	$(GO) test -run '^$$' -fuzz FuzzQueueOpen -fuzztime $(FUZZTIME) -fuzzminimizetime 3s ./internal/remotewrite
	$(GO) test -run '^$$' -fuzz FuzzQueueRecover -fuzztime $(FUZZTIME) -fuzzminimizetime 3s ./internal/remotewrite
	$(GO) test -run '^$$' -fuzz FuzzAgentInput -fuzztime $(FUZZTIME) ./internal/checks
	$(GO) test -run '^$$' -fuzz FuzzJSONPath -fuzztime $(FUZZTIME) ./internal/probe
	$(GO) test -run '^$$' -fuzz FuzzRedisInfo -fuzztime $(FUZZTIME) -fuzzminimizetime 3s ./internal/probe
	$(GO) test -run '^$$' -fuzz FuzzNginxStatus -fuzztime $(FUZZTIME) ./internal/probe
	$(GO) test -run '^$$' -fuzz FuzzApacheStatus -fuzztime $(FUZZTIME) ./internal/probe
	$(GO) test -run '^$$' -fuzz FuzzProcNet -fuzztime $(FUZZTIME) ./internal/probe
	$(GO) test -run '^$$' -fuzz FuzzSystemctlShow -fuzztime $(FUZZTIME) ./internal/probe
	$(GO) test -run '^$$' -fuzz FuzzParseSyslog -fuzztime $(FUZZTIME) ./internal/logs/parse
	$(GO) test -run '^$$' -fuzz FuzzParseAccess -fuzztime $(FUZZTIME) ./internal/logs/parse
	$(GO) test -run '^$$' -fuzz FuzzFrameReader -fuzztime $(FUZZTIME) ./internal/logs/parse
	$(GO) test -run '^$$' -fuzz FuzzSanitize -fuzztime $(FUZZTIME) ./internal/logs

bench: build
	bench/ingest/run.sh
	bench/agent/run.sh
	bench/probe/run.sh

bench-agent: build
	bench/agent/run.sh

bench-probe: build
	bench/probe/run.sh

bench-alerting: build
	bench/alerting/run.sh

bench-ui: build
	bench/ui/run.sh

# Needs no server binary: the benchmark runs the log pipeline and store in
# process. LINES=1000000 make bench-logs for a quick run.
bench-logs:
	bench/logs/run.sh

clean:
	rm -rf bin
