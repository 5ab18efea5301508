"""Runs the real `__main__.py` under the real Pulumi SDK with `pulumi.runtime.set_mocks`, as one stack would run.

Config is assembled the way the engine assembles it for `pulumi preview`: the project-level `config:` of Pulumi.yaml
(keys namespaced with the project name, `value:` unwrapped), overlaid by the stack's Pulumi.<stack>.yaml, then by the
test's overrides; structured values reach the program JSON-encoded, as in PULUMI_CONFIG. Secrets (which only a real
passphrase could decrypt from a stack file) are passed by the test in plain text and marked secret, as the engine's
PULUMI_CONFIG_SECRET_KEYS does.

Each run happens in a fresh interpreter: the SDK keeps its runtime state in module globals (root stack, settings,
config), so a subprocess is the only honest way to run the program twice. Resource inputs are recorded in the
engine's wire encoding (secrets wrapped with the secret signature, unknowns as the unknown sentinel), exactly what
the engine later hands a policy pack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_NAME = "partner-access"
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass(frozen=True)
class RecordedResource:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent_urn: str | None
    custom: bool


@dataclass(frozen=True)
class ProgramRun:
    stack: str
    config: dict[str, Any]
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    error: str | None
    program_seconds: float
    secret_keys: tuple[str, ...] = ()

    def of_type(self, resource_type: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == resource_type]

    def one(self, resource_type: str) -> RecordedResource:
        matches = self.of_type(resource_type)
        assert len(matches) == 1, f"expected one {resource_type}, got {[r.name for r in matches]}"
        return matches[0]


def is_secret(value: object) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIGNATURE_KEY) == SECRET_SIGNATURE


def reveal(value: Any) -> Any:
    """The plain value under any secret wrappers, recursively, for assertions on content."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def _namespaced(key: str) -> str:
    return key if ":" in key else f"{PROJECT_NAME}:{key}"


def stack_config(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Project config (Pulumi.yaml), then the stack file, then overrides; keys namespaced, values as YAML typed them."""
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    config: dict[str, Any] = {}
    for key, declared in (project.get("config") or {}).items():
        if isinstance(declared, dict) and "value" in declared:
            config[_namespaced(key)] = declared["value"]
        elif isinstance(declared, dict) and "default" in declared:
            config[_namespaced(key)] = declared["default"]
        elif not isinstance(declared, dict):
            config[_namespaced(key)] = declared
    stack_file = REPO_ROOT / f"Pulumi.{stack}.yaml"
    if stack_file.exists():
        config.update({_namespaced(k): v for k, v in (yaml.safe_load(stack_file.read_text())["config"] or {}).items()})
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(_namespaced(key), None)
        else:
            config[_namespaced(key)] = value
    return config


def provider_inputs(run: ProgramRun, package: str = "aws") -> dict[str, Any]:
    """The default provider's inputs the engine builds from the stack's `<package>:*` config."""
    prefix = f"{package}:"
    return {key[len(prefix):]: value for key, value in run.config.items() if key.startswith(prefix)}


def run_program(
    stack: str,
    *,
    config_overrides: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
    preview: bool = True,
) -> ProgramRun:
    """Runs the program for `stack` in a fresh interpreter; `error` holds the program's failure message, if any."""
    config = stack_config(stack, config_overrides)
    for key, value in (secrets or {}).items():
        config[_namespaced(key)] = value
    spec = {
        "stack": stack,
        "preview": preview,
        "config": config,
        "secret_keys": [_namespaced(key) for key in (secrets or {})],
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "tests")])}
    env.pop("PULUMI_CONFIG", None)
    completed = subprocess.run(
        [sys.executable, "-m", "support._program_child"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"program runner crashed (exit {completed.returncode}):\n{completed.stderr}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return ProgramRun(
        stack=stack,
        config=config,
        resources=[RecordedResource(**resource) for resource in result["resources"]],
        outputs=result["outputs"],
        error=result["error"],
        program_seconds=result["program_seconds"],
        secret_keys=tuple(spec["secret_keys"]),
    )
