#!/usr/bin/env bash
# The security review's load run: starts a throw-away psgate server on
# loopback (production argon2id costs, default limits), then runs
# bench/attack against it: CLIENTS legitimate clients for DURATION alone,
# then DURATION more with the unauthenticated attacker. It prints p50/p99
# of both phases and their ratio, requests per second, unexpected errors,
# the server's peak RSS and descriptors, and the quota slots left.
#   bench/attack.sh                              # 1,000 clients, 10 min per phase
#   CLIENTS=200 DURATION=60s bench/attack.sh     # reduced
#   bench/attack.sh -partial                     # the half-sent message attack instead (RSS before/peak/after)
# Extra arguments go to bench/attack (e.g. -attack-conns 500 -think 1s).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
ensure_go
cd "$ROOT"
PORT=${PORT:-15986}
go build -o bin/attack ./bench/attack
start_bench_server "$PORT" error
./bin/attack -url "http://127.0.0.1:$PORT" -data "$data" -pid "$pid" \
	-clients "${CLIENTS:-1000}" -duration "${DURATION:-10m}" "$@"
