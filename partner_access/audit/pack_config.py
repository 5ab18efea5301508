"""The pack's `--policy-pack-config` file as the audit applies it: reconciled as the engine does
(`partner_access.pack_config`), for the pack's policy objects the audit runs in-process, so a bad file fails here
with the policy, key and rule named, as `pulumi preview` fails, instead of being half applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from iam_trust_policies.policies import EXEMPT_ACCOUNT_IDS
from partner_access.pack_config import (
    PolicyConfigError,
    PolicySchema,
    load_policy_pack_config,
    reconcile_policy_config,
)

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
    """The settings of every policy from the file at `path` (None: no file, every policy at its defaults).

    Strict where the engine is lenient: an entry for a policy the pack does not have, or properties under `all`, are
    refused, since the audit would otherwise run that policy at its defaults without a word."""
    try:
        document = None if path is None else load_policy_pack_config(path)
        reconciled = reconcile_policy_config(
            [_schema_of(policy) for policy in policies], document, strict=True,
            source=str(path) if path is not None else "(no --policy-pack-config)",
        )
    except PolicyConfigError as error:
        raise PackConfigError(str(error)) from None
    return {
        name: PolicySettings(_LEVELS[config.enforcement_level], dict(config.properties))
        for name, config in reconciled.items()
    }


def _schema_of(policy: Policy) -> PolicySchema:
    schema = policy.config_schema
    return PolicySchema(
        name=policy.name,
        enforcement_level=(policy.enforcement_level or PACK_DEFAULT_LEVEL).value,
        properties=dict(schema.properties) if schema is not None else {},
        required=tuple(schema.required or ()) if schema is not None else (),
    )


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
