"""One stack's Pulumi program under the real Pulumi SDK with `pulumi.runtime.set_mocks`, as the engine would run it.

Config is assembled the way the engine assembles it for `pulumi preview`: the project-level `config:` of Pulumi.yaml
(keys namespaced with the project name, `value:` or `default:` unwrapped), overlaid by the stack's
Pulumi.<stack>.yaml, then by the caller's overrides; structured values reach the program JSON-encoded, as in
PULUMI_CONFIG. Secrets (which only the stack's secrets provider could decrypt from a stack file) are passed by the
caller in plain text and marked secret, as the engine's PULUMI_CONFIG_SECRET_KEYS does.

The program is the project's `main:` (a path relative to the project directory, as in Pulumi.yaml) or the project
directory itself. Each run happens in a fresh interpreter (`_program_child`): the SDK keeps its runtime state in module
globals (root stack, settings, config), so a subprocess is the only honest way to run a program twice. Resource inputs
are recorded in the engine's wire encoding (secrets wrapped with the secret signature, unknowns as the unknown
sentinel), exactly what the engine later hands a policy pack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime.rpc import UNKNOWN, _special_secret_sig, _special_sig_key

from partner_access.check.files import UnreadableFileError, read_text

# The engine's secret envelope: {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "value": ...} (pulumi.runtime.rpc).
SECRET_SIGNATURE_KEY = _special_sig_key
SECRET_SIGNATURE = _special_secret_sig
__all__ = ["SECRET_SIGNATURE", "SECRET_SIGNATURE_KEY", "UNKNOWN"]

PROJECT_FILE = "Pulumi.yaml"
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]
_PROGRAM_TIMEOUT_SECONDS = 120


class ProjectError(ValueError):
    """The project or stack cannot be run: the message names the file or stack and what is wrong."""


@dataclass(frozen=True)
class Project:
    """A Pulumi project directory: its name, its program directory and its stacks (one Pulumi.<stack>.yaml each)."""

    directory: Path
    name: str
    program_directory: Path
    config: Mapping[str, Any]

    @property
    def stacks(self) -> tuple[str, ...]:
        return tuple(sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml")
                            for path in self.directory.glob("Pulumi.*.yaml")))

    def stack_file(self, stack: str) -> Path:
        return self.directory / f"Pulumi.{stack}.yaml"


@dataclass(frozen=True)
class RecordedResource:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent_urn: str | None
    custom: bool
    outputs: dict[str, Any]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]


@dataclass(frozen=True)
class ProgramRun:
    project: str
    stack: str
    config: dict[str, Any]
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    error: str | None
    program_seconds: float
    preview: bool = True
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


def _read_yaml(path: Path) -> Any:
    try:
        text = read_text(path)
    except UnreadableFileError as error:
        raise ProjectError(str(error)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise ProjectError(f"{path}: is not valid YAML{line}: {getattr(error, 'problem', None) or error}") from None


def load_project(directory: str | os.PathLike[str]) -> Project:
    """The project in `directory`; ProjectError naming Pulumi.yaml when it is missing or malformed."""
    root = Path(directory).resolve()
    path = root / PROJECT_FILE
    document = _read_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("name"), str):
        raise ProjectError(f"{path}: must be a mapping with a `name:` (the Pulumi project file)")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ProjectError(f"{path}: `config:` must be a mapping of keys to values")
    main = document.get("main")
    program = (root / main).resolve() if isinstance(main, str) else root
    if not (program / "__main__.py").is_file():
        raise ProjectError(f"{path}: the program {program} has no __main__.py")
    return Project(directory=root, name=document["name"], program_directory=program, config=config)


def _namespaced(project: Project, key: str) -> str:
    return key if ":" in key else f"{project.name}:{key}"


def _project_config(project: Project) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key, declared in project.config.items():
        if isinstance(declared, dict) and "value" in declared:
            config[_namespaced(project, key)] = declared["value"]
        elif isinstance(declared, dict) and "default" in declared:
            config[_namespaced(project, key)] = declared["default"]
        elif not isinstance(declared, dict):
            config[_namespaced(project, key)] = declared
    return config


def _stack_file_config(project: Project, stack: str, required: bool) -> dict[str, Any]:
    path = project.stack_file(stack)
    if not path.is_file():
        if not required:
            return {}
        known = ", ".join(project.stacks) or "none"
        raise ProjectError(f"stack {stack!r} has no {path.name} in {project.directory} (stacks there: {known})")
    document = _read_yaml(path) or {}
    if not isinstance(document, dict):
        raise ProjectError(f"{path}: must be a mapping with a `config:` mapping")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise ProjectError(f"{path}: `config:` must be a mapping of keys to values")
    return {_namespaced(project, key): value for key, value in config.items()}


def stack_config(
    project: Project, stack: str, overrides: Mapping[str, Any] | None = None, *, require_stack_file: bool = True
) -> dict[str, Any]:
    """Project config, then the stack file, then overrides (None removes a key); keys namespaced, values as YAML
    typed them. The engine runs a stack without a stack file on the project config alone; `require_stack_file`
    refuses that, since a stack file is how a project without a backend names its stacks."""
    config = {**_project_config(project), **_stack_file_config(project, stack, require_stack_file)}
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(_namespaced(project, key), None)
        else:
            config[_namespaced(project, key)] = value
    return config


def encrypted_keys(config: Mapping[str, Any]) -> list[str]:
    """Keys whose value is still encrypted (`secure:` in a stack file): only the stack's secrets provider reads them."""
    return sorted(key for key, value in config.items() if isinstance(value, dict) and set(value) == {"secure"})


def run_program(
    project: Project,
    stack: str,
    *,
    config_overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    preview: bool = True,
    require_stack_file: bool = True,
) -> ProgramRun:
    """Runs the project's program for `stack` in a fresh interpreter; `error` holds the program's failure message.

    ProjectError when the stack has no stack file (unless not required), a file is malformed or a secret the stack
    file holds encrypted was not given in `secrets`."""
    config = stack_config(project, stack, config_overrides, require_stack_file=require_stack_file)
    for key, value in (secrets or {}).items():
        config[_namespaced(project, key)] = value
    still_encrypted = encrypted_keys(config)
    if still_encrypted:
        raise ProjectError(
            f"{project.stack_file(stack)}: {', '.join(still_encrypted)} "
            f"{'is' if len(still_encrypted) == 1 else 'are'} encrypted (secure:) and only the stack's secrets "
            "provider can read it; give the value to check with: "
            + " ".join(f"--secret {key}=<value>" for key in still_encrypted)
        )
    spec = {
        "project": project.name,
        "stack": stack,
        "preview": preview,
        "program": str(project.program_directory),
        "config": config,
        "secret_keys": [_namespaced(project, key) for key in (secrets or {})],
    }
    # The program's own packages (`components`) first, then this package for the child module.
    search_path = [str(project.program_directory), str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, search_path))}
    for key in [k for k in env if k.startswith("PULUMI_")]:
        del env[key]
    completed = subprocess.run(
        [sys.executable, "-m", "partner_access.check._program_child"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=project.directory,
        env=env,
        timeout=_PROGRAM_TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"program runner crashed (exit {completed.returncode}):\n{completed.stderr}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return ProgramRun(
        project=project.name,
        stack=stack,
        config=config,
        resources=[RecordedResource(**resource) for resource in result["resources"]],
        outputs=result["outputs"],
        error=result["error"],
        program_seconds=result["program_seconds"],
        preview=preview,
        secret_keys=tuple(spec["secret_keys"]),
    )
