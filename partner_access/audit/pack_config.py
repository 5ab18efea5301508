"""The pack's `--policy-pack-config` file, read the way the Pulumi engine reads it before it configures a pack.

For every policy: the defaults of its config schema, its own enforcement level (the pack's default level when it has
none), then the file's `all` level, then the file's entry for it (a level string, or an object whose
`enforcementLevel` is the level and whose other keys are config properties). The merged properties are validated
against the policy's schema (JSON Schema draft 7, as the engine does), so a bad file fails here with the policy, key
and rule named, as `pulumi preview` fails, instead of being half applied.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from pulumi_policy import EnforcementLevel, Policy

from iam_trust_policies.policies import EXEMPT_ACCOUNT_IDS

ALL_POLICIES_KEY = "all"
LEVEL_KEY = "enforcementLevel"
# `policypack/__main__.py` gives PolicyPack this level; it applies to a policy that sets none of its own.
PACK_DEFAULT_LEVEL = EnforcementLevel.ADVISORY
_LEVELS = {level.value: level for level in EnforcementLevel}


class PackConfigError(ValueError):
    """The config file cannot be used; the message names the file, the policy and the rule."""


@dataclass(frozen=True)
class PolicySettings:
    """One policy as configured: the level it reports at and the config its validation reads."""

    level: EnforcementLevel
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.level != EnforcementLevel.DISABLED

    @property
    def reported_level(self) -> str:
        """The level a violation carries: pulumi_policy reports a remediate policy's violations as mandatory."""
        if self.level == EnforcementLevel.REMEDIATE:
            return EnforcementLevel.MANDATORY.value
        return self.level.value


def read_pack_config(path: Path | None, policies: Sequence[Policy]) -> dict[str, PolicySettings]:
    """The settings of every policy from the file at `path` (None: no file, every policy at its defaults)."""
    if path is None:
        return reconcile(None, policies, source="(no --policy-pack-config)")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PackConfigError(f"{path}: cannot read the policy pack config: {error.strerror or error}") from error
    if not text.strip():
        return reconcile(None, policies, source=str(path))
    try:
        document = json.loads(text)
    except ValueError as error:
        raise PackConfigError(f"{path}: the policy pack config is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise PackConfigError(f"{path}: the policy pack config must be a JSON object of policy name -> config")
    return reconcile(document, policies, source=str(path))


def reconcile(
    document: Mapping[str, Any] | None, policies: Sequence[Policy], *, source: str
) -> dict[str, PolicySettings]:
    levels = {policy.name: policy.enforcement_level or PACK_DEFAULT_LEVEL for policy in policies}
    properties = {policy.name: _schema_defaults(policy) for policy in policies}
    errors: list[str] = []
    entries = dict(document or {})
    everything = entries.pop(ALL_POLICIES_KEY, None)
    if everything is not None:
        level, extra = _split_entry(ALL_POLICIES_KEY, everything, errors)
        if extra:
            errors.append(f"{ALL_POLICIES_KEY}: only {LEVEL_KEY} can be set for every policy")
        if level is not None:
            levels = dict.fromkeys(levels, level)
    for name, entry in entries.items():
        if name not in levels:
            errors.append(f"{name}: the pack has no policy of this name (its policies: {', '.join(levels)})")
            continue
        level, extra = _split_entry(name, entry, errors)
        if level is not None:
            levels[name] = level
        properties[name] = {**properties[name], **extra}
    for policy in policies:
        errors.extend(_schema_errors(policy, properties[policy.name]))
    if errors:
        raise PackConfigError(f"{source}: invalid policy pack config: " + "; ".join(errors))
    return {name: PolicySettings(levels[name], properties[name]) for name in levels}


def _schema_defaults(policy: Policy) -> dict[str, Any]:
    schema = policy.config_schema
    if schema is None:
        return {}
    return {key: spec["default"] for key, spec in schema.properties.items() if "default" in spec}


def _split_entry(name: str, entry: object, errors: list[str]) -> tuple[EnforcementLevel | None, dict[str, Any]]:
    if isinstance(entry, str):
        return _level(name, entry, errors), {}
    if not isinstance(entry, dict):
        errors.append(f"{name}: must be an enforcement level or an object, not {json.dumps(entry)}")
        return None, {}
    extra = {key: value for key, value in entry.items() if key != LEVEL_KEY}
    level = entry.get(LEVEL_KEY)
    return (None if level is None else _level(name, level, errors)), extra


def _level(name: str, value: object, errors: list[str]) -> EnforcementLevel | None:
    if isinstance(value, str) and value in _LEVELS:
        return _LEVELS[value]
    errors.append(f"{name}: {LEVEL_KEY} {json.dumps(value)} is not one of {', '.join(_LEVELS)}")
    return None


def _schema_errors(policy: Policy, properties: Mapping[str, Any]) -> list[str]:
    schema: dict[str, Any] = {"type": "object"}
    if policy.config_schema is not None:
        schema["properties"] = policy.config_schema.properties
        if policy.config_schema.required:
            schema["required"] = list(policy.config_schema.required)
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{policy.name}: {'.'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(dict(properties)), key=lambda e: list(e.absolute_path))
    ]


def with_own_accounts(settings: Mapping[str, PolicySettings], account_ids: Sequence[str]) -> dict[str, PolicySettings]:
    """The settings with `account_ids` added to every policy's exemptAccountIds (the pack's "own" accounts)."""
    extended: dict[str, PolicySettings] = {}
    for name, policy in settings.items():
        properties = dict(policy.properties)
        if EXEMPT_ACCOUNT_IDS in properties:
            current = list(properties[EXEMPT_ACCOUNT_IDS])
            properties[EXEMPT_ACCOUNT_IDS] = current + [a for a in account_ids if a not in current]
        extended[name] = PolicySettings(policy.level, properties)
    return extended
