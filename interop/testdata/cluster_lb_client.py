"""A pypsrp client that keeps one runspace pool open and runs one command
every PSGATE_EVERY seconds until the file PSGATE_STOP_FILE exists; for the
cluster tests (interop/cluster_lb_test.go), which restart and kill gateway
nodes meanwhile.

Environment: PSGATE_HOST, PSGATE_PORT, PSGATE_PATH, PSGATE_USER,
PSGATE_PASSWORD, PSGATE_STOP_FILE, PSGATE_EVERY (seconds, default 1).
Prints one JSON object a line: {"shell": ID} once the pool is open, then
{"ok": true} or {"ok": false, "error": TEXT} for each command, then
{"end": true} (or {"end": false, "error": TEXT} when close failed).
"""
import json
import os
import sys
import time

from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan


def emit(**kw):
    sys.stdout.write(json.dumps(kw, default=str) + "\n")
    sys.stdout.flush()


def main():
    wsman = WSMan(os.environ.get("PSGATE_HOST", "127.0.0.1"), port=int(os.environ["PSGATE_PORT"]),
                  username=os.environ["PSGATE_USER"], password=os.environ["PSGATE_PASSWORD"], ssl=False,
                  path=os.environ.get("PSGATE_PATH", "powershell"), auth="basic", encryption="never")
    stop = os.environ["PSGATE_STOP_FILE"]
    every = float(os.environ.get("PSGATE_EVERY", "1"))
    pool = RunspacePool(wsman)
    pool.open()
    emit(shell=str(pool.id).upper())
    due = time.monotonic()
    while not os.path.exists(stop):
        try:
            ps = PowerShell(pool)
            ps.add_cmdlet("Get-CsTenant")
            out = ps.invoke()
            if ps.had_errors or len(out) != 1:
                emit(ok=False, error="Get-CsTenant: %d objects, errors %s" % (len(out), [str(e) for e in ps.streams.error]))
            else:
                emit(ok=True)
        except Exception as e:  # every failure is reported, none ends the loop
            emit(ok=False, error="%s: %s" % (type(e).__name__, e))
        due += every
        while time.monotonic() < due and not os.path.exists(stop):
            time.sleep(0.05)
    try:
        pool.close()
        emit(end=True)
    except Exception as e:
        emit(end=False, error="%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
