#!/usr/bin/env bash
# Side-by-side host agent benchmark: our agent (bin/saypro-agent and
# `saypro-monitor agent`) and Debian's node_exporter, all started in the
# same run on the same machine and scraped at the same rate by
# bench/agent/scrapeload; our agent also in push mode, shipping to a
# saypro-monitor server. Measures CPU seconds per collection and peak RSS
# from /proc. Run with `make bench-agent`; the knobs (environment
# variables) are described in bench/README.md.
#
# Results: bench/results/agent-<UTC time>.md (the table) and .json (all
# numbers), the processes' logs in bench/results/agent-<UTC time>-logs/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

# SCRAPES is accepted as a short name for BENCH_SCRAPES.
BENCH_SCRAPES=${BENCH_SCRAPES:-${SCRAPES:-300}}
BENCH_INTERVAL=${BENCH_INTERVAL:-1s}
BENCH_WARMUP=${BENCH_WARMUP:-10}
BENCH_AGENTS=${BENCH_AGENTS:-saypro-agent saypro-monitor-agent saypro-agent-push node_exporter node_exporter-comparable}
BENCH_GZIP=${BENCH_GZIP:-true}
BENCH_START_TIMEOUT=${BENCH_START_TIMEOUT:-60}
BENCH_STOP_TIMEOUT=${BENCH_STOP_TIMEOUT:-15}
BENCH_RESULTS=${BENCH_RESULTS:-$root/bench/results}
SAYPRO_BIN=${SAYPRO_BIN:-$root/bin/saypro-monitor}
SAYPRO_AGENT_BIN=${SAYPRO_AGENT_BIN:-$root/bin/saypro-agent}
NODE_EXPORTER_BIN=${NODE_EXPORTER_BIN:-/usr/bin/prometheus-node-exporter}
# node_exporter's collectors that correspond to ours.
COMPARABLE_COLLECTORS="cpu loadavg meminfo vmstat pressure diskstats filesystem netdev netclass tcpstat sockstat netstat stat filefd entropy time timex uname os"
# Any string of 16+ characters: the server checks it, the agent sends it.
TOKEN=bench-agent-token-0123456789

log() { printf '%s bench-agent: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- preflight --------------------------------------------------------------
[[ $BENCH_SCRAPES =~ ^[1-9][0-9]*$ ]] || die "BENCH_SCRAPES must be a positive integer, not '$BENCH_SCRAPES'"
[[ $BENCH_WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer, not '$BENCH_WARMUP'"
[[ $BENCH_INTERVAL =~ ^[0-9]+(ms|s|m)$ ]] || die "BENCH_INTERVAL must be a duration such as 1s or 500ms, not '$BENCH_INTERVAL'"
need_saypro=false need_agent=false need_ne=false peers=0 ours=0
for a in $BENCH_AGENTS; do
	case $a in
	saypro-agent) need_agent=true ours=$((ours + 1)) ;;
	saypro-monitor-agent) need_saypro=true ours=$((ours + 1)) ;;
	saypro-agent-push) need_agent=true need_saypro=true ours=$((ours + 1)) ;;
	node_exporter | node_exporter-comparable) need_ne=true peers=$((peers + 1)) ;;
	*) die "BENCH_AGENTS: unknown '$a' (want saypro-agent, saypro-monitor-agent, saypro-agent-push, node_exporter, node_exporter-comparable)" ;;
	esac
done
((ours + peers > 0)) || die "BENCH_AGENTS is empty"
((peers > 0)) || log "warning: no node_exporter in BENCH_AGENTS: no ratios will be computed"
for t in curl go getconf; do
	command -v "$t" >/dev/null || die "'$t' is needed but not installed"
done
if $need_agent && [[ ! -x $SAYPRO_AGENT_BIN ]]; then
	die "$SAYPRO_AGENT_BIN not found: run 'make build' (or 'make bench-agent', which builds it), or set SAYPRO_AGENT_BIN"
fi
if $need_saypro && [[ ! -x $SAYPRO_BIN ]]; then
	die "$SAYPRO_BIN not found: run 'make build' (or 'make bench-agent', which builds it), or set SAYPRO_BIN"
fi
if $need_ne && [[ ! -x $NODE_EXPORTER_BIN ]]; then
	log "ERROR: node_exporter not found at $NODE_EXPORTER_BIN"
	log "install it with:  sudo apt-get install -y prometheus-node-exporter   (or set NODE_EXPORTER_BIN)"
	log "or run only ours, e.g.  BENCH_AGENTS='saypro-agent saypro-agent-push' make bench-agent"
	exit 1
