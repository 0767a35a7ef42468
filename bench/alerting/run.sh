#!/usr/bin/env bash
# Alerting benchmark against bin/saypro-monitor:
#   1. alert latency: a remote-written sample crosses a rule's threshold
#      (bench_value > 100, for: 0s); how long until the embedded
#      Alertmanager's webhook notification arrives, over BENCH_TRIALS trials;
#   2. load isolation: how long a new alert group posted to /api/v2/alerts
#      takes to be notified, first alone, then with 10,000 firing alerts in
#      500 groups re-posted every 30 s and notified to a slow webhook; and
#      the server's RSS with those alerts loaded.
# The webhooks are served by bench/alerting/alertbench itself. Run with
# `make bench-alerting`; the knobs are described in bench/README.md.
#
# Results: bench/results/alerting-<UTC time>.md (the tables) and .json (all
# numbers), the server's log in bench/results/alerting-<UTC time>-server.log;
# alerting-latest.md and .json are copies of the newest.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

BENCH_TRIALS=${BENCH_TRIALS:-5}
BENCH_EVAL=${BENCH_EVAL:-15s}
BENCH_GROUP_WAIT=${BENCH_GROUP_WAIT:-1s}
BENCH_BASELINE_PROBES=${BENCH_BASELINE_PROBES:-10}
BENCH_LOAD_DURATION=${BENCH_LOAD_DURATION:-75s}
BENCH_SLOW_DELAY=${BENCH_SLOW_DELAY:-200ms}
BENCH_SKIP_LOAD=${BENCH_SKIP_LOAD:-false}
BENCH_START_TIMEOUT=${BENCH_START_TIMEOUT:-120}
BENCH_STOP_TIMEOUT=${BENCH_STOP_TIMEOUT:-30}
BENCH_RESULTS=${BENCH_RESULTS:-$root/bench/results}
SAYPRO_BIN=${SAYPRO_BIN:-$root/bin/saypro-monitor}
TOKEN=bench-alerting-token-0123456789

