"""Runs one PowerShell script with pypsrp (the real client from PyPI) on a
psgate server and reports what the client received: for the federation
interop tests, which sign in with a token of an OpenID Connect provider.

Usage: python federation_client.py run
Environment: PSGATE_HOST, PSGATE_PORT, PSGATE_USER, PSGATE_PASSWORD
("Bearer <token>" for a token), PSGATE_SCRIPT.

Prints one JSON object: {"refused": <exception class>, "text": ...} when
the pool cannot be opened, else {"output": [...], "errors": [...],
"fqids": [...], "warnings": [...], "had_errors": bool}; an output object
is a map of its properties.
"""
import json
import os
import sys

from pypsrp.complex_objects import GenericComplexObject
from pypsrp.exceptions import AuthenticationError, WSManFaultError
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan


def value(v):
    if isinstance(v, GenericComplexObject):
        if v.adapted_properties or v.extended_properties:
            props = dict(v.adapted_properties)
            props.update(v.extended_properties)
            return {k: value(x) for k, x in props.items()}
        if v.to_string is not None:
            return v.to_string
        return value(v.value) if v.value is not None else None
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): value(x) for k, x in v.items()}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def run():
    wsman = WSMan(os.environ["PSGATE_HOST"], port=int(os.environ["PSGATE_PORT"]), username=os.environ["PSGATE_USER"],
                  password=os.environ["PSGATE_PASSWORD"], ssl=False, path="wsman", auth="basic", encryption="never",
                  cert_validation=False)
    try:
        with RunspacePool(wsman) as pool:
            ps = PowerShell(pool)
            ps.add_script(os.environ["PSGATE_SCRIPT"])
            out = ps.invoke()
            return {
                "output": [value(o) for o in out],
                "errors": [str(e) for e in ps.streams.error],
                "fqids": [e.fq_error for e in ps.streams.error],
                "warnings": [str(w.message) for w in ps.streams.warning],
                "had_errors": ps.had_errors,
            }
    except (AuthenticationError, WSManFaultError) as e:
        return {"refused": type(e).__name__, "text": str(e)}


if __name__ == "__main__":
    if sys.argv[1:] != ["run"]:
        sys.exit("usage: federation_client.py run")
    json.dump(run(), sys.stdout, default=str)
