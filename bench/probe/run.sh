#!/usr/bin/env bash
# Health-check benchmark: 10,000 HTTP checks at a 10 s interval against a
# local target server (fast, slow and hanging targets), run by
#   1. "prober":   probe.Scheduler in process (bench/probe/probebench prober),
#                  the probing engine alone, outcomes only counted;
#   2. "server":   bin/saypro-monitor server with the same checks in its
#                  configuration (results stored in its TSDB and state store);
#   3. "blackbox": Debian's prometheus-blackbox-exporter, driven by a Go load
#                  driver that calls /probe for every target at the same rate.
# One after the other (never at the same time: 2 CPUs), against the same
# target server, in one run. Measures CPU seconds per probe and RSS from
# /proc, and our scheduler's lateness. Run with `make bench-probe`; the
# knobs (environment variables) are described in bench/README.md.
#
# Results: bench/results/probe-<UTC time>.md (the table) and .json (all
# numbers), logs and the prober's CPU profile in bench/results/probe-<UTC time>-logs/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

BENCH_CHECKS=${BENCH_CHECKS:-10000}
BENCH_INTERVAL=${BENCH_INTERVAL:-10s}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-5s}
BENCH_SLOW_FRAC=${BENCH_SLOW_FRAC:-0.05}
BENCH_HANG_FRAC=${BENCH_HANG_FRAC:-0.02}
BENCH_SLOW_DELAY=${BENCH_SLOW_DELAY:-3.5s}
BENCH_LISTENERS=${BENCH_LISTENERS:-16}
BENCH_WARMUP=${BENCH_WARMUP:-30}
BENCH_MEASURE=${BENCH_MEASURE:-120}
BENCH_PROBERS=${BENCH_PROBERS:-prober server blackbox}
BENCH_MAX_CONCURRENT=${BENCH_MAX_CONCURRENT:-0}
BENCH_PPROF=${BENCH_PPROF:-15}
BENCH_START_TIMEOUT=${BENCH_START_TIMEOUT:-120}
BENCH_STOP_TIMEOUT=${BENCH_STOP_TIMEOUT:-15}
BENCH_RESULTS=${BENCH_RESULTS:-$root/bench/results}
SAYPRO_BIN=${SAYPRO_BIN:-$root/bin/saypro-monitor}
BLACKBOX_BIN=${BLACKBOX_BIN:-/usr/bin/prometheus-blackbox-exporter}
TOKEN=bench-probe-token-0123456789

log() { printf '%s bench-probe: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

# --- preflight --------------------------------------------------------------
[[ $BENCH_CHECKS =~ ^[1-9][0-9]*$ ]] || die "BENCH_CHECKS must be a positive integer, not '$BENCH_CHECKS'"
[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be whole seconds, not '$BENCH_WARMUP'"
[[ $BENCH_MEASURE =~ ^[1-9][0-9]*$ ]] || die "BENCH_MEASURE must be whole seconds, not '$BENCH_MEASURE'"
[[ $BENCH_PPROF =~ ^[0-9]+$ ]] || die "BENCH_PPROF must be whole seconds (0: no profile), not '$BENCH_PPROF'"
for d in "$BENCH_INTERVAL" "$BENCH_TIMEOUT" "$BENCH_SLOW_DELAY"; do
	[[ $d =~ ^[0-9.]+(ms|s|m)$ ]] || die "'$d' is not a duration such as 10s or 500ms"
done
need_saypro=false need_bb=false
for p in $BENCH_PROBERS; do
	case $p in
	prober) ;;
	server) need_saypro=true ;;
	blackbox) need_bb=true ;;
	*) die "BENCH_PROBERS: unknown '$p' (want prober, server, blackbox)" ;;
	esac
