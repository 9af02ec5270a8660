#!/usr/bin/env bash
# Compare builds of the server on this machine's noisy cores: runs
# bench/capacity.sh on each build in turn, ROUNDS times over (so that a
# slow minute of the machine hits every build alike), and prints each
# run's table rows and, for each build and protocol, the medians of its
# commands/s and of the server's and the clients' CPU per request.
#   bench/ab.sh OLD_BINARY NEW_BINARY                # 3 alternations, 100 clients, 6 s
#   ROUNDS=5 CLIENTS=10 DURATION=8s bench/ab.sh a b c
#   AB=clients bench/ab.sh OLD_TOOL NEW_TOOL         # builds of the clients (bench/capacity) instead,
#                                                    # against one server (PSGATE_BIN or bin/psgate)
# Build the binaries first, e.g. `git worktree add /tmp/old <commit>` and
# `go build -o /tmp/psgate-old ./cmd/psgate` (or `./bench/capacity`) there.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,11p' "$0" >&2; exit 2; }
case "${AB:-server}" in
server) var=PSGATE_BIN ;;
clients) var=CAPACITY_BIN ;;
*) echo "AB=$AB: want server or clients" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for round in $(seq "${ROUNDS:-3}"); do
	for bin in "$@"; do
		log=$(env "$var=$bin" DURATION="${DURATION:-6s}" CLIENTS="${CLIENTS:-100}" ROUNDS=1 bench/capacity.sh 2>&1) || {
			echo "$log" | tail -20 >&2
			echo "ab: $bin failed in round $round" >&2
			exit 1
		}
		echo "$log" | grep -E '^\| (winrs|psrp) ' | sed "s#^#$bin #" | tee -a "$rows"
	done
done
echo
echo "medians over ${ROUNDS:-3} rounds: commands/s, server CPU per request, client CPU per request:"
# median FIELD: the median of column FIELD (awk -F'|' numbering) of stdin.
median() { awk -F'|' -v f="$1" '{print $f+0}' | sort -n | awk '{v[NR]=$1} END {if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
for bin in "$@"; do
	for proto in winrs psrp; do
		for n in $(awk -F'|' '{print $3+0}' "$rows" | sort -nu); do
			# Row: BIN | protocol | clients | req/s | cmd/s | … | server CPU/req psgate (14) | … | client CPU/req psgate (17) | …
			r=$(grep -F "$bin | $proto | $n |" "$rows") || continue
			printf "%-32s %-6s %4d clients %7d cmd/s %5d µs %5d µs\n" "$bin" "$proto" "$n" \
				"$(median 5 <<<"$r")" "$(median 14 <<<"$r")" "$(median 17 <<<"$r")"
		done
	done
done
