"""Reads this stack's raw settings from Pulumi config and hands them to the pure grant model to validate."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi.runtime

from components.grant_model import (
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
    """Everything this stack deploys, validated: its side and account, its grants, their External IDs (secret)."""

    stack: StackSide
    grants: tuple[Grant, ...]
    external_ids: dict[str, pulumi.Output[str]]


def _read_external_ids(grants: tuple[Grant, ...]) -> dict[str, pulumi.Output[str]]:
    # Read raw (config.get would warn on a secret) to validate the plain text before any resource is registered;
    # from then on the value only travels as a secret Output.
    external_ids: dict[str, pulumi.Output[str]] = {}
    for grant in grants:
        if grant.external_id_secret is None:
            continue
        key = f"{PROJECT_NAMESPACE}:{grant.external_id_secret}"
        value = validate_external_id(grant, pulumi.runtime.get_config(key), pulumi.runtime.is_config_secret(key))
        external_ids[grant.role_name] = pulumi.Output.secret(value)
    return external_ids


def load_stack_settings() -> StackSettings:
    """The validated settings, or a clean RunError (no traceback) listing every bad setting; nothing is created."""
    try:
        stack = parse_stack_side(
            pulumi.Config(PROJECT_NAMESPACE).get("side"),
            pulumi.Config("aws").get_object("allowedAccountIds"),
        )
        grants = grants_for_stack(stack, parse_grants(pulumi.Config(PROJECT_NAMESPACE).get_object("grants")))
        return StackSettings(stack=stack, grants=grants, external_ids=_read_external_ids(grants))
    except GrantConfigError as error:
        raise pulumi.RunError(str(error)) from None
