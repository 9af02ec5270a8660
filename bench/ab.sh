#!/usr/bin/env bash
# Compare builds of the server on this machine's noisy cores: runs
# bench/capacity.sh on each build in turn, ROUNDS times over (so that a
# slow minute of the machine hits every build alike), and prints each
# run's table rows and the median commands/s of each build and protocol.
#   bench/ab.sh OLD_BINARY NEW_BINARY                # 3 alternations, 100 clients, 6 s
#   ROUNDS=5 CLIENTS=10 DURATION=8s bench/ab.sh a b c
# Build the binaries first, e.g. `git worktree add /tmp/old <commit>` and
# `go build -o /tmp/psgate-old ./cmd/psgate` there.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
cd "$(dirname "$0")/.."
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for round in $(seq "${ROUNDS:-3}"); do
	for bin in "$@"; do
		log=$(PSGATE_BIN=$bin DURATION=${DURATION:-6s} CLIENTS=${CLIENTS:-100} ROUNDS=1 bench/capacity.sh 2>&1) || {
			echo "$log" | tail -20 >&2
			echo "ab: $bin failed in round $round" >&2
			exit 1
		}
		echo "$log" | grep -E '^\| (winrs|psrp) ' | sed "s#^#$bin #" | tee -a "$rows"
	done
done
echo
echo "median commands/s over ${ROUNDS:-3} rounds:"
for bin in "$@"; do
	for proto in winrs psrp; do
		# Row: BIN | protocol | clients | req/s | cmd/s | …
		grep -F "$bin | $proto |" "$rows" | awk -F'|' '{print $5+0}' | sort -n |
			awk -v b="$bin" -v p="$proto" '{v[NR]=$1} END {if (NR) printf "%-40s %-6s %8d\n", b, p, (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'
	done
done
