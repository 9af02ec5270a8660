#!/usr/bin/env bash
# Whole-process connector latency on loopback: `psgate run 'Get-CsTenant'`
# with a cached token (new process, new connection, new session, one
# command, close) against a throw-away psgate server, timed with hyperfine
# when installed, else a plain loop. Compare with ../shared/bench/ssh-peer.sh
# (ssh-fresh: new connection plus one command to a local OpenSSH server).
# RUNS=200 bench/connector.sh for more iterations. Times both the connector
# build (go build -tags connector) and the full binary.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
ensure_go
cd "$ROOT"
RUNS=${RUNS:-100}
go build -o bin/psgate ./cmd/psgate
# The connector-only build (what administrators install): no server,
# SQLite or PostgreSQL code, so it starts about a millisecond sooner.
go build -tags connector -o bin/psgate-connector ./cmd/psgate
data=$(mktemp -d)
conf=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data" "$conf"' EXIT
port=15995
PSGATE_BOOTSTRAP_PASSWORD=bench-Pa55word ./bin/psgate serve --data "$data" --http 127.0.0.1:$port --https "" --log-level warn >/dev/null &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:$port/wsman && break; sleep 0.1; done
# Benchmarks open many shells a minute: lift the creation rate limit.
./bin/psgate tenant set-policy contoso --max-creations-per-minute 0 --data "$data" >/dev/null
export PSGATE_CONFIG_DIR=$conf
PSGATE_PASSWORD=bench-Pa55word ./bin/psgate login --endpoint http://127.0.0.1:$port/wsman --user admin@contoso.test
unset PSGATE_PASSWORD
./bin/psgate run 'Get-CsTenant' >/dev/null
if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 5 --runs "$RUNS" "./bin/psgate-connector run Get-CsTenant" "./bin/psgate run Get-CsTenant"
else
	python3 - "$RUNS" <<'PY'
import statistics, subprocess, sys, time
runs = int(sys.argv[1])
lat = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(["./bin/psgate-connector", "run", "Get-CsTenant"], check=True, stdout=subprocess.DEVNULL)
    lat.append((time.perf_counter() - t) * 1000)
lat.sort()
print(f"psgate-connector run Get-CsTenant: p50 {statistics.median(lat):.2f} ms, p90 {lat[int(runs*0.9)]:.2f} ms, mean {statistics.mean(lat):.2f} ms over {runs} runs")
PY
fi
