#!/usr/bin/env bash
# Idle runspace pools: starts a throw-away psgate server, raises the demo
# tenant's quotas, opens N idle PSRP pools (default 10000) with
# bench/poolmem and prints the gateway's resident memory before and after,
# and per pool, plus the pool-open latency. Target: 10,000 pools in ≤ 1 GiB.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
ensure_go
cd "$ROOT"
N=${N:-10000}
go build -o bin/poolmem ./bench/poolmem
start_bench_server 15985
./bin/psgate tenant set-policy contoso --data "$data" --max-shells-per-user $((N + 10)) \
	--max-shells-per-tenant $((N + 10)) --max-creations-per-minute 0 --idle-timeout 60m >/dev/null
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
before=$(rss)
fifo=$(mktemp -u); mkfifo "$fifo"; out=$(mktemp)
./bin/poolmem -url http://127.0.0.1:15985/powershell -password bench-Pa55word -n "$N" <"$fifo" >"$out" &
pm=$!
exec 3>"$fifo"   # keeps poolmem's stdin open, so it holds the pools
until grep -q '^opened' "$out"; do
	kill -0 "$pm" 2>/dev/null || { cat "$out"; exit 1; }
	sleep 1
done
sleep 2
after=$(rss)
cat "$out" | head -1
echo "gateway RSS: before ${before} KiB, with $N idle pools ${after} KiB: $(( (after - before) / N )) KiB per pool"
exec 3>&-
wait "$pm" || true
rm -f "$fifo" "$out"
