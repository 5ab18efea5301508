"""A `--policy-pack-config` file, read and reconciled the way the Pulumi engine does before it configures a pack.

The engine (pulumi/pulumi `pkg/resource/analyzer/config.go`, `ReconcilePolicyPackConfig`) starts every policy at its
own enforcement level with its config schema's defaults, applies the pack's initial config, then the file: first the
`all` entry's level, then each policy's entry (a level string, or an object whose `enforcementLevel` is the level and
whose other keys are config properties, merged over what is there). It validates each policy's merged properties
against that policy's schema (JSON Schema draft 7) and runs nothing when any is invalid. `partner-access check` (the
engine harness) and `partner-access audit` (the pack's policies run in-process) both read the file here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
ALL_POLICIES = "all"
LEVEL_KEY = "enforcementLevel"


@dataclass(frozen=True)
class PolicyConfig:
    """One policy as configured: the level it runs at and the properties its validation reads."""

    enforcement_level: str
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicySchema:
    """What the engine knows of a policy before configuring it (from `GetAnalyzerInfo`, or the pack's own objects)."""

    name: str
    enforcement_level: str
    properties: Mapping[str, Any] = field(default_factory=dict)
    required: Sequence[str] = ()


class PolicyConfigError(ValueError):
    """The config cannot be used; `errors` lists each problem, naming the policy, the key and the rule."""

    def __init__(self, errors: Sequence[str], source: str | None = None, *, validating: bool = True) -> None:
        # As `pulumi preview` words a config the schemas refuse; a file that cannot be read says only why.
        prefix = (f"{source}: " if source else "") + ("validating policy config: " if validating else "")
        super().__init__(prefix + "; ".join(errors))
        self.errors = tuple(errors)


def load_policy_pack_config(path: Path) -> dict[str, Any] | None:
    """The file's JSON object; None for an empty file (the engine treats it as no config). Errors name the file."""

    def unusable(why: str) -> PolicyConfigError:
        return PolicyConfigError([why], str(path), validating=False)

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise unusable("no such policy pack config file") from None
    except OSError as error:
        raise unusable(f"cannot be read ({error.strerror or error})") from None
    if not text.strip():
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise unusable(f"is not JSON (line {error.lineno}: {error.msg})") from None
    if not isinstance(document, dict):
        raise unusable("must be a JSON object of policy name -> enforcement level or config")
    return document


def parse_policy_pack_config(document: Mapping[str, Any]) -> dict[str, PolicyConfig | None]:
    """The file's entries split as the engine splits them. An empty level means "keep the policy's own level"; an
    entry with neither level nor properties is None (it changes nothing)."""
    parsed: dict[str, PolicyConfig | None] = {}
    errors: list[str] = []
    for name, entry in document.items():
        if isinstance(entry, str):
            parsed[name] = PolicyConfig(_level(name, entry, errors))
            continue
        if not isinstance(entry, Mapping):
            errors.append(f"{name}: must be an enforcement level or an object, not {json.dumps(entry)}")
            continue
        properties = {key: value for key, value in entry.items() if key != LEVEL_KEY}
        level = _level(name, entry[LEVEL_KEY], errors) if LEVEL_KEY in entry else ""
        parsed[name] = PolicyConfig(level, properties) if level or properties else None
    if errors:
        raise PolicyConfigError(errors)
    return parsed


def reconcile_policy_config(
    policies: Iterable[PolicySchema],
    document: Mapping[str, Any] | None,
    *,
    initial_config: Mapping[str, PolicyConfig | None] | None = None,
    strict: bool = False,
    source: str | None = None,
) -> dict[str, PolicyConfig]:
    """Every policy's reconciled config, or PolicyConfigError listing every problem.

    The engine passes an entry for a policy the pack does not have on to the pack, which ignores it, and ignores
    properties given under `all`. A command that runs the pack's policies itself refuses both instead (`strict`):
    either is most likely a typo that would silently leave a policy at its defaults.
    """
    schemas = {policy.name: policy for policy in policies}
    result = {
        name: PolicyConfig(policy.enforcement_level, _schema_defaults(policy)) for name, policy in schemas.items()
    }
    try:
        given = parse_policy_pack_config(document or {})
    except PolicyConfigError as error:
        raise PolicyConfigError(error.errors, source) from None
    errors: list[str] = []
    if strict:
        errors.extend(
            f"{name}: the pack has no policy of this name (its policies: {', '.join(schemas)})"
            for name in given
            if name != ALL_POLICIES and name not in schemas
        )
    everything = given.get(ALL_POLICIES)
    if strict and everything is not None and everything.properties:
        errors.append(f"{ALL_POLICIES}: only {LEVEL_KEY} can be set for every policy")
    for overrides in (initial_config or {}, given):
        _apply(result, overrides)
    for policy in schemas.values():
        errors.extend(_schema_errors(policy, result[policy.name].properties))
    if errors:
        raise PolicyConfigError(errors, source)
    return {name: config for name, config in result.items() if name in schemas}


def _apply(result: dict[str, PolicyConfig], overrides: Mapping[str, PolicyConfig | None]) -> None:
    everything = overrides.get(ALL_POLICIES)
    if everything is not None and everything.enforcement_level:
        for name, current in result.items():
            result[name] = PolicyConfig(everything.enforcement_level, current.properties)
    for name, entry in overrides.items():
        if entry is None or name == ALL_POLICIES:
            continue
        current = result.get(name, PolicyConfig(""))
        result[name] = PolicyConfig(
            entry.enforcement_level or current.enforcement_level, {**current.properties, **entry.properties}
        )


def _level(name: str, value: object, errors: list[str]) -> str:
    if isinstance(value, str) and value in ENFORCEMENT_LEVELS:
        return value
    errors.append(f"{name}: {LEVEL_KEY} {json.dumps(value)} is not one of {', '.join(ENFORCEMENT_LEVELS)}")
    return ""


def _schema_defaults(policy: PolicySchema) -> dict[str, Any]:
    return {
        key: spec["default"]
        for key, spec in policy.properties.items()
        if isinstance(spec, Mapping) and "default" in spec
    }


def _schema_errors(policy: PolicySchema, properties: Mapping[str, Any]) -> list[str]:
    schema: dict[str, Any] = {"type": "object"}
    if policy.properties:
        schema["properties"] = dict(policy.properties)
    if policy.required:
        schema["required"] = list(policy.required)
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{policy.name}: {'.'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(dict(properties)), key=lambda e: list(e.absolute_path))
    ]
