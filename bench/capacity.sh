#!/usr/bin/env bash
# Capacity of one node against the echo floor (bench/capacity): starts a
# throw-away psgate server on loopback (production argon2id costs, default
# limits) and runs the table: WinRS and PSRP commands on open shells at 1,
# 10 and 100 clients, 8 s per run, psgate and the echo floor alternating,
# 3 rounds, medians and ratios.
#   bench/capacity.sh                          # the table, SQLite store
#   STORE=postgres bench/capacity.sh           # the server on PostgreSQL (a fresh database)
#   SOAK=1 bench/capacity.sh                   # 1,000 shells, a command a second each, 10 min
#   IDLE=100000 bench/capacity.sh              # RSS per idle shell (IDLE_PROTOCOL=winrs|psrp)
#   DURATION=3s CLIENTS=1,10 ROUNDS=1 bench/capacity.sh
#   SOAK=1 SHELLS=200 DURATION=60s bench/capacity.sh
#   PSGATE_BIN=/tmp/psgate-base/bin/psgate bench/capacity.sh   # another build of the server
#   CAPACITY_BIN=/tmp/capacity-base bench/capacity.sh          # another build of the clients (bench/capacity)
#   CLIENTS=10 bench/capacity.sh -server-profile /tmp/prof     # and the server's CPU profile of each psgate run
# Extra arguments go to bench/capacity (see -help).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
ensure_go
cd "$ROOT"
PORT=${PORT:-15987}
STORE=${STORE:-sqlite}
# The load generator: this tree's, or another build of it (the clients'
# code, the client package included, compared like the server's).
tool=${CAPACITY_BIN:-bin/capacity}
[ -n "${CAPACITY_BIN:-}" ] || go build -o bin/capacity ./bench/capacity

db="" admin_dsn=""
# Called by start_bench_server's exit trap.
bench_cleanup() { [ -z "$db" ] || psql -q "$admin_dsn" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true; }

store_args=() tool_args=()
case "$STORE" in
sqlite) ;;
postgres)
	source "$ROOT/scripts/postgres.sh"
	start_postgres >/dev/null
	# A fresh database on the local server, dropped on exit.
	admin_dsn=${PG_ADMIN_DSN:-postgres://postgres:psgate@127.0.0.1:5432/postgres?sslmode=disable}
	db=psgate_capacity_$$
	psql -q "$admin_dsn" -c "CREATE DATABASE $db" >/dev/null
	dsn=${admin_dsn/\/postgres\?/\/$db?}
	store_args=(--store "$dsn")
	tool_args=(-store "$dsn")
	;;
*) echo "STORE=$STORE: want sqlite or postgres" >&2; exit 2 ;;
esac
start_bench_server "$PORT" error "${store_args[@]}"
[ "$STORE" = sqlite ] && tool_args=(-data "$data")
echo "server: ${PSGATE_BIN:-bin/psgate} on $STORE"

if [ -n "${IDLE:-}" ]; then
	"$tool" -url "http://127.0.0.1:$PORT" -pid "$pid" "${tool_args[@]}" \
		-idle "$IDLE" -idle-protocol "${IDLE_PROTOCOL:-psrp}" "$@"
elif [ -n "${SOAK:-}" ]; then
	"$tool" -url "http://127.0.0.1:$PORT" -pid "$pid" "${tool_args[@]}" \
		-soak -shells "${SHELLS:-1000}" -duration "${DURATION:-10m}" "$@"
else
	"$tool" -url "http://127.0.0.1:$PORT" -pid "$pid" "${tool_args[@]}" \
		-clients "${CLIENTS:-1,10,100}" -duration "${DURATION:-8s}" -rounds "${ROUNDS:-3}" "$@"
fi
