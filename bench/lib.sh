# Shared by the bench/*/run.sh scripts; they define log and
# BENCH_STOP_TIMEOUT before sourcing it.

# stop_pid NAME PID stops a process the script started: SIGTERM, then
# SIGKILL if it is still there after BENCH_STOP_TIMEOUT seconds; then reaps
# it. An empty PID does nothing.
stop_pid() {
	local name=$1 pid=$2 i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < BENCH_STOP_TIMEOUT * 4; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.25
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name (pid $pid) did not stop within ${BENCH_STOP_TIMEOUT}s of SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# need_server_bin makes sure SAYPRO_BIN exists: the repository's own
# bin/saypro-monitor is built with make when missing; another path must
# exist. The scripts define die and root.
need_server_bin() {
	[[ -x $SAYPRO_BIN ]] && return 0
	[[ $SAYPRO_BIN == "$root/bin/saypro-monitor" ]] || die "$SAYPRO_BIN not found (SAYPRO_BIN)"
	log "$SAYPRO_BIN not found; running make build"
	make -C "$root" build >&2
}
