#!/usr/bin/env bash
# Builds psgate and runs `psgate serve` on its defaults: HTTP on
# 127.0.0.1:5985, HTTPS on :5986, data in ./psgate-data (the demo tenant
# "contoso" is created on first start). Extra arguments go to `psgate serve`.
source "$(dirname "$0")/lib.sh"
ensure_go
cd "$ROOT"
mkdir -p bin
go build -o bin/psgate ./cmd/psgate
exec ./bin/psgate serve "$@"