log() { printf '%s bench-alerting: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

# --- preflight --------------------------------------------------------------
[[ $BENCH_TRIALS =~ ^[1-9][0-9]*$ ]] || die "BENCH_TRIALS must be a positive integer, not '$BENCH_TRIALS'"
[[ $BENCH_BASELINE_PROBES =~ ^[1-9][0-9]*$ ]] || die "BENCH_BASELINE_PROBES must be a positive integer, not '$BENCH_BASELINE_PROBES'"
for d in "$BENCH_EVAL" "$BENCH_GROUP_WAIT" "$BENCH_LOAD_DURATION" "$BENCH_SLOW_DELAY"; do
	[[ $d =~ ^[0-9]+(ms|s|m)$ ]] || die "'$d' is not a duration such as 15s or 500ms"
done
[[ $BENCH_SKIP_LOAD == true || $BENCH_SKIP_LOAD == false ]] || die "BENCH_SKIP_LOAD must be true or false"
for t in curl go getconf; do
	command -v "$t" >/dev/null || die "'$t' is needed but not installed"
done
need_server_bin

# --- work area and cleanup --------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/saypro-bench-alerting.XXXXXX")
server_pid=""
bg_pid=""

stop_server() {
	stop_pid "the server" "$server_pid"
	server_pid=""
}

cleanup() {
	local rc=$?
	if [[ -n $bg_pid ]]; then
		kill -TERM "$bg_pid" 2>/dev/null || true
		wait "$bg_pid" 2>/dev/null || true
	fi
	stop_server
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building bench/alerting/alertbench"
go build -o "$work/alertbench" ./bench/alerting/alertbench
ab=$work/alertbench

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH_RESULTS"
out_md=$BENCH_RESULTS/alerting-$stamp.md
out_json=$BENCH_RESULTS/alerting-$stamp.json
server_log=$BENCH_RESULTS/alerting-$stamp-server.log

port=$("$ab" freeport)
webhook_port=$("$ab" freeport)
[[ $webhook_port != "$port" ]] || webhook_port=$("$ab" freeport)
base=http://127.0.0.1:$port
"$ab" config --out "$work/saypro-monitor.yml" --webhook "127.0.0.1:$webhook_port" \
	--eval "$BENCH_EVAL" --group-wait "$BENCH_GROUP_WAIT"

mkdir -p "$work/data"
log "starting $SAYPRO_BIN on $base (config $work/saypro-monitor.yml)"
SAYPRO_LOG_LEVEL=${SAYPRO_LOG_LEVEL:-info} "$SAYPRO_BIN" server --config "$work/saypro-monitor.yml" \
	--listen "127.0.0.1:$port" --data-dir "$work/data" --ingest-token "$TOKEN" >"$server_log" 2>&1 &
server_pid=$!

for ((i = 0; i < BENCH_START_TIMEOUT * 4; i++)); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		wait "$server_pid" && rc=0 || rc=$?
		server_pid=""
		log "the server exited with status $rc while starting; last lines of its log:"
		tail -n 30 "$server_log" >&2
		die "the server did not start"
	fi
	if curl -fsS -o /dev/null --max-time 2 "$base/-/ready" 2>/dev/null; then
		break
	fi
	sleep 0.25
done
curl -fsS -o /dev/null --max-time 2 "$base/-/ready" 2>/dev/null || {
	tail -n 30 "$server_log" >&2
	die "the server is not ready at $base after ${BENCH_START_TIMEOUT}s"
}
log "the server is ready (pid $server_pid, $base)"

extra=()
[[ $BENCH_SKIP_LOAD == true ]] && extra+=(--skip-load)
rc=0
"$ab" run --url "$base" --token "$TOKEN" --webhook-listen "127.0.0.1:$webhook_port" \
	--pid "$server_pid" --clk-tck "$(getconf CLK_TCK)" \
	--trials "$BENCH_TRIALS" --eval "$BENCH_EVAL" --group-wait "$BENCH_GROUP_WAIT" \
	--baseline-probes "$BENCH_BASELINE_PROBES" --load-duration "$BENCH_LOAD_DURATION" --slow-delay "$BENCH_SLOW_DELAY" \
	--label "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	--label "machine=$(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)" \
	--label "version=$("$SAYPRO_BIN" version 2>&1 | head -n 1 || true)" \
	--label "command=BENCH_TRIALS=$BENCH_TRIALS BENCH_EVAL=$BENCH_EVAL BENCH_GROUP_WAIT=$BENCH_GROUP_WAIT BENCH_BASELINE_PROBES=$BENCH_BASELINE_PROBES BENCH_LOAD_DURATION=$BENCH_LOAD_DURATION BENCH_SLOW_DELAY=$BENCH_SLOW_DELAY BENCH_SKIP_LOAD=$BENCH_SKIP_LOAD bench/alerting/run.sh" \
	--label "load average at start=$(cut -d' ' -f1-3 /proc/loadavg)" \
	"${extra[@]}" --out-md "$out_md" --out-json "$out_json" &
bg_pid=$!
wait "$bg_pid" || rc=$?
bg_pid=""

if ! kill -0 "$server_pid" 2>/dev/null; then
	server_pid=""
	tail -n 30 "$server_log" >&2
	die "the server exited during the run; its log: $server_log"
fi
stop_server
errors=$(grep -cE 'level=(ERROR|WARN)' "$server_log" || true)
if ((errors > 0)); then
	log "the server logged $errors warnings or errors; the first of them:"
	grep -E 'level=(ERROR|WARN)' "$server_log" | head -n 5 >&2
fi
if [[ -f $out_md ]]; then
	cp "$out_md" "$BENCH_RESULTS/alerting-latest.md"
	[[ -f $out_json ]] && cp "$out_json" "$BENCH_RESULTS/alerting-latest.json"
	log "results: $out_md and $out_json (server log $server_log)"
fi
((rc == 0)) || die "alertbench run failed (exit $rc); server log: $server_log"
