#!/usr/bin/env bash
# End-to-end WinRS latency on loopback: starts a throw-away psgate server,
# then runs bench/wsbench against it (p50/p99 and requests per second for a
# command round trip and for shell Create+Delete). N=5000 bench/winrs.sh
# for more iterations.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
ensure_go
cd "$ROOT"
go build -o bin/psgate ./cmd/psgate
go build -o bin/wsbench ./bench/wsbench
data=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
PSGATE_BOOTSTRAP_PASSWORD=bench-Pa55word ./bin/psgate serve --data "$data" --http 127.0.0.1:15985 --https "" --log-level warn >/dev/null &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:15985/wsman && break; sleep 0.1; done
for run in 1 2 3; do
	echo "run $run"
	./bin/wsbench -url http://127.0.0.1:15985/wsman -password bench-Pa55word -n "${N:-2000}"
done
