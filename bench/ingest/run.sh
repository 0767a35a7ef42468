#!/usr/bin/env bash
# Side-by-side ingest/query benchmark: the same remote-write load, from the
# same generator (bench/ingest/loadgen), against saypro-monitor, Prometheus
# and VictoriaMetrics, one server after the other. Run with `make bench`;
# the knobs (environment variables) are described in bench/README.md.
#
# Results: bench/results/<UTC time>/ (results.md, results.json, one JSON and
# one log per server) and bench/results/latest.{md,json}.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

BENCH_HOSTS=${BENCH_HOSTS:-1000}
BENCH_HOURS=${BENCH_HOURS:-4}
BENCH_BATCH=${BENCH_BATCH:-2000}
BENCH_SENDERS=${BENCH_SENDERS:-4}
BENCH_QUERY_RUNS=${BENCH_QUERY_RUNS:-20}
BENCH_JITTER_MS=${BENCH_JITTER_MS:-0}
BENCH_SERVERS=${BENCH_SERVERS:-saypro prometheus victoriametrics}
BENCH_SETTLE_TIMEOUT=${BENCH_SETTLE_TIMEOUT:-10m}
BENCH_LOAD_TIMEOUT=${BENCH_LOAD_TIMEOUT:-60m}
BENCH_START_TIMEOUT=${BENCH_START_TIMEOUT:-120}
BENCH_STOP_TIMEOUT=${BENCH_STOP_TIMEOUT:-120}
BENCH_RESULTS=${BENCH_RESULTS:-$root/bench/results}
SAYPRO_BIN=${SAYPRO_BIN:-$root/bin/saypro-monitor}
PROMETHEUS_BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}
VICTORIA_METRICS_BIN=${VICTORIA_METRICS_BIN:-/usr/bin/victoria-metrics}
# Any string of 16+ characters: saypro-monitor checks it, the others ignore it.
TOKEN=bench-ingest-token-0123456789

log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

# --- preflight --------------------------------------------------------------
for s in $BENCH_SERVERS; do
	case $s in
	saypro | prometheus | victoriametrics) ;;
	*) die "BENCH_SERVERS: unknown server '$s' (want saypro, prometheus, victoriametrics)" ;;
	esac
done
for t in curl go getconf; do
	command -v "$t" >/dev/null || die "'$t' is needed but not installed"
done
missing=()
for s in $BENCH_SERVERS; do
	case $s in
	saypro) [[ -x $SAYPRO_BIN ]] || die "$SAYPRO_BIN not found: run 'make build' (or 'make bench', which builds it)" ;;
	prometheus) [[ -x $PROMETHEUS_BIN ]] || missing+=(prometheus) ;;
	victoriametrics) [[ -x $VICTORIA_METRICS_BIN ]] || missing+=(victoria-metrics) ;;
	esac
