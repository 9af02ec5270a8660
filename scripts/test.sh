#!/usr/bin/env bash
# Sets up everything the tests need on a Debian machine and runs the whole
# suite: formatting, vet, staticcheck, the race-enabled tests (including
# pywinrm, pypsrp, masterzen/winrm and go-psrpcore against a running server,
# PostgreSQL, and federation against panva's oidc-provider), the cross-builds,
# the error-docs check and short fuzzing runs.
#
# Set-up installs its tools into the checkout every run and uses only those:
# Go (go.mod's version) and staticcheck into .tools/, pywinrm and pypsrp into
# .venv, and Debian's PostgreSQL server, started for the run. A tool already
# on the machine is never used, so the run fails here if an install step
# would fail on a new machine.
#
# FUZZTIME=30s scripts/test.sh fuzzes longer; SKIP_FUZZ=1 skips fuzzing.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

step() { echo; echo "==> $*"; }

ensure_go
ensure_tools
ensure_python_clients
# systemd-analyze and systemd-sysusers: dist's test checks the systemd unit.
apt_install systemd
# promtool: server's metrics test lints the /metrics exposition with it.
apt_install prometheus
# haproxy: the cluster tests (interop/cluster_lb_test.go) run three nodes
# behind a real HAProxy with dist/haproxy/psgate.cfg, the documented set-up;
# iproute2: one of them cuts a node off from PostgreSQL in a network namespace.
apt_install haproxy iproute2
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
source scripts/postgres.sh
start_postgres
# oidc-provider: the federation tests sign in with tokens of a real OpenID
# Connect provider.
source scripts/oidc-provider.sh
ensure_oidc_provider

step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv/*' -not -path './.tools/*'))
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

step "go mod verify, go mod tidy"
go mod verify
# tidy -diff prints what tidying would change and fails when that is not
# nothing; it also fails, printing no diff, when it cannot reach the module
# proxy, which must not read as "not tidy".
if ! tidy=$(go mod tidy -diff 2>&1); then
	echo "$tidy"
	if grep -q '^@@' <<<"$tidy"; then
		echo "go.mod or go.sum is not tidy (the changes are above): run \`go mod tidy\` and commit go.mod and go.sum"
	else
		echo "go mod tidy -diff could not check go.mod and go.sum (the error is above)"
	fi
	exit 1
fi

step "go vet"
go vet ./...

step "staticcheck ($(staticcheck -version))"
staticcheck ./...

step "cross-builds (windows, darwin, freebsd) and the connector-only build"
GOOS=windows GOARCH=amd64 go build ./...
GOOS=darwin GOARCH=arm64 go build ./...
GOOS=freebsd GOARCH=amd64 go build ./...
go vet -tags connector ./cmd/psgate
GOOS=windows GOARCH=amd64 go build -tags connector -o /dev/null ./cmd/psgate

step "go test -race (a line per package as it ends; a line every 30 s naming what still runs)"
go build -o "$TOOLS/bin/testprogress" ./internal/cmd/testprogress
set +e
go test -race -count=1 -timeout 20m -json ./... 2>&1 | "$TOOLS/bin/testprogress"
status=("${PIPESTATUS[@]}")
set -e
if [ "${status[0]}" != 0 ] || [ "${status[1]}" != 0 ]; then
	echo "go test failed (go test exit ${status[0]}, report exit ${status[1]})"
	exit 1
fi

if [ -z "${SKIP_FUZZ:-}" ]; then
	step "fuzzing (short runs; longer: FUZZTIME=5m scripts/test.sh)"
	# 5 s per target keeps the whole suite well inside CI's budget; the corpus
	# in testdata/fuzz is replayed by go test above anyway.
	FUZZTIME="${FUZZTIME:-5s}"
	for pkg in $(go list ./...); do
		dir=$(go list -f '{{.Dir}}' "$pkg")
		for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
			echo "--- $pkg $target"
			if ! go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime=2s "$pkg" >/tmp/psgate-fuzz.log 2>&1; then
				# A finding always leaves a failing input (and usually a panic);
				# Go's fuzz coordinator sometimes ends a short run with a bare
				# "context deadline exceeded" while minimising, which is not one.
				if grep -q "Failing input written\|panic:" /tmp/psgate-fuzz.log; then
					cat /tmp/psgate-fuzz.log; echo "fuzz target $target in $pkg found a failure"; exit 1
				fi
				echo "    (the fuzz engine stopped early without a finding: $(grep -m1 -o 'context deadline exceeded\|[a-z][a-z ]*timed out' /tmp/psgate-fuzz.log || echo 'see below'))"
				grep -q 'context deadline exceeded' /tmp/psgate-fuzz.log || tail -5 /tmp/psgate-fuzz.log
			fi
		done
	done
fi

step "all checks passed"
