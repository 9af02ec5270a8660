#!/usr/bin/env bash
# Sets up everything the tests need on a Debian machine (Go, Python clients
# in .venv, PostgreSQL) and runs the whole suite: formatting, vet,
# staticcheck, the race-enabled tests (including pywinrm, pypsrp,
# masterzen/winrm and go-psrpcore against a running server), the
# cross-builds, the error-docs check and short fuzzing runs.
#
# FUZZTIME=30s scripts/test.sh fuzzes longer; SKIP_FUZZ=1 skips fuzzing.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

apt_install python3 python3-venv ca-certificates
ensure_go
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

# Python clients, pinned, in a project-local virtual environment.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import winrm, pypsrp' 2>/dev/null; then
	echo "==> installing pywinrm and pypsrp into .venv"
	/usr/bin/python3 -m venv .venv 2>/dev/null || python3 -m venv .venv
	.venv/bin/pip install -q --disable-pip-version-check pywinrm==0.5.0 pypsrp==0.9.1
fi
export PSGATE_PYTHON="$ROOT/.venv/bin/python"

if [ -f scripts/postgres.sh ]; then
	source scripts/postgres.sh
	start_postgres
fi

step() { echo; echo "==> $*"; }

step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv/*'))
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

step "go vet"
go vet ./...

step "staticcheck"
STATICCHECK_VERSION=2026.2.2
SC="$(go env GOPATH)/bin/staticcheck"
if ! "$SC" -version 2>/dev/null | grep -q "$STATICCHECK_VERSION"; then
	go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
"$SC" ./...

step "cross-builds (windows, darwin) and the connector-only build"
GOOS=windows GOARCH=amd64 go build ./...
GOOS=darwin GOARCH=arm64 go build ./...
go vet -tags connector ./cmd/psgate
GOOS=windows GOARCH=amd64 go build -tags connector -o /dev/null ./cmd/psgate

step "go test -race"
go test -race -count=1 -timeout 20m ./...

if [ -z "${SKIP_FUZZ:-}" ]; then
	step "fuzzing (short runs; longer: FUZZTIME=5m scripts/test.sh)"
	FUZZTIME="${FUZZTIME:-8s}"
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
