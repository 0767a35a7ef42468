#!/usr/bin/env bash
# Web UI benchmark against bin/saypro-monitor: a server seeded with
# BENCH_HOSTS hosts (heartbeats from bench/ui/seed, an hour of node_* samples
# at 15 s from bench/ingest/loadgen), then headless Chromium at 1280×800
# (bench/ui/measure.mjs, playwright-core) measures the overview (navigation
# to every tile rendered with values; API requests and bytes) and a host
# page (navigation to the charts drawn). Run with `make bench-ui`; what is
# measured and the knobs are in bench/README.md.
#
# Results: printed, and written to bench/results/ui.txt (the table) and
# bench/results/ui.json (every run); the server's log to
# bench/results/ui-server.log.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

BENCH_HOSTS=${BENCH_HOSTS:-500}
BENCH_HOURS=${BENCH_HOURS:-1}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_START_TIMEOUT=${BENCH_START_TIMEOUT:-120}
BENCH_STOP_TIMEOUT=${BENCH_STOP_TIMEOUT:-30}
BENCH_RESULTS=${BENCH_RESULTS:-$root/bench/results}
SAYPRO_BIN=${SAYPRO_BIN:-$root/bin/saypro-monitor}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
TOKEN=bench-ui-ingest-token-0123456789
ADMIN_PASSWORD=bench-ui-admin-$RANDOM-$RANDOM-password

log() { printf '%s bench-ui: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

# --- preflight --------------------------------------------------------------
[[ $BENCH_HOSTS =~ ^[1-9][0-9]*$ ]] && ((BENCH_HOSTS >= 2)) || die "BENCH_HOSTS must be an integer of at least 2, not '$BENCH_HOSTS'"
[[ $BENCH_RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, not '$BENCH_RUNS'"
[[ $BENCH_HOURS =~ ^[0-9]*\.?[0-9]+$ ]] || die "BENCH_HOURS must be a number of hours, not '$BENCH_HOURS'"
for t in curl go node; do
	command -v "$t" >/dev/null || die "'$t' is needed but not installed"
done
[[ -x $CHROMIUM ]] || die "$CHROMIUM is missing: sudo apt-get install -y chromium"
[[ -f $root/web/node_modules/playwright-core/package.json ]] || die "web/node_modules/playwright-core is missing: run 'cd web && npm ci'"
need_server_bin

# --- work area and cleanup --------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/saypro-bench-ui.XXXXXX")
server_pid=""
seed_pid=""

cleanup() {
	local rc=$?
	stop_pid "the heartbeat seeder" "$seed_pid"
	stop_pid "the server" "$server_pid"
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building bench/ui/seed and bench/ingest/loadgen"
go build -o "$work/seed" ./bench/ui/seed
go build -o "$work/loadgen" ./bench/ingest/loadgen

mkdir -p "$BENCH_RESULTS"
server_log=$BENCH_RESULTS/ui-server.log
port=$("$work/loadgen" freeport)
base=http://127.0.0.1:$port

# Only the seeded hosts: no in-process agent, no self-scrape (its samples at
# "now" would make the store refuse the hour of history), no built-in rules.
cat >"$work/saypro-monitor.yml" <<EOF
agent: {enabled: false}
server: {self_scrape: false}
builtin_rules: {enabled: false}
EOF

mkdir -p "$work/data"
log "starting $SAYPRO_BIN on $base"
SAYPRO_ADMIN_PASSWORD=$ADMIN_PASSWORD SAYPRO_LOG_LEVEL=${SAYPRO_LOG_LEVEL:-info} "$SAYPRO_BIN" server \
	--config "$work/saypro-monitor.yml" --listen "127.0.0.1:$port" --data-dir "$work/data" --ingest-token "$TOKEN" \
	>"$server_log" 2>&1 &
server_pid=$!
for ((i = 0; i < BENCH_START_TIMEOUT * 4; i++)); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		wait "$server_pid" && rc=0 || rc=$?
		server_pid=""
		tail -n 30 "$server_log" >&2
		die "the server exited with status $rc while starting"
	fi
	curl -fsS -o /dev/null --max-time 2 "$base/-/ready" 2>/dev/null && break
	sleep 0.25
done
curl -fsS -o /dev/null --max-time 2 "$base/-/ready" 2>/dev/null || {
	tail -n 30 "$server_log" >&2
	die "the server is not ready at $base after ${BENCH_START_TIMEOUT}s"
}
if curl -fsS --max-time 5 "$base/" | grep -q 'was not built into this binary'; then
	die "$SAYPRO_BIN was built without the web UI: run 'make build' (it runs 'make ui' first)"
fi
log "the server is ready (pid $server_pid)"

# --- seed ----------------------------------------------------------------------
log "seeding $BENCH_HOSTS hosts: heartbeats"
"$work/seed" --url "$base" --token "$TOKEN" --hosts "$BENCH_HOSTS"
log "seeding $BENCH_HOSTS hosts: ${BENCH_HOURS} h of node_* samples at 15 s (100 series per host)"
"$work/loadgen" ingest --url "$base/api/v1/write" --token "$TOKEN" --hosts "$BENCH_HOSTS" --hours "$BENCH_HOURS" \
	>"$work/ingest.json"
grep -E '"samples_(sent|accepted|refused|failed)"' "$work/ingest.json" | tr -d ' ,' | tr '\n' ' ' >&2 && echo >&2
# The hosts keep reporting while the browser measures.
"$work/seed" --url "$base" --token "$TOKEN" --hosts "$BENCH_HOSTS" --every 15s 2>"$work/seed.log" &
seed_pid=$!

# --- measure -------------------------------------------------------------------
log "measuring in $CHROMIUM: $BENCH_RUNS runs of each page after a warm-up"
out_txt=$BENCH_RESULTS/ui.txt
{
	echo "# Web UI benchmark"
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- server: $("$SAYPRO_BIN" version 2>&1 | head -n 1 || true); browser: $("$CHROMIUM" --version 2>/dev/null | head -n 1); viewport 1280×800"
	echo "- data: $BENCH_HOSTS hosts, 100 node_* series each, ${BENCH_HOURS} h at 15 s"
	echo "- command: BENCH_HOSTS=$BENCH_HOSTS BENCH_HOURS=$BENCH_HOURS BENCH_RUNS=$BENCH_RUNS bench/ui/run.sh"
	echo
} >"$work/head.txt"
rc=0
SAYPRO_URL=$base SAYPRO_ADMIN_PASSWORD=$ADMIN_PASSWORD SAYPRO_CHROMIUM=$CHROMIUM BENCH_HOSTS=$BENCH_HOSTS BENCH_RUNS=$BENCH_RUNS \
	BENCH_JSON=$BENCH_RESULTS/ui.json node bench/ui/measure.mjs >"$work/table.txt" || rc=$?
cat "$work/head.txt" "$work/table.txt" >"$out_txt"
cat "$out_txt"

if ! kill -0 "$server_pid" 2>/dev/null; then
	server_pid=""
	tail -n 30 "$server_log" >&2
	die "the server exited during the run; its log: $server_log"
fi
stop_pid "the heartbeat seeder" "$seed_pid"
seed_pid=""
stop_pid "the server" "$server_pid"
server_pid=""
errors=$(grep -cE 'level=(ERROR|WARN)' "$server_log" || true)
if ((errors > 0)); then
	log "the server logged $errors warnings or errors; the first of them:"
	grep -E 'level=(ERROR|WARN)' "$server_log" | head -n 5 >&2
fi
log "results: $out_txt and $BENCH_RESULTS/ui.json (server log $server_log)"
((rc == 0)) || die "the measurement failed (exit $rc)"