fi

# --- work area and cleanup --------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/saypro-bench-agent.XXXXXX")
declare -A pid_of=()  # name -> pid of every process this script started
started=()            # names, in the order started
scrapeload_pid=""

# stop_all ends every process this script started (by its pid): SIGTERM
# to all at once, then SIGKILL to those still running after
# BENCH_STOP_TIMEOUT seconds.
stop_all() {
	local name pid i alive
	for name in "${started[@]}"; do
		pid=${pid_of[$name]:-}
		if [[ -n $pid ]]; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
	for ((i = 0; i < BENCH_STOP_TIMEOUT * 4; i++)); do
		alive=0
		for name in "${started[@]}"; do
			pid=${pid_of[$name]:-}
			[[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && alive=1
		done
		((alive)) || break
		sleep 0.25
	done
	for name in "${started[@]}"; do
		pid=${pid_of[$name]:-}
		[[ -n $pid ]] || continue
		if kill -0 "$pid" 2>/dev/null; then
			log "$name (pid $pid) did not stop within ${BENCH_STOP_TIMEOUT}s of SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
		unset "pid_of[$name]"
	done
	started=()
}

cleanup() {
	local rc=$?
	if [[ -n $scrapeload_pid ]]; then
		kill -TERM "$scrapeload_pid" 2>/dev/null || true
		wait "$scrapeload_pid" 2>/dev/null || true
	fi
	stop_all
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building the scraper (bench/agent/scrapeload)"
go build -o "$work/scrapeload" ./bench/agent/scrapeload
scrapeload=$work/scrapeload

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BENCH_RESULTS"
out_md=$BENCH_RESULTS/agent-$stamp.md
out_json=$BENCH_RESULTS/agent-$stamp.json
logs=$BENCH_RESULTS/agent-$stamp-logs
mkdir -p "$logs"
clk_tck=$(getconf CLK_TCK)

declare -A url_of=() ready_of=()

# start NAME READY_PATH CMD...: starts one process in the background on
# the port in its command, its output in $logs/NAME.log.
start() {
	local name=$1 ready=$2
	shift 2
	log "starting $name: $*"
	"$@" >"$logs/$name.log" 2>&1 &
	pid_of[$name]=$!
	ready_of[$name]=$ready
	started+=("$name")
}

# wait_ready NAME: waits until NAME answers 200 on its ready path, and
# fails with the end of its log if it exits or does not in time.
wait_ready() {
	local name=$1 pid=${pid_of[$1]} base=${url_of[$1]} i rc
	for ((i = 0; i < BENCH_START_TIMEOUT * 4; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" && rc=0 || rc=$?
			unset "pid_of[$name]"
			log "$name exited with status $rc while starting; last lines of its log:"
			tail -n 30 "$logs/$name.log" >&2
			die "$name did not start"
		fi
		if curl -fsS -o /dev/null --max-time 2 "$base${ready_of[$name]}" 2>/dev/null; then
			log "$name is ready (pid $pid, $base)"
			return 0
		fi
		sleep 0.25
	done
	tail -n 30 "$logs/$name.log" >&2
	die "$name not ready at $base${ready_of[$name]} after ${BENCH_START_TIMEOUT}s"
}

new_port() { "$scrapeload" freeport; }

# The server first: the push agent ships to it.
if [[ " $BENCH_AGENTS " == *" saypro-agent-push "* ]]; then
	port=$(new_port)
	url_of[saypro-monitor-server]=http://127.0.0.1:$port
	mkdir -p "$work/server-data"
	# Only the agent under test ships: no in-process agent on the server,
	# and no self-scrape (less noise on the shared CPUs).
	printf 'server:\n  self_scrape: false\nagent:\n  enabled: false\n' >"$work/server.yml"
	start saypro-monitor-server /-/ready "$SAYPRO_BIN" server --config "$work/server.yml" \
		--listen "127.0.0.1:$port" --data-dir "$work/server-data" --ingest-token "$TOKEN"
	wait_ready saypro-monitor-server
fi

ne_comparable=(--collector.disable-defaults)
for c in $COMPARABLE_COLLECTORS; do
	ne_comparable+=("--collector.$c")
done

scrape_args=()
for a in $BENCH_AGENTS; do
	port=$(new_port)
	url_of[$a]=http://127.0.0.1:$port
	case $a in
	saypro-agent)
		start "$a" /-/healthy "$SAYPRO_AGENT_BIN" --listen "127.0.0.1:$port"
		scrape_args+=(--ours "$a,${pid_of[$a]},${url_of[$a]}/metrics")
		;;
	saypro-monitor-agent)
		start "$a" /-/healthy "$SAYPRO_BIN" agent --listen "127.0.0.1:$port"
		scrape_args+=(--ours "$a,${pid_of[$a]},${url_of[$a]}/metrics")
		;;
	saypro-agent-push)
		# It also listens, so that its own collection counter can be read
		# before and after the window; it is not scraped in between.
		start "$a" /-/healthy "$SAYPRO_AGENT_BIN" --listen "127.0.0.1:$port" \
			--server "${url_of[saypro-monitor-server]}" --token "$TOKEN" \
			--queue-dir "$work/queue" --interval "$BENCH_INTERVAL"
		scrape_args+=(--push "$a,${pid_of[$a]},${url_of[$a]}/metrics")
		;;
	node_exporter)
		start "$a" / "$NODE_EXPORTER_BIN" --web.listen-address="127.0.0.1:$port"
		scrape_args+=(--peer "$a,${pid_of[$a]},${url_of[$a]}/metrics")
		;;
	node_exporter-comparable)
		start "$a" / "$NODE_EXPORTER_BIN" --web.listen-address="127.0.0.1:$port" "${ne_comparable[@]}"
		scrape_args+=(--peer "$a,${pid_of[$a]},${url_of[$a]}/metrics")
		;;
	esac
