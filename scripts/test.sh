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

# --- private Redis servers ----------------------------------------------------
# One standalone server (what most tests use), a three-node cluster and a
# master with one sentinel, so the cluster and sentinel paths of the store
# are tested for real too. All on free loopback ports under one temp dir.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sparring-test.XXXXXX")
pids=()
cleanup() {
	local rc=$? pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	# Wait for them so the temp dir is not removed under a live server.
	for pid in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# launch NAME [redis-server options...]: start a server on a random free
# loopback port (retrying another port if it cannot bind) in $tmp/NAME and
# wait for PING; sets PORT. A config file comes first because a sentinel
# needs one it can rewrite.
launch() {
	local name=$1 port pid dir=$tmp/$1
	shift
	mkdir -p "$dir"
	: >"$dir/redis.conf"
	for _ in $(seq 20); do
		# Below Linux's ephemeral range (32768+), where outgoing connections
		# (hundreds during the tests) would collide with a listening port.
		port=$((20000 + RANDOM % 12000))
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
		redis-server "$dir/redis.conf" --port "$port" --bind 127.0.0.1 --protected-mode yes \
			--dir "$dir" --daemonize no --logfile "$dir/redis.log" "$@" &
		pid=$!
		pids+=("$pid")
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			if [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]]; then
				PORT=$port
				return 0
			fi
			sleep 0.1
		done
		log "$name: redis-server on port $port did not answer PING; log follows, trying another port"
		[[ -f $dir/redis.log ]] && cat "$dir/redis.log" >&2
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	log "$name: could not start redis-server"
	return 1
}

# The main server: the same durability as production (PERFORMANCE-NOTES.md),
# AOF with fsync always and no RDB snapshots.
launch standalone --appendonly yes --appendfsync always --save ''
export SPARRING_TEST_REDIS_ADDR="127.0.0.1:$PORT"
export SPARRING_REQUIRE_REDIS=1

cluster=()
for n in 1 2 3; do
	launch "cluster$n" --cluster-enabled yes --cluster-config-file nodes.conf --save '' --appendonly no
	cluster+=("127.0.0.1:$PORT")
done
redis-cli --cluster create "${cluster[@]}" --cluster-replicas 0 --cluster-yes >"$tmp/cluster-create.log" 2>&1 ||
	{ cat "$tmp/cluster-create.log" >&2; log "could not create the test cluster"; exit 1; }
for node in "${cluster[@]}"; do
	for i in $(seq 200); do
		[[ $(redis-cli -h "${node%:*}" -p "${node#*:}" cluster info 2>/dev/null) == *cluster_state:ok* ]] && break
		((i < 200)) || { log "cluster node $node never reached cluster_state:ok"; exit 1; }
		sleep 0.1
	done
done
export SPARRING_TEST_REDIS_CLUSTER_ADDRS
SPARRING_TEST_REDIS_CLUSTER_ADDRS=$(IFS=,; echo "${cluster[*]}")

launch sentinel-master --save '' --appendonly no
master_port=$PORT
launch sentinel --sentinel --sentinel monitor sparring 127.0.0.1 "$master_port" 1
export SPARRING_TEST_REDIS_SENTINEL_ADDRS="127.0.0.1:$PORT"
export SPARRING_TEST_REDIS_SENTINEL_MASTER=sparring
export SPARRING_REQUIRE_REDIS_TOPOLOGIES=1

log "redis-server $(redis-server --version | awk '{print $3}'): standalone $SPARRING_TEST_REDIS_ADDR," \
	"cluster $SPARRING_TEST_REDIS_CLUSTER_ADDRS, sentinel $SPARRING_TEST_REDIS_SENTINEL_ADDRS (dir $tmp)"
# chromium was installed above, so the browser tests (web/e2e) must run, not skip.
export SPARRING_REQUIRE_BROWSER=1

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
