"""Reads this stack's raw settings from Pulumi config and hands them to the pure grant model to validate."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi.runtime

from components.documents import TRUST_POLICY_DEFAULT_MAX_CHARACTERS, trust_policy_document, trust_policy_size
from components.grant_model import (
    GRANTS_KEY,
    Grant,
    GrantConfigError,
    StackSide,
    grants_for_stack,
    parse_grants,
    parse_stack_side,
    validate_external_id,
)

PROJECT_NAMESPACE = "partner-access"


@dataclass(frozen=True)
class StackSettings:
    """Everything this stack deploys, validated: its side and account, its grants, their External IDs (secret) by
    grant name."""

    stack: StackSide
    grants: tuple[Grant, ...]
    external_ids: dict[str, pulumi.Output[str]]


def _read_external_ids(grants: tuple[Grant, ...]) -> dict[str, str]:
    # Read raw (config.get would warn on a secret) so the plain text is validated before any resource is registered.
    external_ids: dict[str, str] = {}
    for grant in grants:
        if grant.external_id_secret is not None:
            key = f"{PROJECT_NAMESPACE}:{grant.external_id_secret}"
            external_ids[grant.grant_name] = validate_external_id(
                grant, pulumi.runtime.get_config(key), pulumi.runtime.is_config_secret(key)
            )
    return external_ids


def _check_trust_policy_sizes(grants: tuple[Grant, ...], external_ids: dict[str, str]) -> None:
    # IAM refuses an oversized trust at deploy time, after other resources may have changed; refuse it at preview.
    oversized = []
    for grant in grants:
        size = trust_policy_size(trust_policy_document(grant, external_ids.get(grant.grant_name)))
        if size > TRUST_POLICY_DEFAULT_MAX_CHARACTERS:
            oversized.append(
                f"{GRANTS_KEY} grant {grant.grant_name!r}: its trust policy is {size} characters, over IAM's "
                f"{TRUST_POLICY_DEFAULT_MAX_CHARACTERS}; list fewer partnerPrincipalArns (or trust the partner "
                "account root and let the partner choose its users)"
            )
    if oversized:
        raise GrantConfigError(oversized)


def load_stack_settings() -> StackSettings:
    """The validated settings, or a clean RunError (no traceback) listing every bad setting; nothing is created."""
    try:
        stack = parse_stack_side(
            pulumi.Config(PROJECT_NAMESPACE).get("side"),
            pulumi.Config("aws").get_object("allowedAccountIds"),
        )
        grants = grants_for_stack(stack, parse_grants(pulumi.Config(PROJECT_NAMESPACE).get_object("grants")))
        external_ids = _read_external_ids(grants)
        _check_trust_policy_sizes(grants, external_ids)
    except GrantConfigError as error:
        raise pulumi.RunError(str(error)) from None
    # From here on an External ID only travels as a secret Output.
    return StackSettings(
        stack=stack,
        grants=grants,
        external_ids={name: pulumi.Output.secret(value) for name, value in external_ids.items()},
    )
