"""Attempts to open shells on a psgate server with pywinrm and pypsrp (the
real clients from PyPI) and reports what each client surfaces when the
server refuses.

Usage: python refusals_client.py SCENARIO
Environment: PSGATE_URL (…/wsman endpoint, for pywinrm), PSGATE_HOST,
PSGATE_PORT, PSGATE_PATH (for pypsrp), PSGATE_USER, PSGATE_PASSWORD,
PSGATE_SHELL_ID (winrs_command).

Scenarios:
  winrs_open    pywinrm Protocol.open_shell; a shell it opens stays open
  winrs_ntlm    the same with transport='ntlm'
  winrs_command pywinrm run_command in the existing shell PSGATE_SHELL_ID
  psrp_open     pypsrp RunspacePool.open; a pool it opens stays open
  psrp_old_version  psrp_open announcing protocol version 2.1
  psrp_wait     pypsrp opens a pool, prints one JSON line, waits for a line
                on stdin, then runs Get-CsTenant in the pool

Each prints one JSON object per outcome: {"ok": true, "shell_id": …} or
{"ok": false, "error": <exception class>, "shown": str(exception),
"text": <fault reason, else str(exception)>, "code": <WSManFault code>,
"http": <HTTP status>, "subcode": <fault subcode>} (the last three when the
client exposes them).
"""
import json
import os
import sys

import pypsrp.powershell
from winrm.exceptions import WinRMError, WinRMTransportError
from winrm.exceptions import WSManFaultError as WinRMFault
from winrm.protocol import Protocol
from pypsrp.exceptions import AuthenticationError
from pypsrp.exceptions import WSManFaultError as PSRPFault
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

USER = os.environ["PSGATE_USER"]
PASSWORD = os.environ["PSGATE_PASSWORD"]


def protocol(transport="plaintext"):
    return Protocol(endpoint=os.environ["PSGATE_URL"], transport=transport, username=USER, password=PASSWORD,
                    server_cert_validation="ignore")


def wsman():
    return WSMan(os.environ.get("PSGATE_HOST", "127.0.0.1"), port=int(os.environ["PSGATE_PORT"]), username=USER,
                 password=PASSWORD, ssl=False, path=os.environ.get("PSGATE_PATH", "wsman"), auth="basic",
                 encryption="never", cert_validation=False)


def refused(e):
    """What a client exception shows: its class, str(e) as a script would
    print it, the fault reason and WSManFault code where the client
    exposes them, and the HTTP status where it keeps one."""
    out = {"ok": False, "error": type(e).__name__, "shown": str(e), "text": str(e)}
    if isinstance(e, PSRPFault):
        # pypsrp: .reason is f:Message (or s:Reason), .code the WSManFault
        # code.
        out.update(text=e.reason, code=e.code)
    elif isinstance(e, WinRMFault):
        # pywinrm: .reason is s:Reason, .wsman_fault_code the WSManFault
        # code, .code the HTTP status.
        out.update(text=e.reason, code=e.wsman_fault_code, http=e.code, subcode=e.fault_subcode)
    elif isinstance(e, (WinRMTransportError, WinRMError)):
        out["http"] = e.code
    return out


def winrs_open(transport="plaintext"):
    try:
        shell_id = protocol(transport).open_shell()
    except (WinRMError, WinRMTransportError) as e:
        return refused(e)
    return {"ok": True, "shell_id": shell_id}


def winrs_ntlm():
    return winrs_open("ntlm")


def winrs_command():
    p = protocol()
    try:
        command_id = p.run_command(os.environ["PSGATE_SHELL_ID"], "Get-CsTenant")
        p.get_command_output(os.environ["PSGATE_SHELL_ID"], command_id)
    except (WinRMError, WinRMTransportError) as e:
        return refused(e)
    return {"ok": True}


def open_pool():
    pool = RunspacePool(wsman())
    pool.open()
    return pool


def psrp_open():
    try:
        pool = open_pool()
    except (PSRPFault, AuthenticationError) as e:
        return refused(e)
    return {"ok": True, "shell_id": pool.shell.id}


def psrp_old_version():
    # pypsrp announces PROTOCOL_VERSION in the Create's protocolversion
    # option and SESSION_CAPABILITY; pretend to be a PowerShell 2.0 client.
    pypsrp.powershell.PROTOCOL_VERSION = "2.1"
    return psrp_open()


def psrp_wait():
    try:
        pool = open_pool()
    except (PSRPFault, AuthenticationError) as e:
        return refused(e)
    print(json.dumps({"ok": True, "shell_id": pool.shell.id}), flush=True)
    sys.stdin.readline()
    try:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-CsTenant")
        ps.invoke()
    except (PSRPFault, AuthenticationError) as e:
        return refused(e)
    return {"ok": True, "state": str(pool.state)}


SCENARIOS = {f.__name__: f for f in [winrs_open, winrs_ntlm, winrs_command, psrp_open, psrp_old_version, psrp_wait]}

if __name__ == "__main__":
    json.dump(SCENARIOS[sys.argv[1]](), sys.stdout, default=str)
