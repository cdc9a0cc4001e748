#!/usr/bin/env bash
# scripts/test.sh: what `make test` runs. Installs redis-server and chromium
# if missing, starts a throwaway redis-server on a free loopback port, runs
# go vet, go test -race and short fuzz runs against it, and always stops it.
#
# Environment (the Makefile passes these):
#   FUZZ      space-separated pkg:FuzzName pairs, e.g. "./web/protocol:FuzzDecode"
#   FUZZTIME  how long each fuzz target runs (default 10s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZ=${FUZZ-}
FUZZTIME=${FUZZTIME:-10s}

log() { printf 'test.sh: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# --- install what the tests need -------------------------------------------
missing=()
have redis-server || missing+=(redis-server)
have chromium || have chromium-browser || missing+=(chromium)
if ((${#missing[@]})); then
	as_root=()
	if [[ $(id -u) -ne 0 ]]; then
		have sudo || { log "need ${missing[*]} but I am not root and sudo is missing; install them and rerun"; exit 1; }
		# -n: fail instead of waiting for a password nobody can type (CI, no stdin).
		if [[ -t 0 ]]; then as_root=(sudo); else as_root=(sudo -n); fi
	fi
	log "installing ${missing[*]} with apt-get"
	"${as_root[@]}" apt-get update
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
for tool in redis-server redis-cli; do
	have "$tool" || { log "$tool is not on PATH (Debian: apt-get install redis-server, which brings redis-tools)"; exit 1; }
done

# --- a private redis-server --------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sparring-test.XXXXXX")
redis_pid=
cleanup() {
	local rc=$?
	if [[ -n $redis_pid ]] && kill -0 "$redis_pid" 2>/dev/null; then
		kill "$redis_pid" 2>/dev/null || true
		# Wait for it so the temp dir is not removed under a live server.
		for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$redis_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Pick a random high port nobody answers on; if redis-server still cannot
# bind it (a race with another process), try another.
start_redis() {
	local port i
	for _ in $(seq 20); do
		port=$((20000 + RANDOM % 40000))
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
		# Same durability as production (PERFORMANCE-NOTES.md): AOF fsync always,
		# no RDB snapshots.
		redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes \
			--dir "$tmp" --appendonly yes --appendfsync always --save '' \
			--daemonize no --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" &
		redis_pid=$!
		for i in $(seq 50); do
			if ! kill -0 "$redis_pid" 2>/dev/null; then break; fi
			if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
				REDIS_PORT=$port
				return 0
			fi
			sleep 0.1
		done
		log "redis-server on port $port did not answer PING; log follows, trying another port"
		[[ -f $tmp/redis.log ]] && cat "$tmp/redis.log" >&2
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
		redis_pid=
	done
	log "could not start redis-server"
	return 1
}
start_redis
export SPARRING_TEST_REDIS_ADDR="127.0.0.1:$REDIS_PORT"
export SPARRING_REQUIRE_REDIS=1
# chromium was installed above, so the browser tests (web/e2e) must run, not skip.
export SPARRING_REQUIRE_BROWSER=1
log "redis-server $(redis-server --version | awk '{print $3}') pid $redis_pid at $SPARRING_TEST_REDIS_ADDR (dir $tmp)"

# --- the tests -------------------------------------------------------------
log "go vet ./..."
go vet ./...
log "go test -race -count=1 ./..."
go test -race -count=1 ./...

for target in $FUZZ; do
	pkg=${target%%:*}
	name=${target#*:}
	if [[ $pkg == "$target" || -z $pkg || -z $name ]]; then
		log "bad FUZZ entry '$target': want pkg:FuzzName, e.g. ./web/protocol:FuzzDecode"
		exit 1
	fi
	[[ $pkg == ./* ]] || pkg=./$pkg
	log "fuzz $name in $pkg for $FUZZTIME"
	go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$pkg"
done
