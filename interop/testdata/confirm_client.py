"""Answers psgate's -Confirm prompts with pypsrp's own host classes.

Usage: python confirm_client.py SCENARIO
Environment as pypsrp_client.py. The runspace pool is given a
pypsrp.host.PSHost whose PSHostUserInterface answers PromptForChoice from a
list, so pypsrp announces a host with a UI in CREATE_PIPELINE's HostInfo and
answers the gateway's PIPELINE_HOST_CALL with a PIPELINE_HOST_RESPONSE on the
"pr" stream (pypsrp/powershell.py _process_host_call). Prints one JSON
object; the Go test (interop/confirm_pypsrp_test.go) asserts, and checks what
the widget backend received.
"""
import json
import sys

from pypsrp.host import PSHost, PSHostUserInterface
from pypsrp.powershell import PowerShell, RunspacePool

from pypsrp_client import wsman, prop


class AnsweringUI(PSHostUserInterface):
    """A UI whose user answers the prompts with the given choice indexes."""

    def __init__(self):
        super().__init__()
        self.answers = []
        self.prompts = []

    def PromptForChoice(self, runspace, pipeline, caption, message, choices, default_choice):
        self.prompts.append({
            "caption": caption, "message": message, "default": default_choice,
            "choices": [[prop(c, "label"), prop(c, "helpMessage")] for c in choices],
        })
        return self.answers.pop(0)


def run(pool, script):
    ps = PowerShell(pool)
    ps.add_script(script)
    out = ps.invoke()
    errs = [{"message": str(e), "fqid": e.fq_error} for e in ps.streams.error]
    return out, errs, ps


def sizes(pool):
    out, _, _ = run(pool, "Get-Widget")
    return {str(prop(o, "Id")): prop(o, "Size") for o in out}


def widgets_confirm():
    ui = AnsweringUI()
    host = PSHost(None, None, False, "confirm-test", None, ui, "1.0")
    res = {}
    with RunspacePool(wsman(), host=host) as pool:
        for name in ["Alpha", "Beta", "Gamma"]:
            run(pool, "New-Widget -Name %s -Color Red -Size 2" % name)
        res["start"] = sizes(pool)
        # No: the widget keeps its size.
        ui.answers = [2]
        _, res["no_errors"], _ = run(pool, "Set-Widget w-1 -Size 5 -Confirm")
        res["after_no"] = sizes(pool)
        # Yes: it changes.
        ui.answers = [0]
        out, res["yes_errors"], _ = run(pool, "Set-Widget w-1 -Size 5 -Confirm")
        res["yes_output"] = [prop(o, "Size") for o in out]
        res["after_yes"] = sizes(pool)
        # Over a pipeline: No for w-1, then Yes to All for the rest.
        ui.answers = [2, 1]
        _, res["all_errors"], _ = run(pool, "Get-Widget | Set-Widget -Size 7 -Confirm")
        res["after_all"] = sizes(pool)
        # A choice that is not offered stops the command.
        ui.answers = [9]
        _, res["bad_errors"], _ = run(pool, "Set-Widget w-1 -Size 9 -Confirm")
        res["after_bad"] = sizes(pool)
    res["prompts"] = ui.prompts
    return res


def no_host():
    with RunspacePool(wsman()) as pool:
        run(pool, "New-Widget -Name Alpha -Color Red -Size 2")
        _, errs, _ = run(pool, "Set-Widget w-1 -Size 5 -Confirm")
        return {"errors": errs, "after": sizes(pool)}


SCENARIOS = {f.__name__: f for f in [widgets_confirm, no_host]}

if __name__ == "__main__":
    json.dump(SCENARIOS[sys.argv[1]](), sys.stdout, default=str)
