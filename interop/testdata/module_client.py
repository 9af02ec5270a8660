"""Drives psgate's module cmdlets (examples/widgets) with pypsrp.

Usage: python module_client.py SCENARIO
Environment as pypsrp_client.py. Prints one JSON object; the Go test
(interop/module_pypsrp_test.go) asserts, and checks what the backend saw.
"""
import json
import sys
import time

from pypsrp.complex_objects import GenericComplexObject
from pypsrp.powershell import PowerShell, RunspacePool

from pypsrp_client import wsman, prop, errors


def record(ps):
    if not ps.streams.error:
        return None
    e = ps.streams.error[0]
    return {"fqid": e.fq_error, "category": e.category, "reason": e.reason, "message": str(e),
            "target": e.target_name, "state": str(ps.state), "had_errors": ps.had_errors}


def widgets():
    with RunspacePool(wsman()) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Command").add_parameter("Name", "*-Widget")
        names = sorted(str(prop(c, "Name")) for c in ps.invoke())
        created = []
        for name, color, size in [("Alpha", "Red", 2), ("Beta", "Blue", 5), ("Gamma", "Red", 7)]:
            ps = PowerShell(pool)
            ps.add_cmdlet("New-Widget").add_parameter("Name", name).add_parameter("Color", color) \
                .add_parameter("Size", size).add_parameter("Tags", ["t1", "t2"])
            out = ps.invoke()
            created.append({"id": prop(out[0], "Id"), "types": out[0].types, "errors": errors(ps)})
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Widget").add_parameter("Color", "Red")
        reds = ps.invoke()
        first = reds[0] if reds else None
        owner = prop(first, "Owner") if first is not None else None
        ps = PowerShell(pool)
        ps.add_script("Get-Widget -Color Red | Set-Widget -Size 3 -WhatIf")
        ps.invoke()
        whatif = [str(i.message_data) for i in ps.streams.information]
        ps = PowerShell(pool)
        ps.add_script("Get-Widget -Color Red | Set-Widget -Size 3")
        set_out = ps.invoke()
        ps = PowerShell(pool)
        ps.add_script("Get-Widget w-1 | Format-Table | Out-String")
        table = "".join(str(o) for o in ps.invoke())
        return {
            "names": names, "created": created, "red_count": len(reds),
            "types": first.types if first is not None else None,
            "size": prop(first, "Size"), "created_at": str(prop(first, "CreatedAt")),
            "tags": prop(first, "Tags"),
            "owner_upn": prop(owner, "Upn") if isinstance(owner, GenericComplexObject) else repr(owner),
            "whatif": whatif, "set_sizes": [prop(o, "Size") for o in set_out], "table": table,
        }


def error_classes():
    out = {}
    with RunspacePool(wsman()) as pool:
        for ident in ["w-404", "w-403", "w-409", "w-422", "w-429", "w-503"]:
            ps = PowerShell(pool)
            ps.add_cmdlet("Get-Widget").add_parameter("Id", ident)
            ps.invoke()
            out[ident] = record(ps)
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Widget").add_parameter("Id", "x-1")
        ps.invoke()
        out["pattern"] = record(ps)
    return out


def stop_paging():
    with RunspacePool(wsman()) as pool:
        ps = PowerShell(pool)
        ps.add_cmdlet("Get-Widget")
        ps.begin_invoke()
        time.sleep(1.0)
        stopped_at = time.time()
        ps.stop()
        return {"state": str(ps.state), "stopped_at": stopped_at}


SCENARIOS = {f.__name__: f for f in [widgets, error_classes, stop_paging]}

if __name__ == "__main__":
    json.dump(SCENARIOS[sys.argv[1]](), sys.stdout, default=str)
