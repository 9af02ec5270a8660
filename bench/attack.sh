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
#   CONTROL=1 bench/attack.sh                    # control: the attack goes to a second server on this
#                                                # machine; what its load alone costs the clients
# Extra arguments go to bench/attack (e.g. -attack-conns 500 -think 1s).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
ensure_go
cd "$ROOT"
PORT=${PORT:-15986}
go build -o bin/attack ./bench/attack
start_bench_server "$PORT" error
control_args=()
if [ -n "${CONTROL:-}" ]; then
	# The control run's target: a second server on this machine that
	# takes the whole attack while the first serves the clients.
	cport=$((PORT + 1)) cdata=$(mktemp -d)
	PSGATE_BOOTSTRAP_PASSWORD=bench-Pa55word "${PSGATE_BIN:-bin/psgate}" serve --data "$cdata" \
		--http "127.0.0.1:$cport" --https "" --admin-listen "" --log-level error >/dev/null &
	cpid=$!
	bench_cleanup() { kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null; rm -rf "$cdata"; }
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$cport/wsman" && break; sleep 0.1; done
	control_args=(-attack-url "http://127.0.0.1:$cport")
fi
./bin/attack -url "http://127.0.0.1:$PORT" -data "$data" -pid "$pid" \
	-clients "${CLIENTS:-1000}" -duration "${DURATION:-10m}" "${control_args[@]}" "$@"