done
if ((${#missing[@]})); then
	log "ERROR: not installed: ${missing[*]} (looked for $PROMETHEUS_BIN and $VICTORIA_METRICS_BIN)"
	log "install them with:  sudo apt-get install -y ${missing[*]}"
	log "or run only some servers, e.g.  BENCH_SERVERS=saypro make bench"
	exit 1
fi

# --- work area and cleanup --------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/saypro-bench.XXXXXX")
server_pid=""
server_name=""
loadgen_pid=""

# stop_server ends the server this script started (by its pid): SIGTERM,
# then SIGKILL after BENCH_STOP_TIMEOUT seconds.
stop_server() {
	local pid=$server_pid
	server_pid=""
	stop_pid "$server_name" "$pid"
}

cleanup() {
	local rc=$?
	if [[ -n $loadgen_pid ]]; then
		kill -TERM "$loadgen_pid" 2>/dev/null || true
		wait "$loadgen_pid" 2>/dev/null || true
	fi
	stop_server
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building the load generator"
go build -o "$work/loadgen" ./bench/ingest/loadgen
loadgen=$work/loadgen

stamp=$(date -u +%Y%m%dT%H%M%SZ)
run_dir=$BENCH_RESULTS/$stamp
mkdir -p "$run_dir"
clk_tck=$(getconf CLK_TCK)
# All servers get the same data: it ends at the same instant, on a 15 s step.
end_ms=$(($(date +%s) / 15 * 15 * 1000))

# start_server starts one server on a free loopback port and waits until it
# is ready; it sets server_pid, server_url and server_data.
start_server() {
	local name=$1 port ready cmd=()
	port=$("$loadgen" freeport)
	server_name=$name
	server_url=http://127.0.0.1:$port
	server_data=$work/$name-data
	rm -rf "$server_data"
	mkdir -p "$server_data"
	case $name in
	saypro)
		# No self-scrape: its samples at "now" would make the TSDB head
		# refuse the load's older timestamps (as Prometheus, which here has
		# no scrape jobs, would too).
		printf 'server:\n  self_scrape: false\n' >"$work/saypro.yml"
		cmd=("$SAYPRO_BIN" server --config "$work/saypro.yml" --listen "127.0.0.1:$port"
			--data-dir "$server_data" --ingest-token "$TOKEN")
		ready=/-/ready
		;;
	prometheus)
		printf 'global:\n  scrape_interval: 15s\n' >"$work/prometheus.yml"
		cmd=("$PROMETHEUS_BIN" --config.file="$work/prometheus.yml" --storage.tsdb.path="$server_data"
			--storage.tsdb.retention.time=30d --web.listen-address="127.0.0.1:$port"
			--web.enable-remote-write-receiver)
		ready=/-/ready
		;;
	victoriametrics)
		# No query result cache, so repeated queries are really run (the
		# other two have none).
		cmd=("$VICTORIA_METRICS_BIN" -httpListenAddr="127.0.0.1:$port" -storageDataPath="$server_data"
			-retentionPeriod=100y -search.disableCache)
		ready=/health
		;;
	esac
	log "starting $name on 127.0.0.1:$port: ${cmd[*]}"
	"${cmd[@]}" >"$run_dir/$name.log" 2>&1 &
	server_pid=$!
	local i
	for ((i = 0; i < BENCH_START_TIMEOUT * 2; i++)); do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			wait "$server_pid" && rc=0 || rc=$?
			server_pid=""
			log "$name exited with status $rc while starting; last lines of its log:"
			tail -n 30 "$run_dir/$name.log" >&2
			die "$name did not start"
		fi
		if curl -fsS -o /dev/null --max-time 2 "$server_url$ready" 2>/dev/null; then
			log "$name is ready (pid $server_pid)"
			return 0
		fi
		sleep 0.5
	done
	tail -n 30 "$run_dir/$name.log" >&2
	die "$name not ready at $server_url$ready after ${BENCH_START_TIMEOUT}s"
}

version_of() {
	local v=""
	case $1 in
	saypro) v=$("$SAYPRO_BIN" version 2>/dev/null | head -n 1) || true ;;
	prometheus) v=$("$PROMETHEUS_BIN" --version 2>&1 | head -n 1) || true ;;
	victoriametrics) v=$(dpkg-query -W -f='victoria-metrics ${Version}' victoria-metrics 2>/dev/null) || true ;;
	esac
	echo "${v:-$1 (version unknown)}"
}

labels=(
	--label "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	--label "machine=$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
	--label "settings=BENCH_HOSTS=$BENCH_HOSTS BENCH_HOURS=$BENCH_HOURS BENCH_BATCH=$BENCH_BATCH BENCH_SENDERS=$BENCH_SENDERS BENCH_QUERY_RUNS=$BENCH_QUERY_RUNS BENCH_JITTER_MS=$BENCH_JITTER_MS"
)
failed=()
for name in $BENCH_SERVERS; do
	v=$(version_of "$name")
	labels+=(--label "version $name=$v")
	start_server "$name"
	log "measuring $name ($v)"
	# In the background, so that a signal to this script is handled at once
	# (bash runs traps only between foreground commands).
	"$loadgen" run --kind "$name" --url "$server_url" --pid "$server_pid" --data-dir "$server_data" \
		--clk-tck "$clk_tck" --hosts "$BENCH_HOSTS" --hours "$BENCH_HOURS" --end "$end_ms" \
		--batch "$BENCH_BATCH" --senders "$BENCH_SENDERS" --jitter-ms "$BENCH_JITTER_MS" --token "$TOKEN" \
		--query-runs "$BENCH_QUERY_RUNS" --settle-timeout "$BENCH_SETTLE_TIMEOUT" \
		--load-timeout "$BENCH_LOAD_TIMEOUT" --out "$run_dir/$name.json" &
	loadgen_pid=$!
	wait "$loadgen_pid" && rc=0 || rc=$?
	loadgen_pid=""
	if ((rc != 0)); then
		failed+=("$name")
		log "measuring $name failed; last lines of its log ($run_dir/$name.log):"
		tail -n 20 "$run_dir/$name.log" >&2
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		failed+=("$name (exited during the run)")
		log "$name exited during the run; see $run_dir/$name.log"
	fi
	log "stopping $name"
	stop_server
	rm -rf "$server_data"
done

"$loadgen" report --dir "$run_dir" "${labels[@]}" || die "no results to report (see the logs in $run_dir)"
cp "$run_dir/results.md" "$BENCH_RESULTS/latest.md"
cp "$run_dir/results.json" "$BENCH_RESULTS/latest.json"
log "results: $run_dir (also $BENCH_RESULTS/latest.md and latest.json)"
if ((${#failed[@]})); then
	die "failed: ${failed[*]}"
fi
