#!/usr/bin/env bash
# Builds psgate and installs it on PATH: /usr/local/bin as root, else
# ~/.local/bin (PREFIX=/some/dir scripts/install.sh chooses). The Go
# toolchain it builds with is installed into .tools/ first when missing.
#
#   scripts/install.sh              the full binary: serve, operator CLI, connector
#   scripts/install.sh --connector  the connector only (what administrators need)
source "$(dirname "$0")/lib.sh"
tags=()
case "${1:-}" in
"") ;;
--connector) tags=(-tags connector) ;;
*) echo "usage: scripts/install.sh [--connector]" >&2; exit 2 ;;
esac
ensure_go
cd "$ROOT"
if [ -z "${PREFIX:-}" ]; then
	if [ -w /usr/local/bin ]; then PREFIX=/usr/local/bin; else PREFIX="$HOME/.local/bin"; fi
fi
mkdir -p "$PREFIX"
go build -buildvcs=false "${tags[@]}" -o "$PREFIX/psgate.new" ./cmd/psgate
mv -f "$PREFIX/psgate.new" "$PREFIX/psgate"
echo "==> installed $PREFIX/psgate ($("$PREFIX/psgate" --version))"
case ":$PATH:" in
*":$PREFIX:"*) ;;
*) echo "    $PREFIX is not on your PATH: add it (export PATH=\"$PREFIX:\$PATH\") or run $PREFIX/psgate" ;;
esac
