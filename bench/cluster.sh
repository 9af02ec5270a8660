#!/usr/bin/env bash
# The cluster's performance targets (issue 12), in-process nodes on the
# local PostgreSQL (started if PSGATE_TEST_POSTGRES_DSN is unset):
#   - forwarding: a WinRS round trip (Command, Receive, Signal) and a PSRP
#     command on an open shell, sent to its owner directly and through
#     another node (target: forwarding adds ≤ 0.3 ms p50);
#   - admission on PostgreSQL, uncontended: Admitter.Admit alone and a
#     WinRS Create + Delete through a node (target: p50 ≤ 1 ms);
#   - admissions per second across three nodes, concurrent Create + Delete
#     of users in several tenants (target: ≥ 500/s).
# Each benchmark runs COUNT times; the table at the end gives the median
# of every metric over the runs (the raw lines are printed first).
#
#   bench/cluster.sh                        # all three, 5 runs each
#   COUNT=3 FORWARD_N=1000 bench/cluster.sh # quicker
#   ONLY=forward bench/cluster.sh           # forward | admission | rate
#   CLIENTS=30,90,150 TENANTS=1 ONLY=rate bench/cluster.sh
#   PROFILE=/tmp/fwd bench/cluster.sh       # also a CPU profile of the forwarding path
#
# Knobs: COUNT (5) runs per benchmark; FORWARD_N (2000) round trips per
# forwarding run; ADMIT_N (2000) admissions per uncontended run; RATE_N
# (6000) admissions per throughput run; CLIENTS ("30,90") concurrency
# levels of the throughput runs; TENANTS (6) tenants their users belong
# to; POOL (10) PostgreSQL connections per node; USERS (600) users taking
# turns in the Admit run. PROFILE=DIR writes DIR/forward.cpu (WinRS round
# trips through the other node only) and DIR/interop.test, and prints the
# top of the profile.
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
ensure_go
cd "$ROOT"
if [ -z "${PSGATE_TEST_POSTGRES_DSN:-}" ]; then
	source "$ROOT/scripts/postgres.sh"
	start_postgres
fi
COUNT=${COUNT:-5} ONLY=${ONLY:-all}
case "$ONLY" in all | forward | admission | rate) ;; *) echo "ONLY=$ONLY: want forward, admission or rate" >&2; exit 2 ;; esac
export PSGATE_BENCH_POOL=${POOL:-10} PSGATE_BENCH_CLIENTS=${CLIENTS:-30,90}
export PSGATE_BENCH_TENANTS=${TENANTS:-6} PSGATE_BENCH_USERS=${USERS:-600}

bin=$(mktemp -d)
out=$bin/bench.txt
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/interop.test" ./interop

run() { # run REGEX N
	(cd interop && "$bin/interop.test" -test.run '^$' -test.bench "$1" -test.benchtime "$2x" \
		-test.count "$COUNT" -test.timeout 60m) | tee -a "$out"
}
[[ $ONLY = all || $ONLY = forward ]] && run '^BenchmarkClusterForward$' "${FORWARD_N:-2000}"
[[ $ONLY = all || $ONLY = admission ]] && run '^BenchmarkClusterAdmission$' "${ADMIT_N:-2000}"
[[ $ONLY = all || $ONLY = rate ]] && run '^BenchmarkClusterAdmissionRate$' "${RATE_N:-6000}"

echo
echo "medians over $COUNT runs (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
awk '/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i + 1 <= NF; i += 2) {
		key = name SUBSEP $(i + 1)
		if (!(key in n)) { order[++keys] = key }
		v[key, ++n[key]] = $i
	}
}
END {
	for (k = 1; k <= keys; k++) {
		key = order[k]; m = n[key]
		for (i = 1; i <= m; i++) s[i] = v[key, i]
		for (i = 2; i <= m; i++) { x = s[i]; for (j = i - 1; j >= 1 && s[j] > x; j--) s[j + 1] = s[j]; s[j + 1] = x }
		med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
		split(key, p, SUBSEP)
		if (p[1] != last) { printf "%s\n", p[1]; last = p[1] }
		printf "    %-16s %12.1f\n", p[2], med
	}
}' "$out"

if [ -n "${PROFILE:-}" ]; then
	mkdir -p "$PROFILE"
	cp "$bin/interop.test" "$PROFILE/interop.test"
	(cd interop && "$bin/interop.test" -test.run '^$' -test.bench '^BenchmarkClusterForward$/^winrs$/^forwarded$' \
		-test.benchtime "${FORWARD_N:-2000}x" -test.cpuprofile "$PROFILE/forward.cpu") >/dev/null
	echo
	echo "CPU profile of WinRS round trips through the other node (client, both nodes and PostgreSQL driver in one process):"
	go tool pprof -top -nodecount 25 "$PROFILE/interop.test" "$PROFILE/forward.cpu" 2>/dev/null | head -32
	echo "more: go tool pprof -http : $PROFILE/interop.test $PROFILE/forward.cpu"
fi
