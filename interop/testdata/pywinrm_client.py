"""Drives a psgate server with pywinrm (the real client from PyPI).

Usage: python pywinrm_client.py SCENARIO
Environment: PSGATE_URL (…/wsman endpoint), PSGATE_USER, PSGATE_PASSWORD.
Prints one JSON object with what the scenario observed; the Go test asserts.
"""
import base64
import json
import os
import sys
import time

import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMTransportError
from winrm.protocol import Protocol

URL = os.environ["PSGATE_URL"]
USER = os.environ["PSGATE_USER"]
PASSWORD = os.environ["PSGATE_PASSWORD"]


def session():
    return winrm.Session(URL, auth=(USER, PASSWORD), transport="plaintext",
                         server_cert_validation="ignore")


def protocol(password=PASSWORD, **kw):
    return Protocol(endpoint=URL, transport="plaintext", username=USER, password=password,
                    server_cert_validation="ignore", **kw)


def result(r):
    return {"stdout": r.std_out.decode("utf-8", "replace"),
            "stderr": r.std_err.decode("utf-8", "replace"),
            "status": r.status_code}


def run_cmd():
    return result(session().run_cmd("Get-CsTenant"))


def run_cmd_args():
    # pywinrm joins arguments with spaces into one rsp:Arguments element.
    return result(session().run_cmd("Get-CsOnlineUser", ["-Identity", "alice@contoso.test"]))


def run_ps():
    return result(session().run_ps("Get-CsOnlineUser | Select-Object -First 2 | Format-List DisplayName,UserPrincipalName"))


def failing():
    return result(session().run_cmd("Get-Nope"))


def failing_ps():
    return result(session().run_ps("Get-Nope"))


def os_process():
    return result(session().run_cmd("ipconfig", ["/all"]))


def long_output():
    return result(session().run_cmd("Get-CsOnlineUser", ["-ResultSize", "5000"]))


def protocol_flow():
    """Protocol-level: open, command, output, signal, delete, checking ids."""
    p = protocol()
    shell_id = p.open_shell()
    command_id = p.run_command(shell_id, "Get-CsOnlineUser", ["-Identity", "bob@contoso.test"])
    out, err, code = p.get_command_output(shell_id, command_id)
    p.cleanup_command(shell_id, command_id)  # Signal terminate; asserts RelatesTo
    p.close_shell(shell_id)                 # Delete; asserts RelatesTo
    return {"shell_id": shell_id, "command_id": command_id, "stdout": out.decode(),
            "stderr": err.decode(), "status": code}


def terminate_running():
    """A command waiting on stdin is terminated with Signal; the shell stays usable."""
    # A short operation timeout keeps the test fast: psgate answers an idle
    # Receive with the TimedOut fault before the client's own timeout.
    p = protocol(operation_timeout_sec=2, read_timeout_sec=4)
    shell_id = p.open_shell()
    waiting = p.run_command(shell_id, "powershell", ["-NoProfile", "-Command", "-"])
    # One Receive that times out on the server side (no output yet): pywinrm
    # raises WinRMOperationTimeoutError, which get_command_output would retry.
    timed_out = False
    try:
        p._raw_get_command_output(shell_id, waiting)
    except winrm.exceptions.WinRMOperationTimeoutError:
        timed_out = True
    p.cleanup_command(shell_id, waiting)
    again = p.run_command(shell_id, "Get-CsTenant")
    out, err, code = p.get_command_output(shell_id, again)
    p.cleanup_command(shell_id, again)
    p.close_shell(shell_id)
    return {"timed_out": timed_out, "after_status": code, "after_stdout": out.decode()}


def stdin_script():
    """powershell -Command - reads its script from stdin (Send)."""
    p = protocol()
    shell_id = p.open_shell()
    cid = p.run_command(shell_id, "powershell", ["-Command", "-"])
    p.send_command_input(shell_id, cid, b"Get-CsOnlineUser -Identity carol@contoso.test | Select-Object -ExpandProperty DisplayName\r\n", end=True)
    out, err, code = p.get_command_output(shell_id, cid)
    p.cleanup_command(shell_id, cid)
    p.close_shell(shell_id)
    return {"stdout": out.decode(), "stderr": err.decode(), "status": code}


def bad_password():
    try:
        protocol(password="wrong").open_shell()
    except InvalidCredentialsError as e:
        return {"error": "InvalidCredentialsError", "text": str(e)}
    except WinRMTransportError as e:
        return {"error": "WinRMTransportError", "code": e.code, "text": str(e)}
    return {"error": None}


def unknown_shell():
    p = protocol()
    try:
        p.run_command("11111111-2222-3333-4444-555555555555", "Get-CsTenant")
    except WinRMError as e:
        return {"error": type(e).__name__, "text": str(e)}
    return {"error": None}


SCENARIOS = {f.__name__: f for f in [run_cmd, run_cmd_args, run_ps, failing, failing_ps, os_process,
                                     long_output, protocol_flow, terminate_running, stdin_script,
                                     bad_password, unknown_shell]}

if __name__ == "__main__":
    start = time.monotonic()
    out = SCENARIOS[sys.argv[1]]()
    out["seconds"] = round(time.monotonic() - start, 3)
    json.dump(out, sys.stdout)
