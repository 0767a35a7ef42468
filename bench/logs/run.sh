#!/usr/bin/env bash
# Log benchmark: generates BENCH_LINES realistic log lines (default 10
# million) from 100 hosts over 24 hours into a raw text file, ingests it
# through the server's real path (agentapi.LogBatch -> logs.Pipeline ->
# vlstore), and measures lines per CPU-second, bytes on disk per line and
# search latency over the 24 hours, with grep over the same file as the
# floor. Run with `make bench-logs`; LINES=1000000 for a quick run. The
# knobs are described in bench/README.md.
#
# Results: bench/results/logs.txt (the table; also printed), CPU profiles
# of the ingest bench/results/logs-ingest.pprof (through the store) and
# bench/results/logs-pipeline.pprof (the pipeline alone).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

BENCH_LINES=${BENCH_LINES:-${LINES:-10000000}}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}}
BENCH_KEEP=${BENCH_KEEP:-false}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_WORKERS=${BENCH_WORKERS:-2}
BENCH_RESULTS=${BENCH_RESULTS:-$root/bench/results}
GO=${GO:-go}

log() { printf '%s bench-logs: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $BENCH_LINES =~ ^[1-9][0-9]*$ ]] || die "BENCH_LINES (or LINES) must be a positive integer, not '$BENCH_LINES'"
[[ $BENCH_KEEP == true || $BENCH_KEEP == false ]] || die "BENCH_KEEP must be true or false, not '$BENCH_KEEP'"
command -v grep >/dev/null || die "grep not found"
mkdir -p "$BENCH_RESULTS" "$BENCH_DIR"

# About 160 bytes of raw text per line, and a store of about 45 bytes per
# line next to it.
need_kib=$((BENCH_LINES * 220 / 1024 + 1048576))
avail_kib=$(df -Pk "$BENCH_DIR" | awk 'NR == 2 {print $4}')
if [[ -n $avail_kib && $avail_kib -lt $need_kib ]]; then
	die "$BENCH_DIR has $((avail_kib / 1024)) MiB free; about $((need_kib / 1024)) MiB are needed (set BENCH_DIR)"
fi

bin=$(mktemp -d "${TMPDIR:-/tmp}/bench-logs-bin.XXXXXX")
trap 'rm -rf "$bin"' EXIT
log "building bench/logs"
"$GO" build -o "$bin/bench-logs" ./bench/logs

log "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs; $BENCH_LINES lines in $BENCH_DIR"
"$bin/bench-logs" \
	-lines "$BENCH_LINES" \
	-dir "$BENCH_DIR" \
	-keep="$BENCH_KEEP" \
	-seed "$BENCH_SEED" \
	-workers "$BENCH_WORKERS" \
	-out "$BENCH_RESULTS/logs.txt" \
	-cpuprofile "$BENCH_RESULTS/logs-ingest.pprof" \
	-pipeline-cpuprofile "$BENCH_RESULTS/logs-pipeline.pprof" \
	"$@"
