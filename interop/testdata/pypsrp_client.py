"""Drives a psgate server with pypsrp (the real client from PyPI).

Usage: python pypsrp_client.py SCENARIO
Environment: PSGATE_HOST, PSGATE_PORT, PSGATE_SSL ("1" for HTTPS), PSGATE_PATH,
PSGATE_USER, PSGATE_PASSWORD. Prints one JSON object; the Go test asserts.
"""
import json
import os
import sys
import threading
import time

from pypsrp.client import Client
from pypsrp.complex_objects import GenericComplexObject
from pypsrp.exceptions import WSManFaultError, InvalidPSRPOperation, AuthenticationError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

HOST = os.environ.get("PSGATE_HOST", "127.0.0.1")
PORT = int(os.environ["PSGATE_PORT"])
SSL = os.environ.get("PSGATE_SSL") == "1"
PATH = os.environ.get("PSGATE_PATH", "wsman")
USER = os.environ["PSGATE_USER"]
PASSWORD = os.environ["PSGATE_PASSWORD"]


def wsman(password=PASSWORD, **kw):
    return WSMan(HOST, port=PORT, username=USER, password=password, ssl=SSL, path=PATH, auth="basic",
                 encryption="never" if not SSL else "auto", cert_validation=False, **kw)


def prop(obj, name):
    """A property of a deserialized object, adapted or extended."""
    if isinstance(obj, GenericComplexObject):
        if name in obj.adapted_properties:
            return obj.adapted_properties[name]
        return obj.extended_properties.get(name)
    return getattr(obj, name, None)


def errors(ps):
    return [str(e) for e in ps.streams.error]


def open_close():
    with RunspacePool(wsman()) as pool:
        state_open = str(pool.state)
        version = str(pool.application_private_data.data["PSVersionTable"]["PSVersion"]) if pool.application_private_data else None
    return {"opened": state_open, "closed": str(pool.state), "ps_version": version}


def cmdlet():
    with RunspacePool(wsman()) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-CsOnlineUser").add_parameter("Identity", "alice@contoso.test")
        out = ps.invoke()
        u = out[0]
        return {"count": len(out), "display_name": prop(u, "DisplayName"), "enabled": prop(u, "Enabled"),
                "types": u.types, "had_errors": ps.had_errors, "state": str(ps.state)}


def script():
    with RunspacePool(wsman()) as pool:
        ps = PowerShell(pool)
        ps.add_script("Get-CsOnlineUser | Select-Object -First 2")
        out = ps.invoke()
        return {"count": len(out), "names": [prop(o, "DisplayName") for o in out], "types": out[0].types if out else [],
                "had_errors": ps.had_errors}


def failing():
    with RunspacePool(wsman()) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-CsOnlineUser").add_parameter("Identity", "nobody@contoso.test")
        ps.invoke()
        nonterm = {"had_errors": ps.had_errors, "errors": errors(ps), "state": str(ps.state)}
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Nope")
        ps.invoke()
        err = ps.streams.error[0] if ps.streams.error else None
        term = {"had_errors": ps.had_errors, "errors": errors(ps), "state": str(ps.state),
                "fqid": err.fq_error if err else None,
                "category": err.category if err else None}
        ps = PowerShell(pool)
        ps.add_script("Get-Nope; Get-CsTenant")
        out = ps.invoke()
        script = {"had_errors": ps.had_errors, "errors": errors(ps), "state": str(ps.state), "count": len(out)}
        return {"nonterminating": nonterm, "terminating": term, "script": script}


def stop():
    with RunspacePool(wsman()) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Start-Sleep").add_parameter("Seconds", 30)
        ps.begin_invoke()
        time.sleep(0.5)
        start = time.monotonic()
        ps.stop()
        return {"state": str(ps.state), "stop_seconds": round(time.monotonic() - start, 3)}


def concurrent():
    with RunspacePool(wsman(), max_runspaces=2) as pool:
        a = PowerShell(pool)
        a.add_cmdlet("Start-Sleep").add_parameter("Milliseconds", 700)
        b = PowerShell(pool)
        b.add_cmdlet("Get-CsTenant")
        start = time.monotonic()
        a.begin_invoke()
        b.begin_invoke()
        b.end_invoke()
        b_done = time.monotonic() - start
        a.end_invoke()
        return {"b_seconds": round(b_done, 3), "a_state": str(a.state), "b_state": str(b.state),
                "tenant": prop(b.output[0], "DomainName") if b.output else None}


def many():
    with RunspacePool(wsman()) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-CsOnlineUser").add_parameter("ResultSize", 20000)
        start = time.monotonic()
        out = ps.invoke()
        return {"count": len(out), "last": prop(out[-1], "UserPrincipalName") if out else None,
                "seconds": round(time.monotonic() - start, 3), "had_errors": ps.had_errors}


def pipeline_input():
    with RunspacePool(wsman()) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Measure-Object")
        out = ps.invoke(["a", "b", "c", "d"])
        ps2 = PowerShell(pool)
        ps2.add_cmdlet("Select-Object").add_parameter("First", 2)
        out2 = ps2.invoke(["x", "y", "z"])
        return {"count": prop(out[0], "Count"), "first": out2}


def disconnect_connect():
    pool = RunspacePool(wsman())
    pool.open()
    pool_id = str(pool.id).upper()
    pool.disconnect()
    # A second client (new connection) finds the pool and connects to it.
    other = wsman()
    pools = RunspacePool.get_runspace_pools(other)
    found = [p for p in pools if str(p.id).upper() == pool_id]
    if not found:
        return {"found": False, "ids": [str(p.id) for p in pools]}
    p2 = found[0]
    p2.connect()
    ps = PowerShell(p2)
    ps.add_cmdlet("Get-CsTenant")
    out = ps.invoke()
    p2.close()
    return {"found": True, "state_after_connect": "ok", "count": len(out)}


def execute_ps():
    c = Client(HOST, port=PORT, username=USER, password=PASSWORD, ssl=SSL, path=PATH, auth="basic",
               encryption="never" if not SSL else "auto", cert_validation=False)
    out, streams, had_errors = c.execute_ps("Get-CsOnlineUser -Identity erin@contoso.test | Select-Object DisplayName,Department")
    out2, streams2, had_errors2 = c.execute_ps("Get-Nope")
    return {"output": out, "had_errors": had_errors, "errors2": [str(e) for e in streams2.error], "had_errors2": had_errors2}


def execute_cmd():
    c = Client(HOST, port=PORT, username=USER, password=PASSWORD, ssl=SSL, path=PATH, auth="basic",
               encryption="never" if not SSL else "auto", cert_validation=False)
    stdout, stderr, rc = c.execute_cmd("Get-CsTenant")
    return {"stdout": stdout, "stderr": stderr, "rc": rc}


def bad_password():
    try:
        with RunspacePool(wsman(password="wrong")):
            pass
    except AuthenticationError as e:
        return {"error": "AuthenticationError", "text": str(e)}
    except WSManFaultError as e:
        return {"error": "WSManFaultError", "code": e.code, "text": e.reason}
    return {"error": None}


def command_metadata():
    with RunspacePool(wsman()) as pool:
        md = pool.get_command_metadata(["Get-Cs*"])
        return {"names": sorted(m.name for m in md)}


SCENARIOS = {f.__name__: f for f in [open_close, cmdlet, script, failing, stop, concurrent, many, pipeline_input,
                                     disconnect_connect, execute_ps, execute_cmd, bad_password, command_metadata]}

if __name__ == "__main__":
    out = SCENARIOS[sys.argv[1]]()
    json.dump(out, sys.stdout, default=str)
