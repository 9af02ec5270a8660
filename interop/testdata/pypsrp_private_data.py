"""Opens a runspace pool with pypsrp and prints what it read from the
server's APPLICATION_PRIVATE_DATA as JSON.

Environment: PSGATE_HOST, PSGATE_PORT, PSGATE_USER, PSGATE_PASSWORD (HTTP,
path /powershell, Basic).
"""
import json
import os
import sys

from pypsrp.powershell import RunspacePool
from pypsrp.wsman import WSMan


def main():
    wsman = WSMan(os.environ["PSGATE_HOST"], port=int(os.environ["PSGATE_PORT"]), username=os.environ["PSGATE_USER"],
                  password=os.environ["PSGATE_PASSWORD"], ssl=False, path="powershell", auth="basic", encryption="never")
    with RunspacePool(wsman) as pool:
        state = str(pool.state)
        data = pool.application_private_data.data if pool.application_private_data else {}
        implicit = data.get("ImplicitRemoting") or {}
        skip = implicit.get("CommandsToSkip") if isinstance(implicit, dict) else None
        version = str(data["PSVersionTable"]["PSVersion"]) if "PSVersionTable" in data else None
    json.dump({"state": state, "skip": [str(s) for s in skip] if skip is not None else None, "ps_version": version}, sys.stdout)


if __name__ == "__main__":
    main()
