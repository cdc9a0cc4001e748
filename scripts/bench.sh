#!/usr/bin/env bash
# scripts/bench.sh: what `make bench` runs. Builds sparring, starts a private
# redis-server with the production durability setting (AOF, appendfsync
# always), and for each standard scenario starts a fresh `sparring serve` on
# it and drives it with `sparring loadgen`. Writes a markdown table to
# $BENCH_OUT (default bench-results.md) and prints it.
#
# Everything (load client, server, Redis) shares this machine's cores; the
# figures are for comparing runs on one machine, not absolute capacity.
#
# Environment:
#   BENCH_SESSIONS   sessions for the idle, paced and burst scenarios (10000)
#   BENCH_CLOSED     sessions for the closed loop (1000)
#   BENCH_SECONDS    length of the paced and closed runs (20)
#   BENCH_ONLY       space-separated subset of: idle paced burst closed
#   BENCH_OUT        where to write the table
#   GOGC, GOMEMLIMIT passed to the server (serve has its own defaults)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SESSIONS=${BENCH_SESSIONS:-10000}
CLOSED=${BENCH_CLOSED:-1000}
SECONDS_RUN=${BENCH_SECONDS:-20}
ONLY=${BENCH_ONLY:-idle paced burst closed}
OUT=${BENCH_OUT:-bench-results.md}

log() { printf 'bench.sh: %s\n' "$*" >&2; }
for tool in redis-server redis-cli go; do
	command -v "$tool" >/dev/null || { log "$tool is not on PATH (Debian: apt-get install redis-server)"; exit 1; }
done
# Each connection is a file descriptor on both sides.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < SESSIONS + 512)); then
	log "open-file limit $(ulimit -n) is below $SESSIONS sessions; raise it (ulimit -Hn) or lower BENCH_SESSIONS"
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sparring-bench.XXXXXX")
redis_pid= server_pid=
cleanup() {
	local rc=$?
	[[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[[ -n $redis_pid ]] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

log "go build"
go build -o "$tmp/sparring" ./cmd/sparring
bin=$tmp/sparring

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp" --appendonly yes --appendfsync always \
	--save '' --daemonize no --logfile "$tmp/redis.log" --maxclients 20000 &
redis_pid=$!
for _ in $(seq 100); do [[ $(redis-cli -p "$redis_port" ping 2>/dev/null) == PONG ]] && break; sleep 0.05; done
redis_addr=127.0.0.1:$redis_port

# start_server [VAR=value ...]: a fresh server per scenario, so RSS starts clean.
start_server() {
	stop_server
	http_port=$(free_port)
	env "$@" SPARRING_HTTP_ADDR="127.0.0.1:$http_port" SPARRING_REDIS_ADDRS="$redis_addr" \
		SPARRING_LOG_LEVEL=warn "$bin" serve >"$tmp/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 200); do
		curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	log "server did not start:"; cat "$tmp/server.log" >&2; exit 1
}
stop_server() {
	if [[ -n $server_pid ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}

rows=$tmp/rows
: >"$rows"
# loadgen LABEL ARGS...: one scenario; its markdown rows go to the table.
loadgen() {
	local label=$1
	shift
	log "scenario $label: loadgen $*"
	"$bin" loadgen --url "http://127.0.0.1:$http_port" --server-pid "$server_pid" --redis "$redis_addr" \
		--markdown --label "$label" "$@" | tee "$tmp/out" >&2
	grep '^|' "$tmp/out" >>"$rows" || true
	grep -E '^(ratio|\[sparring\] (redis|server CPU))' "$tmp/out" | sed "s/^/- $label: /" >>"$tmp/notes" || true
}
: >"$tmp/notes"

for s in $ONLY; do
	case $s in
	idle)
		start_server
		loadgen "idle $SESSIONS" --mode idle --sessions "$SESSIONS" --hold 10s --local-ips 64 --dials 32
		;;
	paced)
		start_server
		loadgen "paced $SESSIONS every 2 s ±50%" --mode paced --sessions "$SESSIONS" --think 2s --jitter 0.5 \
			--duration "${SECONDS_RUN}s" --local-ips 64 --dials 32
		;;
	burst)
		start_server
		loadgen "burst $SESSIONS at once ×3" --mode burst --sessions "$SESSIONS" --turns 3 --think 4s --local-ips 64 --dials 32
		;;
	closed)
		# Closed loop replies far faster than a person: lift the per-connection rate limit.
		start_server SPARRING_WS_MESSAGES_PER_SECOND=100000 SPARRING_WS_BURST=100000
		loadgen "closed $CLOSED" --mode closed --sessions "$CLOSED" --duration "${SECONDS_RUN}s" --echo --local-ips 8
		;;
	*) log "unknown scenario $s (use idle paced burst closed)"; exit 1 ;;
	esac
done
stop_server

{
	echo "# sparring bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/{print $2}') GiB;" \
		"$(redis-server --version | awk '{print $1, $3}'), AOF appendfsync always; $(go version | awk '{print $3}');" \
		"load client, server and Redis on the same cores. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "| scenario | target | sessions | turns | turns/s | p50 ms | p95 ms | p99 ms | p99.9 ms | errors | server RSS | KiB/session |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	cat "$rows"
	echo
	cat "$tmp/notes"
} >"$OUT"
cat "$OUT"