done
[[ -n ${BENCH_PROBERS// /} ]] || die "BENCH_PROBERS is empty"
for t in curl go getconf; do
	command -v "$t" >/dev/null || die "'$t' is needed but not installed"
done
if $need_saypro && [[ ! -x $SAYPRO_BIN ]]; then
	die "$SAYPRO_BIN not found: run 'make build' (or 'make bench-probe', which builds it), or set SAYPRO_BIN"
fi
if $need_bb && [[ ! -x $BLACKBOX_BIN ]]; then
	log "ERROR: blackbox_exporter not found at $BLACKBOX_BIN"
	log "install it with:  sudo apt-get install -y prometheus-blackbox-exporter   (or set BLACKBOX_BIN)"
	log "or run only ours:  BENCH_PROBERS='prober server' make bench-probe"
	exit 1
fi
# Hanging and slow targets hold connections open on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- work area and cleanup --------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/saypro-bench-probe.XXXXXX")
declare -A pid_of=() # name -> pid of every process this script started
started=()
bg_pid=""

# stop NAME: SIGTERM, then SIGKILL after BENCH_STOP_TIMEOUT seconds.
stop() {
	stop_pid "$1" "${pid_of[$1]:-}"
	unset "pid_of[$1]"
}

cleanup() {
	local rc=$? name
	if [[ -n $bg_pid ]]; then
		kill -TERM "$bg_pid" 2>/dev/null || true
		wait "$bg_pid" 2>/dev/null || true
	fi
	for name in "${started[@]}"; do
		stop "$name"
	done
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building bench/probe/probebench"
go build -o "$work/probebench" ./bench/probe/probebench
pb=$work/probebench

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH_RESULTS"
out_md=$BENCH_RESULTS/probe-$stamp.md
out_json=$BENCH_RESULTS/probe-$stamp.json
logs=$BENCH_RESULTS/probe-$stamp-logs
mkdir -p "$logs"
clk_tck=$(getconf CLK_TCK)

# start NAME CMD...: starts one process in the background, its output in
# $logs/NAME.log.
start() {
	local name=$1
	shift
	log "starting $name: $*"
	"$@" >"$logs/$name.log" 2>&1 &
	pid_of[$name]=$!
	started+=("$name")
}

# wait_ready NAME URL: waits until URL answers 200, and fails with the end
# of NAME's log if it exits or does not in time.
wait_ready() {
	local name=$1 url=$2 pid=${pid_of[$1]} i rc
	for ((i = 0; i < BENCH_START_TIMEOUT * 4; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" && rc=0 || rc=$?
			unset "pid_of[$name]"
			log "$name exited with status $rc while starting; last lines of its log:"
			tail -n 30 "$logs/$name.log" >&2
			die "$name did not start"
		fi
		if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
			log "$name is ready (pid $pid, $url)"
			return 0
		fi
		sleep 0.25
	done
	tail -n 30 "$logs/$name.log" >&2
	die "$name not ready at $url after ${BENCH_START_TIMEOUT}s"
}

# run_bg CMD...: runs a command in the background and waits for it, so that
# a signal to this script is handled at once.
run_bg() {
	"$@" &
	bg_pid=$!
	wait "$bg_pid" && rc=0 || rc=$?
	bg_pid=""
	return "$rc"
}

check_flags=(--addrs-file "$work/addrs" --checks "$BENCH_CHECKS" --interval "$BENCH_INTERVAL"
	--timeout "$BENCH_TIMEOUT" --slow-frac "$BENCH_SLOW_FRAC" --hang-frac "$BENCH_HANG_FRAC")

# --- the targets ------------------------------------------------------------
start targets "$pb" targets --listeners "$BENCH_LISTENERS" --addrs-file "$work/addrs" --slow-delay "$BENCH_SLOW_DELAY"
for ((i = 0; i < 40; i++)); do
	[[ -s $work/addrs ]] && break
	kill -0 "${pid_of[targets]}" 2>/dev/null || { tail "$logs/targets.log" >&2; die "the target server exited"; }
	sleep 0.25
done
[[ -s $work/addrs ]] || die "the target server did not write its addresses"
wait_ready targets "http://$(head -n 1 "$work/addrs")/fast/ready"
targets_pid=${pid_of[targets]}

load_line() { echo "$(cut -d' ' -f1-3 /proc/loadavg); CPU pressure $(head -n 1 /proc/pressure/cpu 2>/dev/null || echo n/a)"; }
version_line() { "$@" 2>&1 | head -n 1 || true; }
labels=(
	--label "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	--label "machine=$(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
	--label "command=BENCH_CHECKS=$BENCH_CHECKS BENCH_INTERVAL=$BENCH_INTERVAL BENCH_TIMEOUT=$BENCH_TIMEOUT BENCH_SLOW_FRAC=$BENCH_SLOW_FRAC BENCH_HANG_FRAC=$BENCH_HANG_FRAC BENCH_SLOW_DELAY=$BENCH_SLOW_DELAY BENCH_LISTENERS=$BENCH_LISTENERS BENCH_WARMUP=$BENCH_WARMUP BENCH_MEASURE=$BENCH_MEASURE BENCH_MAX_CONCURRENT=$BENCH_MAX_CONCURRENT BENCH_PROBERS='$BENCH_PROBERS' bench/probe/run.sh"
	--label "mode=sequential: $BENCH_PROBERS, one after the other against the same target server (same targets, same rate); each warmed up ${BENCH_WARMUP}s, then measured ${BENCH_MEASURE}s"
	--label "targets=$BENCH_CHECKS URLs on $BENCH_LISTENERS listeners on 127.0.0.1: fast (200 at once), slow ($BENCH_SLOW_FRAC, 200 after $BENCH_SLOW_DELAY), hanging ($BENCH_HANG_FRAC, never answer); every check: interval $BENCH_INTERVAL, timeout $BENCH_TIMEOUT, latency threshold 3s (default)"
	--label "kernel TCP=net.ipv4.tcp_tw_reuse $(cat /proc/sys/net/ipv4/tcp_tw_reuse), ip_local_port_range $(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range), tcp_fin_timeout $(cat /proc/sys/net/ipv4/tcp_fin_timeout), ulimit -n $(ulimit -n)"
	--label "load at start=$(load_line)"
	--label "blackbox driver=Go load driver (probebench measure --blackbox): GET /probe?module=http_2xx&target=URL for every target once per $BENCH_INTERVAL at a fixed phase, with X-Prometheus-Scrape-Timeout-Seconds as Prometheus sends it, over kept-alive connections; its CPU is not counted"
)
$need_saypro && labels+=(--label "version saypro-monitor=$(version_line "$SAYPRO_BIN" version)")
$need_bb && labels+=(--label "version blackbox_exporter=$(version_line "$BLACKBOX_BIN" --version)")
labels+=(--label "version probebench=$(go version | cut -d' ' -f3) (probe.Scheduler from this tree, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- internal/probe 2>/dev/null || echo ', internal/probe modified'))")

measure_flags=(--warmup "${BENCH_WARMUP}s" --window "${BENCH_MEASURE}s" --clk-tck "$clk_tck" --targets-pid "$targets_pid")
new_port() { "$pb" freeport; }
ins=()

for p in $BENCH_PROBERS; do
	port=$(new_port)
	base=http://127.0.0.1:$port
	extra=()
	case $p in
	prober)
		start prober "$pb" prober "${check_flags[@]}" --listen "127.0.0.1:$port" --max-concurrent "$BENCH_MAX_CONCURRENT"
		wait_ready prober "$base/-/ready"
		extra=(--metrics-url "$base/metrics" --unexpected-url "$base/unexpected")
		if ((BENCH_PPROF > 0)); then
			extra+=(--pprof-url "$base/debug/pprof/profile" --pprof-seconds "$BENCH_PPROF" --pprof-out "$logs/prober.cpu.pprof")
		fi
		;;
	server)
		mkdir -p "$work/server-data"
		run_bg "$pb" config "${check_flags[@]}" --max-concurrent "$BENCH_MAX_CONCURRENT" --out "$work/server.yml"
		start server "$SAYPRO_BIN" server --config "$work/server.yml" --listen "127.0.0.1:$port" \
			--data-dir "$work/server-data" --ingest-token "$TOKEN"
		wait_ready server "$base/-/ready"
		extra=(--metrics-url "$base/metrics" --checks-api "$base")
		if ((BENCH_PPROF > 0)); then
			extra+=(--pprof-url "$base/debug/pprof/profile" --pprof-seconds "$BENCH_PPROF" --pprof-out "$logs/server.cpu.pprof")
		fi
		;;
	blackbox)
		timeout_s=$(awk -v t="$BENCH_TIMEOUT" 'BEGIN { d = t + 0; if (t ~ /ms$/) d /= 1000; else if (t ~ /m$/) d *= 60; print d "s" }')
		cat >"$work/blackbox.yml" <<-YML
			modules:
			  http_2xx:
			    prober: http
			    timeout: $timeout_s
			    http:
			      preferred_ip_protocol: ip4
		YML
		start blackbox "$BLACKBOX_BIN" --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$port" --log.level=warn
		wait_ready blackbox "$base/-/healthy"
		extra=(--blackbox "$base")
		;;
	esac
	log "$p: warm-up ${BENCH_WARMUP}s, then measuring ${BENCH_MEASURE}s"
	if ! run_bg "$pb" measure "${check_flags[@]}" "${measure_flags[@]}" --name "$p" --pid "${pid_of[$p]}" \
		"${extra[@]}" --out "$logs/$p.json"; then
		tail -n 20 "$logs/$p.log" >&2
		die "measuring $p failed; logs in $logs"
	fi
	kill -0 "${pid_of[$p]}" 2>/dev/null || die "$p exited during the run; see $logs/$p.log"
	log "stopping $p"
	stop "$p"
	ins+=(--in "$logs/$p.json")
done

labels+=(--label "load at end=$(load_line)")
stop targets
run_bg "$pb" report "${ins[@]}" "${labels[@]}" --out-md "$out_md" --out-json "$out_json"
for p in prober server; do
	if [[ -f $logs/$p.cpu.pprof ]]; then
		go tool pprof -top -nodecount=40 "$logs/$p.cpu.pprof" >"$logs/$p.cpu.top.txt" 2>/dev/null || true
		go tool pprof -top -cum -nodecount=60 "$logs/$p.cpu.pprof" >"$logs/$p.cpu.top-cum.txt" 2>/dev/null || true
	fi
done
cp "$out_md" "$BENCH_RESULTS/probe-latest.md"
cp "$out_json" "$BENCH_RESULTS/probe-latest.json"
log "results: $out_md and $out_json (logs in $logs)"
