#!/usr/bin/env bash
# Installs psgate on PATH (scripts/install.sh) and runs `psgate serve` on its
# defaults: HTTP on 127.0.0.1:5985 and HTTPS on 127.0.0.1:5986 (loopback
# only), data in ./psgate-data (the demo tenant "contoso" is created on
# first start). Extra arguments go to `psgate serve`, for example
# `scripts/serve.sh --https :5986` to accept other machines over HTTPS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
out=$("$ROOT/scripts/install.sh" | tee /dev/stderr)
bin=$(printf '%s\n' "$out" | sed -n 's/^==> installed \(.*\) (.*$/\1/p')
cd "$ROOT"
exec "$bin" serve "$@"
