"""The child side of `program.run_program`: one stack's program under set_mocks in this fresh interpreter, as JSON.

Reads the run spec from stdin and prints one JSON line: the registered resources (inputs and outputs in the engine's
wire encoding), the stack outputs (same encoding), the program's error message if it failed, and how long the program
itself ran (without interpreter start-up), for benchmarks.
"""

from __future__ import annotations

import json
import runpy
import sys
import time
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await


def _engine_config(config: dict[str, Any]) -> dict[str, str]:
    # The engine hands every config value to the language host as a string; structured ones JSON-encoded.
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


class AwsMocks(pulumi.runtime.Mocks):
    """Answers as AWS would for the outputs the program reads: ARNs and names. During a preview the ARNs are left
    out, so they stay unknown, as they are in a real preview of resources not yet created."""

    def __init__(self, account_id: str, preview: bool) -> None:
        self.account_id = account_id
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        name = state.get("name", args.name)
        if self.preview:
            return f"{name}-id", state
        if args.typ == "aws:iam/role:Role":
            state["arn"] = f"arn:aws:iam::{self.account_id}:role{state.get('path', '/')}{name}"
        elif args.typ == "aws:iam/policy:Policy":
            state["arn"] = f"arn:aws:iam::{self.account_id}:policy/{name}"
        return f"{name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def _outputs(inputs: dict[str, Any], response: Any) -> dict[str, Any]:
    """What the engine would store as the resource's outputs: the provider's state (here the mock's), with the
    secretness of each input carried over to the output of the same name, as the engine does; plus the id."""
    state = json_format.MessageToDict(response.object)
    outputs = {**state, **{key: value for key, value in inputs.items() if key in state}}
    if response.id:
        outputs["id"] = response.id
    return outputs


class RecordingMonitor(mocks.MockMonitor):
    """The SDK's mock monitor, also keeping each registration as the engine would receive it."""

    def __init__(self, mocks_: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks_)
        self.registrations: list[dict[str, Any]] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if any(registration["urn"] == response.urn for registration in self.registrations):
            # The engine refuses a program that registers one URN twice; so must the tests.
            raise RuntimeError(f"Duplicate resource URN {response.urn!r}")
        if request.type != "pulumi:pulumi:Stack":
            inputs = json_format.MessageToDict(request.object)
            self.registrations.append({
                "type": request.type,
                "name": request.name,
                "urn": response.urn,
                "inputs": inputs,
                "parent_urn": request.parent or None,
                "custom": bool(request.custom),
                "outputs": _outputs(inputs, response),
                "dependencies": list(request.dependencies),
                "property_dependencies": {key: list(dependencies.urns)
                                          for key, dependencies in request.propertyDependencies.items()},
            })
        return response


def main() -> None:
    spec = json.load(sys.stdin)
    allowed = spec["config"].get("aws:allowedAccountIds") or ["000000000000"]
    pulumi.runtime.set_all_config(_engine_config(spec["config"]), spec["secret_keys"])
    aws_mocks = AwsMocks(str(allowed[0]), preview=spec["preview"])
    monitor = RecordingMonitor(aws_mocks)
    mocks.set_mocks(aws_mocks, project=spec["project"], stack=spec["stack"], preview=spec["preview"],
                    monitor=monitor)
    error: str | None = None
    outputs: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        runpy.run_path(str(Path(spec["program"]) / "__main__.py"), run_name="__main__")
        _sync_await(wait_for_rpcs())
        root = pulumi.runtime.get_root_resource()
        struct = _sync_await(rpc.serialize_properties(root.outputs, {}))
        outputs = json_format.MessageToDict(struct)
    except pulumi.RunError as run_error:
        error = str(run_error)
    program_seconds = time.perf_counter() - started
    print(json.dumps({"resources": monitor.registrations, "outputs": outputs, "error": error,
                      "program_seconds": program_seconds}))


if __name__ == "__main__":
    main()
