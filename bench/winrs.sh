#!/usr/bin/env bash
# End-to-end WinRS latency on loopback: starts a throw-away psgate server,
# then runs bench/wsbench against it (p50/p99 and requests per second for a
# command round trip and for shell Create+Delete). N=5000 bench/winrs.sh
# for more iterations.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
ensure_go
cd "$ROOT"
go build -o bin/wsbench ./bench/wsbench
start_bench_server 15985
# Each run opens many shells a minute: lift the creation rate limit.
./bin/psgate tenant set-policy contoso --max-creations-per-minute 0 --data "$data" >/dev/null
for run in 1 2 3; do
	echo "run $run"
	./bin/wsbench -url http://127.0.0.1:15985/wsman -password bench-Pa55word -n "${N:-2000}"
done
