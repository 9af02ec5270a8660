# Shared set-up for the scripts in this folder. Sourced, not run.
# Installs what psgate needs on a Debian machine, as root (or with sudo).
#
# Every tool the project builds or checks with is installed into the
# checkout's own .tools/ directory, at the version pinned here, and only
# that copy is used: a tool that happens to be on the machine already (a Go
# in /usr/local/go, a staticcheck in ~/go/bin) is never picked up, so a
# missing install step fails here the same way it would on a new machine.

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO_VERSION=$(awk '/^go [0-9]/ {print $2}' "$ROOT/go.mod")
TOOLS="$ROOT/.tools"

# Pinned tools. The Go module proxy serves releases by their semver tags
# (staticcheck 2026.2.2 is v0.8.2); a release name such as 2026.2.2 is
# refused there.
STATICCHECK_MODULE=honnef.co/go/tools/cmd/staticcheck@v0.8.2
PYTHON_PACKAGES=(pywinrm==0.5.0 pypsrp==0.9.1)

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

# apt_install PKG...: installs the Debian packages that are missing.
apt_install() {
	local missing=()
	for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "==> installing Debian packages: ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_go puts the Go toolchain of go.mod's version, installed in
# .tools/go<version>, first on PATH. Debian's golang-go is too old, so the
# toolchain comes from the Go module proxy, where Go publishes it as the
# module golang.org/toolchain (the same download `GOTOOLCHAIN=auto` does).
ensure_go() {
	local dir="$TOOLS/go$GO_VERSION"
	export GOTOOLCHAIN=local
	if [ ! -x "$dir/bin/go" ]; then
		apt_install curl unzip ca-certificates
		local arch; arch=$(dpkg --print-architecture)
		local proxy="${GOPROXY:-https://proxy.golang.org}"; proxy=${proxy%%,*}
		case "$proxy" in direct | off) proxy=https://proxy.golang.org ;; esac
		local zip="$dir.zip"
		echo "==> installing Go $GO_VERSION into .tools (module golang.org/toolchain from $proxy)"
		mkdir -p "$TOOLS"
		curl -fsSL -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$arch.zip"
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		unzip -q "$zip" -d "$dir.tmp"
		rm -rf "$dir" && mv "$dir.tmp/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" "$dir"
		rm -rf "$dir.tmp" "$zip"
	fi
	export PATH="$dir/bin:$PATH"
	local have; have=$(go env GOVERSION)
	if [ "$have" != "go$GO_VERSION" ] || [ "$(command -v go)" != "$dir/bin/go" ]; then
		echo "Go $GO_VERSION was not installed into $dir (found $have at $(command -v go))" >&2
		return 1
	fi
}

# ensure_tools installs the Go tools the checks use into .tools/bin, at the
# pinned versions, every time (a no-op rebuild when they are current), and
# puts that directory first on PATH.
ensure_tools() {
	echo "==> installing $STATICCHECK_MODULE into .tools/bin"
	GOBIN="$TOOLS/bin" go install "$STATICCHECK_MODULE"
	export PATH="$TOOLS/bin:$PATH"
}

# ensure_python_clients creates .venv with the pinned pywinrm and pypsrp
# (the stock clients the interop tests drive) and exports PSGATE_PYTHON.
ensure_python_clients() {
	apt_install python3 python3-venv ca-certificates
	if ! "$ROOT/.venv/bin/python" -c 'import winrm, pypsrp' 2>/dev/null ||
		! "$ROOT/.venv/bin/pip" freeze 2>/dev/null | grep -qx "${PYTHON_PACKAGES[0]}"; then
		echo "==> installing ${PYTHON_PACKAGES[*]} into .venv"
		rm -rf "$ROOT/.venv"
		/usr/bin/python3 -m venv "$ROOT/.venv"
		"$ROOT/.venv/bin/pip" install -q --disable-pip-version-check "${PYTHON_PACKAGES[@]}"
	fi
	export PSGATE_PYTHON="$ROOT/.venv/bin/python"
}

# start_bench_server PORT [LOG_LEVEL [SERVE_FLAG…]]: runs a throw-away
# `psgate serve` on 127.0.0.1:PORT (plain HTTP, demo password
# bench-Pa55word) with a fresh data directory in $data, its pid in $pid,
# both cleaned up on exit (and bench_cleanup, if the script defines it);
# returns once it answers. The binary is $PSGATE_BIN if set, else
# bin/psgate built from this checkout. For the bench scripts.
start_bench_server() {
	local port=$1 level=${2:-warn}
	shift $(($# < 2 ? $# : 2))
	local bin=${PSGATE_BIN:-}
	if [ -z "$bin" ]; then
		go build -o "$ROOT/bin/psgate" "$ROOT/cmd/psgate"
		bin=$ROOT/bin/psgate
	fi
	data=$(mktemp -d)
	trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"; if declare -F bench_cleanup >/dev/null; then bench_cleanup; fi' EXIT
	PSGATE_BOOTSTRAP_PASSWORD=bench-Pa55word "$bin" serve --data "$data" \
		--http "127.0.0.1:$port" --https "" --log-level "$level" "$@" >/dev/null &
	pid=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/wsman" && return 0; sleep 0.1; done
	echo "psgate serve did not answer on 127.0.0.1:$port" >&2
	return 1
}
