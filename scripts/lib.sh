# Shared set-up for scripts/serve.sh and scripts/test.sh. Sourced, not run.
# Installs what psgate needs on a Debian machine, as root (or with sudo).

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO_VERSION=$(awk '/^go [0-9]/ {print $2}' "$ROOT/go.mod")

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

# go_ok: is a Go toolchain at least go.mod's version on PATH?
go_ok() {
	command -v go >/dev/null || return 1
	local have; have=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
	[ "$(printf '%s\n%s\n' "$GO_VERSION" "$have" | sort -V | head -1)" = "$GO_VERSION" ]
}

# ensure_go puts a Go toolchain of go.mod's version on PATH. Debian's
# golang-go is too old, so the toolchain comes from the Go module proxy,
# where Go publishes it as the module golang.org/toolchain (the same
# download `GOTOOLCHAIN=auto` does).
ensure_go() {
	[ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
	local dir="${XDG_CACHE_HOME:-$HOME/.cache}/psgate/go$GO_VERSION"
	[ -x "$dir/bin/go" ] && export PATH="$dir/bin:$PATH"
	go_ok && return 0
	apt_install curl unzip ca-certificates
	local arch; arch=$(dpkg --print-architecture)
	local proxy="${GOPROXY:-https://proxy.golang.org}"; proxy=${proxy%%,*}
	local zip="$dir.zip"
	echo "==> downloading Go $GO_VERSION (module golang.org/toolchain) from $proxy"
	mkdir -p "$(dirname "$dir")"
	curl -fsSL -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$arch.zip"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	unzip -q "$zip" -d "$dir.tmp"
	rm -rf "$dir" && mv "$dir.tmp/golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-$arch" "$dir"
	rm -rf "$dir.tmp" "$zip"
	export PATH="$dir/bin:$PATH"
	go_ok || { echo "Go $GO_VERSION could not be installed" >&2; return 1; }
}