done
for a in $BENCH_AGENTS; do
	wait_ready "$a"
done

version_line() { "$@" 2>&1 | head -n 1 || true; }
labels=(
	--label "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	--label "machine=$(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
	--label "command=BENCH_SCRAPES=$BENCH_SCRAPES BENCH_INTERVAL=$BENCH_INTERVAL BENCH_WARMUP=$BENCH_WARMUP BENCH_GZIP=$BENCH_GZIP BENCH_AGENTS='$BENCH_AGENTS' bench/agent/run.sh"
)
$need_ne && labels+=(
	--label "version node_exporter=$(version_line "$NODE_EXPORTER_BIN" --version)"
	--label "node_exporter-comparable collectors=$COMPARABLE_COLLECTORS"
)
$need_agent && labels+=(--label "version saypro-agent=$(version_line "$SAYPRO_AGENT_BIN" --version)")
$need_saypro && labels+=(--label "version saypro-monitor=$(version_line "$SAYPRO_BIN" version)")

secs=$(awk -v n="$BENCH_SCRAPES" -v w="$BENCH_WARMUP" -v i="$BENCH_INTERVAL" 'BEGIN {
	d = i + 0; if (i ~ /ms$/) d /= 1000; else if (i ~ /m$/) d *= 60; printf "%.0f", (n + w) * d }')
log "scraping every $BENCH_INTERVAL: $BENCH_WARMUP warm-up rounds, then $BENCH_SCRAPES measured (about ${secs}s)"
# In the background, so that a signal to this script is handled at once
# (bash runs traps only between foreground commands).
"$scrapeload" measure "${scrape_args[@]}" --scrapes "$BENCH_SCRAPES" --warmup "$BENCH_WARMUP" \
	--interval "$BENCH_INTERVAL" --push-interval "$BENCH_INTERVAL" --gzip="$BENCH_GZIP" --clk-tck "$clk_tck" \
	--out-md "$out_md" --out-json "$out_json" "${labels[@]}" &
scrapeload_pid=$!
wait "$scrapeload_pid" && rc=0 || rc=$?
scrapeload_pid=""

# Anything that exited during the run is a failure.
gone=()
for name in "${started[@]}"; do
	pid=${pid_of[$name]:-}
	if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
		gone+=("$name")
	fi
done
log "stopping everything"
stop_all
for name in "${gone[@]}"; do
	log "$name exited during the run; last lines of its log ($logs/$name.log):"
	tail -n 20 "$logs/$name.log" >&2
done
((${#gone[@]} == 0)) || die "exited during the run: ${gone[*]}"
((rc == 0)) || die "the measurement failed or is incomplete (exit status $rc); logs in $logs"
log "results: $out_md and $out_json (logs in $logs)"
